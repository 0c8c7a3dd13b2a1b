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

// seedFiles adds every file matching pattern under models/ to the corpus, so
// fuzzing starts from the real artifacts.
func seedFiles(f *testing.F, pattern string) {
	f.Helper()
	seedGlob(f, filepath.Join("models", pattern))
}

// seedGlob adds every file matching pattern to the corpus, but for those
// whose name ends with one of skip.
func seedGlob(f *testing.F, pattern string, skip ...string) {
	f.Helper()
	paths, err := filepath.Glob(pattern)
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		if slices.ContainsFunc(skip, func(s string) bool { return strings.HasSuffix(p, s) }) {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// probeRows are rows a loaded model must answer without panicking.
var probeRows = [][]float64{
	{5.1, 3.5, 1.4, 0.2}, {6.3, 3.3, 6, 2.5}, {0, 0, 0, 0}, {-1e30, 1e30, math.MaxFloat32, -math.MaxFloat32},
}

// exercise predicts probe rows of the model's width with every entry point,
// and rows holding NaN: a model that takes missing values must answer them,
// one that does not must refuse them with ErrInput.
func exercise(t *testing.T, m Model) {
	nf, nc := len(m.Info().Features), len(m.Info().Classes)
	for _, probe := range probeRows {
		row := make([]float64, nf)
		for i := range row {
			row[i] = probe[i%len(probe)]
		}
		exerciseRow(t, m, row, nc)
		for _, at := range []int{0, nf - 1, -1} { // first, last, every feature missing
			nan := slices.Clone(row)
			for i := range nan {
				if i == at || at < 0 {
					nan[i] = math.NaN()
				}
			}
			_, err := m.Predict(nan, nil)
			switch {
			case m.Info().Missing && err != nil:
				t.Fatalf("model takes missing values, refused %v: %v", nan, err)
			case !m.Info().Missing && !errors.Is(err, ErrInput):
				t.Fatalf("model refuses missing values, answered %v with %v", nan, err)
			case err == nil:
				exerciseRow(t, m, nan, nc)
			}
		}
	}
}

func exerciseRow(t *testing.T, m Model, row []float64, nc int) {
	p, err := m.Predict(row, nil)
	if err != nil {
		t.Fatalf("valid row %v: %v", row, err)
	}
	if p.Class < 0 || p.Class >= nc || len(p.Probabilities) != nc {
		t.Fatalf("prediction %+v out of shape for %d classes", p, nc)
	}
	if err := m.PredictBatch(row, []int{0}, make([]float64, nc)); err != nil {
		t.Fatal(err)
	}
	if ex, ok := m.(Explainer); ok {
		if _, err := ex.Explain(row); err != nil {
			t.Fatal(err)
		}
	}
}

func FuzzLoadTrees(f *testing.F) {
	f.Add([]byte(dump(f, DecisionTree, smallTree())))
	f.Add([]byte(dump(f, RandomForest, smallTree(), otherTree())))
	f.Add([]byte(dumpV2(f, DecisionTree, "DecisionTreeClassifier", missingTree())))
	f.Add([]byte(dumpV2(f, RandomForest, "ExtraTreesClassifier", missingTree(), missingTree())))
	seedFiles(f, "decision_tree.json")
	seedFiles(f, "random_forest.json")
	seedGlob(f, filepath.Join("testdata", "sklearn", "*.json"), ".golden.json", "index.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := LoadDecisionTree(bytes.NewReader(b)); err == nil {
			exercise(t, m)
		}
		if m, err := LoadRandomForest(bytes.NewReader(b)); err == nil {
			exercise(t, m)
		}
	})
}

func FuzzLoadRules(f *testing.F) {
	f.Add([]byte(testRules))
	seedFiles(f, "heuristic.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := LoadRules(bytes.NewReader(b)); err == nil {
			exercise(t, m)
		}
	})
}

func FuzzManifest(f *testing.F) {
	seedFiles(f, ManifestFile)
	f.Add([]byte(`{"format":"classify/manifest","format_version":1,"models":[{"name":"a","kind":"xgboost","file":"a/b.model",` +
		`"sha256":"` + sum("") + `","meta_sha256":"` + sum("x") + `","version":"1","created":"2026-01-01T00:00:00Z",` +
		`"features":["f"],"classes":["c","d"],"metrics":[{"name":"accuracy","method":"loocv","value":1,"source":"s"}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseManifest(b)
		if err != nil {
			return
		}
		for _, e := range m.Models {
			if e.Name == "" || !isSHA256(e.SHA256) || len(e.Features) == 0 || len(e.Classes) == 0 {
				t.Fatalf("invalid entry accepted: %+v", e)
			}
		}
	})
}
