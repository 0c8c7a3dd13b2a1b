package classify_test

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/internal/golden"
)

// picturedModels are artifacts of every tree kind with the parity file
// whose cases walk them: the production models, and the boosting suite's
// LightGBM (categorical splits, NaN and zero as missing),
// HistGradientBoosting (categorical codes) and GradientBoosting.
var picturedModels = []string{
	"testdata/golden/decision_tree.json",
	"testdata/golden/random_forest.json",
	"testdata/golden/xgboost.json",
	"testdata/parity/sklearn-1.9.1_xgboost-3.2.0/missing/decision_tree.parity.json",
	"testdata/parity/sklearn-1.9.1_xgboost-3.2.0/missing/xgboost_ubj.parity.json",
	"testdata/boosting/sklearn-1.9.1_lightgbm-4.7.0/iris/lightgbm_ova.parity.json",
	"testdata/boosting/sklearn-1.9.1_lightgbm-4.7.0/iris/gradient_boosting.parity.json",
	"testdata/boosting/sklearn-1.9.1_lightgbm-4.7.0/categorical/lightgbm.parity.json",
	"testdata/boosting/sklearn-1.9.1_lightgbm-4.7.0/categorical/hist_gradient_boosting.parity.json",
	"testdata/boosting/sklearn-1.9.1_lightgbm-4.7.0/missing/lightgbm_zero.parity.json",
	"testdata/boosting/sklearn-1.9.1_lightgbm-4.7.0/missing/hist_gradient_boosting.parity.json",
}

// loadPictured loads the artifact a golden or parity file names (a
// golden file of testdata/golden names a registry model).
func loadPictured(t *testing.T, path string) (classify.Model, *golden.File) {
	t.Helper()
	f, err := golden.ReadFile(path)
	require.NoError(t, err)
	art := filepath.Join(filepath.Dir(path), filepath.FromSlash(f.Artifact))
	if f.Artifact == "" {
		art = filepath.Join("models", f.Model+".json")
	}
	kind := f.Kind
	if kind == "" {
		kind = classify.Kind(f.Model) // the production models are named by their kinds
	}
	m, err := classify.New(kind, art)
	require.NoError(t, err)
	return m, f
}

// TestTreeGraphDecidesAsTheEngine walks every tree's TreeGraph by its Rule
// (float32 or double comparison, the threshold as the library wrote it,
// categories, NaN the MissingLeft way) for every case of the parity files
// and checks that it reaches the leaf the engine reaches: the picture
// says what the model does.
func TestTreeGraphDecidesAsTheEngine(t *testing.T) {
	for _, path := range picturedModels {
		t.Run(strings.TrimPrefix(path, "testdata/"), func(t *testing.T) {
			m, f := loadPictured(t, path)
			tm := m.(classify.TreeModel)
			graphs := make([]classify.TreeGraph, tm.Trees())
			for i := range graphs {
				graphs[i] = tm.TreeGraph(i)
				require.NotEmpty(t, graphs[i].Nodes)
			}
			cases := f.Cases
			if testing.Short() && len(cases) > 40 {
				cases = cases[:40]
			}
			walked := 0
			for _, c := range cases {
				if _, err := m.Predict(c.Input, nil); err != nil {
					continue // a row the model refuses walks no tree
				}
				x := classify.EngineRow(m, c.Input)
				for i, g := range graphs {
					leaf := walkGraph(g, x, m.Info().Kind == classify.LightGBM)
					require.Equal(t, classify.EngineLeaf(m, i, x), leaf, "case %s, tree %d", c.Name, i)
				}
				walked++
			}
			require.Positive(t, walked)
		})
	}
}

// walkGraph follows g's rule for row from the root to a leaf. LightGBM
// reads a value within kZeroThreshold of zero as zero before its trees
// see it.
func walkGraph(g classify.TreeGraph, row []float64, lgbZero bool) int {
	k := 0
	for {
		n := g.Nodes[k]
		if n.Left < 0 {
			return k
		}
		x := row[n.Feature]
		if lgbZero && math.Abs(x) <= float64(float32(1e-35)) {
			x = 0
		}
		var left bool
		switch {
		case x != x:
			left = n.MissingLeft
		case n.Categories != nil:
			left = x > -1 && x < 1<<31 && contains(n.Categories, int(x))
		case g.Rule == "float32(x) <= t":
			left = float64(float32(x)) <= n.Threshold
		case g.Rule == "float32(x) < t":
			left = float64(float32(x)) < n.Threshold
		case g.Rule == "x <= t":
			left = x <= n.Threshold
		default:
			panic("unknown rule " + g.Rule)
		}
		if left {
			k = n.Left
		} else {
			k = n.Right
		}
	}
}

func contains(s []int, v int) bool {
	for _, c := range s {
		if c == v {
			return true
		}
	}
	return false
}
