package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/internal/modeltest"
)

// parityDir writes a parity file (version 2) for the production decision
// tree (scikit-learn 1.9.1, which takes missing values) into a new
// directory beside a copy of the artifact, from the research golden file's
// first n cases, and returns the parity file's path. edit changes the
// file's JSON object before it is written.
func parityDir(t *testing.T, n int, edit func(doc map[string]any)) string {
	t.Helper()
	return parityDirFrom(t, "../../models/decision_tree.json", "../../testdata/golden/decision_tree.json", n, edit)
}

// compatParityDir is parityDir for the compatibility registry's decision
// tree (scikit-learn 1.2.1, classify/sklearn-trees v1), which takes no
// missing values, from its own golden file (version 1, written as 2).
func compatParityDir(t *testing.T, n int, edit func(doc map[string]any)) string {
	t.Helper()
	return parityDirFrom(t, "../../testdata/compat/registry/decision_tree.json", "../../testdata/compat/golden/decision_tree.json", n, edit)
}

// parityDirFrom writes a parity file (version 2) for the decision tree
// artifact into a new directory beside a copy of it, from golden's first n
// cases, and returns the parity file's path.
func parityDirFrom(t *testing.T, artifact, golden string, n int, edit func(doc map[string]any)) string {
	t.Helper()
	dir := t.TempDir()
	art, err := os.ReadFile(artifact)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "decision_tree.json"), art, 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	doc["format_version"] = 2
	doc["kind"] = "decision_tree"
	doc["artifact"] = "decision_tree.json"
	doc["cases"] = doc["cases"].([]any)[:n]
	if edit != nil {
		edit(doc)
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "decision_tree.parity.json")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// caseAt returns case i of a parity document.
func caseAt(doc map[string]any, i int) map[string]any {
	return doc["cases"].([]any)[i].(map[string]any)
}

func TestVerifyParityPasses(t *testing.T) {
	p := parityDir(t, 40, nil)
	r := runCLI(t, "", "verify-parity", p)
	want := "parity file                     " + p + " (classify/golden v2)\n" +
		"artifact                        " + filepath.Join(filepath.Dir(p), "decision_tree.json") + " (decision_tree), sha256 2b6e5b0462a0 as the parity file says\n" +
		"reference                       scikit-learn 1.9.1 (predict, predict_proba)\n" +
		"cases                           40\n" +
		"label mismatches                0\n" +
		"largest probability difference  0\n" +
		"tolerance                       1e-09 (the default for decision_tree)\n" +
		"result                          ok\n"
	if r.code != 0 || r.stdout != want || r.stderr != "" {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit 0, stdout:\n%s", r.code, r.stdout, r.stderr, want)
	}

	// A version 1 golden file (the compatibility suite's, XGBoost 1.7.4),
	// with the artifact and kind given.
	r = runCLI(t, "", "verify-parity", "-kind", "xgboost", "-model", "../../testdata/compat/registry/xgboost.model", "../../testdata/compat/golden/xgboost.json")
	for _, line := range []string{"(classify/golden v1)", "sha256 dd4b509573e7 as the parity file says",
		"reference                       xgboost 1.7.4 (", "cases                           597\n",
		"tolerance                       1e-06 (the default for xgboost)", "result                          ok"} {
		if !strings.Contains(r.stdout, line) || r.code != 0 {
			t.Errorf("compat v1: exit %d, stdout lacks %q:\n%s%s", r.code, line, r.stdout, r.stderr)
		}
	}

	// The production golden file (version 2, XGBoost 3.2.0), whose 13
	// missing-value cases the production model takes: the output the
	// package documentation quotes.
	r = runCLI(t, "", "verify-parity", "-kind", "xgboost", "-model", "../../models/xgboost.json", "../../testdata/golden/xgboost.json")
	want = "parity file                     ../../testdata/golden/xgboost.json (classify/golden v2)\n" +
		"artifact                        ../../models/xgboost.json (xgboost), sha256 e6468cc94130 as the parity file says\n" +
		"reference                       xgboost 3.2.0 (XGBClassifier.predict, predict_proba; float32 probabilities)\n" +
		"cases                           610 (13 with missing values; the model takes them)\n" +
		"label mismatches                0\n" +
		"largest probability difference  0\n" +
		"tolerance                       1e-06 (the default for xgboost)\n" +
		"result                          ok\n"
	if r.code != 0 || r.stdout != want || r.stderr != "" {
		t.Errorf("production xgboost: exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit 0, stdout:\n%s", r.code, r.stdout, r.stderr, want)
	}
}

