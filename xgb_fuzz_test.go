package classify

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
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
	if data, err := os.ReadFile(filepath.Join("models", "xgboost.json")); err == nil {
		f.Add(data)
	}
	f.Add([]byte("binf"))
	f.Add([]byte(`{"learner":{}}`))
	f.Fuzz(fuzzXGBoost)
}

// fuzzXGBoost is the body of the XGBoost fuzz targets.
func fuzzXGBoost(t *testing.T, data []byte) {
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
	for _, v := range []float64{0, 1, -1, 1e-30, -1e30, math.MaxFloat32, math.NaN()} {
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
}

// xgbSuiteFiles returns the format suite's model files whose names end in ext.
func xgbSuiteFiles(f *testing.F, ext string) [][]byte {
	var out [][]byte
	for version, exts := range xgbSuiteFormats {
		if !slices.Contains(exts, ext) {
			continue
		}
		for _, name := range xgbSuiteModels {
			data, err := os.ReadFile(filepath.Join("testdata", "xgboost", version, name+ext))
			if err != nil {
				f.Fatalf("test model missing (run testdata/xgboost/make_models.py): %v", err)
			}
			out = append(out, data)
		}
	}
	return out
}

// FuzzLoadXGBoostJSON feeds LoadXGBoost mutated JSON models, seeded with
// the format suite's JSON files of every XGBoost version.
func FuzzLoadXGBoostJSON(f *testing.F) {
	for _, data := range xgbSuiteFiles(f, ".json") {
		f.Add(data)
	}
	for _, name := range []string{"refused_categorical.json", "refused_dart.json"} {
		f.Add(xgbRefusedFile(f, name))
	}
	f.Add([]byte(`{"learner":{}}`))
	f.Fuzz(fuzzXGBoost)
}

// FuzzLoadXGBoostUBJSON feeds LoadXGBoost mutated UBJSON models, seeded
// with the format suite's UBJSON files of every XGBoost version.
func FuzzLoadXGBoostUBJSON(f *testing.F) {
	for _, data := range xgbSuiteFiles(f, ".ubj") {
		f.Add(data)
	}
	for _, name := range []string{"refused_vector_leaf.ubj", "refused_gblinear.ubj"} {
		f.Add(xgbRefusedFile(f, name))
	}
	f.Add([]byte("{L\x00\x00\x00\x00\x00\x00\x00\x01x[$Z#L\x7f\xff\xff\xff\xff\xff\xff\xff}"))
	f.Fuzz(fuzzXGBoost)
}

// xgbRefusedFile reads one of the models XGBoost 3.2 wrote that classify
// refuses, as a fuzz seed: mutations of it may find a way past the refusal.
func xgbRefusedFile(f *testing.F, name string) []byte {
	data, err := os.ReadFile(filepath.Join("testdata", "xgboost", "3.2.0", name))
	if err != nil {
		f.Fatalf("test model missing (run testdata/xgboost/make_models.py): %v", err)
	}
	return data
}
