package classify

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTreeGraphFields(t *testing.T) {
	reg, err := OpenRegistryDir("models")
	require.NoError(t, err)
	dt, err := reg.Load("decision_tree")
	require.NoError(t, err)
	g := dt.(*Tree).TreeGraph(0)
	assert.Equal(t, ruleSklearn, g.Rule)
	assert.Equal(t, 0, g.Output)
	root := g.Nodes[0]
	assert.GreaterOrEqual(t, root.Feature, 0)
	assert.Equal(t, 1, root.Left)
	for _, n := range g.Nodes {
		if n.Left < 0 {
			assert.Len(t, n.Value, 3, "a leaf's class distribution")
			assert.InDelta(t, 1, n.Value[0]+n.Value[1]+n.Value[2], 1e-12)
			assert.Equal(t, -1, n.Feature)
		} else {
			assert.Nil(t, n.Value)
		}
	}
	assert.Empty(t, dt.(*Tree).TreeGraph(1).Nodes, "no tree 1")
	assert.Equal(t, 1, dt.(*Tree).Trees())

	x, err := reg.Load("xgboost")
	require.NoError(t, err)
	b := x.(*Booster)
	assert.Equal(t, b.e.ens.Trees(), b.Trees())
	g = b.TreeGraph(b.Trees() - 1)
	assert.Equal(t, ruleXGBoost, g.Rule)
	assert.Equal(t, 2, g.Output, "the last tree of a 3-class model adds to the third margin")
	assert.Positive(t, g.Nodes[0].Cover, "sum_hess")
	assert.Positive(t, g.Nodes[0].Gain, "loss_chg")
	for _, n := range g.Nodes {
		if n.Left >= 0 {
			assert.Equal(t, float64(float32(n.Threshold)), n.Threshold, "XGBoost's thresholds are float32")
		} else {
			assert.Len(t, n.Value, 1)
		}
	}
	assert.Empty(t, b.TreeGraph(-1).Nodes)

	cat, err := New(LightGBM, "testdata/boosting/sklearn-1.9.1_lightgbm-4.7.0/categorical/lightgbm.txt")
	require.NoError(t, err)
	found := false
	for i := range cat.(*Boosted).Trees() {
		for _, n := range cat.(*Boosted).TreeGraph(i).Nodes {
			if n.Categories != nil {
				found = true
				assert.Zero(t, n.Threshold, "a categorical split has no threshold")
				assert.NotEmpty(t, n.Categories)
			}
		}
	}
	assert.True(t, found, "the categorical model has categorical splits")
	assert.Empty(t, cat.(*Boosted).TreeGraph(cat.(*Boosted).Trees()).Nodes)
}

// TestImportanceMatchesLibraries compares Importance with what the
// libraries report for the same files, bit for bit: XGBoost 3.2.0's
// Booster.get_score ("weight", "total_gain") of models/xgboost.json and
// LightGBM 4.7.0's Booster(model_file=...).feature_importance ("split",
// "gain"). During development the same equality held on the parity
// suites' digits and missing-value models (XGBoost JSON; every LightGBM
// variant) and, for scikit-learn, on feature_importances_ of digits trees
// grown depth-first and best-first, forests, extra trees and sample
// weights, and GradientBoosting's on digits (depth-first, multi-class)
// and a binary best-first subsampled model; contrib_parity_test.go holds
// the committed references of all kinds.
func TestImportanceMatchesLibraries(t *testing.T) {
	for _, tc := range []struct {
		kind   Kind
		path   string
		splits []int
		gain   []float64
		of     string
	}{
		{XGBoost, "models/xgboost.json", []int{102, 91, 137, 145},
			[]float64{4.329037666320801, 6.619564056396484, 409.87884521484375, 190.66502380371094}, gainXGBoost},
		{LightGBM, "testdata/boosting/sklearn-1.9.1_lightgbm-4.7.0/iris/lightgbm.txt", []int{91, 91, 190, 108},
			[]float64{16.209855236736615, 17.68292578017143, 567.2700966376774, 309.48783856189004}, gainLGBM},
		{LightGBM, "testdata/boosting/sklearn-1.9.1_lightgbm-4.7.0/categorical/lightgbm.txt", []int{94, 54, 144, 115, 74, 109, 40, 0},
			[]float64{766.6788562238216, 85.54725912213326, 924.6723369657993, 732.3843638896942, 301.1929344832897, 405.3188156783581, 97.75697579979897, 0}, gainLGBM},
		{LightGBM, "testdata/boosting/sklearn-1.9.1_lightgbm-4.7.0/missing/lightgbm_zero.txt", []int{5, 41, 71, 12, 55, 4, 37, 57, 49, 45, 13, 31},
			[]float64{11.536929965019226, 372.73344027996063, 722.5921266078949, 45.1131796836853, 332.20046949386597, 10.97812008857727,
				196.79590106010437, 368.39948534965515, 281.8973089456558, 265.55733036994934, 43.701459527015686, 155.15827894210815}, gainLGBM},
	} {
		t.Run(tc.path, func(t *testing.T) {
			m, err := New(tc.kind, tc.path)
			require.NoError(t, err)
			imp := m.(TreeModel).Importance()
			assert.Equal(t, m.Info().Features, imp.Features)
			assert.Equal(t, tc.splits, imp.Splits)
			assert.Equal(t, tc.gain, imp.Gain)
			assert.Equal(t, tc.of, imp.GainKind)
		})
	}
}

