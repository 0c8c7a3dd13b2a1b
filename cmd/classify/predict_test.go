package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/models"
)

// iris reads the Iris CSV: its header and records.
func iris(t *testing.T) (header []string, records [][]string) {
	t.Helper()
	f, err := os.Open(irisCSV)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return all[0], all[1:]
}

// libraryPredictions scores the Iris rows with PredictBatch.
func libraryPredictions(t *testing.T, m classify.Model) (classes []int, proba []float64) {
	t.Helper()
	_, records := iris(t)
	info := m.Info()
	var rows []float64
	for _, r := range records {
		for i := range info.Features {
			v, err := strconv.ParseFloat(r[i], 64)
			if err != nil {
				t.Fatal(err)
			}
			rows = append(rows, v)
		}
	}
	classes = make([]int, len(records))
	proba = make([]float64, len(records)*len(info.Classes))
	if err := m.PredictBatch(rows, classes, proba); err != nil {
		t.Fatal(err)
	}
	return classes, proba
}

func registryModels(t *testing.T) []classify.Model {
	t.Helper()
	reg, err := classify.OpenRegistry(models.FS)
	if err != nil {
		t.Fatal(err)
	}
	var ms []classify.Model
	for _, e := range reg.Manifest().Models {
		m, err := reg.Load(e.Name)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	if len(ms) != 4 {
		t.Fatalf("the embedded registry has %d models, want 4", len(ms))
	}
	return ms
}

// Every model's predictions on every Iris row are the library's, labels
// and probabilities exactly.
func TestPredictCSVMatchesLibrary(t *testing.T) {
	header, records := iris(t)
	for _, m := range registryModels(t) {
		info := m.Info()
		t.Run(info.Name, func(t *testing.T) {
			r := runCLI(t, "", "predict", "-model", info.Name, irisCSV)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if want := fmt.Sprintf("classify: predict: %d rows scored, 0 skipped, TIME\n", len(records)); r.stderr != want {
				t.Errorf("stderr %q, want %q", r.stderr, want)
			}
			out, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			wantHeader := append(append([]string{}, header...), "prediction")
			for _, c := range info.Classes {
				wantHeader = append(wantHeader, "probability_"+c)
			}
			if fmt.Sprint(out[0]) != fmt.Sprint(wantHeader) {
				t.Fatalf("header %v, want %v", out[0], wantHeader)
			}
			if len(out)-1 != len(records) {
				t.Fatalf("%d rows out, want %d", len(out)-1, len(records))
			}
			classes, proba := libraryPredictions(t, m)
			nc := len(info.Classes)
			for i, row := range out[1:] {
				if fmt.Sprint(row[:len(header)]) != fmt.Sprint(records[i]) {
					t.Fatalf("row %d: input columns %v, want %v", i, row[:len(header)], records[i])
				}
				if got := row[len(header)]; got != info.Classes[classes[i]] {
					t.Errorf("row %d: prediction %s, library %s", i, got, info.Classes[classes[i]])
				}
				for j := range nc {
					got, err := strconv.ParseFloat(row[len(header)+1+j], 64)
					if err != nil || got != proba[i*nc+j] {
						t.Errorf("row %d: probability of %s is %s, library %v", i, info.Classes[j], row[len(header)+1+j], proba[i*nc+j])
					}
				}
			}
		})
	}
}

// irisJSONL writes the Iris rows as JSON Lines with the keys in another
// order than the features and an extra key.
func irisJSONL(t *testing.T) string {
	t.Helper()
	_, records := iris(t)
	var b strings.Builder
	for i, r := range records {
		fmt.Fprintf(&b, `{"id": %d, "petal_width": %s, "species": %q, "sepal_length": %s, "petal_length": %s, "sepal_width": %s}`+"\n",
			i, r[3], r[4], r[0], r[2], r[1])
	}
	return b.String()
}

// JSON Lines in, JSON Lines out: each object keeps its keys and gains the
// library's prediction and probabilities.
func TestPredictJSONLRoundTrip(t *testing.T) {
	in := irisJSONL(t)
	path := writeFile(t, "iris.jsonl", in)
	inLines := strings.Split(strings.TrimSuffix(in, "\n"), "\n")
	for _, m := range registryModels(t) {
		info := m.Info()
		t.Run(info.Name, func(t *testing.T) {
			outPath := filepath.Join(t.TempDir(), "out.jsonl")
			// From a file to -o, and from stdin to stdout: the same bytes.
			r := runCLI(t, "", "predict", "-model", info.Name, "-o", outPath, path)
			if r.code != 0 || r.stdout != "" {
				t.Fatalf("exit %d, stdout %q: %s", r.code, r.stdout, r.stderr)
			}
			written, err := os.ReadFile(outPath)
			if err != nil {
				t.Fatal(err)
			}
			r = runCLI(t, in, "predict", "-format", "jsonl", "-model", info.Name)
			if r.code != 0 || r.stdout != string(written) {
				t.Fatalf("stdin run: exit %d, output differs from the -o file's", r.code)
			}
			classes, proba := libraryPredictions(t, m)
			nc := len(info.Classes)
			sc := bufio.NewScanner(strings.NewReader(r.stdout))
			i := 0
			for ; sc.Scan(); i++ {
				line := sc.Text()
				// The input object's text is kept as it was.
				if want := strings.TrimSuffix(inLines[i], "}"); !strings.HasPrefix(line, want+`,"prediction":`) {
					t.Fatalf("line %d: %s does not start with the input object %s", i+1, line, want)
				}
				var got struct {
					ID            int                `json:"id"`
					Species       string             `json:"species"`
					Prediction    string             `json:"prediction"`
					Probabilities map[string]float64 `json:"probabilities"`
				}
				if err := json.Unmarshal([]byte(line), &got); err != nil {
					t.Fatalf("line %d: %v", i+1, err)
				}
				if got.ID != i || got.Prediction != info.Classes[classes[i]] {
					t.Errorf("line %d: id %d prediction %s, want id %d prediction %s", i+1, got.ID, got.Prediction, i, info.Classes[classes[i]])
				}
				for j, c := range info.Classes {
					if got.Probabilities[c] != proba[i*nc+j] {
						t.Errorf("line %d: probability of %s %v, library %v", i+1, c, got.Probabilities[c], proba[i*nc+j])
					}
				}
			}
			if i != len(inLines) {
				t.Errorf("%d lines out, want %d", i, len(inLines))
			}
		})
	}
}

const badCSV = `sepal_width,sepal_length,petal_length,petal_width,note
3.5,5.1,1.4,0.2,"first, good"
3.0,abc,1.4,0.2,bad number
3.0,4.9,,0.2,missing value
3.0,4.9,NaN,0.2,nan
3.0,4.9,1.4,+Inf,inf
3.0,4.9
3.3,6.3,6.0,2.5,"good, ""quoted"""
3.0,4.9,1e39,0.2,too large for float32
3.0,"4.9
",1.4,0.2,quoted newline
3.1,4.8,1.6,0.2,last good
`

// compatRegistry is the registry scikit-learn 1.2.1 and XGBoost 1.7.4
// made, frozen: its decision_tree takes no missing values.
const compatRegistry = "../../testdata/compat/registry"

func TestPredictBadRowsSkip(t *testing.T) {
	path := writeFile(t, "bad.csv", badCSV)
	// A tree that takes no missing values, so that they are bad rows too.
	r := runCLI(t, "", "predict", "-registry", compatRegistry, "-model", "decision_tree", path)
	wantOut := `sepal_width,sepal_length,petal_length,petal_width,note,prediction,probability_setosa,probability_versicolor,probability_virginica
3.5,5.1,1.4,0.2,"first, good",setosa,1,0,0
3.3,6.3,6.0,2.5,"good, ""quoted""",virginica,0,0,1
3.0,"4.9
",1.4,0.2,quoted newline,setosa,1,0,0
3.1,4.8,1.6,0.2,last good,setosa,1,0,0
`
	wantErr := path + `:3: sepal_length: "abc" is not a number (skipped)
` + path + `:4: petal_length: missing value (the model takes no missing values) (skipped)
` + path + `:5: petal_length: missing value "NaN" (the model takes no missing values) (skipped)
` + path + `:6: petal_width: "+Inf" is not a finite number (skipped)
` + path + `:7: 2 fields, the header has 5 (skipped)
` + path + `:9: invalid input: petal_length is 1e+39, too large for float32 (skipped)
classify: predict: 4 rows scored, 6 skipped, TIME
`
	if r.code != exitSkipped || r.stdout != wantOut || r.stderr != wantErr {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit 3\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr, wantOut, wantErr)
	}

	// -show-errors bounds the report, not the count.
	r = runCLI(t, "", "predict", "-registry", compatRegistry, "-model", "decision_tree", "-show-errors", "2", path)
	wantErr = path + `:3: sepal_length: "abc" is not a number (skipped)
` + path + `:4: petal_length: missing value (the model takes no missing values) (skipped)
classify: more bad rows: not reported, counted in the summary (-show-errors)
classify: predict: 4 rows scored, 6 skipped, TIME
`
	if r.code != exitSkipped || r.stdout != wantOut || r.stderr != wantErr {
		t.Errorf("-show-errors 2: exit %d\nstderr:\n%s\nwant:\n%s", r.code, r.stderr, wantErr)
	}

	// The production tree (scikit-learn 1.9.1) takes missing values: those
	// two rows are scored, versicolor as scikit-learn routes a missing
	// petal length beside a petal width of 0.2 (the golden file's
	// edge/missing/petal_length/mean_setosa case), and the other bad rows
	// are still bad.
	r = runCLI(t, "", "predict", "-model", "decision_tree", path)
	wantOut = `sepal_width,sepal_length,petal_length,petal_width,note,prediction,probability_setosa,probability_versicolor,probability_virginica
3.5,5.1,1.4,0.2,"first, good",setosa,1,0,0
3.0,4.9,,0.2,missing value,versicolor,0,1,0
3.0,4.9,NaN,0.2,nan,versicolor,0,1,0
3.3,6.3,6.0,2.5,"good, ""quoted""",virginica,0,0,1
3.0,"4.9
",1.4,0.2,quoted newline,setosa,1,0,0
3.1,4.8,1.6,0.2,last good,setosa,1,0,0
`
	wantErr = path + `:3: sepal_length: "abc" is not a number (skipped)
` + path + `:6: petal_width: "+Inf" is not a finite number (skipped)
` + path + `:7: 2 fields, the header has 5 (skipped)
` + path + `:9: invalid input: petal_length is 1e+39, too large for float32 (skipped)
classify: predict: 6 rows scored, 4 skipped, TIME
`
	if r.code != exitSkipped || r.stdout != wantOut || r.stderr != wantErr {
		t.Errorf("production tree: exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit 3\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr, wantOut, wantErr)
	}
}

func TestPredictBadRowsFail(t *testing.T) {
	path := writeFile(t, "bad.csv", badCSV)
	r := runCLI(t, "", "predict", "-model", "decision_tree", "-on-error", "fail", path)
	wantOut := `sepal_width,sepal_length,petal_length,petal_width,note,prediction,probability_setosa,probability_versicolor,probability_virginica
3.5,5.1,1.4,0.2,"first, good",setosa,1,0,0
`
	wantErr := `classify: predict: 1 rows scored, 0 skipped, TIME
classify: ` + path + `:3: sepal_length: "abc" is not a number (stopped: -on-error=fail)
`
	if r.code != exitFailure || r.stdout != wantOut || r.stderr != wantErr {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr, wantOut, wantErr)
	}
}

