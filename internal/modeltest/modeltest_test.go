package modeltest

import (
	"errors"
	"math"
	"testing"

	"github.com/ml-production-service/classify"
)

func TestMissing(t *testing.T) {
	rules := classify.IrisRules()
	m := Missing(rules, 6.0)
	if info := m.Info(); !info.Missing || rules.Info().Missing || info.Kind != classify.Heuristic {
		t.Fatalf("Info %+v: want the rules' info with Missing set, the rules' own untouched", info)
	}
	nan := math.NaN()
	row := []float64{6.3, 3.3, nan, 2.5}
	p, err := m.Predict(row, nil)
	if err != nil || p.Label != "virginica" {
		t.Fatalf("Predict(%v) = %v, %v; want virginica (NaN routed as 6.0)", row, p, err)
	}
	if !math.IsNaN(row[2]) {
		t.Fatal("the caller's row was changed")
	}
	if p, err := Missing(rules, 1.0).Predict(row, nil); err != nil || p.Label != "setosa" {
		t.Fatalf("fill 1.0: %v, %v; want setosa", p, err)
	}
	if _, err := m.Predict([]float64{6.3, 3.3, math.Inf(1), nan}, nil); !errors.Is(err, classify.ErrInput) {
		t.Fatalf("an infinity: %v, want ErrInput", err)
	}
	rows := []float64{5.1, 3.5, 1.4, 0.2, 6.3, nan, nan, 2.5}
	classes := make([]int, 2)
	if err := m.PredictBatch(rows, classes, nil); err != nil || classes[0] != 0 || classes[1] != 2 {
		t.Fatalf("PredictBatch: %v, %v; want [0 2]", classes, err)
	}
	if err := m.PredictBatch(rows[:7], classes, nil); !errors.Is(err, classify.ErrInput) {
		t.Fatalf("PredictBatch of a short batch: %v, want ErrInput", err)
	}
}
