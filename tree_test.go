package classify

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	irisFeatures = []string{"sepal_length", "sepal_width", "petal_length", "petal_width"}
	irisClasses  = []string{"setosa", "versicolor", "virginica"}
)

// smallTree is a three-leaf Iris tree in scikit-learn's node order.
func smallTree() treeDump {
	return treeDump{
		ChildrenLeft:  []int{1, -1, 3, -1, -1},
		ChildrenRight: []int{2, -1, 4, -1, -1},
		Feature:       []int{2, -2, 3, -2, -2},
		Threshold:     []float64{2.45, -2, 1.75, -2, -2},
		Value:         [][]float64{{50, 50, 50}, {50, 0, 0}, {0, 50, 50}, {0, 49, 5}, {0, 1, 45}},
	}
}

// otherTree splits on sepal_length alone and leaves one leaf empty.
func otherTree() treeDump {
	return treeDump{
		ChildrenLeft:  []int{1, -1, -1},
		ChildrenRight: []int{2, -1, -1},
		Feature:       []int{0, -2, -2},
		Threshold:     []float64{5.5, -2, -2},
		Value:         [][]float64{{3, 1, 0}, {3, 1, 0}, {0, 0, 0}},
	}
}

func dump(t testing.TB, kind Kind, trees ...treeDump) string {
	t.Helper()
	b, err := json.Marshal(treesFile{
		Format: "classify/sklearn-trees", FormatVersion: 1, Kind: kind, Library: "test",
		Features: irisFeatures, Classes: irisClasses, Trees: trees,
	})
	require.NoError(t, err)
	return string(b)
}

func TestTreePredict(t *testing.T) {
	m, err := LoadDecisionTree(strings.NewReader(dump(t, DecisionTree, smallTree())))
	require.NoError(t, err)
	assert.Equal(t, Info{Kind: DecisionTree, Features: irisFeatures, Classes: irisClasses}, m.Info())

	f32 := func(v float32) float64 { return float64(v) }
	tests := []struct {
		name  string
		row   []float64
		label string
		proba []float64
	}{
		{"short petals", []float64{5.1, 3.5, 1.4, 0.2}, "setosa", []float64{1, 0, 0}},
		{"narrow", []float64{6, 3, 4.5, 1.5}, "versicolor", []float64{0, 49.0 / 54, 5.0 / 54}},
		{"wide", []float64{6, 3, 5.5, 2.1}, "virginica", []float64{0, 1.0 / 46, 45.0 / 46}},
		// float32(2.45) is above the float64 threshold 2.45, so scikit-learn sends it right.
		{"on threshold goes right", []float64{5, 3, 2.45, 1}, "versicolor", []float64{0, 49.0 / 54, 5.0 / 54}},
		{"float32 below threshold goes left", []float64{5, 3, f32(math.Nextafter32(float32(2.45), 0)), 1}, "setosa", []float64{1, 0, 0}},
		{"float64 just below threshold rounds up", []float64{5, 3, math.Nextafter(2.45, 0), 1}, "versicolor", []float64{0, 49.0 / 54, 5.0 / 54}},
		{"negative", []float64{-1e6, -1e6, -1e6, -1e6}, "setosa", []float64{1, 0, 0}},
		{"largest float32", []float64{0, 0, math.MaxFloat32, math.MaxFloat32}, "virginica", []float64{0, 1.0 / 46, 45.0 / 46}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := m.Predict(tc.row, nil)
			require.NoError(t, err)
			assert.Equal(t, tc.label, p.Label)
			assert.Equal(t, irisClasses[p.Class], p.Label)
			assert.InDeltaSlice(t, tc.proba, p.Probabilities, 1e-15)
		})
	}
}

