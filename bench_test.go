package classify_test

import (
	"encoding/csv"
	"os"
	"strconv"
	"testing"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/models"
)

// irisRows returns the Iris features, row-major, from research/data/iris.csv.
func irisRows(tb testing.TB) []float64 {
	tb.Helper()
	f, err := os.Open("research/data/iris.csv")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		tb.Fatal(err)
	}
	var rows []float64
	for _, rec := range recs[1:] {
		for _, s := range rec[:4] {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				tb.Fatal(err)
			}
			rows = append(rows, v)
		}
	}
	return rows
}

// productionNames returns the names of the models in the production
// registry (models/), one per kind it serves, in the manifest's order.
func productionNames(tb testing.TB) []string {
	tb.Helper()
	reg, err := classify.OpenRegistry(models.FS)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, e := range reg.Manifest().Models {
		names = append(names, e.Name)
	}
	return names
}

func productionModel(tb testing.TB, name string) classify.Model {
	tb.Helper()
	reg, err := classify.OpenRegistry(models.FS)
	if err != nil {
		tb.Fatal(err)
	}
	m, err := reg.Load(name)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// BenchmarkPredict measures each production model on Iris rows: one row per
// op, and batches of 64 and 4096 rows per op.
func BenchmarkPredict(b *testing.B) {
	iris := irisRows(b)
	const nf = 4
	for _, name := range productionNames(b) {
		m := productionModel(b, name)
		nc := len(m.Info().Classes)
		b.Run(name+"/row", func(b *testing.B) {
			proba := make([]float64, nc)
			n := len(iris) / nf
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := m.Predict(iris[i*nf:(i+1)*nf], proba); err != nil {
					b.Fatal(err)
				}
				if i++; i == n {
					i = 0
				}
			}
		})
		for _, size := range []int{64, 4096} {
			rows := make([]float64, 0, size*nf)
			for len(rows) < size*nf {
				rows = append(rows, iris[:min(len(iris), size*nf-len(rows))]...)
			}
			classes := make([]int, size)
			proba := make([]float64, size*nc)
			b.Run(name+"/batch="+strconv.Itoa(size), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := m.PredictBatch(rows, classes, proba); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/row")
			})
		}
	}
}
