package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/ml-production-service/classify"
)

// fakeTree is a classify.TreeModel for these tests: the Iris rules'
// predictions, feature f's contribution to output o (o+1)*row[f]/10, the
// bias (o+1)/4. err, when set, is what Contributions returns.
type fakeTree struct {
	classify.Model
	err error
}

func (m *fakeTree) Info() classify.Info {
	info := m.Model.Info()
	info.Kind, info.Name = classify.DecisionTree, ""
	return info
}

func (m *fakeTree) Outputs() []string { return m.Info().Classes }

func (m *fakeTree) Contributions(row, out []float64) error {
	if m.err != nil {
		return m.err
	}
	nf := len(row)
	for _, v := range row {
		if v > 100 {
			return fmt.Errorf("%w: feature 0 is too large", classify.ErrInput)
		}
	}
	for o := range len(out) / (nf + 1) {
		for f, v := range row {
			out[o*(nf+1)+f] = float64(o+1) * v / 10
		}
		out[o*(nf+1)+nf] = float64(o+1) / 4
	}
	return nil
}

func (m *fakeTree) ContributionsBatch(rows, out []float64) error {
	for r := range len(rows) / 4 {
		if err := m.Contributions(rows[r*4:(r+1)*4], out[r*15:(r+1)*15]); err != nil {
			return err
		}
	}
	return nil
}

func (m *fakeTree) Trees() int                       { return 1 }
func (m *fakeTree) TreeGraph(int) classify.TreeGraph { return classify.TreeGraph{} }
func (m *fakeTree) Importance() classify.Importance {
	return classify.Importance{Features: m.Info().Features, Splits: []int{0, 1, 2, 3}, Gain: []float64{0, 0.1, 0.5, 0.4}, GainKind: "impurity"}
}

// withFake runs the command line in-process with every artifact loaded as
// tree (-artifact fake -kind decision_tree).
func withFake(t *testing.T, tree *fakeTree, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	newModel := func(classify.Kind, string) (classify.Model, error) { return tree, nil }
	err := runEnv(context.Background(), args, env{getenv: func(string) string { return "" },
		stdin: strings.NewReader(stdin), stdout: &stdout, stderr: &stderr, newModel: newModel})
	code := exitCode(err, &stderr)
	return result{code, stdout.String(), timing.ReplaceAllString(stderr.String(), ", TIME")}
}

var fake = []string{"-artifact", "fake", "-kind", "decision_tree"}

const explainCSV = `id,sepal_length,sepal_width,petal_length,petal_width,species
a,5.1,3.5,1.4,0.2,setosa
b,x,3.5,1.4,0.2,setosa
c,6.7,3.0,5.2,2.3,virginica
d,500,3.0,5.2,2.3,virginica
`

func TestExplainCSV(t *testing.T) {
	tree := &fakeTree{Model: classify.IrisRules()}
	r := withFake(t, tree, explainCSV, append([]string{"explain", "-format", "csv", "-keep", "id,species"}, fake...)...)
	wantErr := `stdin:3: sepal_length: "x" is not a number (skipped)
stdin:5: invalid input: sepal_length is too large (skipped)
classify: explain: 2 rows scored, 2 skipped, TIME
`
	if r.code != exitSkipped || r.stderr != wantErr {
		t.Fatalf("exit %d, stderr:\n%s\nwant:\n%s", r.code, r.stderr, wantErr)
	}
	recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := "line,id,species,prediction," +
		"setosa:sepal_length,setosa:sepal_width,setosa:petal_length,setosa:petal_width,setosa:bias,setosa:raw_output," +
		"versicolor:sepal_length,versicolor:sepal_width,versicolor:petal_length,versicolor:petal_width,versicolor:bias,versicolor:raw_output," +
		"virginica:sepal_length,virginica:sepal_width,virginica:petal_length,virginica:petal_width,virginica:bias,virginica:raw_output"
	if got := strings.Join(recs[0], ","); got != header {
		t.Fatalf("header %s\nwant   %s", got, header)
	}
	if len(recs) != 3 {
		t.Fatalf("%d records:\n%s", len(recs), r.stdout)
	}
	if got := strings.Join(recs[1][:4], ","); got != "2,a,setosa,setosa" {
		t.Errorf("row a: %s", got)
	}
	// setosa's four contributions, its bias, its raw output (their sum),
	// then versicolor's first contribution.
	for i, want := range []float64{0.51, 0.35, 0.14, 0.02, 0.25, 0.51 + 0.35 + 0.14 + 0.02 + 0.25, 1.02} {
		if v, err := strconv.ParseFloat(recs[1][4+i], 64); err != nil || math.Abs(v-want) > 1e-15 {
			t.Errorf("row a, %s: %s, want %g", recs[0][4+i], recs[1][4+i], want)
		}
	}
	if got := strings.Join(recs[2][:4], ","); got != "4,c,virginica,virginica" || recs[2][20] != "0.75" {
		t.Errorf("row c: %v", recs[2])
	}
}