func TestPredictBadJSONL(t *testing.T) {
	in := `{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}

{ "sepal_length": "6.3", "sepal_width": 3.3, "petal_length": 6.0, "petal_width": 2.5 }
[1, 2]
null
{"sepal_length":5.1}
{bad
{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2,"prediction":"x"}
{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":true}
{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":"wide"}
{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":"\x"}
{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":1e400}
{}`
	r := runCLI(t, in, "predict", "-format", "jsonl", "-model", "heuristic")
	wantOut := `{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2,"prediction":"setosa","probabilities":{"setosa":1,"versicolor":0,"virginica":0}}
{ "sepal_length": "6.3", "sepal_width": 3.3, "petal_length": 6.0, "petal_width": 2.5 ,"prediction":"virginica","probabilities":{"setosa":0,"versicolor":0,"virginica":1}}
`
	wantErr := `stdin:4: not a JSON object but array (skipped)
stdin:5: not a JSON object but null (skipped)
stdin:6: sepal_width: no such key (skipped)
stdin:7: not a JSON object: invalid character 'b' looking for beginning of object key string (skipped)
stdin:8: the object already has a "prediction" key (skipped)
stdin:9: petal_width: true is not a number (skipped)
stdin:10: petal_width: "wide" is not a number (skipped)
stdin:11: not a JSON object: invalid character 'x' in string escape code (skipped)
stdin:12: petal_width: "1e400" is not a finite number (skipped)
stdin:13: sepal_length: no such key (skipped)
classify: predict: 2 rows scored, 10 skipped, TIME
`
	if r.code != exitSkipped || r.stdout != wantOut || r.stderr != wantErr {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit 3\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr, wantOut, wantErr)
	}
}

