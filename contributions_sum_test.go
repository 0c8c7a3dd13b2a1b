package classify_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/internal/golden"
)

// checkSums checks the sum property of Contributions on rows: each
// output's contributions and bias add up to the model's raw output
// (classify.RawOutputs) within tol, relative to the larger of the output's
// magnitude and 1; ContributionsBatch gives the same values as
// Contributions row by row. It returns false, having checked nothing, when
// the model's artifact carries no covers.
func checkSums(t *testing.T, m classify.Model, rows [][]float64, tol float64) bool {
	t.Helper()
	c, ok := m.(classify.Contributor)
	require.True(t, ok, "%s is not a Contributor", m.Info().Kind)
	nf := len(m.Info().Features)
	no := len(c.Outputs())
	size := no * (nf + 1)
	out := make([]float64, size)
	if err := c.Contributions(rows[0], out); err != nil {
		require.ErrorIs(t, err, classify.ErrFormat)
		require.ErrorContains(t, err, "carries no node covers")
		return false
	}
	flat := make([]float64, 0, len(rows)*nf)
	for _, r := range rows {
		flat = append(flat, r...)
	}
	batch := make([]float64, len(rows)*size)
	require.NoError(t, c.ContributionsBatch(flat, batch))
	raw := make([]float64, no)
	worst := 0.0
	for i, row := range rows {
		require.NoError(t, c.Contributions(row, out))
		require.Equal(t, out, batch[i*size:(i+1)*size], "row %d: batch and single row differ", i)
		classify.RawOutputs(m, row, raw)
		for o := range no {
			sum := 0.0
			for _, v := range out[o*(nf+1) : (o+1)*(nf+1)] {
				sum += v
			}
			d := math.Abs(sum-raw[o]) / max(1, math.Abs(raw[o]))
			worst = max(worst, d)
			require.LessOrEqual(t, d, tol, "row %d %v, output %d: contributions add up to %v, raw output %v", i, row, o, sum, raw[o])
		}
	}
	t.Logf("%d rows, %d outputs: largest relative difference %.3g", len(rows), no, worst)
	return true
}

func caseRows(f *golden.File) [][]float64 {
	var rows [][]float64
	for _, c := range f.Cases {
		rows = append(rows, c.Input)
	}
	return rows
}

// TestContributionsAddUpProduction: every production model carries covers
// and satisfies the sum property on the Iris rows (XGBoost's float32
// margins within 1e-5, the others within 1e-9).
func TestContributionsAddUpProduction(t *testing.T) {
	iris := irisRows(t)
	var rows [][]float64
	for i := 0; i+4 <= len(iris); i += 4 {
		rows = append(rows, iris[i:i+4])
	}
	for _, name := range productionNames(t) {
		m := productionModel(t, name)
		if _, ok := m.(classify.Contributor); !ok {
			continue // the rules
		}
		t.Run(name, func(t *testing.T) {
			tol := 1e-9
			if m.Info().Kind == classify.XGBoost {
				tol = 1e-5
			}
			require.True(t, checkSums(t, m, rows, tol), "%s carries no covers", name)
		})
	}
}

// TestContributionsAddUpTestdata: every XGBoost model of testdata (every
// version and format) and every LightGBM model of the boosting suite
// and every model of the boosting suite (LightGBM, HistGradientBoosting,
// GradientBoosting) carries covers and satisfies the sum property on its
// golden rows, NaN included; so do the scikit-learn trees and forests of
// testdata/sklearn written by 1.9.1.
func TestContributionsAddUpTestdata(t *testing.T) {
	goldens, err := filepath.Glob(filepath.Join("testdata", "xgboost", "*", "*.golden.json"))
	require.NoError(t, err)
	require.NotEmpty(t, goldens)
	for _, g := range goldens {
		f, err := golden.ReadFile(g)
		require.NoError(t, err)
		base := strings.TrimSuffix(g, ".golden.json")
		arts, err := filepath.Glob(base + ".*")
		require.NoError(t, err)
		for _, art := range arts {
			if art == g || strings.HasSuffix(art, ".meta.json") {
				continue
			}
			t.Run(art, func(t *testing.T) {
				m, err := classify.New(classify.XGBoost, art)
				require.NoError(t, err)
				require.True(t, checkSums(t, m, caseRows(f), 1e-5), "%s carries no covers", art)
			})
		}
	}
	parity, err := filepath.Glob(filepath.Join("testdata", "boosting", boostingGen, "*", "*.parity.json"))
	require.NoError(t, err)
	require.NotEmpty(t, parity)
	for _, p := range parity {
		f, err := golden.ReadFile(p)
		require.NoError(t, err)
		t.Run(p, func(t *testing.T) {
			m, err := classify.New(f.Kind, filepath.Join(filepath.Dir(p), filepath.FromSlash(f.Artifact)))
			require.NoError(t, err)
			require.True(t, checkSums(t, m, caseRows(f), 1e-9), "covers")
		})
	}
	// scikit-learn trees, forests and extra trees: every model of 1.9.1
	// (v3) explains, the 1.2.1 ones (v2, kept as they were) refuse.
	var index struct{ Models []sklearnEntry }
	readJSON(t, filepath.Join("testdata", "sklearn", "index.json"), &index)
	for _, e := range index.Models {
		t.Run("sklearn/"+e.Name, func(t *testing.T) {
			f, err := golden.ReadFile(filepath.Join("testdata", "sklearn", e.Golden))
			require.NoError(t, err)
			kind := classify.RandomForest
			if e.Estimator == "DecisionTreeClassifier" {
				kind = classify.DecisionTree
			}
			m, err := classify.New(kind, filepath.Join("testdata", "sklearn", e.Artifact))
			require.NoError(t, err)
			var rows [][]float64
			for _, c := range f.Cases {
				if !slices.ContainsFunc(c.Input, func(v float64) bool { return math.IsInf(v, 0) }) &&
					(m.Info().Missing || !slices.ContainsFunc(c.Input, math.IsNaN)) {
					rows = append(rows, c.Input)
				}
			}
			require.Equal(t, e.Library != "scikit-learn 1.2.1", checkSums(t, m, rows, 1e-9), "covers")
		})
	}
	_, err = os.Stat(filepath.Join("testdata", "xgboost", "1.7.4"))
	require.False(t, errors.Is(err, os.ErrNotExist))
}
