package golden

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/internal/modeltest"
)

// FuzzRead feeds arbitrary bytes to Read: no panic, every error wraps
// ErrFormat, and a file Read accepts keeps the promises its doc makes, and
// can be checked against a model of its own schema without an error.
func FuzzRead(f *testing.F) {
	f.Add([]byte(v2File))
	f.Add([]byte(`{"format":"classify/golden","format_version":1,"reference":"r","features":["a"],"classes":["x","y"],"cases":[{"name":"n","input":[1e308],"label":"y","proba":[0,1]}]}`))
	f.Add([]byte(`{"format":"classify/golden","format_version":2,"reference":"r","tolerance":0,"features":["a"],"classes":["x"],"cases":[{"name":"n","input":[null],"label":"x","proba":[1]}]}`))
	if b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "xgboost", "iris_tiny.json")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := Read(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		if len(g.Cases) == 0 || len(g.Features) == 0 || len(g.Classes) == 0 {
			t.Fatalf("accepted a file without cases, features or classes")
		}
		names := map[string]bool{}
		for _, c := range g.Cases {
			if c.Name == "" || names[c.Name] {
				t.Fatalf("case name %q empty or repeated", c.Name)
			}
			names[c.Name] = true
			if len(c.Input) != len(g.Features) || len(c.Proba) != len(g.Classes) {
				t.Fatalf("case %q: %d inputs, %d probabilities", c.Name, len(c.Input), len(c.Proba))
			}
			for _, v := range c.Input {
				if math.IsNaN(v) && g.FormatVersion < 2 {
					t.Fatalf("a version 1 file with a missing value")
				}
			}
		}
		if g.Tolerance != nil && !(*g.Tolerance >= 0) {
			t.Fatalf("tolerance %v", *g.Tolerance)
		}
		m := modeltest.Missing(&constant{info: classify.Info{Features: g.Features, Classes: g.Classes}}, 0)
		r, err := Check(m, g, DefaultTolerance(g.Kind))
		if err != nil || r.Cases != len(g.Cases) {
			t.Fatalf("Check: %v", err)
		}
		_ = r.OK()
		for _, fl := range r.Failures() {
			_ = fl.String()
		}
	})
}

// constant answers the first class with probability 1, for any row of the
// right length.
type constant struct{ info classify.Info }

func (c *constant) Info() classify.Info { return c.info }

func (c *constant) Predict(row, proba []float64) (classify.Prediction, error) {
	if len(row) != len(c.info.Features) {
		return classify.Prediction{}, classify.ErrInput
	}
	p := make([]float64, len(c.info.Classes))
	p[0] = 1
	return classify.Prediction{Label: c.info.Classes[0], Probabilities: p}, nil
}

func (c *constant) PredictBatch(rows []float64, classes []int, proba []float64) error {
	nc := len(c.info.Classes)
	for i := range classes {
		classes[i] = 0
		clear(proba[i*nc : (i+1)*nc])
		proba[i*nc] = 1
	}
	return nil
}
