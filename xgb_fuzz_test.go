package classify

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoadXGBoost feeds LoadXGBoost mutated models: it must return a Booster
// or an error wrapping ErrFormat, never panic, hang or allocate without
// bound; a Booster it returns must predict valid probabilities.
func FuzzLoadXGBoost(f *testing.F) {
	for _, name := range []string{"iris_tiny", "iris_softprob", "iris_softmax", "breast_cancer_logistic"} {
		data := readXGBModel(f, name)
		f.Add(data)
		f.Add(xgbPre10(f, data, 0))
	}
	if data, err := os.ReadFile(filepath.Join("models", "xgboost.model")); err == nil {
		f.Add(data)
	}
	f.Add([]byte("binf"))
	f.Add([]byte(`{"learner":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := LoadXGBoost(bytes.NewReader(data), nil)
		if err != nil {
			if !errors.Is(err, ErrFormat) || !strings.HasPrefix(err.Error(), "classify: xgboost: ") {
				t.Fatalf("err = %v, want a classify: xgboost: error wrapping ErrFormat", err)
			}
			return
		}
		info := b.Info()
		row := make([]float64, len(info.Features))
		proba := make([]float64, len(info.Classes))
		for _, v := range []float64{0, 1, -1, 1e-30, -1e30, math.MaxFloat32} {
			for i := range row {
				row[i] = v
			}
			p, err := b.Predict(row, proba)
			if err != nil {
				t.Fatalf("Predict(%v): %v", v, err)
			}
			sum := 0.0
			for _, q := range p.Probabilities {
				if !(q >= 0 && q <= 1) {
					t.Fatalf("Predict(%v): probabilities %v", v, p.Probabilities)
				}
				sum += q
			}
			if math.Abs(sum-1) > 1e-5 || p.Label != info.Classes[p.Class] {
				t.Fatalf("Predict(%v) = %+v", v, p)
			}
		}
	})
}