func TestForestMeanOfTrees(t *testing.T) {
	m, err := LoadRandomForest(strings.NewReader(dump(t, RandomForest, smallTree(), otherTree())))
	require.NoError(t, err)
	assert.Equal(t, 2, m.Trees())
	assert.Equal(t, RandomForest, m.Info().Kind)

	// Tree one: setosa leaf {1,0,0}; tree two: sepal_length 5 <= 5.5, {3/4, 1/4, 0}.
	p, err := m.Predict([]float64{5, 3, 1.4, 0.2}, nil)
	require.NoError(t, err)
	assert.Equal(t, "setosa", p.Label)
	assert.Equal(t, []float64{(1 + 0.75) / 2, 0.25 / 2, 0}, p.Probabilities)

	// Tree two's empty leaf counts as all zeros (scikit-learn divides by 1).
	p, err = m.Predict([]float64{6, 3, 5.5, 2.1}, nil)
	require.NoError(t, err)
	assert.InDeltaSlice(t, []float64{0, 1.0 / 46 / 2, 45.0 / 46 / 2}, p.Probabilities, 1e-15)
	assert.Equal(t, "virginica", p.Label)
}

func TestArgmaxFirstOnTies(t *testing.T) {
	assert.Equal(t, 0, argmax([]float64{0.5, 0.5, 0}))
	assert.Equal(t, 1, argmax([]float64{0.25, 0.5, 0.5}))
	assert.Equal(t, 2, argmax([]float64{0, 0, 1}))
}

func TestTreeExplain(t *testing.T) {
	m, err := LoadDecisionTree(strings.NewReader(dump(t, DecisionTree, smallTree())))
	require.NoError(t, err)
	ex, err := m.Explain([]float64{6, 3, 4.5, 1.5})
	require.NoError(t, err)
	assert.Equal(t, "versicolor", ex.Prediction.Label)
	assert.Equal(t, []Step{
		{Node: 0, Feature: "petal_length", Value: 4.5, Threshold: 2.45, Left: false},
		{Node: 2, Feature: "petal_width", Value: 1.5, Threshold: 1.75, Left: true},
	}, ex.Path)
	assert.Equal(t, 3, ex.Leaf)

	_, err = m.Explain([]float64{1})
	assert.ErrorIs(t, err, ErrInput)
}

