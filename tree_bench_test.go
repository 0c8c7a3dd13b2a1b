package classify_test

import (
	"strconv"
	"testing"

	"github.com/ml-production-service/classify"
)

// BenchmarkDecisionTree and BenchmarkRandomForest measure the tree walk on
// the production Iris models: one row per op, and a batch of 4096 rows.
func BenchmarkDecisionTree(b *testing.B) { benchTrees(b, productionModel(b, "decision_tree")) }

func BenchmarkRandomForest(b *testing.B) { benchTrees(b, productionModel(b, "random_forest")) }

func benchTrees(b *testing.B, m classify.Model) {
	iris := irisRows(b)
	const nf = 4
	nc := len(m.Info().Classes)
	b.Run("iris/row", func(b *testing.B) {
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
	const size = 4096
	rows := make([]float64, 0, size*nf)
	for len(rows) < size*nf {
		rows = append(rows, iris[:min(len(iris), size*nf-len(rows))]...)
	}
	classes := make([]int, size)
	proba := make([]float64, size*nc)
	b.Run("iris/batch="+strconv.Itoa(size), func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := m.PredictBatch(rows, classes, proba); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/row")
	})
}