func TestVerifyParityLabelMismatch(t *testing.T) {
	p := parityDir(t, 30, func(doc map[string]any) {
		for _, i := range []int{3, 7} {
			c := caseAt(doc, i)
			c["label"], c["proba"] = "virginica", []float64{0, 0, 1}
		}
	})
	r := runCLI(t, "", "verify-parity", p)
	for _, want := range []string{
		"label mismatches                2\n",
		"largest probability difference  1 (case iris/3, class setosa)\n",
		"result                          FAIL\n",
		"\nfailing cases (2):\n  iris/3: label setosa, reference virginica (probabilities [1 0 0])\n  iris/7: label setosa, reference virginica (probabilities [1 0 0])\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	wantErr := "classify: verify-parity: " + p + ": 2 label mismatches; a probability difference of 1, beyond the tolerance 1e-09\n"
	if r.code != exitFailure || r.stderr != wantErr {
		t.Errorf("exit %d, stderr %q; want 1, %q", r.code, r.stderr, wantErr)
	}
}

func TestVerifyParityBoundsTheList(t *testing.T) {
	p := parityDir(t, 50, func(doc map[string]any) {
		for i := range 25 {
			caseAt(doc, i)["label"] = "versicolor"
		}
	})
	r := runCLI(t, "", "verify-parity", p)
	if r.code != exitFailure || !strings.Contains(r.stdout, "failing cases (25, the first 20 shown):") ||
		strings.Count(r.stdout, ": label setosa, reference versicolor") != 20 {
		t.Errorf("exit %d:\n%s", r.code, r.stdout)
	}
}

func TestVerifyParityTolerance(t *testing.T) {
	p := parityDir(t, 10, func(doc map[string]any) {
		caseAt(doc, 4)["proba"] = []float64{1 - 1e-7, 1e-7, 0}
	})
	r := runCLI(t, "", "verify-parity", p)
	if r.code != exitFailure || !strings.Contains(r.stdout, "label mismatches                0\n") ||
		!strings.Contains(r.stdout, "largest probability difference  1e-07 (case iris/4, class versicolor)\n") ||
		!strings.Contains(r.stderr, p+": a probability difference of 1e-07, beyond the tolerance 1e-09") ||
		strings.Contains(r.stdout, "failing cases") {
		t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// -tolerance, then the file's own, widen it.
	r = runCLI(t, "", "verify-parity", "-tolerance", "1e-6", p)
	if r.code != 0 || !strings.Contains(r.stdout, "tolerance                       1e-06 (-tolerance)\n") {
		t.Errorf("-tolerance 1e-6: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	p = parityDir(t, 10, func(doc map[string]any) {
		caseAt(doc, 4)["proba"] = []float64{1 - 1e-7, 1e-7, 0}
		doc["tolerance"] = 2e-7
	})
	r = runCLI(t, "", "verify-parity", p)
	if r.code != 0 || !strings.Contains(r.stdout, "tolerance                       2e-07 (the parity file's)\n") {
		t.Errorf("the file's tolerance: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestVerifyParityChecksum(t *testing.T) {
	p := parityDir(t, 5, func(doc map[string]any) {
		doc["artifact_sha256"] = strings.Repeat("ab", 32)
	})
	r := runCLI(t, "", "verify-parity", p)
	if r.code != exitFailure || !strings.Contains(r.stdout, "sha256 2b6e5b0462a0, but the parity file is for abababababab\n") ||
		!strings.Contains(r.stderr, "the artifact is not the one the parity file was written for") {
		t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	p = parityDir(t, 5, func(doc map[string]any) { delete(doc, "artifact_sha256") })
	r = runCLI(t, "", "verify-parity", p)
	if r.code != 0 || !strings.Contains(r.stdout, "sha256 2b6e5b0462a0 (the parity file names none)\n") {
		t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// nullInputs sets input 1 of cases 0 and 2 to null, as an exporter writes a
// missing value; the reference answers stay those of the full rows, so the
// test model routes a missing value as that row's own value would go.
func nullInputs(doc map[string]any) {
	for _, i := range []int{0, 2} {
		caseAt(doc, i)["input"].([]any)[1] = nil
	}
}

func TestVerifyParityMissingValues(t *testing.T) {
	p := compatParityDir(t, 6, nullInputs)
	// The scikit-learn 1.2.1 tree (the compatibility registry's) takes no
	// missing values: those cases are refused.
	r := runCLI(t, "", "verify-parity", p)
	for _, want := range []string{
		"cases                           6 (2 with missing values; the model refuses them)\n",
		"refused                         2\n",
		"  iris/0: refused: invalid input: sepal_width is NaN\n",
		"  iris/2: refused: invalid input: sepal_width is NaN\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if r.code != exitFailure || !strings.HasSuffix(r.stderr, ": 2 cases refused\n") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	one := compatParityDir(t, 6, func(doc map[string]any) {
		caseAt(doc, 0)["input"].([]any)[1] = nil
		caseAt(doc, 4)["label"] = "versicolor"
	})
	r = runCLI(t, "", "verify-parity", one)
	if r.code != exitFailure || !strings.HasSuffix(r.stderr, ": 1 label mismatch; 1 case refused\n") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}

	// A model that takes them (the same tree, routing a missing sepal_width
	// as 3.0: the Iris rows 0 and 2 go where they go with their own values).
	missing := func(k classify.Kind, path string) (classify.Model, error) {
		m, err := classify.New(k, path)
		if err != nil {
			return nil, err
		}
		return modeltest.Missing(m, 3.0), nil
	}
	var stdout, stderr bytes.Buffer
	err := runEnv(context.Background(), []string{"verify-parity", p},
		env{getenv: func(string) string { return "" }, stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, newModel: missing})
	if err != nil || !strings.Contains(stdout.String(), "cases                           6 (2 with missing values; the model takes them)\n") ||
		!strings.Contains(stdout.String(), "result                          ok\n") {
		t.Errorf("err %v\n%s%s", err, stdout.String(), stderr.String())
	}

	// The production tree (scikit-learn 1.9.1, exported with its
	// missing-value directions) takes them itself, and routes every one of
	// its golden file's 13 missing-value cases as scikit-learn does.
	all := parityDir(t, 360, nil)
	r = runCLI(t, "", "verify-parity", all)
	for _, want := range []string{
		"cases                           360 (13 with missing values; the model takes them)\n",
		"label mismatches                0\n",
		"largest probability difference  0\n",
		"result                          ok\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("production tree: stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if r.code != 0 || r.stderr != "" || strings.Contains(r.stdout, "refused") {
		t.Errorf("production tree: exit %d, stderr %q\n%s", r.code, r.stderr, r.stdout)
	}
}

func TestVerifyParityErrors(t *testing.T) {
	good := parityDir(t, 3, nil)
	noArtifact := parityDir(t, 3, func(doc map[string]any) { delete(doc, "artifact") })
	noKind := parityDir(t, 3, func(doc map[string]any) { delete(doc, "kind") })
	gone := parityDir(t, 3, func(doc map[string]any) { doc["artifact"] = "gone.json" })
	malformed := writeFile(t, "bad.json", `{"format": "classify/golden", "format_version": 2, "cases": [`)
	v3 := parityDir(t, 3, func(doc map[string]any) { doc["format_version"] = 3 })
	otherSchema := parityDir(t, 3, func(doc map[string]any) { doc["features"] = []string{"a", "b", "c", "d"} })
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no file", []string{"verify-parity"}, 2, "verify-parity takes one parity file, got 0"},
		{"two files", []string{"verify-parity", good, good}, 2, "verify-parity takes one parity file, got 2"},
		{"bad flag", []string{"verify-parity", "-x", good}, 2, "flag provided but not defined: -x"},
		{"unknown kind", []string{"verify-parity", "-kind", "svm", noKind}, 2, `-kind: unknown model kind "svm"`},
		{"kind conflict", []string{"verify-parity", "-kind", "xgboost", good}, 2, "-kind xgboost, but " + good + " is for a decision_tree model"},
		{"no kind", []string{"verify-parity", noKind}, 2, noKind + " names no kind: give -kind (heuristic, decision_tree, random_forest, xgboost, lightgbm, hist_gradient_boosting, gradient_boosting)"},
		{"no artifact", []string{"verify-parity", noArtifact}, 2, noArtifact + " names no artifact: give -model ARTIFACT"},
		{"negative tolerance", []string{"verify-parity", "-tolerance", "-1", good}, 2, "-tolerance -1: use a number from 0 up"},
		{"NaN tolerance", []string{"verify-parity", "-tolerance", "NaN", good}, 2, "-tolerance NaN"},
		{"missing parity file", []string{"verify-parity", "nothere.json"}, 1, "no such file"},
		{"missing artifact", []string{"verify-parity", gone}, 1, "gone.json: no such file or directory"},
		{"missing -model", []string{"verify-parity", "-model", "nothere.json", good}, 1, "nothere.json: no such file or directory"},
		{"malformed file", []string{"verify-parity", malformed}, 1, malformed + ": golden: invalid golden file: unexpected end of the file"},
		{"newer version", []string{"verify-parity", v3}, 1, "format_version 3 is newer than this reader"},
		{"artifact that does not load", []string{"verify-parity", "-model", "../../models/xgboost.json", good}, 1, "classify: verify-parity: invalid model artifact: decision_tree"},
		{"other schema", []string{"verify-parity", otherSchema}, 1, "the model's features [sepal_length sepal_width petal_length petal_width] are not the file's [a b c d]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, "", tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("classify %v: exit %d, stderr %q; want exit %d, stderr containing %q", tc.args, r.code, r.stderr, tc.code, tc.stderr)
			}
		})
	}
}

// batchDiffers answers PredictBatch with its last class for every row,
// whatever Predict says.
type batchDiffers struct{ classify.Model }

func (b batchDiffers) PredictBatch(rows []float64, classes []int, proba []float64) error {
	if err := b.Model.PredictBatch(rows, classes, proba); err != nil {
		return err
	}
	for i := range classes {
		classes[i] = len(b.Info().Classes) - 1
	}
	return nil
}

func TestVerifyParityBatchPath(t *testing.T) {
	p := parityDir(t, 3, nil)
	var stdout, stderr bytes.Buffer
	newModel := func(k classify.Kind, path string) (classify.Model, error) {
		m, err := classify.New(k, path)
		return batchDiffers{m}, err
	}
	err := runEnv(context.Background(), []string{"verify-parity", p},
		env{getenv: func(string) string { return "" }, stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, newModel: newModel})
	if err == nil || !strings.HasSuffix(err.Error(), ": 3 cases where PredictBatch differs from Predict") ||
		!strings.Contains(stdout.String(), "batch differs                   3 (PredictBatch unlike Predict)\n") ||
		!strings.Contains(stdout.String(), "  iris/0: PredictBatch answered virginica [1 0 0], unlike Predict (setosa)\n") {
		t.Errorf("err %v\n%s", err, stdout.String())
	}

	// An artifact that cannot be read whole (a directory) fails before loading.
	r := runCLI(t, "", "verify-parity", "-model", t.TempDir(), p)
	if r.code != exitFailure || !strings.Contains(r.stderr, "is a directory") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}
