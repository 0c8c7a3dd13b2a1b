package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/models"
)

func TestEvalTable(t *testing.T) {
	r := runCLI(t, "", "eval", irisCSV)
	want := `model     heuristic (heuristic 1.0.1)
input     ../../research/data/iris.csv
rows      150 scored, 0 skipped
accuracy  0.9800 (147 of 150)

confusion matrix (rows: true label, columns: predicted)
              setosa  versicolor  virginica
  setosa          50           0          0
  versicolor       0          47          3
  virginica        0           0         50

  class       precision  recall      f1  support
  setosa         1.0000  1.0000  1.0000       50
  versicolor     1.0000  0.9400  0.9691       50
  virginica      0.9434  1.0000  0.9709       50
`
	if r.code != 0 || r.stdout != want || r.stderr != "classify: eval: 150 rows scored, 0 skipped, TIME\n" {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s\nwant:\n%s", r.code, r.stdout, r.stderr, want)
	}
}

// eval -json agrees with the library's predictions; labels the model does
// not know get rows of their own, and bad rows are skipped and counted.
func TestEvalJSON(t *testing.T) {
	for _, m := range registryModels(t) {
		info := m.Info()
		classes, _ := libraryPredictions(t, m)
		_, records := iris(t)
		want := [3][3]int{}
		correct := 0
		for i, r := range records {
			truth := map[string]int{"setosa": 0, "versicolor": 1, "virginica": 2}[r[4]]
			want[truth][classes[i]]++
			if truth == classes[i] {
				correct++
			}
		}
		r := runCLI(t, irisJSONL(t), "eval", "-format", "jsonl", "-json", "-model", info.Name)
		var rep evalReport
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 {
			t.Fatalf("%s: exit %d, %v: %s", info.Name, r.code, err, r.stdout)
		}
		if rep.Rows != 150 || rep.Correct != correct || rep.Accuracy != float64(correct)/150 || rep.Model.Name != info.Name {
			t.Errorf("%s: report %+v, want %d of 150 correct", info.Name, rep, correct)
		}
		for i := range 3 {
			for j := range 3 {
				if rep.Confusion[i][j] != want[i][j] {
					t.Errorf("%s: confusion[%d][%d] = %d, want %d", info.Name, i, j, rep.Confusion[i][j], want[i][j])
				}
			}
		}
	}

	in := `{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2,"species":"setosa"}
{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2,"species":"daisy"}
{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}
{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2,"species":7}
{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2,"species":" "}
{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":-1e39,"species":"setosa"}
`
	// -allow-non-positive: the last row is about a value too large for float32.
	r := runCLI(t, in, "eval", "-format", "jsonl", "-json", "-model", "xgboost", "-allow-non-positive")
	var rep evalReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	wantErr := `stdin:3: the label is missing (skipped)
stdin:4: the label 7 is not a string (skipped)
stdin:5: the label is missing (skipped)
stdin:6: invalid input: petal_width is -1e+39, too large for float32 (skipped)
classify: eval: 2 rows scored, 4 skipped, TIME
`
	if r.code != exitSkipped || r.stderr != wantErr {
		t.Errorf("exit %d, stderr:\n%s\nwant:\n%s", r.code, r.stderr, wantErr)
	}
	if rep.Rows != 2 || rep.Skipped != 4 || rep.Correct != 1 || strings.Join(rep.Labels, ",") != "setosa,versicolor,virginica,daisy" ||
		rep.Confusion[3][0] != 1 || rep.PerClass[0].Precision != 0.5 || rep.PerClass[0].Recall != 1 || rep.PerClass[1].F1 != 0 {
		t.Errorf("report %+v", rep)
	}

	// CSV labels: a missing one is a bad row; -on-error=fail stops at it.
	path := writeFile(t, "l.csv", "sepal_length,sepal_width,petal_length,petal_width,species\n5.1,3.5,1.4,0.2,setosa\n5.1,3.5,1.4,0.2,\n")
	if r := runCLI(t, "", "eval", path); r.code != exitSkipped || !strings.Contains(r.stderr, ":3: the label is missing (skipped)") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	if r := runCLI(t, "", "eval", "-on-error", "fail", path); r.code != exitFailure || r.stdout != "" ||
		!strings.Contains(r.stderr, ":3: the label is missing (stopped: -on-error=fail)") {
		t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestModels(t *testing.T) {
	reg, err := classify.OpenRegistry(models.FS)
	if err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "", "models")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if r.code != 0 || len(lines) != 5 || !strings.HasPrefix(lines[0], "NAME ") {
		t.Fatalf("exit %d, stdout:\n%s", r.code, r.stdout)
	}
	for i, e := range reg.Manifest().Models {
		f := strings.Fields(lines[i+1])
		if f[0] != e.Name || f[1] != string(e.Kind) || f[2] != e.Version || f[4] != e.SHA256[:12] ||
			f[5] != strings.Join(e.Features, ",") || f[6] != strings.Join(e.Classes, ",") || !strings.Contains(lines[i+1], "accuracy loocv=") {
			t.Errorf("line %q does not describe %+v", lines[i+1], e)
		}
	}

	r = runCLI(t, "", "models", "-json")
	var got []classify.Entry
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 {
		t.Fatalf("exit %d, %v", r.code, err)
	}
	want, _ := json.Marshal(reg.Manifest().Models)
	if again, _ := json.Marshal(got); string(again) != string(want) {
		t.Errorf("models -json: %s\nwant %s", again, want)
	}

	// An empty registry lists nothing, as [] in JSON.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(`{"format":"classify/manifest","format_version":1,"models":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, "", "models", "-json", "-registry", dir); r.code != 0 || r.stdout != "[]\n" {
		t.Errorf("empty registry: exit %d, %q", r.code, r.stdout)
	}
	if r := runCLI(t, "", "verify", "-registry", dir); r.code != 1 || !strings.Contains(r.stderr, "lists no models") {
		t.Errorf("verify empty registry: exit %d, %q", r.code, r.stderr)
	}
}