// sklearnV3 is a hand-made classify/sklearn-trees v3 dump of two trees
// whose node ids are not in preorder (as scikit-learn's best-first builder
// numbers them): tree 0 splits on feature 1 at its root (id 0), whose left
// child is id 2 (a split on feature 0) and right child id 1 (a leaf); tree
// 1 is a single leaf.
const sklearnV3 = `{"format":"classify/sklearn-trees","format_version":3,"kind":"random_forest",
"estimator":"RandomForestClassifier","library":"scikit-learn 1.9.1","features":["a","b","c"],"classes":["x","y"],
"trees":[{"children_left":[2,-1,3,-1,-1],"children_right":[1,-1,4,-1,-1],"feature":[1,-2,0,-2,-2],
"threshold":[0.5,-2,1.5,-2,-2],"value":[[5,5],[0,4],[5,1],[5,0],[0,1]],
"n_node_samples":[10,4,6,5,1],"weighted_n_node_samples":[10,4,6,5,1],"impurity":[0.5,0,0.2777777777777778,0,0]},
{"children_left":[-1],"children_right":[-1],"feature":[-2],"threshold":[-2],"value":[[1,1]],
"n_node_samples":[3],"weighted_n_node_samples":[3],"impurity":[0.5]}]}`

// TestSklearnImportance follows scikit-learn's formula on sklearnV3:
// tree 0's gains are 10*0.5 - 6*0.2778 - 4*0 = 3.3333 (feature b) and
// 6*0.2778 = 1.6667 (feature a), over the root's 10 samples: [1/6, 2/6, 0]
// normalised; tree 1, a single node, is left out of the forest's mean.
func TestSklearnImportance(t *testing.T) {
	f, err := LoadRandomForest(strings.NewReader(sklearnV3))
	require.NoError(t, err)
	imp := f.Importance()
	assert.Equal(t, []int{1, 1, 0}, imp.Splits)
	assert.Equal(t, gainSklearn, imp.GainKind)
	require.Len(t, imp.Gain, 3)
	assert.InDelta(t, 1.0/3, imp.Gain[0], 1e-15)
	assert.InDelta(t, 2.0/3, imp.Gain[1], 1e-15)
	assert.Zero(t, imp.Gain[2])
	g := f.TreeGraph(0)
	assert.Equal(t, 10.0, g.Nodes[0].Cover)
	assert.InDelta(t, 10*0.5-6*0.2777777777777778, g.Nodes[0].Gain, 1e-15)
	assert.Equal(t, 6.0, g.Nodes[1].Cover, "preorder: the root's left child (id 2) follows it")
	assert.Equal(t, 4.0, g.Nodes[4].Cover, "the right child (id 1) comes after the left subtree")
	assert.Equal(t, 0.5, g.Nodes[0].Threshold)

	// A dump without statistics (version 2) has no covers or gains:
	// zeros, not NaN.
	v2 := regexp.MustCompile(`,\s*"n_node_samples":\[[^\]]*\],"weighted_n_node_samples":\[[^\]]*\],"impurity":\[[^\]]*\]`).
		ReplaceAllString(strings.Replace(sklearnV3, `"format_version":3`, `"format_version":2`, 1), "")
	f2, err := LoadRandomForest(strings.NewReader(v2))
	require.NoError(t, err)
	assert.Equal(t, []float64{0, 0, 0}, f2.Importance().Gain)
	assert.Zero(t, f2.TreeGraph(0).Nodes[0].Cover)

	tr, err := LoadDecisionTree(strings.NewReader(strings.NewReplacer(`"random_forest"`, `"decision_tree"`,
		`"RandomForestClassifier"`, `"DecisionTreeClassifier"`).Replace(sklearnV3[:strings.Index(sklearnV3, `,
{"children_left":[-1]`)] + "]}")))
	require.NoError(t, err)
	ti := tr.Importance()
	assert.InDelta(t, 1.0/3, ti.Gain[0], 1e-15)
	assert.InDelta(t, 2.0/3, ti.Gain[1], 1e-15)
}

// TestNpSum checks the pairwise summation against NumPy 2's np.sum of
// 0.1 repeated n times, where the order of additions shows in the last
// bits (a plain loop gives 0.7999999999999999 for 8, 99.9999999999986
// for 1000).
func TestNpSum(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want float64
	}{
		{0, 0}, {7, 0.7}, {8, 0.8}, {10, 1.0}, {100, 9.999999999999998}, {129, 12.899999999999999},
		{1000, 100.00000000000001}, {1003, 100.30000000000001},
	} {
		a := make([]float64, tc.n)
		for i := range a {
			a[i] = 0.1
		}
		assert.Equal(t, tc.want, npSum(a), "n=%d", tc.n)
	}
	assert.Equal(t, []float64{0, 0}, meanNormalised(nil, 2))
	assert.Equal(t, []float64{0, 0}, meanNormalised([][]float64{{0, 0}}, 2))
}
