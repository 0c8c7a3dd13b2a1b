// Package modeltest holds classify.Model implementations for tests of the
// packages that serve models: a real model made to take missing values,
// until the loaders give real ones.
package modeltest

import (
	"math"

	"github.com/ml-production-service/classify"
)

// Missing wraps m into a model that reports Info().Missing and takes NaN
// as a missing value, routing it as the value fill (every other value,
// infinities included, goes to m unchanged, so m refuses what it refuses).
// It is safe for concurrent use when m is.
func Missing(m classify.Model, fill float64) classify.Model {
	return &missing{m: m, fill: fill}
}

type missing struct {
	m    classify.Model
	fill float64
}

func (w *missing) Info() classify.Info {
	info := w.m.Info()
	info.Missing = true
	return info
}

func (w *missing) filled(row []float64) []float64 {
	for i, v := range row {
		if math.IsNaN(v) {
			out := append([]float64(nil), row...)
			for j := i; j < len(out); j++ {
				if math.IsNaN(out[j]) {
					out[j] = w.fill
				}
			}
			return out
		}
	}
	return row
}

func (w *missing) Predict(row, proba []float64) (classify.Prediction, error) {
	return w.m.Predict(w.filled(row), proba)
}

func (w *missing) PredictBatch(rows []float64, classes []int, proba []float64) error {
	return w.m.PredictBatch(w.filled(rows), classes, proba)
}