// A single artifact file loads with -artifact and -kind, and scores as the
// registry's copy does.
func TestPredictArtifact(t *testing.T) {
	for _, tc := range []struct{ kind, file string }{
		{"decision_tree", "decision_tree.json"},
		{"xgboost", "xgboost.json"},
	} {
		fromRegistry := runCLI(t, "", "predict", "-model", tc.kind, irisCSV)
		fromFile := runCLI(t, "", "predict", "-artifact", "../../models/"+tc.file, "-kind", tc.kind, irisCSV)
		if fromFile.code != 0 || fromFile.stdout != fromRegistry.stdout {
			t.Errorf("%s: -artifact gives exit %d and other predictions than the registry: %s", tc.kind, fromFile.code, fromFile.stderr)
		}
	}
	// The same from a registry directory.
	fromDir := runCLI(t, "", "predict", "-registry", "../../models", "-model", "random_forest", irisCSV)
	embedded := runCLI(t, "", "predict", "-model", "random_forest", irisCSV)
	if fromDir.code != 0 || fromDir.stdout != embedded.stdout {
		t.Errorf("-registry ../../models: exit %d and other predictions than the embedded registry", fromDir.code)
	}
}

// Flags may follow the file, "--" ends them, and "-" is stdin.
func TestPredictArguments(t *testing.T) {
	want := runCLI(t, "", "predict", "-model", "xgboost", irisCSV)
	for _, args := range [][]string{
		{"predict", irisCSV, "-model", "xgboost"},
		{"predict", "-model", "xgboost", "--", irisCSV},
	} {
		if r := runCLI(t, "", args...); r != want {
			t.Errorf("classify %v: %+v, want %+v", args, r, want)
		}
	}
	data, err := os.ReadFile(irisCSV)
	if err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, string(data), "predict", "-format", "csv", "-model", "xgboost", "-"); r != want {
		t.Errorf("from stdin: %+v, want %+v", r, want)
	}
}

