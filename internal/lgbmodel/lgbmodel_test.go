package lgbmodel

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ml-production-service/classify/internal/paritycase"
)

const suite = "../../testdata/boosting/sklearn-1.9.1_lightgbm-4.7.0"

func suiteModels(t testing.TB) []string {
	files, err := filepath.Glob(filepath.Join(suite, "*", "lightgbm*.txt"))
	require.NoError(t, err)
	require.Len(t, files, 9, "the boosting parity suite's LightGBM models (make parity-suite)")
	return files
}

// TestParity: the reference evaluator (Raw, Proba) gives lightgbm 4.7.0's
// own answers on every case of the suite, labels and probabilities, so
// the parser keeps every number the rules need.
func TestParity(t *testing.T) {
	for _, path := range suiteModels(t) {
		t.Run(strings.TrimPrefix(path, suite+"/"), func(t *testing.T) {
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			m, err := Parse(b)
			require.NoError(t, err)
			f, err := paritycase.Read(strings.TrimSuffix(path, ".txt") + ".parity.json")
			require.NoError(t, err)
			require.Len(t, f.Classes, m.Classes)
			raw := make([]float64, m.Groups)
			p := make([]float64, m.Classes)
			for _, c := range f.Cases {
				m.Raw(c.Row(), raw)
				m.Proba(raw, p)
				best := 0
				for k := range p {
					if p[k] > p[best] {
						best = k
					}
					require.InDelta(t, c.Proba[k], p[k], 1e-9, "%s class %d", c.Name, k)
				}
				require.Equal(t, c.Label, f.Classes[best], c.Name)
			}
		})
	}
}

func TestParseSuite(t *testing.T) {
	want := map[string]struct {
		objective string
		classes   int
		average   bool
		cat       bool
	}{
		"iris/lightgbm.txt":               {"multiclass", 3, false, false},
		"iris/lightgbm_ova.txt":           {"multiclassova", 3, false, false},
		"breast_cancer/lightgbm.txt":      {"binary", 2, false, false},
		"missing/lightgbm_rf.txt":         {"multiclass", 3, true, false},
		"categorical/lightgbm.txt":        {"multiclass", 3, false, true},
		"categorical/lightgbm_onehot.txt": {"multiclass", 3, false, true},
	}
	for _, path := range suiteModels(t) {
		name := strings.TrimPrefix(filepath.ToSlash(path), suite+"/")
		w, ok := want[name]
		if !ok {
			continue
		}
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		m, err := Parse(b)
		require.NoError(t, err, name)
		require.Equal(t, "v4", m.Version, name)
		require.Equal(t, w.objective, m.Objective, name)
		require.Equal(t, w.classes, m.Classes, name)
		require.Equal(t, w.average, m.AverageOutput, name)
		cat := false
		for _, tr := range m.Trees {
			cat = cat || len(tr.CatBoundaries) > 0
		}
		require.Equal(t, w.cat, cat, name)
		require.Len(t, m.FeatureNames, m.Features)
	}
}

// tiny is a valid binary model: one split on feature 1, then a tree of
// one leaf (as LightGBM writes it when no split gains).
const tiny = `tree
version=v4
num_class=1
num_tree_per_iteration=1
label_index=0
max_feature_idx=2
objective=binary sigmoid:1
feature_names=a b c
feature_infos=none none none
tree_sizes=1 1

Tree=0
num_leaves=2
num_cat=0
split_feature=1
split_gain=1
threshold=0.5
decision_type=2
left_child=-1
right_child=-2
leaf_value=-0.25 0.5
leaf_weight=1 1
leaf_count=1 1
internal_value=0
internal_weight=0
internal_count=2
is_linear=0
shrinkage=1


Tree=1
num_leaves=1
num_cat=0
split_feature=
split_gain=
threshold=
decision_type=
left_child=
right_child=
leaf_value=0.125
leaf_weight=
leaf_count=50
internal_value=
internal_weight=
internal_count=
is_linear=0
shrinkage=1


end of trees

feature_importances:
b=1

parameters:
[boosting: gbdt]
end of parameters

pandas_categorical:null
`

func TestTiny(t *testing.T) {
	m, err := Parse([]byte(tiny))
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b", "c"}, m.FeatureNames)
	require.Len(t, m.Trees, 2)
	raw := []float64{0}
	for _, c := range []struct {
		x, want float64
	}{{0.5, -0.125}, {0.6, 0.625}, {math.NaN(), -0.125}, {-1e-40, -0.125}} {
		m.Raw([]float64{0, c.x, 0}, raw)
		require.Equal(t, c.want, raw[0], "x=%v", c.x)
	}
	// CRLF line ends read the same.
	m2, err := Parse([]byte(strings.ReplaceAll(tiny, "\n", "\r\n")))
	require.NoError(t, err)
	require.Equal(t, m, m2)
}

