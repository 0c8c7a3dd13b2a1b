package classify_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/internal/golden"
	"github.com/ml-production-service/classify/internal/lgbmodel"
	"github.com/ml-production-service/classify/internal/skboost"
)

// boostingBench are the models the boosting benchmarks run: the Iris
// models (rows comparable with BenchmarkPredict's production models) and
// the larger data sets.
var boostingBench = []struct {
	kind     classify.Kind
	ds, file string
}{
	{classify.LightGBM, "iris", "lightgbm.txt"},
	{classify.LightGBM, "digits", "lightgbm.txt"},
	{classify.LightGBM, "categorical", "lightgbm.txt"},
	{classify.HistGradientBoosting, "iris", "hist_gradient_boosting.json"},
	{classify.HistGradientBoosting, "digits", "hist_gradient_boosting.json"},
	{classify.HistGradientBoosting, "categorical", "hist_gradient_boosting.json"},
	{classify.GradientBoosting, "iris", "gradient_boosting.json"},
	{classify.GradientBoosting, "digits", "gradient_boosting.json"},
}

// benchCases returns a model's parity rows (those the model takes), and
// its tree count.
func benchCases(b *testing.B, kind classify.Kind, path string, m classify.Model) ([]float64, int) {
	f, err := golden.ReadFile(strings.TrimSuffix(strings.TrimSuffix(path, ".txt"), ".json") + ".parity.json")
	if err != nil {
		b.Fatal(err)
	}
	var rows []float64
	for _, c := range f.Cases {
		if _, err := m.Predict(c.Input, nil); err == nil {
			rows = append(rows, c.Input...)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	trees := 0
	switch kind {
	case classify.LightGBM:
		lm, err := lgbmodel.Parse(data)
		if err != nil {
			b.Fatal(err)
		}
		trees = len(lm.Trees)
	case classify.HistGradientBoosting:
		hm, err := skboost.ParseHGB(data)
		if err != nil {
			b.Fatal(err)
		}
		trees = len(hm.Iterations) * hm.Groups()
	default:
		gm, err := skboost.ParseGB(data)
		if err != nil {
			b.Fatal(err)
		}
		trees = len(gm.Stages) * gm.Groups()
	}
	return rows, trees
}

// BenchmarkBoosting measures each boosting kind on its suite models'
// parity rows: one row per op (allocation-free) and 4096 rows per op, with
// the time per row and per row and tree.
func BenchmarkBoosting(b *testing.B) {
	for _, c := range boostingBench {
		path := filepath.Join("testdata", "boosting", boostingGen, c.ds, c.file)
		m, err := classify.New(c.kind, path)
		if err != nil {
			b.Fatal(err)
		}
		rows, trees := benchCases(b, c.kind, path, m)
		nf, nc := len(m.Info().Features), len(m.Info().Classes)
		n := len(rows) / nf
		name := string(c.kind) + "/" + c.ds
		b.Run(name+"/row", func(b *testing.B) {
			proba := make([]float64, nc)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := m.Predict(rows[i*nf:(i+1)*nf], proba); err != nil {
					b.Fatal(err)
				}
				if i++; i == n {
					i = 0
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*trees), "ns/tree")
		})
		const size = 4096
		batch := make([]float64, 0, size*nf)
		for len(batch) < size*nf {
			batch = append(batch, rows[:min(len(rows), size*nf-len(batch))]...)
		}
		classes := make([]int, size)
		proba := make([]float64, size*nc)
		b.Run(name+"/batch="+strconv.Itoa(size), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := m.PredictBatch(batch, classes, proba); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/row")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size*trees), "ns/tree")
		})
	}
}

// BenchmarkLightGBMvsLeaves runs classify and leaves' own Predict on the
// same LightGBM models (leaves reading the file relabelled v3, see
// leavesV3) and rows: one row per op, and 4096 rows per op (leaves:
// PredictDense on one goroutine).
func BenchmarkLightGBMvsLeaves(b *testing.B) {
	for _, ds := range []string{"iris", "digits", "breast_cancer", "missing"} {
		path := filepath.Join("testdata", "boosting", boostingGen, ds, "lightgbm.txt")
		m, err := classify.New(classify.LightGBM, path)
		if err != nil {
			b.Fatal(err)
		}
		e := leavesV3(b, path)
		rows, _ := benchCases(b, classify.LightGBM, path, m)
		nf, nc := len(m.Info().Features), len(m.Info().Classes)
		n := len(rows) / nf
		out := make([]float64, e.NOutputGroups())
		b.Run(ds+"/row/classify", func(b *testing.B) {
			proba := make([]float64, nc)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := m.Predict(rows[i*nf:(i+1)*nf], proba); err != nil {
					b.Fatal(err)
				}
				if i++; i == n {
					i = 0
				}
			}
		})
		b.Run(ds+"/row/leaves", func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := e.Predict(rows[i*nf:(i+1)*nf], 0, out); err != nil {
					b.Fatal(err)
				}
				if i++; i == n {
					i = 0
				}
			}
		})
		const size = 4096
		batch := make([]float64, 0, size*nf)
		for len(batch) < size*nf {
			batch = append(batch, rows[:min(len(rows), size*nf-len(batch))]...)
		}
		classes := make([]int, size)
		proba := make([]float64, size*nc)
		b.Run(ds+"/batch=4096/classify", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := m.PredictBatch(batch, classes, proba); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/row")
		})
		preds := make([]float64, size*e.NOutputGroups())
		b.Run(ds+"/batch=4096/leaves", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := e.PredictDense(batch, size, nf, preds, 0, 1); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/row")
		})
	}
}
