package classify

// Explanation says why a model predicted what it did. Which fields are set
// depends on the model: Rules sets Rule, Tree sets Path and Leaf.
type Explanation struct {
	Prediction Prediction
	Rule       string // the heuristic rule that fired, or "default"
	Path       []Step // the decision tree's root-to-leaf path
	Leaf       int    // the decision tree's leaf, as a node id of the dump
}

// Step is one decision on a tree path.
type Step struct {
	Node      int     // node id in the dump (scikit-learn's node index)
	Feature   string  // the feature compared
	Value     float64 // the row's value of that feature
	Threshold float64 // scikit-learn's threshold
	Left      bool    // whether the row went left (float32(value) <= threshold, or the node's missing-value direction)
	// Missing: Value is NaN, a missing value, which went the way the tree
	// learnt for it at this node (scikit-learn's missing_go_to_left), not
	// by the threshold. Value is then NaN, which encoding/json cannot write.
	Missing bool
}

// Explainer is implemented by models that can explain a prediction: *Rules
// and *Tree.
type Explainer interface {
	Explain(row []float64) (Explanation, error)
}