// catModel has one categorical split on feature 0 with bitset {1, 33}.
func catModel(threshold, bounds, words string) string {
	s := strings.Replace(tiny, "num_cat=0\nsplit_feature=1\nsplit_gain=1\nthreshold=0.5\ndecision_type=2",
		"num_cat=1\nsplit_feature=0\nsplit_gain=1\nthreshold="+threshold+"\ndecision_type=1", 1)
	return strings.Replace(s, "is_linear=0\nshrinkage=1\n\n\nTree=1", "cat_boundaries="+bounds+"\ncat_threshold="+words+"\nis_linear=0\nshrinkage=1\n\n\nTree=1", 1)
}

func TestCategorical(t *testing.T) {
	m, err := Parse([]byte(catModel("0", "0 2", "2 2")))
	require.NoError(t, err)
	tr := &m.Trees[0]
	for _, c := range []struct {
		x    float64
		left bool
	}{{1, true}, {1.9, true}, {33, true}, {33.5, true}, {0, false}, {2, false}, {32, false}, {64, false},
		{-0.5, false}, {-1, false}, {math.NaN(), false}, {1e300, false}, {-1e300, false}, {1 << 31, false}} {
		require.Equal(t, c.left, tr.Leaf([]float64{c.x, 0, 0}) == 0, "x=%v", c.x)
	}
}

func TestRefusals(t *testing.T) {
	rep := func(old, new string) string {
		require.Contains(t, tiny, old)
		return strings.Replace(tiny, old, new, 1)
	}
	for _, c := range []struct {
		name, model, want string
	}{
		{"empty", "", "first line"},
		{"not a model", "{}", "first line"},
		{"version v5", rep("version=v4", "version=v5"), `version "v5" is not supported`},
		{"no version", rep("version=v4\n", ""), "no version"},
		{"regression", rep("objective=binary sigmoid:1", "objective=regression"), `objective "regression" is not supported`},
		{"cross entropy", rep("objective=binary sigmoid:1", "objective=cross_entropy"), `objective "cross_entropy"`},
		{"lambdarank", rep("objective=binary sigmoid:1", "objective=lambdarank"), `objective "lambdarank"`},
		{"custom objective", rep("objective=binary sigmoid:1\n", ""), "custom objective"},
		{"empty objective", rep("objective=binary sigmoid:1", "objective="), "empty objective"},
		{"sigmoid zero", rep("sigmoid:1", "sigmoid:0"), "sigmoid"},
		{"sigmoid nan", rep("sigmoid:1", "sigmoid:nan"), "sigmoid"},
		{"binary two classes", rep("num_class=1", "num_class=2"), "objective binary with num_class=2"},
		{"multiclass of one", rep("objective=binary sigmoid:1", "objective=multiclass num_class:1"), "objective multiclass with num_class=1"},
		{"num_class disagrees", rep("objective=binary sigmoid:1", "objective=binary num_class:3"), "num_class:3"},
		{"num_class huge", rep("num_class=1", "num_class=99999999999"), "num_class="},
		{"no max_feature_idx", rep("max_feature_idx=2\n", ""), "no max_feature_idx"},
		{"too many features", rep("max_feature_idx=2", "max_feature_idx=70000"), "max_feature_idx="},
		{"feature names short", rep("feature_names=a b c", "feature_names=a b"), "2 feature names"},
		{"feature name empty", rep("feature_names=a b c", "feature_names=a  c"), "empty name"},
		{"no feature names", rep("feature_names=a b c\n", ""), "no feature_names"},
		{"duplicate header", rep("num_class=1\n", "num_class=1\nnum_class=1\n"), "appears twice"},
		{"average_output value", rep("feature_infos", "average_output=1\nfeature_infos"), "average_output"},
		{"linear tree", rep("is_linear=0", "is_linear=1"), "linear trees"},
		{"pandas categorical", rep("pandas_categorical:null", `pandas_categorical:[["a","b"]]`), "pandas DataFrame"},
		{"truncated", tiny[:strings.Index(tiny, "end of trees")], "end of trees"},
		{"truncated header", tiny[:40], "ends in its header"},
		{"no trees", tiny[:strings.Index(tiny, "Tree=0")] + "end of trees\n", "no trees"},
		{"tree numbering", rep("Tree=1", "Tree=2"), `"Tree=2" where "Tree=1"`},
		{"tree number zero-padded", rep("Tree=1", "Tree=01"), `"Tree=01" where "Tree=1"`},
		{"tree number signed", rep("Tree=1", "Tree=+1"), `"Tree=+1" where "Tree=1"`},
		{"tree number text", rep("Tree=1", "Tree=x"), `"Tree=x" where "Tree=1"`},
		{"not key=value", rep("shrinkage=1\n\n\nTree=1", "shrinkage=1\njunk\nTree=1"), "not key=value"},
		{"duplicate key", rep("num_cat=0\nsplit_feature=1", "num_cat=0\nnum_cat=0\nsplit_feature=1"), "appears twice"},
		{"no num_leaves", rep("num_leaves=2\n", ""), "no num_leaves"},
		{"num_leaves zero", rep("num_leaves=1", "num_leaves=0"), "num_leaves"},
		{"num_leaves huge", rep("num_leaves=2", "num_leaves=2000000000"), "leaf_value has 2 values"},
		{"leaf value count", rep("leaf_value=-0.25 0.5", "leaf_value=-0.25"), "leaf_value has 1 values, want 2"},
		{"leaf value nan", rep("leaf_value=-0.25 0.5", "leaf_value=-0.25 nan"), "value NaN"},
		{"leaf value inf", rep("leaf_value=-0.25 0.5", "leaf_value=-0.25 inf"), "value +Inf"},
		{"leaf value text", rep("leaf_value=-0.25 0.5", "leaf_value=-0.25 x"), "not a number"},
		{"no split_feature", rep("split_feature=1\n", ""), "no split_feature"},
		{"feature out of range", rep("split_feature=1", "split_feature=3"), "split_feature: value 0"},
		{"negative feature", rep("split_feature=1", "split_feature=-1"), "split_feature: value 0"},
		{"threshold nan", rep("threshold=0.5", "threshold=nan"), "threshold is NaN"},
		{"decision type", rep("decision_type=2", "decision_type=16"), "decision_type"},
		{"missing type 3", rep("decision_type=2", "decision_type=12"), "missing type 3"},
		{"left child range", rep("left_child=-1", "left_child=-3"), "left_child"},
		{"child is root", rep("left_child=-1", "left_child=0"), "reached twice"},
		{"leaf twice", rep("right_child=-2", "right_child=-1"), "leaf 0 is reached twice"},
		{"trees per iteration", strings.Replace(rep("objective=binary sigmoid:1", "objective=multiclass num_class:3"),
			"num_class=1\nnum_tree_per_iteration=1", "num_class=3\nnum_tree_per_iteration=3", 1), "not a whole number of iterations"},
		{"num_cat too big", rep("num_cat=0\nsplit_feature=1", "num_cat=2\nsplit_feature=1"), "num_cat"},
		{"cat threshold index", catModel("1", "0 2", "2 2"), "bitset index"},
		{"cat threshold fraction", catModel("0.5", "0 2", "2 2"), "bitset index"},
		{"cat boundaries span", catModel("0", "0 3", "2 2"), "do not span"},
		{"cat boundaries start", catModel("0", "1 2", "2 2"), "do not span"},
		{"cat boundaries count", catModel("0", "0", "2 2"), "cat_boundaries has 1 values"},
		{"cat word", catModel("0", "0 2", "2 4294967296"), "32-bit word"},
		{"no cat_threshold", strings.Replace(catModel("0", "0 2", "2 2"), "cat_threshold=2 2\n", "", 1), "no cat_threshold"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.model))
			require.Error(t, err)
			require.True(t, errors.Is(err, ErrFormat), "%v", err)
			require.ErrorContains(t, err, c.want)
		})
	}
}