func TestTreeBadInput(t *testing.T) {
	m, err := LoadDecisionTree(strings.NewReader(dump(t, DecisionTree, smallTree())))
	require.NoError(t, err)
	tests := []struct {
		name string
		row  []float64
		msg  string
	}{
		{"short", []float64{1, 2, 3}, "row has 3 values, model takes 4"},
		{"long", []float64{1, 2, 3, 4, 5}, "row has 5 values, model takes 4"},
		{"nil", nil, "row has 0 values"},
		{"NaN", []float64{1, math.NaN(), 3, 4}, "feature 1 is NaN"},
		{"+Inf", []float64{1, 2, math.Inf(1), 4}, "feature 2 is +Inf"},
		{"-Inf", []float64{math.Inf(-1), 2, 3, 4}, "feature 0 is -Inf"},
		{"beyond float32", []float64{1, 2, 3, 1e39}, "feature 3 is 1e+39, too large for float32"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.Predict(tc.row, nil)
			require.ErrorIs(t, err, ErrInput)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestLoadTreesErrors(t *testing.T) {
	mutate := func(f func(*treeDump)) string {
		d := smallTree()
		f(&d)
		return dump(t, DecisionTree, d)
	}
	valid := dump(t, DecisionTree, smallTree())
	tests := []struct {
		name string
		in   string
		msg  string
	}{
		{"empty", "", "EOF"},
		{"not JSON", "{", "unexpected EOF"},
		{"trailing data", valid + "{}", "trailing data"},
		{"unknown field", strings.Replace(valid, `"kind"`, `"knd"`, 1), "unknown field"},
		{"wrong format", strings.Replace(valid, "classify/sklearn-trees", "other", 1), `format is "other"`},
		{"newer version", strings.Replace(valid, `"format_version":1`, `"format_version":4`, 1), "version 4 is not supported (this package reads 1 to 3)"},
		{"wrong kind", dump(t, RandomForest, smallTree()), `holds a "random_forest" model`},
		{"no trees", dump(t, DecisionTree), "no trees"},
		{"two trees", dump(t, DecisionTree, smallTree(), smallTree()), "holds one tree, this one 2"},
		{"no features", strings.Replace(valid, `"features":["sepal_length","sepal_width","petal_length","petal_width"]`, `"features":[]`, 1), "no feature names"},
		{"duplicate feature", strings.Replace(valid, `"sepal_width"`, `"sepal_length"`, 1), `feature name "sepal_length" appears twice`},
		{"empty class", strings.Replace(valid, `"setosa"`, `""`, 1), "class 0 has an empty name"},
		{"no nodes", mutate(func(d *treeDump) { *d = treeDump{} }), "tree 0: no nodes"},
		{"ragged arrays", mutate(func(d *treeDump) { d.Threshold = d.Threshold[:4] }), "arrays differ in length"},
		{"child out of range", mutate(func(d *treeDump) { d.ChildrenRight[2] = 9 }), "node 2: children 3 and 9 out of range"},
		{"one child", mutate(func(d *treeDump) { d.ChildrenLeft[2] = -1 }), "node 2: children -1 and 4 out of range"},
		{"cycle", mutate(func(d *treeDump) { d.ChildrenRight[2] = 0 }), "reached twice"},
		{"shared child", mutate(func(d *treeDump) { d.ChildrenRight[2] = 1 }), "node 1 is reached twice"},
		{"feature out of range", mutate(func(d *treeDump) { d.Feature[0] = 4 }), "node 0: feature 4 out of range"},
		{"negative feature", mutate(func(d *treeDump) { d.Feature[0] = -2 }), "node 0: feature -2 out of range"},
		{"short value", mutate(func(d *treeDump) { d.Value[1] = []float64{1, 2} }), "node 1: value has 2 entries for 3 classes"},
		{"negative weight", mutate(func(d *treeDump) { d.Value[3][1] = -1 }), "class weight -1 is not a finite non-negative number"},
		{"weights overflow", mutate(func(d *treeDump) { d.Value[3] = []float64{math.MaxFloat64, math.MaxFloat64, 0} }), "class weights overflow"},
		{"NaN threshold", strings.Replace(valid, "1.75", "NaN", 1), "invalid character"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadDecisionTree(strings.NewReader(tc.in))
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrFormat)
			assert.Contains(t, err.Error(), tc.msg)
			assert.True(t, strings.HasPrefix(err.Error(), "classify: "), err.Error())
		})
	}
}

func TestUnreachableNode(t *testing.T) {
	d := smallTree()
	d.ChildrenLeft = append(d.ChildrenLeft, -1)
	d.ChildrenRight = append(d.ChildrenRight, -1)
	d.Feature = append(d.Feature, -2)
	d.Threshold = append(d.Threshold, -2)
	d.Value = append(d.Value, []float64{1, 0, 0})
	_, err := LoadDecisionTree(strings.NewReader(dump(t, DecisionTree, d)))
	require.ErrorIs(t, err, ErrFormat)
	assert.Contains(t, err.Error(), "node 5 is not reachable from the root")
}

func TestLoadTreesTooLarge(t *testing.T) {
	_, err := LoadDecisionTree(strings.NewReader(strings.Repeat(" ", maxArtifactBytes+1)))
	require.ErrorIs(t, err, ErrFormat)
	assert.Contains(t, err.Error(), "larger than")
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestLoadReadError(t *testing.T) {
	_, err := LoadRandomForest(failingReader{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "classify: read random_forest: disk on fire")
}

func TestTreeBatch(t *testing.T) {
	m, err := LoadRandomForest(strings.NewReader(dump(t, RandomForest, smallTree(), otherTree())))
	require.NoError(t, err)
	rows := []float64{5, 3, 1.4, 0.2, 6, 3, 5.5, 2.1}
	classes := make([]int, 2)
	proba := make([]float64, 6)
	require.NoError(t, m.PredictBatch(rows, classes, proba))
	assert.Equal(t, []int{0, 2}, classes)
	for i := range classes {
		p, err := m.Predict(rows[i*4:(i+1)*4], nil)
		require.NoError(t, err)
		assert.Equal(t, p.Probabilities, proba[i*3:(i+1)*3])
	}
	// Without probabilities.
	classes = []int{-1, -1}
	require.NoError(t, m.PredictBatch(rows, classes, nil))
	assert.Equal(t, []int{0, 2}, classes)

	err = m.PredictBatch(rows[:7], classes, nil)
	require.ErrorIs(t, err, ErrInput)
	assert.Contains(t, err.Error(), "batch of 2 rows needs 8 values, got 7")
	err = m.PredictBatch(rows, classes, proba[:5])
	assert.Contains(t, err.Error(), "batch of 2 rows needs 6 probabilities, got 5")
	rows[6] = math.NaN()
	err = m.PredictBatch(rows, classes, nil)
	require.ErrorIs(t, err, ErrInput)
	assert.Contains(t, err.Error(), "row 1: classify: invalid input: feature 2 is NaN")
}

func TestInternalNodeValueChecked(t *testing.T) {
	d := smallTree()
	d.Value[2] = []float64{0, -1, 50}
	_, err := LoadDecisionTree(strings.NewReader(dump(t, DecisionTree, d)))
	require.ErrorIs(t, err, ErrFormat)
	assert.Contains(t, err.Error(), "node 2: class weight -1")
}

func TestInputErrorSaysWhatAndWhere(t *testing.T) {
	tree, err := LoadDecisionTree(strings.NewReader(dump(t, DecisionTree, smallTree())))
	require.NoError(t, err)
	rules := IrisRules()

	_, err = tree.Predict([]float64{1, 2, 1e39, math.NaN()}, nil)
	var ie *InputError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, InputError{Feature: 2, Value: 1e39, Limit: math.MaxFloat32, Got: 4, Want: 4}, *ie)

	// Rules compare float64s: 1e39 is a valid value there.
	_, err = rules.Predict([]float64{1, 2, 1e39, math.Inf(-1)}, nil)
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, 3, ie.Feature)
	assert.Equal(t, math.MaxFloat64, ie.Limit)

	err = tree.PredictBatch([]float64{1, 2, 3, 4, 1, 2}, []int{0, 0}, nil)
	require.ErrorIs(t, err, ErrInput)
	err = tree.PredictBatch([]float64{1, 2, 3, 4, 1, 2, 3, math.Inf(1)}, []int{0, 0}, nil)
	require.ErrorAs(t, err, &ie, "found through the batch's row wrapper")
	assert.Equal(t, 3, ie.Feature)

	_, err = tree.Predict([]float64{1}, nil)
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, InputError{Feature: -1, Limit: math.MaxFloat32, Got: 1, Want: 4}, *ie)
}

