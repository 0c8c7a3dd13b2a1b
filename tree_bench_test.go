package classify_test

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/ml-production-service/classify"
)

// BenchmarkDecisionTree and BenchmarkRandomForest measure the tree walk on
// the production Iris models (v1 artifacts, which refuse NaN): one row per
// op, and a batch of 4096 rows. Under missing/, the same trees as a v2
// artifact that takes missing values: iris/ the same finite rows, nan/ rows
// holding a NaN (the NaN walk).
func BenchmarkDecisionTree(b *testing.B) { benchTrees(b, "decision_tree") }

func BenchmarkRandomForest(b *testing.B) { benchTrees(b, "random_forest") }

func benchTrees(b *testing.B, name string) {
	iris := irisRows(b)
	benchRows(b, "iris", productionModel(b, name), iris)
	m := withMissing(b, name)
	benchRows(b, "missing/iris", m, iris)
	nan := make([]float64, len(iris))
	copy(nan, iris)
	for i := 0; i < len(nan); i += 5 { // four rows in five hold one NaN, in turn in each feature
		nan[i] = math.NaN()
	}
	benchRows(b, "missing/nan", m, nan)
}

// withMissing is the production artifact name as classify/sklearn-trees v2
// with missing_go_to_left, alternately 1 and 0, in every tree.
func withMissing(b *testing.B, name string) classify.Model {
	raw, err := os.ReadFile(filepath.Join("models", name+".json"))
	if err != nil {
		b.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		b.Fatal(err)
	}
	doc["format_version"] = 2
	doc["estimator"] = map[string]string{"decision_tree": "DecisionTreeClassifier", "random_forest": "RandomForestClassifier"}[name]
	for _, t := range doc["trees"].([]any) {
		t := t.(map[string]any)
		dirs := make([]int, len(t["feature"].([]any)))
		for i := range dirs {
			dirs[i] = i % 2
		}
		t["missing_go_to_left"] = dirs
	}
	if raw, err = json.Marshal(doc); err != nil {
		b.Fatal(err)
	}
	m, err := classify.Load(classify.Kind(name), bytes.NewReader(raw))
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func benchRows(b *testing.B, prefix string, m classify.Model, data []float64) {
	const nf = 4
	nc := len(m.Info().Classes)
	b.Run(prefix+"/row", func(b *testing.B) {
		proba := make([]float64, nc)
		n := len(data) / nf
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := m.Predict(data[i*nf:(i+1)*nf], proba); err != nil {
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
		rows = append(rows, data[:min(len(data), size*nf-len(rows))]...)
	}
	classes := make([]int, size)
	proba := make([]float64, size*nc)
	b.Run(prefix+"/batch="+strconv.Itoa(size), func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := m.PredictBatch(rows, classes, proba); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/row")
	})
}
