package perf

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/models"
)

// defaultBatch is the batch size when PERF_ROWS is unset: Iris repeated.
const defaultBatch = 4096

// batchMethods are the ways a Model scores a batch; each becomes a
// BenchmarkCompare/<model>/<name> benchmark reporting ns/row. A new batch
// path (a parallel one, say) is one more line here.
var batchMethods = []struct {
	name string
	run  func(m classify.Model, rows []float64, classes []int, proba []float64) error
}{
	{"batch", func(m classify.Model, rows []float64, classes []int, proba []float64) error {
		return m.PredictBatch(rows, classes, proba)
	}},
}

// subject is a model under comparison and the rows it is measured on
// (row-major, in the model's feature order).
type subject struct {
	name  string
	model classify.Model
	rows  []float64
	n     int
}

// BenchmarkCompare measures each production tree model, and the large
// generated XGBoost model when PERF_LARGE_MODEL is set, on the rows
// perf/reference.py times the reference libraries on: one row per op
// (single, cycling through the rows) and every row per op (batch methods).
func BenchmarkCompare(b *testing.B) {
	for _, s := range subjects(b) {
		nf, nc := len(s.model.Info().Features), len(s.model.Info().Classes)
		b.Run(s.name+"/single", func(b *testing.B) {
			proba := make([]float64, nc)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := s.model.Predict(s.rows[i*nf:(i+1)*nf], proba); err != nil {
					b.Fatal(err)
				}
				if i++; i == s.n {
					i = 0
				}
			}
		})
		for _, method := range batchMethods {
			classes := make([]int, s.n)
			proba := make([]float64, s.n*nc)
			b.Run(s.name+"/"+method.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := method.run(s.model, s.rows, classes, proba); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*s.n), "ns/row")
			})
		}
	}
}

// BenchmarkLoad measures classify.New on the large generated XGBoost model
// (PERF_LARGE_MODEL, JSON) and, when PERF_LARGE_MODEL_UBJ names it, the
// same model saved as UBJSON: reading the file, every check the loader
// makes, and building the model. It is skipped when PERF_LARGE_MODEL is
// unset.
func BenchmarkLoad(b *testing.B) {
	if os.Getenv("PERF_LARGE_MODEL") == "" {
		b.Skip("PERF_LARGE_MODEL unset: perf/compare.sh generates the large model")
	}
	for _, f := range []struct{ name, env string }{
		{"xgboost_large", "PERF_LARGE_MODEL"},
		{"xgboost_large_ubj", "PERF_LARGE_MODEL_UBJ"},
	} {
		path := os.Getenv(f.env)
		if path == "" {
			continue
		}
		st, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(st.Size())
			for b.Loop() {
				if _, err := classify.New(classify.XGBoost, path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// subjects loads the production tree models with PERF_ROWS (or Iris) rows,
// and the large model with PERF_LARGE_ROWS when PERF_LARGE_MODEL is set.
func subjects(tb testing.TB) []subject {
	tb.Helper()
	reg, err := classify.OpenRegistry(models.FS)
	if err != nil {
		tb.Fatal(err)
	}
	rowsPath, repeat := os.Getenv("PERF_ROWS"), 0
	if rowsPath == "" {
		rowsPath, repeat = filepath.Join("..", "research", "data", "iris.csv"), defaultBatch
	}
	var out []subject
	for _, name := range []string{"decision_tree", "random_forest", "xgboost"} {
		m, err := reg.Load(name)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, newSubject(tb, name, m, rowsPath, repeat))
	}
	if path := os.Getenv("PERF_LARGE_MODEL"); path != "" {
		m, err := classify.New(classify.XGBoost, path)
		if err != nil {
			tb.Fatal(err)
		}
		rows := os.Getenv("PERF_LARGE_ROWS")
		if rows == "" {
			tb.Fatal("PERF_LARGE_MODEL is set but PERF_LARGE_ROWS is not")
		}
		out = append(out, newSubject(tb, "xgboost_large", m, rows, 0))
	}
	return out
}

// newSubject reads the CSV at path for model m, repeating its rows up to
// repeat rows when repeat > 0.
func newSubject(tb testing.TB, name string, m classify.Model, path string, repeat int) subject {
	tb.Helper()
	rows, n, err := readRows(path, m.Info().Features)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	if repeat > 0 {
		nf := len(m.Info().Features)
		full := make([]float64, 0, repeat*nf)
		for len(full) < repeat*nf {
			full = append(full, rows[:min(len(rows), repeat*nf-len(full))]...)
		}
		rows, n = full, repeat
	}
	return subject{name: name, model: m, rows: rows, n: n}
}

// readRows reads a CSV file with a header row and returns its rows,
// row-major, holding the named features' columns in that order, and the
// number of rows. Other columns are ignored.
func readRows(path string, features []string) ([]float64, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %v", path, err)
	}
	if len(recs) < 2 {
		return nil, 0, fmt.Errorf("%s: no rows", path)
	}
	col := make(map[string]int, len(recs[0]))
	for i, h := range recs[0] {
		col[h] = i
	}
	idx := make([]int, len(features))
	for i, name := range features {
		c, ok := col[name]
		if !ok {
			return nil, 0, fmt.Errorf("%s: no column %q", path, name)
		}
		idx[i] = c
	}
	rows := make([]float64, 0, (len(recs)-1)*len(features))
	for line, rec := range recs[1:] {
		for _, c := range idx {
			v, err := strconv.ParseFloat(rec[c], 64)
			if err != nil {
				return nil, 0, fmt.Errorf("%s: line %d: %v", path, line+2, err)
			}
			rows = append(rows, v)
		}
	}
	return rows, len(recs) - 1, nil
}