// dumpV2 writes a classify/sklearn-trees v2 dump of the Iris trees.
func dumpV2(t testing.TB, kind Kind, estimator string, trees ...treeDump) string {
	t.Helper()
	b, err := json.Marshal(treesFile{
		Format: "classify/sklearn-trees", FormatVersion: 2, Kind: kind, Estimator: estimator,
		Library: "scikit-learn 1.9.1", Features: irisFeatures, Classes: irisClasses, Trees: trees,
	})
	require.NoError(t, err)
	return string(b)
}

// missingTree is smallTree where a missing petal_length goes left (setosa)
// and a missing petal_width goes right.
func missingTree() treeDump {
	d := smallTree()
	d.MissingGoToLeft = []int{1, 0, 0, 0, 0}
	return d
}

func TestTreeMissingValues(t *testing.T) {
	nan := math.NaN()
	m, err := LoadDecisionTree(strings.NewReader(dumpV2(t, DecisionTree, "DecisionTreeClassifier", missingTree())))
	require.NoError(t, err)
	assert.Equal(t, Info{Kind: DecisionTree, Features: irisFeatures, Classes: irisClasses, Missing: true}, m.Info())
	tests := []struct {
		name  string
		row   []float64
		label string
		path  []Step
	}{
		{"petal_length missing goes left", []float64{6, 3, nan, 2.1}, "setosa", []Step{
			{Node: 0, Feature: "petal_length", Value: nan, Threshold: 2.45, Left: true, Missing: true}}},
		{"petal_width missing goes right", []float64{6, 3, 4.5, nan}, "virginica", []Step{
			{Node: 0, Feature: "petal_length", Value: 4.5, Threshold: 2.45},
			{Node: 2, Feature: "petal_width", Value: nan, Threshold: 1.75, Missing: true}}},
		{"unused feature missing", []float64{nan, nan, 4.5, 1.5}, "versicolor", []Step{
			{Node: 0, Feature: "petal_length", Value: 4.5, Threshold: 2.45},
			{Node: 2, Feature: "petal_width", Value: 1.5, Threshold: 1.75, Left: true}}},
		{"finite row as before", []float64{5, 3, 2.45, 1}, "versicolor", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := m.Predict(tc.row, nil)
			require.NoError(t, err)
			assert.Equal(t, tc.label, p.Label)
			classes := []int{-1}
			require.NoError(t, m.PredictBatch(tc.row, classes, nil))
			assert.Equal(t, p.Class, classes[0])
			if tc.path == nil {
				return
			}
			ex, err := m.Explain(tc.row)
			require.NoError(t, err)
			require.Len(t, ex.Path, len(tc.path))
			for i, s := range ex.Path {
				want := tc.path[i]
				assert.Equal(t, want.Missing, s.Missing, "step %d", i)
				assert.Equal(t, want.Missing, math.IsNaN(s.Value), "step %d", i)
				want.Value, s.Value = 0, 0 // NaN != NaN
				assert.Equal(t, want, s, "step %d", i)
			}
		})
	}
	// NaN is a missing value; infinities and overflows stay refused.
	for _, v := range []float64{math.Inf(1), math.Inf(-1), 1e39, -1e39} {
		_, err := m.Predict([]float64{nan, 3, v, 1}, nil)
		var ie *InputError
		require.ErrorAs(t, err, &ie, "value %v", v)
		assert.Equal(t, 2, ie.Feature)
		err = m.PredictBatch([]float64{1, 2, 3, 4, nan, 3, v, 1}, []int{0, 0}, nil)
		require.ErrorIs(t, err, ErrInput)
		assert.Contains(t, err.Error(), "row 1: ")
	}

	// Without the directions (v1, or v2 of an estimator that refuses NaN) NaN is refused.
	for _, in := range []string{dump(t, DecisionTree, smallTree()), dumpV2(t, DecisionTree, "DecisionTreeClassifier", smallTree())} {
		m, err := LoadDecisionTree(strings.NewReader(in))
		require.NoError(t, err)
		assert.False(t, m.Info().Missing)
		_, err = m.Predict([]float64{6, 3, nan, 2.1}, nil)
		require.ErrorIs(t, err, ErrInput)
	}
}

