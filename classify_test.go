package classify

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ml-production-service/classify/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseKind(t *testing.T) {
	for _, k := range loadable() {
		got, err := ParseKind(string(k))
		require.NoError(t, err)
		assert.Equal(t, k, got)
	}
	got, err := ParseKind("  Random_Forest ")
	require.NoError(t, err)
	assert.Equal(t, RandomForest, got)

	_, err = ParseKind("svm")
	require.ErrorIs(t, err, ErrUnknownKind)
	assert.EqualError(t, err, `classify: unknown model kind "svm" (valid: heuristic, decision_tree, random_forest, xgboost, lightgbm, hist_gradient_boosting, gradient_boosting)`)
}

func TestNewAndLoad(t *testing.T) {
	dir := t.TempDir()
	treePath := filepath.Join(dir, "tree.json")
	require.NoError(t, os.WriteFile(treePath, []byte(dump(t, DecisionTree, smallTree())), 0o644))
	forestPath := filepath.Join(dir, "forest.json")
	require.NoError(t, os.WriteFile(forestPath, []byte(dump(t, RandomForest, smallTree(), otherTree())), 0o644))
	rulesPath := filepath.Join(dir, "rules.json")
	require.NoError(t, os.WriteFile(rulesPath, []byte(testRules), 0o644))

	for _, tc := range []struct {
		kind Kind
		path string
	}{{DecisionTree, treePath}, {RandomForest, forestPath}, {Heuristic, rulesPath}} {
		m, err := New(tc.kind, tc.path)
		require.NoError(t, err, tc.kind)
		assert.Equal(t, tc.kind, m.Info().Kind)
		f, err := os.Open(tc.path)
		require.NoError(t, err)
		n, err := Load(tc.kind, f)
		f.Close()
		require.NoError(t, err)
		assert.Equal(t, m, n)
	}

	_, err := New("svm", treePath)
	assert.ErrorIs(t, err, ErrUnknownKind)
	_, err = Load("svm", nil)
	assert.ErrorIs(t, err, ErrUnknownKind)
	_, err = New(DecisionTree, "")
	assert.EqualError(t, err, "classify: decision_tree needs a model file path")
	_, err = New(RandomForest, filepath.Join(dir, "missing.json"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.ErrorContains(t, err, "classify: open random_forest model:")
	_, err = New(RandomForest, treePath)
	assert.ErrorIs(t, err, ErrFormat)
}

func TestNewCanonicalisesKind(t *testing.T) {
	m, err := New(" Heuristic ", "")
	require.NoError(t, err)
	assert.Equal(t, Heuristic, m.Info().Kind)

	// A failed load is a nil interface.
	m, err = Load(DecisionTree, failingReader{})
	require.Error(t, err)
	assert.Nil(t, m, "a failed load must not return a typed nil inside the interface")
}

// TestLoadCanonicalisesKind: Load takes every name New takes (ParseKind's
// trimming and lower-casing) and refuses the others with New's error.
func TestLoadCanonicalisesKind(t *testing.T) {
	rules, err := os.ReadFile(filepath.Join("models", "heuristic.json"))
	require.NoError(t, err)
	tree, err := os.ReadFile(filepath.Join("models", "decision_tree.json"))
	require.NoError(t, err)
	forest, err := os.ReadFile(filepath.Join("models", "random_forest.json"))
	require.NoError(t, err)
	xgb, err := os.ReadFile(filepath.Join("models", "xgboost.json"))
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		data []byte
		want Kind
	}{
		{" Heuristic ", rules, Heuristic},
		{"DECISION_TREE", tree, DecisionTree},
		{"\trandom_forest\n", forest, RandomForest},
		{" XGBoost", xgb, XGBoost},
	} {
		t.Run(strings.TrimSpace(tc.name), func(t *testing.T) {
			m, err := Load(Kind(tc.name), bytes.NewReader(tc.data))
			require.NoError(t, err)
			assert.Equal(t, tc.want, m.Info().Kind)
		})
	}
	for _, name := range []string{"svm", " ", "", "decision tree"} {
		t.Run("unknown "+strconv.Quote(name), func(t *testing.T) {
			_, newErr := New(Kind(name), "unused.json")
			require.ErrorIs(t, newErr, ErrUnknownKind)
			m, err := Load(Kind(name), bytes.NewReader(rules))
			require.ErrorIs(t, err, ErrUnknownKind)
			assert.Nil(t, m)
			assert.EqualError(t, err, newErr.Error(), "Load and New give the same error")
		})
	}
}

func TestNewXGBoost(t *testing.T) {
	m, err := New(XGBoost, filepath.Join("models", "xgboost.json"))
	require.NoError(t, err)
	assert.Equal(t, irisClasses, m.Info().Classes, "names come from the sidecar")
	p, err := m.Predict([]float64{5.1, 3.5, 1.4, 0.2}, nil)
	require.NoError(t, err)
	assert.Equal(t, "setosa", p.Label)

	m, err = New(XGBoost, filepath.Join("models", "missing.model"))
	require.ErrorIs(t, err, os.ErrNotExist)
	assert.Nil(t, m)
}

func TestNewXGBoostBadSidecar(t *testing.T) {
	dir := t.TempDir()
	model, err := os.ReadFile(filepath.Join("models", "xgboost.json"))
	require.NoError(t, err)
	path := filepath.Join(dir, "m.model")
	require.NoError(t, os.WriteFile(path, model, 0o644))
	require.NoError(t, os.WriteFile(path+".meta.json", []byte(`{"format": 1}`), 0o644))
	_, err = New(XGBoost, path)
	require.ErrorIs(t, err, ErrFormat)
}

// TestREADMEPredictBatchShapes: README.md's library table gives
// PredictBatch's argument shapes, and they are the ones PredictBatch takes:
// for every production model, n rows flat and row-major, n classes, and
// n*len(Classes) probabilities or nil, answering as Predict does row by row.
func TestREADMEPredictBatchShapes(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	var line string
	for _, l := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(l, "| `Model.PredictBatch(rows, classes, proba)` |") {
			line = l
		}
	}
	require.NotEmpty(t, line, "README.md's library table has no PredictBatch line")
	for _, want := range []string{
		"`rows []float64`", "row-major", "`n*len(Features)`",
		"`classes []int` of length n", "`proba []float64` of length `n*len(Classes)`", "or nil",
	} {
		assert.Contains(t, line, want)
	}

	reg, err := OpenRegistry(models.FS)
	require.NoError(t, err)
	iris := [][]float64{{5.1, 3.5, 1.4, 0.2}, {6.2, 2.9, 4.3, 1.3}, {7.7, 3.0, 6.1, 2.3}}
	for _, name := range []string{"heuristic", "decision_tree", "random_forest", "xgboost"} {
		t.Run(name, func(t *testing.T) {
			m, err := reg.Load(name)
			require.NoError(t, err)
			nf, nc, n := len(m.Info().Features), len(m.Info().Classes), len(iris)
			rows := make([]float64, 0, n*nf)
			for _, r := range iris {
				rows = append(rows, r...)
			}
			require.Len(t, rows, n*nf)
			classes, proba := make([]int, n), make([]float64, n*nc)
			require.NoError(t, m.PredictBatch(rows, classes, proba))
			noProba := make([]int, n)
			require.NoError(t, m.PredictBatch(rows, noProba, nil))
			for i, r := range iris {
				p, err := m.Predict(r, nil)
				require.NoError(t, err)
				assert.Equal(t, p.Class, classes[i])
				assert.Equal(t, p.Class, noProba[i])
				assert.Equal(t, p.Probabilities, proba[i*nc:(i+1)*nc])
			}
		})
	}
}
