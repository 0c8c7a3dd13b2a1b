package classify_test

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ml-production-service/classify"
)

// TestPredictBatchParallel: for every production model, on batches below
// and above the share one goroutine takes, with every worker count,
// PredictBatchParallel writes exactly what PredictBatch writes, and an
// invalid row gives PredictBatch's error, naming the row by its index in
// the whole batch.
func TestPredictBatchParallel(t *testing.T) {
	iris := irisRows(t)
	for _, kind := range productionNames(t) {
		m := productionModel(t, kind)
		nc := len(m.Info().Classes)
		for _, n := range []int{0, 10, 700, 3001} {
			rows := make([]float64, 0, n*4)
			for len(rows) < n*4 {
				rows = append(rows, iris[:min(len(iris), n*4-len(rows))]...)
			}
			want := make([]int, n)
			wantP := make([]float64, n*nc)
			if err := m.PredictBatch(rows, want, wantP); err != nil {
				t.Fatal(err)
			}
			for _, workers := range []int{-1, 0, 1, 2, 3, 8} {
				got := make([]int, n)
				gotP := make([]float64, n*nc)
				if err := classify.PredictBatchParallel(m, rows, got, gotP, workers); err != nil {
					t.Fatalf("%s, %d rows, %d workers: %v", kind, n, workers, err)
				}
				if !slices.Equal(got, want) || !slices.Equal(gotP, wantP) {
					t.Fatalf("%s, %d rows, %d workers: differs from PredictBatch", kind, n, workers)
				}
				if err := classify.PredictBatchParallel(m, rows, got, nil, workers); err != nil || !slices.Equal(got, want) {
					t.Fatalf("%s, %d rows, %d workers, no probabilities: %v", kind, n, workers, err)
				}
			}
			if n < 700 {
				continue
			}
			bad := append([]float64(nil), rows...)
			bad[(n-5)*4+2] = math.Inf(1)
			err := classify.PredictBatchParallel(m, bad, make([]int, n), nil, 2)
			wantErr := m.PredictBatch(bad, make([]int, n), nil)
			if !errors.Is(err, classify.ErrInput) || err.Error() != wantErr.Error() ||
				!strings.Contains(err.Error(), "row "+strconv.Itoa(n-5)+": ") {
				t.Fatalf("%s: err = %v, want %v", kind, err, wantErr)
			}
		}
		if err := classify.PredictBatchParallel(m, make([]float64, 7), make([]int, 2), nil, 2); !errors.Is(err, classify.ErrInput) {
			t.Fatalf("%s: wrong shapes: err = %v", kind, err)
		}
	}
}

// BenchmarkPredictBatchParallel measures PredictBatchParallel on every
// core for each production model, on 4096 Iris rows per op.
func BenchmarkPredictBatchParallel(b *testing.B) {
	iris := irisRows(b)
	const size = 4096
	rows := make([]float64, 0, size*4)
	for len(rows) < size*4 {
		rows = append(rows, iris[:min(len(iris), size*4-len(rows))]...)
	}
	for _, kind := range productionNames(b) {
		m := productionModel(b, kind)
		classes := make([]int, size)
		proba := make([]float64, size*len(m.Info().Classes))
		b.Run(kind+"/batch=4096", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := classify.PredictBatchParallel(m, rows, classes, proba, 0); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/row")
		})
	}
}