// A byte order mark and spaces around header names are ignored.
func TestPredictHeaderCleanup(t *testing.T) {
	path := writeFile(t, "bom.csv", "\ufeffsepal_length , sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n")
	r := runCLI(t, "", "predict", path)
	want := "sepal_length,sepal_width,petal_length,petal_width,prediction,probability_setosa,probability_versicolor,probability_virginica\n5.1,3.5,1.4,0.2,setosa,1,0,0\n"
	if r.code != 0 || r.stdout != want {
		t.Errorf("exit %d, stdout %q, want %q (%s)", r.code, r.stdout, want, r.stderr)
	}
}

// A JSON line longer than the limit is a bad row; the lines after it are
// read.
func TestPredictLongLine(t *testing.T) {
	good := `{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`
	long := `{"pad":"` + strings.Repeat("x", maxLineBytes) + `"}`
	in := good + "\n" + long + "\n" + good + "\n"
	r := inProcess(t, in, "predict", "-format", "jsonl")
	if r.code != exitSkipped || strings.Count(r.stdout, "\n") != 2 ||
		!strings.Contains(r.stderr, "stdin:2: line longer than 1048576 bytes (skipped)") {
		t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// A CSV syntax error is a bad row with its line number.
func TestPredictCSVSyntaxError(t *testing.T) {
	in := "sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n5.1,\"3.5\"x,1.4,0.2\n5.1,3.5,1.4,0.2\n"
	r := runCLI(t, in, "predict", "-format", "csv")
	if r.code != exitSkipped || strings.Count(r.stdout, "\n") != 3 ||
		!strings.Contains(r.stderr, `stdin:3: extraneous or missing " in quoted-field (skipped)`) {
		t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}
