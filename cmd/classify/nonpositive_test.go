package main

import (
	"strconv"
	"strings"
	"testing"
)

// TestNonPositiveValues: predict and eval refuse feature values <= 0 as
// bad rows, as the HTTP server answers 422 for them, unless
// -allow-non-positive is given; a missing value given to a model that takes
// them is exempt, as on the server.
func TestNonPositiveValues(t *testing.T) {
	const header = "sepal_length,sepal_width,petal_length,petal_width,species\n"
	refused := func(line int, v string) string {
		return "stdin:" + strconv.Itoa(line) + `: petal_width: ensure this value is greater than 0: "` + v + `" (-allow-non-positive accepts it) (skipped)` + "\n"
	}
	for _, tc := range []struct {
		name   string
		args   []string
		in     string
		code   int
		stderr string // without the summary line
	}{
		{"csv zero", []string{"predict", "-format", "csv"}, header + "5.1,3.5,1.4,0,setosa\n", exitSkipped, refused(2, "0")},
		{"csv negative zero", []string{"predict", "-format", "csv"}, header + "5.1,3.5,1.4,-0,setosa\n", exitSkipped, refused(2, "-0")},
		{"csv negative", []string{"predict", "-format", "csv"}, header + "5.1,3.5,1.4, -1 ,setosa\n", exitSkipped, refused(2, " -1 ")},
		{"csv -Inf", []string{"predict", "-format", "csv"}, header + "5.1,3.5,1.4,-Inf,setosa\n", exitSkipped, refused(2, "-Inf")},
		{"csv +Inf is not finite", []string{"predict", "-format", "csv"}, header + "5.1,3.5,1.4,+Inf,setosa\n", exitSkipped,
			"stdin:2: petal_width: \"+Inf\" is not a finite number (skipped)\n"},
		{"csv tiny positive", []string{"predict", "-format", "csv"}, header + "5.1,3.5,1.4,1e-300,setosa\n", exitOK, ""},
		{"jsonl negative", []string{"predict", "-format", "jsonl"},
			`{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":-1}` + "\n", exitSkipped, refused(1, "-1")},
		{"jsonl zero string", []string{"predict", "-format", "jsonl"},
			`{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":"0"}` + "\n", exitSkipped, refused(1, "0")},
		{"eval negative", []string{"eval", "-format", "csv"}, header + "5.1,3.5,1.4,0.2,setosa\n5.1,3.5,1.4,-0.2,setosa\n", exitSkipped, refused(3, "-0.2")},
		{"fail stops", []string{"predict", "-format", "csv", "-on-error", "fail"}, header + "5.1,3.5,1.4,0,setosa\n", exitFailure,
			`classify: stdin:2: petal_width: ensure this value is greater than 0: "0" (-allow-non-positive accepts it) (stopped: -on-error=fail)` + "\n"},
		{"missing value exempt", []string{"predict", "-format", "csv", "-model", "xgboost"}, header + "5.1,3.5,1.4,,setosa\n5.1,3.5,1.4,NaN,setosa\n", exitOK, ""},
		{"missing value exempt in JSON", []string{"predict", "-format", "jsonl", "-model", "xgboost"},
			`{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":null}` + "\n", exitOK, ""},
		{"allowed", []string{"predict", "-format", "csv", "-allow-non-positive"}, header + "5.1,3.5,1.4,0,setosa\n5.1,3.5,1.4,-1,setosa\n-0,3.5,1.4,0.2,setosa\n", exitOK, ""},
		{"allowed in eval", []string{"eval", "-format", "jsonl", "-allow-non-positive"},
			`{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":-1,"species":"setosa"}` + "\n", exitOK, ""},
		{"allowed, -Inf still not finite", []string{"predict", "-format", "csv", "-allow-non-positive"}, header + "5.1,3.5,1.4,-Inf,setosa\n", exitSkipped,
			"stdin:2: petal_width: \"-Inf\" is not a finite number (skipped)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.in, tc.args...)
			stderr := r.stderr
			if i := strings.LastIndex(stderr, "classify: "+tc.args[0]+": "); i >= 0 {
				stderr = stderr[:i] + stderr[i+strings.Index(stderr[i:], "\n")+1:]
			}
			if r.code != tc.code || stderr != tc.stderr {
				t.Errorf("classify %v on %q: exit %d, stderr %q; want exit %d, stderr %q", tc.args, tc.in, r.code, stderr, tc.code, tc.stderr)
			}
		})
	}
}

// The flag is documented in predict's and eval's usage.
func TestNonPositiveFlagDocumented(t *testing.T) {
	for _, cmd := range []string{"predict", "eval"} {
		r := runCLI(t, "", cmd, "-h")
		if !strings.Contains(r.stdout, "-allow-non-positive") || !strings.Contains(r.stdout, "greater than 0") {
			t.Errorf("classify %s -h does not document -allow-non-positive:\n%s", cmd, r.stdout)
		}
	}
}
