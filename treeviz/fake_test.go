package treeviz_test

import (
	"errors"

	"github.com/ml-production-service/classify"
)

// fakeModel is a classify.TreeModel of hand-built trees: the pictures are
// tested on trees whose every field is known, apart from the loaders.
type fakeModel struct {
	info    classify.Info
	outputs []string
	trees   []classify.TreeGraph
	imp     classify.Importance
}

var errFake = errors.New("fake model: pictures only")

func (f *fakeModel) Info() classify.Info { return f.info }
func (f *fakeModel) Predict([]float64, []float64) (classify.Prediction, error) {
	return classify.Prediction{}, errFake
}
func (f *fakeModel) PredictBatch([]float64, []int, []float64) error { return errFake }
func (f *fakeModel) Outputs() []string                              { return f.outputs }
func (f *fakeModel) Contributions([]float64, []float64) error       { return errFake }
func (f *fakeModel) ContributionsBatch([]float64, []float64) error  { return errFake }
func (f *fakeModel) Trees() int                                     { return len(f.trees) }
func (f *fakeModel) TreeGraph(i int) classify.TreeGraph             { return f.trees[i] }
func (f *fakeModel) Importance() classify.Importance                { return f.imp }

var irisFeatures = []string{"sepal_length", "sepal_width", "petal_length", "petal_width"}
var irisClasses = []string{"setosa", "versicolor", "virginica"}

// irisTree is a scikit-learn decision tree of depth 2 on Iris, as
// scikit-learn 1.9.1 fits it with max_depth=2, random_state=0 (its
// thresholds, weighted samples and impurity decreases), taking missing
// values.
func irisTree() *fakeModel {
	leaf := func(cover float64, dist ...float64) classify.TreeNode {
		return classify.TreeNode{Feature: -1, Left: -1, Right: -1, Value: dist, Cover: cover}
	}
	return &fakeModel{
		info:    classify.Info{Kind: classify.DecisionTree, Name: "decision_tree", Version: "1.0.0", Features: irisFeatures, Classes: irisClasses, Missing: true},
		outputs: irisClasses,
		trees: []classify.TreeGraph{{Rule: "float32(x) <= t", Nodes: []classify.TreeNode{
			{Feature: 3, Threshold: 0.800000011920929, Left: 1, Right: 2, Cover: 150, Gain: 50, MissingLeft: true},
			leaf(50, 1, 0, 0),
			{Feature: 3, Threshold: 1.75, Left: 3, Right: 4, Cover: 100, Gain: 38.969, MissingLeft: false},
			leaf(54, 0, 0.9074074074074074, 0.09259259259259259),
			leaf(46, 0, 0.021739130434782608, 0.9782608695652174),
		}}},
		imp: classify.Importance{Features: irisFeatures, Splits: []int{0, 0, 0, 2}, Gain: []float64{0, 0, 0, 1}, GainKind: "feature_importances_"},
	}
}

// xgbTree is an XGBoost-style model: two trees of one output each, leaves
// of one value, covers as hessian sums, thresholds float32.
func xgbTree() *fakeModel {
	return &fakeModel{
		info:    classify.Info{Kind: classify.XGBoost, Features: []string{"f0", "f1"}, Classes: []string{"no", "yes"}, Missing: true},
		outputs: []string{"yes"},
		trees: []classify.TreeGraph{
			{Rule: "float32(x) < t", Nodes: []classify.TreeNode{
				{Feature: 1, Threshold: float64(float32(2.45)), Left: 1, Right: 2, Cover: 37.5, Gain: 12.25, MissingLeft: false},
				{Feature: -1, Left: -1, Right: -1, Value: []float64{-0.4}, Cover: 20},
				{Feature: -1, Left: -1, Right: -1, Value: []float64{float64(float32(0.3125))}, Cover: 17.5},
			}},
			{Rule: "float32(x) < t", Nodes: []classify.TreeNode{{Feature: -1, Left: -1, Right: -1, Value: []float64{0.01}}}},
		},
		imp: classify.Importance{Features: []string{"f0", "f1"}, Splits: []int{0, 1}, Gain: []float64{0, 12.25}, GainKind: "total_gain"},
	}
}
