package classify

import (
	"bytes"
	"encoding/json"
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

// gbSmall is a classify/sklearn-gb v2 dump of three stumps scikit-learn
// 1.9.1 fitted (GradientBoostingClassifier(n_estimators=3, max_depth=1,
// subsample=0.5, random_state=2) on Iris, virginica or not), whose
// feature_importances_ is [0, 0, 0.6077270812734786, 0.39227291872652137].
const gbSmall = `{"format":"classify/sklearn-gb","format_version":2,"estimator":"GradientBoostingClassifier","kind":"gradient_boosting","library":"scikit-learn 1.9.1","features":["sl","sw","pl","pw"],"classes":["no","yes"],"link":"logistic","init":"prior","init_raw":[-0.6931471805599454],"learning_rate":0.1,"stages":[[{"children_left":[1,-1,-1],"children_right":[2,-1,-1],"feature":[3,-2,-2],"threshold":[1.75,-2.0,-2.0],"value":[-0.02666666666666679,-1.1785714285714282,2.999999999999999],"n_node_samples":[75,56,19],"weighted_n_node_samples":[75.0,56.0,19.0],"impurity":[0.2126222222222222,0.0663265306122447,8.326672684688674e-16]}],[{"children_left":[1,-1,-1],"children_right":[2,-1,-1],"feature":[2,-2,-2],"threshold":[4.950000047683716,-2.0,-2.0],"value":[-0.05435587080417412,-1.3688785273102995,2.515855244268273],"n_node_samples":[75,55,20],"weighted_n_node_samples":[75.0,55.0,20.0],"impurity":[0.1675529389108773,0.014830521222364584,0.00043124890417256534]}],[{"children_left":[1,-1,-1],"children_right":[2,-1,-1],"feature":[2,-2,-2],"threshold":[4.8500001430511475,-2.0,-2.0],"value":[-0.10400253171148043,-1.3116605077629122,2.000447468385523],"n_node_samples":[75,59,16],"weighted_n_node_samples":[75.0,59.0,16.0],"impurity":[0.11770700756019825,0.01394754583733479,0.049770321485690494]}]]}
`

// hgbSmall is a classify/sklearn-hgb v2 dump of
// HistGradientBoostingClassifier(max_iter=3, max_depth=2, random_state=0)
// on Iris; its predictors' split counts per feature are [3, 0, 15, 4] and
// their gains sum to [0.19116936809898455, 0, 570.3836175233018,
// 319.7583063423747].
const hgbSmall = `{"format":"classify/sklearn-hgb","format_version":2,"estimator":"HistGradientBoostingClassifier","kind":"hist_gradient_boosting","library":"scikit-learn 1.9.1","features":["sl","sw","pl","pw"],"classes":["a","b","c"],"link":"softmax","baseline":[0.0,0.0,0.0],"columns":[0,1,2,3],"categories":[null,null,null,null],"known_cat_bitsets":[],"f_idx_map":[0,0,0,0],"iterations":[[{"value":[0.0,0.30000000670552246,-0.15000000335276126],"feature_idx":[2,0,0],"num_threshold":[2.45,0.0,0.0],"missing_go_to_left":[0,0,0],"left":[1,0,0],"right":[2,0,0],"is_leaf":[0,1,1],"is_categorical":[0,0,0],"bitset_idx":[0,0,0],"raw_left_cat_bitsets":[],"count":[150,50,100],"gain":[150.00000782310968,-1.0,-1.0]},{"value":[0.0,-0.15000000335276123,0.7500000167638062,0.25833333910753326,-0.1402173944384507],"feature_idx":[2,0,3,0,0],"num_threshold":[2.45,0.0,1.75,0.0,0.0],"missing_go_to_left":[0,0,1,0,0],"left":[1,0,3,0,0],"right":[2,0,4,0,0],"is_leaf":[0,1,0,1,1],"is_categorical":[0,0,0,0,0],"bitset_idx":[0,0,0,0,0],"raw_left_cat_bitsets":[],"count":[150,50,100,54,46],"gain":[37.50000195577742,-1.0,87.6811639932187,-1.0,-1.0]},{"value":[0.0,-1.2836538748457453,-0.15000000335276126,-0.060000001341104496,2.902173977912119,0.27750000620260823,0.30000000670552246],"feature_idx":[3,2,0,0,2,0,0],"num_threshold":[1.75,4.45,0.0,0.0,5.45,0.0,0.0],"missing_go_to_left":[1,1,0,0,0,0,0],"left":[1,2,0,0,5,0,0],"right":[4,3,0,0,6,0,0],"is_leaf":[0,0,1,1,0,1,1],"is_categorical":[0,0,0,0,0,0,0],"bitset_idx":[0,0,0,0,0,0,0],"raw_left_cat_bitsets":[],"count":[150,104,79,25,46,20,26],"gain":[124.17956333265593,3.4182694090458634,-1.0,-1.0,0.12717391967611036,-1.0,-1.0]}],[{"value":[0.0,0.22752562974736548,-1.3915342234483254,-0.1399311757087298,-0.1388318554865333],"feature_idx":[2,0,2,0,0],"num_threshold":[2.45,0.0,4.45,0.0,0.0],"missing_go_to_left":[0,0,0,0,0],"left":[1,0,3,0,0],"right":[2,0,4,0,0],"is_leaf":[0,1,0,1,1],"is_categorical":[0,0,0,0,0],"bitset_idx":[0,0,0,0,0],"raw_left_cat_bitsets":[],"count":[150,50,100,29,71],"gain":[102.91192158520857,-1.0,0.0005056468135755665,-1.0,-1.0]},{"value":[0.0,-0.1389360687995683,0.6241738984943088,0.21590644923147317,-0.1079586802629555],"feature_idx":[2,0,2,0,0],"num_threshold":[2.45,0.0,4.85,0.0,0.0],"missing_go_to_left":[0,0,0,0,0],"left":[1,0,3,0,0],"right":[2,0,4,0,0],"is_leaf":[0,1,0,1,1],"is_categorical":[0,0,0,0,0],"bitset_idx":[0,0,0,0,0],"raw_left_cat_bitsets":[],"count":[150,50,100,49,51],"gain":[28.245335054003377,-1.0,58.91632920449595,-1.0,-1.0]},{"value":[0.0,-1.3491166241216945,-0.11673436471298582,-0.14032719606234964,1.9834908890080278,0.13852671620680634,0.2338078425916128],"feature_idx":[2,0,0,0,2,0,0],"num_threshold":[4.75,4.95,0.0,0.0,5.15,0.0,0.0],"missing_go_to_left":[1,0,0,0,0,0,0],"left":[1,2,0,0,5,0,0],"right":[4,3,0,0,6,0,0],"is_leaf":[0,0,1,1,0,1,1],"is_categorical":[0,0,0,0,0,0,0],"bitset_idx":[0,0,0,0,0,0,0],"raw_left_cat_bitsets":[],"count":[150,95,22,73,55,21,34],"gain":[87.27460456654248,0.19082676143904465,-1.0,-1.0,2.8032279833514337,-1.0,-1.0]}],[{"value":[0.0,1.8875877749446546,0.18939083037710383,0.18833711415011142,-1.3121975190733413,-0.1316705948452117,-0.1303248418714739],"feature_idx":[2,0,0,0,2,0,0],"num_threshold":[2.45,4.95,0.0,0.0,5.15,0.0,0.0],"missing_go_to_left":[0,0,0,0,1,0,0],"left":[1,2,0,0,5,0,0],"right":[4,3,0,0,6,0,0],"is_leaf":[0,0,1,1,0,1,1],"is_categorical":[0,0,0,0,0,0,0],"bitset_idx":[0,0,0,0,0,0,0],"raw_left_cat_bitsets":[],"count":[150,50,20,30,100,66,34],"gain":[75.57599111694232,0.00033195724644841107,-1.0,-1.0,0.0007310033680809624,-1.0,-1.0]},{"value":[0.0,-1.3057578028466532,-0.13044204675478183,-0.1306645911958921,0.5373873851842877,0.1724291052372031,-0.11436718199581725],"feature_idx":[2,0,0,0,3,0,0],"num_threshold":[2.45,4.95,0.0,0.0,1.65,0.0,0.0],"missing_go_to_left":[0,0,0,0,1,0,0],"left":[1,2,0,0,5,0,0],"right":[4,3,0,0,6,0,0],"is_leaf":[0,0,1,1,0,1,1],"is_categorical":[0,0,0,0,0,0,0],"bitset_idx":[0,0,0,0,0,0,0],"raw_left_cat_bitsets":[],"count":[150,50,20,30,100,52,48],"gain":[21.641162790383994,1.064941349149251e-05,-1.0,-1.0,43.896392451190195,-1.0,-1.0]},{"value":[0.0,-1.1322278451040304,-0.13123117999496156,-0.058488095855213675,1.8244633112833066,0.17197297121051736,0.18982271340478563],"feature_idx":[3,2,0,0,2,0,0],"num_threshold":[1.65,4.45,0.0,0.0,5.35,0.0,0.0],"missing_go_to_left":[1,1,0,0,0,0,0],"left":[1,2,0,0,5,0,0],"right":[4,3,0,0,6,0,0],"is_leaf":[0,0,1,1,0,1,1],"is_categorical":[0,0,0,0,0,0,0],"bitset_idx":[0,0,0,0,0,0,0],"raw_left_cat_bitsets":[],"count":[150,102,79,23,48,20,28],"gain":[64.00118656530985,1.8764546935081727,-1.0,-1.0,0.09190077107476924,-1.0,-1.0]}]]}
`

func TestBoostedImportance(t *testing.T) {
	gb, err := LoadGradientBoosting(strings.NewReader(gbSmall))
	require.NoError(t, err)
	imp := gb.Importance()
	assert.Equal(t, []int{0, 0, 2, 1}, imp.Splits)
	assert.Equal(t, []float64{0, 0, 0.6077270812734786, 0.39227291872652137}, imp.Gain)
	assert.Equal(t, gainSklearn, imp.GainKind)
	g := gb.TreeGraph(0)
	assert.Equal(t, ruleSklearn, g.Rule)
	assert.Equal(t, 1.75, g.Nodes[0].Threshold)
	lr, leaf := 0.1, -1.1785714285714282 // float64 product, not a constant's exact one
	assert.Equal(t, []float64{lr * leaf}, g.Nodes[1].Value, "what the stage adds: learning_rate times the leaf")

	hgb, err := LoadHistGradientBoosting(strings.NewReader(hgbSmall))
	require.NoError(t, err)
	imp = hgb.Importance()
	assert.Equal(t, []int{3, 0, 15, 4}, imp.Splits)
	assert.Equal(t, gainHGB, imp.GainKind)
	assert.InDeltaSlice(t, []float64{0.19116936809898455, 0, 570.3836175233018, 319.7583063423747}, imp.Gain, 1e-12)
	assert.Equal(t, ruleDouble, hgb.TreeGraph(0).Rule)

	// Without statistics (version 1 dumps) there is no gain: zeros.
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(gbSmall), &doc))
	doc["format_version"] = 1
	for _, stage := range doc["stages"].([]any) {
		for _, tree := range stage.([]any) {
			for _, k := range []string{"n_node_samples", "weighted_n_node_samples", "impurity"} {
				delete(tree.(map[string]any), k)
			}
		}
	}
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	v1, err := LoadGradientBoosting(bytes.NewReader(b))
	require.NoError(t, err)
	assert.Equal(t, []float64{0, 0, 0, 0}, v1.Importance().Gain)
	assert.Equal(t, []int{0, 0, 2, 1}, v1.Importance().Splits)
}