func TestForestMissingValues(t *testing.T) {
	nan := math.NaN()
	other := otherTree()
	other.MissingGoToLeft = []int{0, 0, 0} // a missing sepal_length goes to the empty leaf
	for _, est := range []string{"RandomForestClassifier", "ExtraTreesClassifier"} {
		m, err := LoadRandomForest(strings.NewReader(dumpV2(t, RandomForest, est, missingTree(), other)))
		require.NoError(t, err, est)
		assert.True(t, m.Info().Missing)
		assert.Equal(t, RandomForest, m.Info().Kind)
		p, err := m.Predict([]float64{nan, 3, nan, 0.2}, nil)
		require.NoError(t, err)
		assert.Equal(t, []float64{0.5, 0, 0}, p.Probabilities, est)
		assert.Equal(t, "setosa", p.Label)
	}
}

func TestLoadTreesV2Errors(t *testing.T) {
	dt := func(est string, trees ...treeDump) string { return dumpV2(t, DecisionTree, est, trees...) }
	withMissing := func(v []int) treeDump {
		d := smallTree()
		d.MissingGoToLeft = v
		return d
	}
	valid := dt("DecisionTreeClassifier", missingTree())
	tests := []struct {
		name string
		kind Kind
		in   string
		msg  string
	}{
		{"no estimator", DecisionTree, dt("", missingTree()), "decision_tree: no estimator"},
		{"unknown estimator", DecisionTree, dt("GradientBoostingClassifier", missingTree()),
			`estimator "GradientBoostingClassifier" is not DecisionTreeClassifier, RandomForestClassifier or ExtraTreesClassifier`},
		{"forest estimator as tree", DecisionTree, dt("ExtraTreesClassifier", missingTree()),
			"estimator ExtraTreesClassifier loads as random_forest, not decision_tree"},
		{"tree estimator as forest", RandomForest, dumpV2(t, RandomForest, "DecisionTreeClassifier", missingTree()),
			"estimator DecisionTreeClassifier loads as decision_tree, not random_forest"},
		{"no library", DecisionTree, strings.Replace(valid, `"library":"scikit-learn 1.9.1"`, `"library":""`, 1), "no library"},
		{"estimator in v1", DecisionTree, strings.Replace(dump(t, DecisionTree, smallTree()), `"kind":"decision_tree"`,
			`"kind":"decision_tree","estimator":"DecisionTreeClassifier"`, 1), "estimator is a version 2 field"},
		{"missing_go_to_left in v1", DecisionTree, dump(t, DecisionTree, missingTree()), "tree 0: missing_go_to_left is a version 2 field"},
		{"short", DecisionTree, dt("DecisionTreeClassifier", withMissing([]int{1, 0})), "tree 0: missing_go_to_left has 2 entries for 5 nodes"},
		{"empty", DecisionTree, strings.Replace(valid, `"missing_go_to_left":[1,0,0,0,0]`, `"missing_go_to_left":[]`, 1),
			"tree 0: missing_go_to_left has 0 entries for 5 nodes"},
		{"not 0 or 1", DecisionTree, dt("DecisionTreeClassifier", withMissing([]int{1, 0, 2, 0, 0})), "tree 0: node 2: missing_go_to_left is 2, not 0 or 1"},
		{"negative", DecisionTree, dt("DecisionTreeClassifier", withMissing([]int{-1, 0, 0, 0, 0})), "node 0: missing_go_to_left is -1"},
		{"boolean", DecisionTree, strings.Replace(valid, `[1,0,0,0,0]`, `[true,false,false,false,false]`, 1), "cannot unmarshal bool"},
		{"fraction", DecisionTree, strings.Replace(valid, `[1,0,0,0,0]`, `[0.5,0,0,0,0]`, 1), "cannot unmarshal number 0.5"},
		{"only in the second tree", RandomForest, dumpV2(t, RandomForest, "RandomForestClassifier", smallTree(), missingTree()),
			"tree 1 has missing_go_to_left, which tree 0 lacks: it is in every tree or in none"},
		{"only in the first tree", RandomForest, dumpV2(t, RandomForest, "ExtraTreesClassifier", missingTree(), smallTree()),
			"tree 1 lacks missing_go_to_left, which tree 0 has: it is in every tree or in none"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.kind, strings.NewReader(tc.in))
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrFormat)
			assert.Contains(t, err.Error(), tc.msg)
			assert.True(t, strings.HasPrefix(err.Error(), "classify: "), err.Error())
		})
	}
}

// TestTreeLabelIsArgmaxOfValue: scikit-learn's DecisionTreeClassifier.predict
// takes the arg max of tree_.value itself, before normalising. Here the
// second weight is one ulp above the first, and dividing by the sum rounds
// both to the same probability: the arg max of the probabilities would be
// the first class.
func TestTreeLabelIsArgmaxOfValue(t *testing.T) {
	d := otherTree()
	d.Value[1] = []float64{0.4940988342855148, 0.4940988342855149, 0.22048222544213464}
	m, err := LoadDecisionTree(strings.NewReader(dump(t, DecisionTree, d)))
	require.NoError(t, err)
	p, err := m.Predict([]float64{5, 3, 1, 1}, nil)
	require.NoError(t, err)
	require.Equal(t, p.Probabilities[0], p.Probabilities[1], "a tie after normalising")
	assert.Equal(t, "versicolor", p.Label)
}