func TestExplainJSONL(t *testing.T) {
	tree := &fakeTree{Model: classify.IrisRules()}
	in := `{"id": 7, "sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}` + "\n" +
		`{"sepal_length": 6.7, "sepal_width": 3.0, "petal_length": 5.2, "petal_width": 2.3}` + "\n"
	r := withFake(t, tree, in, append([]string{"explain", "-format", "jsonl", "-keep", "id"}, fake...)...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines:\n%s", len(lines), r.stdout)
	}
	if want := `{"line":1,"id":7,"prediction":"setosa","contributions":{"setosa":{"sepal_length":0.51,"sepal_width":0.35,`; !strings.HasPrefix(lines[0], want) {
		t.Errorf("got  %s\nwant %s...", lines[0], want)
	}
	var first struct {
		Contributions map[string]map[string]float64 `json:"contributions"`
		Expected      map[string]float64            `json:"expected_value"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if v := first.Contributions["virginica"]["petal_length"]; math.Abs(v-0.42) > 1e-15 || first.Expected["versicolor"] != 0.5 {
		t.Errorf("first line: %s", lines[0])
	}
	var obj struct {
		ID        any                `json:"id"`
		RawOutput map[string]float64 `json:"raw_output"`
	}
	if err := json.Unmarshal([]byte(lines[1]), &obj); err != nil {
		t.Fatal(err)
	}
	if obj.ID != nil || math.Abs(obj.RawOutput["setosa"]-(0.25+1.72)) > 1e-12 {
		t.Errorf("second line: %s", lines[1])
	}

	// CSV in, JSON Lines out: the kept fields are strings.
	r = withFake(t, tree, explainCSV, append([]string{"explain", "-format", "csv", "-output-format", "jsonl", "-keep", "id"}, fake...)...)
	if !strings.HasPrefix(r.stdout, `{"line":2,"id":"a","prediction":"setosa",`) {
		t.Errorf("CSV to JSON Lines: %s", r.stdout)
	}
	// JSON Lines in, CSV out: a key a row lacks is an empty field.
	r = withFake(t, tree, in, append([]string{"explain", "-format", "jsonl", "-output-format", "csv", "-keep", "id"}, fake...)...)
	if got := strings.Split(r.stdout, "\n"); !strings.HasPrefix(got[1], "1,7,setosa,0.51,") || !strings.HasPrefix(got[2], "2,,virginica,") {
		t.Errorf("JSON Lines to CSV:\n%s", r.stdout)
	}
}

func TestExplainAndImportanceErrors(t *testing.T) {
	noCovers := &fakeTree{Model: classify.IrisRules(), err: fmt.Errorf("%w: decision tree dump has no node covers", classify.ErrFormat)}
	for _, tc := range []struct {
		name   string
		tree   *fakeTree
		args   []string
		code   int
		stderr string
	}{
		{"no covers", noCovers, append([]string{"explain", "-format", "csv"}, fake...), 1,
			"classify: explain: model decision_tree cannot explain contributions: invalid model artifact: decision tree dump has no node covers\n"},
		{"no covers, importance", noCovers, append([]string{"importance"}, fake...), 1, "cannot explain contributions: invalid model artifact"},
		{"keep column absent", &fakeTree{Model: classify.IrisRules()}, append([]string{"explain", "-format", "csv", "-keep", "nope"}, fake...), 1,
			"stdin: -keep: the header has no column nope (it has: id, sepal_length"},
		{"keep line", nil, []string{"explain", "-keep", "line", irisCSV}, 2, `-keep "line": explain writes a "line" column itself`},
		{"keep twice", nil, []string{"explain", "-keep", "a,a", irisCSV}, 2, `name each column once`},
		{"bad output format", nil, []string{"explain", "-output-format", "xml", irisCSV}, 2, `-output-format "xml": use csv or jsonl`},
		{"two files", nil, []string{"explain", irisCSV, irisCSV}, 2, "explain takes one input file, got 2"},
		{"importance two files", nil, []string{"importance", irisCSV, irisCSV}, 2, "at most one input file"},
		{"heuristic", nil, []string{"explain", irisCSV}, 2,
			"classify: explain: model heuristic (heuristic) cannot explain contributions: only tree models can"},
		{"heuristic importance", nil, []string{"importance", "-model", "heuristic", irisCSV}, 2, "cannot explain contributions"},
		{"heuristic importance, no file", nil, []string{"importance"}, 2, "cannot explain contributions"},
		// The model is refused before the input is opened: nothing read
		// from stdin, the input's own trouble not reported.
		{"heuristic, empty stdin", nil, []string{"explain", "-format", "csv"}, 2,
			"classify: explain: model heuristic (heuristic) cannot explain contributions: only tree models can"},
		{"heuristic importance, empty stdin", nil, []string{"importance", "-model", "heuristic", "-format", "csv", "-"}, 2, "cannot explain contributions"},
		{"no covers, no such file", noCovers, append([]string{"explain", "no-such-file.csv"}, fake...), 1,
			"classify: explain: model decision_tree cannot explain contributions: invalid model artifact: decision tree dump has no node covers\n"},
		{"importance bad flag", nil, []string{"importance", "-workers", "0"}, 2, "use 1 or more"},
		{"importance unknown model", nil, []string{"importance", "-model", "svm"}, 2, `model not found: "svm"`},
		{"importance, no valid row", &fakeTree{Model: classify.IrisRules()}, append([]string{"importance", "-format", "csv", "-"}, fake...), 1,
			"importance: stdin: no row could be explained"},
		{"explain to a directory", nil, []string{"explain", "-model", "xgboost", "-o", ".", irisCSV}, 1, "explain: -o . is a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r result
			stdin := explainCSV
			if tc.name == "importance, no valid row" {
				stdin = "sepal_length,sepal_width,petal_length,petal_width\nx,1,1,1\n"
			}
			if tc.tree != nil {
				r = withFake(t, tc.tree, stdin, tc.args...)
			} else {
				r = runCLI(t, "", tc.args...)
			}
			if r.code != tc.code || !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want %d, %q", r.code, r.stderr, tc.code, tc.stderr)
			}
		})
	}
}

func TestImportance(t *testing.T) {
	tree := &fakeTree{Model: classify.IrisRules()}
	r := withFake(t, tree, "", append([]string{"importance"}, fake...)...)
	want := `model decision_tree (decision_tree, version -)

importance (gain: impurity)
FEATURE         SPLITS  GAIN
sepal_length         0  0
sepal_width          1  0.1
petal_length         2  0.5
petal_width          3  0.4
`
	if r.code != 0 || r.stdout != want {
		t.Errorf("exit %d, stderr %s, stdout:\n%s\nwant:\n%s", r.code, r.stderr, r.stdout, want)
	}
	r = withFake(t, tree, explainCSV, append([]string{"importance", "-format", "csv", "-json", "-workers", "1", "-"}, fake...)...)
	// importance parses without predicting: the model's refusal comes from
	// its contributions, with predict's message.
	if r.code != exitSkipped || !strings.Contains(r.stderr, "stdin:5: invalid input: sepal_length is too large (skipped)") {
		t.Errorf("exit %d: %s", r.code, r.stderr)
	}
	wantJSON := `{"model":{"kind":"decision_tree","name":"decision_tree","version":""},"raw_output":"probability",` +
		`"importance":{"gain_kind":"impurity","splits":{"sepal_length":0,"sepal_width":1,"petal_length":2,"petal_width":3},` +
		`"gain":{"sepal_length":0,"sepal_width":0.1,"petal_length":0.5,"petal_width":0.4}},"rows":2,` +
		`"mean_abs_contributions":{"setosa":{"sepal_length":0.59`
	if !strings.HasPrefix(r.stdout, wantJSON) {
		t.Errorf("got  %s\nwant %s...", r.stdout, wantJSON)
	}
	var v struct {
		Mean map[string]map[string]float64 `json:"mean_abs_contributions"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatal(err)
	}
	if got := v.Mean["virginica"]["petal_width"]; math.Abs(got-3*(0.2+2.3)/20) > 1e-15 {
		t.Errorf("virginica, petal_width: %g", got)
	}
	// The text form with rows, and the same sums with more workers.
	r = withFake(t, tree, explainCSV, append([]string{"importance", "-format", "csv", "-"}, fake...)...)
	if !strings.Contains(r.stdout, "mean |contribution| over 2 rows (raw output: probability)\n") ||
		!strings.Contains(r.stdout, "(bias)                0.25           0.5          0.75") {
		t.Errorf("text:\n%s", r.stdout)
	}
}

// TestExplainRegistry explains the Iris file with the production models:
// XGBoost's contributions add up to margins whose softmax is predict's
// probabilities, the trees' and forests' to their probabilities;
// importance's means do not depend on -workers (input of several chunks);
// a scikit-learn dump without node covers (the compatibility registry's)
// fails before reading the input, saying why.
func TestExplainRegistry(t *testing.T) {
	r := runCLI(t, "", "explain", "-model", "xgboost", "-output-format", "jsonl", "-keep", "species", irisCSV)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	p := runCLI(t, "", "predict", "-model", "xgboost", irisCSV)
	recs, err := csv.NewReader(strings.NewReader(p.stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 150 || len(recs) != 151 {
		t.Fatalf("%d lines, %d records", len(lines), len(recs))
	}
	for i, line := range lines {
		var row struct {
			Species    string                        `json:"species"`
			Prediction string                        `json:"prediction"`
			Contrib    map[string]map[string]float64 `json:"contributions"`
			Expected   map[string]float64            `json:"expected_value"`
			Raw        map[string]float64            `json:"raw_output"`
		}
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatal(err)
		}
		total := 0.0
		for _, c := range []string{"setosa", "versicolor", "virginica"} {
			sum := row.Expected[c]
			for _, v := range row.Contrib[c] {
				sum += v
			}
			if math.Abs(sum-row.Raw[c]) > 1e-12 {
				t.Errorf("line %d, %s: %g != %g", i+2, c, sum, row.Raw[c])
			}
			total += math.Exp(row.Raw[c])
		}
		if row.Prediction != recs[i+1][5] || row.Species != recs[i+1][4] {
			t.Errorf("line %d: %s %s, predict %v", i+2, row.Species, row.Prediction, recs[i+1])
		}
		for k, c := range []string{"setosa", "versicolor", "virginica"} {
			want, _ := strconv.ParseFloat(recs[i+1][6+k], 64)
			if got := math.Exp(row.Raw[c]) / total; math.Abs(got-want) > 1e-6 {
				t.Errorf("line %d, %s: softmax %g, predict %g", i+2, c, got, want)
			}
		}
	}

	// Importance over 3,000 rows (three chunks) is the same on 1 or 3 workers.
	in := strings.SplitN(string(mustRead(t, irisCSV)), "\n", 2)
	big := in[0] + "\n" + strings.Repeat(in[1], 20)
	one := runCLI(t, big, "importance", "-model", "xgboost", "-format", "csv", "-json", "-workers", "1", "-")
	three := runCLI(t, big, "importance", "-model", "xgboost", "-format", "csv", "-json", "-workers", "3", "-")
	if one.code != 0 || one.stdout != three.stdout || !strings.Contains(one.stdout, `"rows":3000`) {
		t.Errorf("exit %d, %s\n-workers 1: %s\n-workers 3: %s", one.code, one.stderr, one.stdout, three.stdout)
	}

	for _, name := range []string{"decision_tree", "random_forest"} {
		r := runCLI(t, "", "explain", "-model", name, irisCSV)
		p := runCLI(t, "", "predict", "-model", name, irisCSV)
		out, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
		if err != nil || r.code != 0 {
			t.Fatalf("%s: exit %d, %v: %s", name, r.code, err, r.stderr)
		}
		pred, _ := csv.NewReader(strings.NewReader(p.stdout)).ReadAll()
		for i := 1; i < len(out); i++ {
			for k := range 3 { // each class: its features and bias add up to its probability
				sum := 0.0
				for _, s := range out[i][2+6*k : 2+6*k+5] {
					v, _ := strconv.ParseFloat(s, 64)
					sum += v
				}
				want, _ := strconv.ParseFloat(pred[i][6+k], 64)
				raw, _ := strconv.ParseFloat(out[i][2+6*k+5], 64) // and its raw_output column says so
				if math.Abs(sum-want) > 1e-9 || math.Abs(raw-want) > 1e-9 {
					t.Errorf("%s, row %d, class %d: %g (raw_output %g), predict %g", name, i, k, sum, raw, want)
				}
			}
		}
	}
	r = runCLI(t, "", "explain", "-artifact", compatTree, "-kind", "decision_tree", irisCSV)
	want := "classify: explain: model decision_tree cannot explain contributions: invalid model artifact: "
	if r.code != 1 || !strings.HasPrefix(r.stderr, want) || !strings.Contains(r.stderr, "node covers") || r.stdout != "" {
		t.Errorf("no covers: exit %d, stderr %q", r.code, r.stderr)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
