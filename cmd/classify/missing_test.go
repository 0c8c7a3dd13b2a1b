package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/internal/modeltest"
)

// withMissing runs the command line in-process with artifacts loaded as
// models that take missing values, routing NaN as fill: a tree that takes
// none made to take them, so a test chooses where a missing value goes.
func withMissing(t *testing.T, fill float64, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	newModel := func(k classify.Kind, path string) (classify.Model, error) {
		m, err := classify.New(k, path)
		if err != nil {
			return nil, err
		}
		return modeltest.Missing(m, fill), nil
	}
	err := runEnv(context.Background(), args, env{getenv: func(string) string { return "" },
		stdin: strings.NewReader(stdin), stdout: &stdout, stderr: &stderr, newModel: newModel})
	code := exitCode(err, &stderr)
	return result{code, stdout.String(), timing.ReplaceAllString(stderr.String(), ", TIME")}
}

const missingCSV = `sepal_length,sepal_width,petal_length,petal_width
5.1,3.5,1.4,0.2
6.3,3.3,,2.5
6.3,3.3,NaN,2.5
6.3,3.3, nan ,2.5
6.3,3.3,Infinity,2.5
`

// compatTree is the compatibility registry's decision tree (scikit-learn
// 1.2.1, classify/sklearn-trees v1), which takes no missing values.
const compatTree = "../../testdata/compat/registry/decision_tree.json"

