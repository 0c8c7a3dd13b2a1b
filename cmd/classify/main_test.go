package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// bin is the classify command, built once by TestMain.
var bin string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "classify-cmd-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin = filepath.Join(dir, "classify")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building classify:", err)
		return 1
	}
	return m.Run()
}

const irisCSV = "../../research/data/iris.csv"

// result is what one run of the command gave.
type result struct {
	code           int
	stdout, stderr string
}

// timing matches the time-dependent part of the summary line.
var timing = regexp.MustCompile(`, [0-9.]+[µnm]?s \([0-9-]+ rows/s\)`)

// runCLI runs the built command with args and stdin, and run() in the
// test process with the same ones, and checks that they agree: the binary
// is what users run, run() is what the coverage counts. It returns the
// binary's result, the summary line's timing replaced by ", TIME".
func runCLI(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running classify %v: %v", args, err)
	}
	got := result{code, stdout.String(), timing.ReplaceAllString(stderr.String(), ", TIME")}

	in := inProcess(t, stdin, args...)
	if in != got {
		t.Fatalf("classify %v: the binary and run() disagree:\nbinary: %+v\nrun():  %+v", args, got, in)
	}
	return got
}

// inProcess runs run() with args, as main would.
func inProcess(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, func(string) string { return "" }, strings.NewReader(stdin), &stdout, &stderr)
	code := exitCode(err, &stderr)
	return result{code, stdout.String(), timing.ReplaceAllString(stderr.String(), ", TIME")}
}

// writeFile writes content to name in a new temporary directory and
// returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExitCodes(t *testing.T) {
	noExt := writeFile(t, "rows.txt", "a,b\n1,2\n")
	noColumn := writeFile(t, "x.csv", "sepal_length,sepal_width,petal_length\n1,2,3\n")
	empty := writeFile(t, "empty.csv", "")
	taken := writeFile(t, "taken.csv", "sepal_length,sepal_width,petal_length,petal_width,prediction\n1,2,3,4,x\n")
	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string // a substring of stderr
	}{
		{"no command", nil, 2, "no command given"},
		{"unknown command", []string{"score"}, 2, `unknown command "score"`},
		{"help", []string{"-h"}, 0, ""},
		{"help predict", []string{"help", "predict"}, 0, ""},
		{"predict -h", []string{"predict", "-h"}, 0, ""},
		{"bad flag", []string{"predict", "-nope", irisCSV}, 2, "flag provided but not defined: -nope"},
		{"two files", []string{"predict", irisCSV, irisCSV}, 2, "one input file"},
		{"unknown model", []string{"predict", "-model", "svm", irisCSV}, 2, `-model: model not found: "svm"`},
		{"artifact without kind", []string{"predict", "-artifact", "../../models/heuristic.json", irisCSV}, 2, "-artifact needs -kind"},
		{"artifact with model", []string{"predict", "-artifact", "x", "-kind", "heuristic", "-model", "xgboost", irisCSV}, 2, "leave out -model"},
		{"kind without artifact", []string{"predict", "-kind", "xgboost", irisCSV}, 2, "-kind goes with -artifact"},
		{"unknown kind", []string{"predict", "-artifact", "x", "-kind", "svm", irisCSV}, 2, `-kind: unknown model kind "svm"`},
		{"bad on-error", []string{"predict", "-on-error", "ignore", irisCSV}, 2, "use skip or fail"},
		{"bad progress", []string{"predict", "-progress", "sometimes", irisCSV}, 2, "use auto, always or never"},
		{"bad workers", []string{"predict", "-workers", "0", irisCSV}, 2, "use 1 or more"},
		{"bad format", []string{"predict", "-format", "xml", irisCSV}, 2, `-format "xml"`},
		{"stdin without format", []string{"predict"}, 2, "reading stdin needs -format"},
		{"unknown extension", []string{"predict", noExt}, 2, "cannot tell the format"},
		{"missing file", []string{"predict", "nothere.csv"}, 1, "no such file"},
		{"missing column", []string{"predict", noColumn}, 1, "the header has no column petal_width"},
		{"empty input", []string{"predict", empty}, 1, "the input is empty"},
		{"output column taken", []string{"predict", taken}, 1, `already has a column "prediction"`},
		{"missing label column", []string{"eval", "-label", "class", irisCSV}, 1, "class (the label, -label)"},
		{"empty label flag", []string{"eval", "-label", "", irisCSV}, 2, "-label must name a column"},
		{"eval two files", []string{"eval", irisCSV, irisCSV}, 2, "one input file"},
		{"models argument", []string{"models", "extra"}, 2, "no arguments"},
		{"verify argument", []string{"verify", "extra"}, 2, "no arguments"},
		{"models missing registry", []string{"models", "-registry", "nothere"}, 1, "registry"},
		{"verify missing registry", []string{"verify", "-registry", "nothere"}, 1, "registry"},
		{"unwritable output", []string{"predict", "-o", "/nonexistent/dir/out.csv", irisCSV}, 1, "no such file"},
		{"artifact that does not load", []string{"predict", "-artifact", "nothere.json", "-kind", "decision_tree", irisCSV}, 1, "no such file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, "", tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("classify %v: exit %d, stderr %q; want exit %d, stderr containing %q", tc.args, r.code, r.stderr, tc.code, tc.stderr)
			}
		})
	}
}

func TestHelpDocumentsExitCodes(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"predict", "-h"}, {"eval", "-h"}, {"models", "-h"}, {"verify", "-h"}, {"verify-parity", "-h"}, {"help", "verify-parity"}, {"explain", "-h"}, {"importance", "-h"}} {
		r := runCLI(t, "", args...)
		if n := strings.Count(r.stdout, "Usage:"); n != 1 || r.code != 0 {
			t.Errorf("classify %v: exit %d, usage printed %d times:\n%s", args, r.code, n, r.stdout)
		}
		for _, want := range []string{"Exit status:", "0  success", "1  failure", "2  usage error", "3  finished, but bad rows were skipped"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("classify %v: the help lacks %q:\n%s", args, want, r.stdout)
			}
		}
	}
}