func TestSplitUnreached(t *testing.T) {
	// Three leaves, two splits, split 1 never referenced: leaves 1 and 2
	// hang off the root, and leaf 0 is unreached.
	s := strings.Replace(tiny, "num_leaves=2\nnum_cat=0\nsplit_feature=1\nsplit_gain=1\nthreshold=0.5\ndecision_type=2\nleft_child=-1\nright_child=-2\nleaf_value=-0.25 0.5\nleaf_weight=1 1\nleaf_count=1 1\ninternal_value=0\ninternal_weight=0\ninternal_count=2",
		"num_leaves=3\nnum_cat=0\nsplit_feature=1 1\nsplit_gain=1 1\nthreshold=0.5 0.5\ndecision_type=2 2\nleft_child=-2 -1\nright_child=-3 -1\nleaf_value=-0.25 0.5 1\nleaf_weight=1 1 1\nleaf_count=1 1 1\ninternal_value=0 0\ninternal_weight=0 0\ninternal_count=3 3", 1)
	_, err := Parse([]byte(s))
	require.ErrorContains(t, err, "split 1 is not reached")
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(tiny))
	f.Add([]byte(catModel("0", "0 2", "2 2")))
	for _, path := range suiteModels(f) {
		b, err := os.ReadFile(path)
		require.NoError(f, err)
		if len(b) < 60000 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			require.ErrorIs(t, err, ErrFormat)
			return
		}
		// Whatever Parse accepts, the reference walks without panicking
		// on any row.
		raw := make([]float64, m.Groups)
		p := make([]float64, m.Classes)
		for _, v := range []float64{0, math.NaN(), -1, 1e30, 0.5} {
			row := make([]float64, m.Features)
			for i := range row {
				row[i] = v
			}
			m.Raw(row, raw)
			m.Proba(raw, p)
		}
	})
}