func TestPredictMissingCSV(t *testing.T) {
	tree := []string{"predict", "-format", "csv", "-artifact", compatTree, "-kind", "decision_tree"}

	// The tree takes no missing values: those rows are bad rows, saying so.
	r := runCLI(t, missingCSV, tree...)
	wantErr := `stdin:3: petal_length: missing value (the model takes no missing values) (skipped)
stdin:4: petal_length: missing value "NaN" (the model takes no missing values) (skipped)
stdin:5: petal_length: missing value " nan " (the model takes no missing values) (skipped)
stdin:6: petal_length: "Infinity" is not a finite number (skipped)
classify: predict: 1 rows scored, 4 skipped, TIME
`
	if r.code != exitSkipped || r.stderr != wantErr {
		t.Errorf("exit %d\nstderr:\n%s\nwant:\n%s", r.code, r.stderr, wantErr)
	}

	// A model that takes them scores those rows, the missing petal length
	// routed as 6.0 would be; an infinity is still refused.
	r = withMissing(t, 6.0, missingCSV, tree...)
	wantOut := `sepal_length,sepal_width,petal_length,petal_width,prediction,probability_setosa,probability_versicolor,probability_virginica
5.1,3.5,1.4,0.2,setosa,1,0,0
6.3,3.3,,2.5,virginica,0,0,1
6.3,3.3,NaN,2.5,virginica,0,0,1
6.3,3.3," nan ",2.5,virginica,0,0,1
`
	wantErr = `stdin:6: petal_length: "Infinity" is not a finite number (skipped)
classify: predict: 4 rows scored, 1 skipped, TIME
`
	if r.code != exitSkipped || r.stdout != wantOut || r.stderr != wantErr {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s\nwant stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr, wantOut, wantErr)
	}

	// Where a missing value goes is the model's business: routed as 1.0,
	// the same rows are setosa.
	r = withMissing(t, 1.0, missingCSV, tree...)
	if !strings.Contains(r.stdout, "\n6.3,3.3,,2.5,setosa,") {
		t.Errorf("fill 1.0:\n%s", r.stdout)
	}

	// The production tree (scikit-learn 1.9.1) takes them itself: the
	// missing petal length goes where scikit-learn sends it, to virginica
	// for this petal width (as the golden file's
	// edge/missing/petal_length/mean_virginica case).
	prod := []string{"predict", "-format", "csv", "-artifact", "../../models/decision_tree.json", "-kind", "decision_tree"}
	r = runCLI(t, missingCSV, prod...)
	if r.code != exitSkipped || r.stdout != wantOut || r.stderr != wantErr {
		t.Errorf("production tree: exit %d\nstdout:\n%s\nstderr:\n%s\nwant stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr, wantOut, wantErr)
	}

	// The production XGBoost model takes them too, and sends the same rows
	// elsewhere: setosa, as XGBoost 3.2.0 does (the golden file's
	// edge/missing/petal_length/mean_virginica case is setosa too).
	r = runCLI(t, missingCSV, "predict", "-format", "csv", "-model", "xgboost")
	if r.code != exitSkipped || r.stderr != wantErr ||
		strings.Count(r.stdout, "\n6.3,3.3,,2.5,setosa,") != 1 || strings.Count(r.stdout, ",2.5,setosa,") != 3 {
		t.Errorf("production xgboost: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}

func TestPredictMissingJSONL(t *testing.T) {
	in := `{"sepal_length":6.3,"sepal_width":3.3,"petal_length":null,"petal_width":2.5}
{"sepal_length":6.3,"sepal_width":3.3,"petal_length":NaN,"petal_width":2.5,"note":"NaN \"NaN\""}
{"sepal_length":6.3,"sepal_width":3.3,"petal_length":"nan","petal_width":2.5}
{"sepal_length":6.3,"sepal_width":3.3,"petal_width":2.5}
{"sepal_length":6.3,"sepal_width":3.3,"petal_length":Infinity,"petal_width":2.5}
`
	args := []string{"predict", "-format", "jsonl", "-artifact", compatTree, "-kind", "decision_tree"}
	r := runCLI(t, in, args...)
	wantErr := `stdin:1: petal_length: missing value (null) (the model takes no missing values) (skipped)
stdin:2: petal_length: missing value (null) (the model takes no missing values) (skipped)
stdin:3: petal_length: missing value "nan" (the model takes no missing values) (skipped)
stdin:4: petal_length: no such key (skipped)
stdin:5: not a JSON object: invalid character 'I' looking for beginning of value (skipped)
classify: predict: 0 rows scored, 5 skipped, TIME
`
	if r.code != exitSkipped || r.stderr != wantErr {
		t.Errorf("exit %d\nstderr:\n%s\nwant:\n%s", r.code, r.stderr, wantErr)
	}

	r = withMissing(t, 6.0, in, args...)
	proba := `,"prediction":"virginica","probabilities":{"setosa":0,"versicolor":0,"virginica":1}}`
	lines := strings.Split(in, "\n")
	wantOut := strings.TrimSuffix(lines[0], "}") + proba + "\n" +
		strings.TrimSuffix(lines[1], "}") + proba + "\n" +
		strings.TrimSuffix(lines[2], "}") + proba + "\n"
	wantErr = `stdin:4: petal_length: no such key (skipped)
stdin:5: not a JSON object: invalid character 'I' looking for beginning of value (skipped)
classify: predict: 3 rows scored, 2 skipped, TIME
`
	if r.code != exitSkipped || r.stdout != wantOut || r.stderr != wantErr {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s\nwant stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr, wantOut, wantErr)
	}

	// The production tree takes them itself, sending them to virginica.
	r = runCLI(t, in, "predict", "-format", "jsonl", "-model", "decision_tree")
	if r.code != exitSkipped || r.stdout != wantOut || r.stderr != wantErr {
		t.Errorf("production tree: exit %d\nstdout:\n%s\nstderr:\n%s\nwant stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr, wantOut, wantErr)
	}
}

func TestEvalMissing(t *testing.T) {
	in := "sepal_length,sepal_width,petal_length,petal_width,species\n5.1,3.5,1.4,0.2,setosa\n6.3,3.3,,2.5,virginica\n"
	args := []string{"eval", "-format", "csv", "-artifact", compatTree, "-kind", "decision_tree"}
	r := runCLI(t, in, args...)
	if r.code != exitSkipped || !strings.Contains(r.stdout, "rows      1 scored, 1 skipped") ||
		!strings.Contains(r.stderr, "stdin:3: petal_length: missing value (the model takes no missing values) (skipped)\n") {
		t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = withMissing(t, 6.0, in, args...)
	if r.code != 0 || !strings.Contains(r.stdout, "accuracy  1.0000 (2 of 2)") {
		t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The production tree takes them itself.
	r = runCLI(t, in, "eval", "-format", "csv", "-model", "decision_tree")
	if r.code != 0 || !strings.Contains(r.stdout, "rows      2 scored, 0 skipped") || !strings.Contains(r.stdout, "accuracy  1.0000 (2 of 2)") {
		t.Errorf("production tree: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestNaNToNull(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":1}`:                       `{"a":1}`,
		`{"a":NaN}`:                     `{"a":null}`,
		`{"a":[NaN,1,NaN]}`:             `{"a":[null,1,null]}`,
		`{"NaN":"NaN","b":NaN}`:         `{"NaN":"NaN","b":null}`,
		`{"s":"x\"NaN\\","b":NaN}`:      `{"s":"x\"NaN\\","b":null}`,
		`{"s":"\\\\\"NaN\"","NaN":NaN}`: `{"s":"\\\\\"NaN\"","NaN":null}`,
		`NaN`:                           `null`,
		`"unterminated NaN`:             `"unterminated NaN`,
		`{"a":Na`:                       `{"a":Na`,
	} {
		if got := string(nanToNull([]byte(in))); got != want {
			t.Errorf("nanToNull(%s) = %s, want %s", in, got, want)
		}
	}
}