// copyRegistry copies the production registry into a new directory.
func copyRegistry(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob("../../models/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, ".go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// flipByte changes one byte in the middle of a file.
func flipByte(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x01
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestVerify(t *testing.T) {
	r := runCLI(t, "", "verify")
	if r.code != 0 || !strings.Contains(r.stdout, "4 models verified in the embedded registry") || strings.Count(r.stdout, "\nok ") != 3 {
		t.Errorf("exit %d, stdout:\n%s", r.code, r.stdout)
	}
	dir := copyRegistry(t)
	if r := runCLI(t, "", "verify", "-registry", dir); r.code != 0 || !strings.Contains(r.stdout, "4 models verified in the registry "+dir) {
		t.Errorf("copy: exit %d, stdout:\n%s%s", r.code, r.stdout, r.stderr)
	}

	for _, tc := range []struct{ file, model string }{
		{"xgboost.json", "xgboost"},
		{"xgboost.json.meta.json", "xgboost"},
		{"decision_tree.json", "decision_tree"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			dir := copyRegistry(t)
			flipByte(t, filepath.Join(dir, tc.file))
			r := runCLI(t, "", "verify", "-registry", dir)
			if r.code != exitFailure || !strings.Contains(r.stdout, "FAIL  "+tc.model) ||
				!strings.Contains(r.stdout, "checksum mismatch: "+tc.file+" has sha256") ||
				!strings.Contains(r.stderr, "verify: 1 of 4 models in the registry "+dir+" failed: "+tc.model) {
				t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			// Scoring with the tampered model fails too; the others still score.
			if r := runCLI(t, "", "predict", "-registry", dir, "-model", tc.model, irisCSV); r.code != exitFailure ||
				!strings.Contains(r.stderr, "checksum mismatch: "+tc.file) {
				t.Errorf("predict with a tampered %s: exit %d, %s", tc.file, r.code, r.stderr)
			}
			if r := runCLI(t, "", "predict", "-registry", dir, "-model", "heuristic", irisCSV); r.code != 0 {
				t.Errorf("predict with an intact model of a tampered registry: exit %d, %s", r.code, r.stderr)
			}
		})
	}

	// A missing artifact is named too.
	dir = copyRegistry(t)
	if err := os.Remove(filepath.Join(dir, "random_forest.json")); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, "", "verify", "-registry", dir); r.code != 1 || !strings.Contains(r.stdout, "random_forest.json") {
		t.Errorf("missing artifact: exit %d, %s", r.code, r.stdout)
	}
}
