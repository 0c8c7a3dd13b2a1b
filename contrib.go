package classify

// Contributor is implemented by the tree models (*Tree, *Forest, *Booster,
// *Boosted): for a row, each feature's TreeSHAP contribution to each of the
// model's raw outputs, plus the expected value (bias), exactly as the
// reference computes them (tree_path_dependent: node covers from training).
//
// The raw outputs are the probabilities of a scikit-learn decision tree or
// forest (one per class) and the margins of a boosted model (one per class,
// or one for a binary model: the margin of its positive class). Outputs
// names them. A row's contributions to output o and its bias sum to output o
// within float rounding.
type Contributor interface {
	Model

	// Outputs names the raw outputs, in order: class labels (for a binary
	// boosted model, its positive class alone).
	Outputs() []string

	// Contributions writes one row's contributions into out, which must
	// hold len(Outputs())*(len(Info().Features)+1) values: out[o*(F+1)+f]
	// is feature f's contribution to output o and out[o*(F+1)+F] the
	// bias. The row is checked as Predict checks it (ErrInput). A model
	// whose artifact carries no node covers (a scikit-learn artifact
	// exported before classify/sklearn-trees v3, sklearn-gb v2 or
	// sklearn-hgb v2) gives an error wrapping ErrFormat that says to
	// re-export it. It allocates nothing.
	Contributions(row []float64, out []float64) error

	// ContributionsBatch writes the contributions of the rows stored back
	// to back in rows, row r's at out[r*len(Outputs())*(F+1):]; out must
	// hold exactly that. An invalid row stops the batch with an error
	// naming it (the rows before it are written). It allocates nothing
	// once warm.
	ContributionsBatch(rows []float64, out []float64) error
}

// Importance is a tree model's global view of its features, as its
// library reports it, one value per feature in Info().Features order.
type Importance struct {
	Features []string
	// Splits counts the splits that test each feature, over all trees
	// (XGBoost's importance_type "weight", LightGBM's "split").
	Splits []int
	// Gain is the importance the library reports by gain: XGBoost's
	// "total_gain", LightGBM's "gain", scikit-learn's
	// feature_importances_ for decision trees, forests and gradient
	// boosting (normalised mean decrease in impurity), and the total split
	// gain of a HistGradientBoosting model (scikit-learn reports none).
	Gain []float64
	// GainKind says which of those Gain is.
	GainKind string
}

// TreeNode is one node of a tree as its library wrote it: for pictures
// and inspection, not for prediction.
type TreeNode struct {
	// Feature is the index (into Info().Features) a split tests, -1 for a
	// leaf.
	Feature int
	// Threshold is the split's threshold as the library wrote it; the row
	// goes left when the tree's Rule holds.
	Threshold float64
	// Categories, when not nil, makes the split categorical: the
	// categories that go left (Threshold is then unused).
	Categories []int
	// MissingLeft says where a missing value (NaN) goes.
	MissingLeft bool
	// Left and Right index the children in the tree's Nodes (-1 for a
	// leaf).
	Left, Right int
	// Value is a leaf's value: the class distribution of a scikit-learn
	// tree or forest, the one leaf value of a boosted tree.
	Value []float64
	// Cover is the node's training cover: its (weighted) sample count for
	// scikit-learn and LightGBM, its hessian sum for XGBoost.
	Cover float64
	// Gain is a split's gain as the library recorded it (0 when it
	// records none).
	Gain float64
}

// TreeGraph is one tree of a model.
type TreeGraph struct {
	// Output is the raw output (index into Outputs) the tree adds to; 0
	// for the trees of a decision tree or forest, which give every class.
	Output int
	// Rule is how a split decides, in the library's own terms, for
	// example "float32(x) <= t" (scikit-learn) or "float32(x) < t"
	// (XGBoost).
	Rule  string
	Nodes []TreeNode // the root first
}

// TreeModel is implemented by the tree models: their trees, for pictures
// and for the importances their libraries report.
type TreeModel interface {
	Contributor
	// Trees returns the number of trees.
	Trees() int
	// TreeGraph returns tree i, 0 <= i < Trees().
	TreeGraph(i int) TreeGraph
	// Importance returns the model's split and gain importances.
	Importance() Importance
}
