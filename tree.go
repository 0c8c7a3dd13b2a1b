package classify

import (
	"fmt"
	"io"
	"math"

	"github.com/ml-production-service/classify/internal/flat"
	"github.com/ml-production-service/classify/internal/skboost"
)

// Tree is a scikit-learn DecisionTreeClassifier, loaded from a
// classify/sklearn-trees dump (research/FORMATS.md). It reproduces the
// predict and predict_proba of the scikit-learn that wrote the dump (1.2 to
// 1.9.1) exactly, float32 input semantics included. A version 2 dump that
// carries missing_go_to_left takes NaN as a missing value (Info().Missing)
// and routes it as scikit-learn does.
//
// A Tree is immutable after loading and safe for concurrent use.
type Tree struct {
	info Info
	e    flatTrees
}

// flatTrees is a Tree's or a Forest's trees in the flat engine
// (internal/flat), a Mean ensemble: leaves hold normalised class
// distributions, averaged in tree order. Bounds are precomputed from
// scikit-learn's thresholds (see threshold.go), so the walk (until the
// leaf, one branch per split) does no float32 rounding. The ensemble
// takes NaN when the dump has missing_go_to_left.
type flatTrees struct {
	engine

	// For Explain: the dump's own threshold and node id per engine node.
	thresholds []float64
	ids        []int32
}

// treesFile is the classify/sklearn-trees artifact, versions 1 to 3.
// Estimator and a tree's MissingGoToLeft are version 2's; a tree's node
// statistics (NNodeSamples, WeightedNNodeSamples, Impurity) version 3's.
type treesFile struct {
	Format        string     `json:"format"`
	FormatVersion int        `json:"format_version"`
	Kind          Kind       `json:"kind"`
	Estimator     string     `json:"estimator,omitempty"`
	Library       string     `json:"library"`
	Features      []string   `json:"features"`
	Classes       []string   `json:"classes"`
	Trees         []treeDump `json:"trees"`
}

type treeDump struct {
	ChildrenLeft  []int       `json:"children_left"`
	ChildrenRight []int       `json:"children_right"`
	Feature       []int       `json:"feature"`
	Threshold     []float64   `json:"threshold"`
	Value         [][]float64 `json:"value"`
	// Nil when absent; present (in every tree or none) when the fitted
	// estimator accepts NaN at predict time.
	MissingGoToLeft []int `json:"missing_go_to_left,omitempty"`
	// Version 3: tree_'s node statistics, one per node. The weighted
	// counts are the covers TreeSHAP weighs by; with the impurities they
	// give each split's weighted impurity decrease (its gain).
	NNodeSamples         []int     `json:"n_node_samples,omitempty"`
	WeightedNNodeSamples []float64 `json:"weighted_n_node_samples,omitempty"`
	Impurity             []float64 `json:"impurity,omitempty"`
}

// sklearnEstimators maps a version 2 dump's estimator to the kind it loads
// as. ExtraTrees predict exactly as a random forest: the mean of the trees.
var sklearnEstimators = map[string]Kind{
	"DecisionTreeClassifier": DecisionTree,
	"RandomForestClassifier": RandomForest,
	"ExtraTreesClassifier":   RandomForest,
}

// LoadDecisionTree reads a decision tree dump.
func LoadDecisionTree(r io.Reader) (*Tree, error) {
	info, e, err := loadTrees(r, DecisionTree)
	if err != nil {
		return nil, err
	}
	e.tags = true // a leaf's tag is its class
	return &Tree{info: info, e: e}, nil
}

func loadTrees(r io.Reader, kind Kind) (Info, flatTrees, error) {
	fail := func(format string, args ...any) (Info, flatTrees, error) {
		return Info{}, flatTrees{}, fmt.Errorf("%w: %s: %s", ErrFormat, kind, fmt.Sprintf(format, args...))
	}
	b, err := readAll(r, string(kind))
	if err != nil {
		return Info{}, flatTrees{}, err
	}
	var f treesFile
	if err := decodeStrict(b, &f); err != nil {
		return fail("%v", err)
	}
	if err := checkFormat(f.Format, f.FormatVersion, "classify/sklearn-trees", 3); err != nil {
		return fail("%v", err)
	}
	if f.Kind != kind {
		return fail("the file holds a %q model", f.Kind)
	}
	if err := checkVersionFields(&f); err != nil {
		return fail("%v", err)
	}
	if _, err := indexNames("feature", f.Features); err != nil {
		return fail("%v", err)
	}
	if _, err := indexNames("class", f.Classes); err != nil {
		return fail("%v", err)
	}
	switch {
	case len(f.Trees) == 0:
		return fail("no trees")
	case kind == DecisionTree && len(f.Trees) != 1:
		return fail("a decision tree dump holds one tree, this one %d", len(f.Trees))
	}
	missing := f.Trees[0].MissingGoToLeft != nil
	e := flatTrees{engine: newEngine(flat.NewMean(len(f.Features), len(f.Classes), missing), len(f.Classes))}
	for i := range f.Trees {
		t := &f.Trees[i]
		switch {
		case missing && t.MissingGoToLeft == nil:
			return fail("tree %d lacks missing_go_to_left, which tree 0 has: it is in every tree or in none", i)
		case !missing && t.MissingGoToLeft != nil:
			return fail("tree %d has missing_go_to_left, which tree 0 lacks: it is in every tree or in none", i)
		}
		if err := e.add(t, len(f.Features), len(f.Classes)); err != nil {
			return fail("tree %d: %v", i, err)
		}
	}
	return Info{Kind: kind, Features: f.Features, Classes: f.Classes, Missing: missing}, e, nil
}

// checkVersionFields checks what differs between versions: version 2
// names its estimator and library and may carry missing_go_to_left, which
// version 1 does not know; version 3 carries every tree's node statistics,
// which versions 1 and 2 do not know.
func checkVersionFields(f *treesFile) error {
	for i := range f.Trees {
		t := &f.Trees[i]
		has := t.NNodeSamples != nil || t.WeightedNNodeSamples != nil || t.Impurity != nil
		switch {
		case f.FormatVersion < 3 && has:
			return fmt.Errorf("tree %d: n_node_samples, weighted_n_node_samples and impurity are version 3 fields", i)
		case f.FormatVersion == 3:
			if err := checkStats(t); err != nil {
				return fmt.Errorf("tree %d: %v", i, err)
			}
		}
	}
	if f.FormatVersion == 1 {
		if f.Estimator != "" {
			return fmt.Errorf("estimator is a version 2 field")
		}
		for i := range f.Trees {
			if f.Trees[i].MissingGoToLeft != nil {
				return fmt.Errorf("tree %d: missing_go_to_left is a version 2 field", i)
			}
		}
		return nil
	}
	k, ok := sklearnEstimators[f.Estimator]
	switch {
	case f.Estimator == "":
		return fmt.Errorf("no estimator")
	case !ok:
		return fmt.Errorf("estimator %q is not DecisionTreeClassifier, RandomForestClassifier or ExtraTreesClassifier", f.Estimator)
	case k != f.Kind:
		return fmt.Errorf("estimator %s loads as %s, not %s", f.Estimator, k, f.Kind)
	case f.Library == "":
		return fmt.Errorf("no library")
	}
	return nil
}

// checkStats checks a version 3 tree's node statistics
// (skboost.CheckNodeStats, which sklearn-gb v2 shares).
func checkStats(t *treeDump) error {
	return skboost.CheckNodeStats(len(t.Feature), t.NNodeSamples, t.WeightedNNodeSamples, t.Impurity)
}

// sklearnStats returns a node's cover (weighted_n_node_samples) and gain
// (the weighted impurity decrease w*imp - wl*impl - wr*impr from which
// scikit-learn computes feature_importances_; 0 at a leaf), or NaN and 0
// without statistics (versions 1 and 2). l and r are -1 at a leaf.
func sklearnStats(w, imp []float64, id, l, r int) (cover, gain float64) {
	if w == nil {
		return math.NaN(), 0
	}
	if l < 0 {
		return w[id], 0
	}
	return w[id], w[id]*imp[id] - w[l]*imp[l] - w[r]*imp[r]
}

// add validates one dumped tree and appends it to the engine in
// preorder. Node indexes fit an int32 because readAll bounds the file:
// every node takes at least a dozen bytes of JSON. Thresholds are finite
// because JSON cannot write NaN or an infinity and encoding/json refuses
// numbers beyond float64.
func (e *flatTrees) add(t *treeDump, features, classes int) error {
	n := len(t.Feature)
	switch {
	case n == 0:
		return fmt.Errorf("no nodes")
	case len(t.ChildrenLeft) != n || len(t.ChildrenRight) != n || len(t.Threshold) != n || len(t.Value) != n:
		return fmt.Errorf("arrays differ in length (children_left %d, children_right %d, feature %d, threshold %d, value %d)",
			len(t.ChildrenLeft), len(t.ChildrenRight), n, len(t.Threshold), len(t.Value))
	case t.MissingGoToLeft != nil && len(t.MissingGoToLeft) != n:
		return fmt.Errorf("missing_go_to_left has %d entries for %d nodes", len(t.MissingGoToLeft), n)
	}
	for id, v := range t.MissingGoToLeft {
		if v != 0 && v != 1 {
			return fmt.Errorf("node %d: missing_go_to_left is %d, not 0 or 1", id, v)
		}
	}
	// placed[id] is dump node id's position in nodes, -1 until placed.
	placed := make([]int32, n)
	for i := range placed {
		placed[i] = -1
	}
	// fixes: a split's position in nodes and the dump id of its right
	// child, whose position is known once the left subtree is placed.
	type fix struct{ at, right int }
	var fixes []fix
	nodes := make([]flat.Node, 0, n)
	stack := []int{0}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if placed[id] >= 0 {
			return fmt.Errorf("node %d is reached twice", id)
		}
		placed[id] = int32(len(nodes))
		e.ids = append(e.ids, int32(id))
		l, r := t.ChildrenLeft[id], t.ChildrenRight[id]
		if l == -1 && r == -1 {
			dist, err := normalise(t.Value[id], classes)
			if err != nil {
				return fmt.Errorf("node %d: %v", id, err)
			}
			// predict is the arg max of tree_.value itself, which
			// normalising could turn into a tie by rounding: the tag.
			cover, _ := sklearnStats(t.WeightedNNodeSamples, t.Impurity, id, -1, -1)
			nodes = append(nodes, flat.Node{Leaf: true, Dist: dist, Tag: int32(argmax(t.Value[id])), Cover: cover})
			e.thresholds = append(e.thresholds, 0)
			continue
		}
		if l < 0 || l >= n || r < 0 || r >= n {
			return fmt.Errorf("node %d: children %d and %d out of range [0, %d)", id, l, r, n)
		}
		fi, thr := t.Feature[id], t.Threshold[id]
		if fi < 0 || fi >= features {
			return fmt.Errorf("node %d: feature %d out of range [0, %d)", id, fi, features)
		}
		if _, err := normalise(t.Value[id], classes); err != nil {
			return fmt.Errorf("node %d: %v", id, err)
		}
		fixes = append(fixes, fix{at: len(nodes), right: r})
		cover, gain := sklearnStats(t.WeightedNNodeSamples, t.Impurity, id, l, r)
		nodes = append(nodes, flat.Node{Feature: fi, Bound: sklearnBound(thr), Threshold: thr, Cover: cover, Gain: gain,
			MissingLeft: t.MissingGoToLeft != nil && t.MissingGoToLeft[id] == 1})
		e.thresholds = append(e.thresholds, thr)
		stack = append(stack, r, l) // left is popped first: preorder
	}
	for id, at := range placed {
		if at < 0 {
			return fmt.Errorf("node %d is not reachable from the root", id)
		}
	}
	for _, f := range fixes {
		nodes[f.at].Right = int(placed[f.right])
	}
	return e.ens.AddMean(nodes)
}

// normalise checks a node's class weights and returns them divided by their
// sum, as scikit-learn's predict_proba does (a zero sum divides by 1).
func normalise(v []float64, classes int) ([]float64, error) {
	if len(v) != classes {
		return nil, fmt.Errorf("value has %d entries for %d classes", len(v), classes)
	}
	sum := 0.0
	for _, w := range v {
		if !(w >= 0 && w <= math.MaxFloat64) {
			return nil, fmt.Errorf("class weight %v is not a finite non-negative number", w)
		}
		sum += w
	}
	if math.IsInf(sum, 0) {
		return nil, fmt.Errorf("class weights overflow")
	}
	if sum == 0 {
		sum = 1
	}
	out := make([]float64, classes)
	for i, w := range v {
		out[i] = w / sum
	}
	return out, nil
}

// Info implements Model.
func (m *Tree) Info() Info { return m.info }

// Predict implements Model.
func (m *Tree) Predict(row []float64, proba []float64) (Prediction, error) {
	nan, ok := m.e.row(row)
	if !ok {
		return Prediction{}, rowError(row, m.e.nf, true, m.e.missing)
	}
	p := probaBuffer(proba, m.e.k)
	c := int(m.e.ens.Predict(row, p, nan)) // the leaf's tag: its class
	return Prediction{Class: c, Label: m.info.Classes[c], Probabilities: p}, nil
}

// PredictBatch implements Model.
func (m *Tree) PredictBatch(rows []float64, classes []int, proba []float64) error {
	return m.e.batch(rows, classes, proba, "", nil)
}

// Explain returns the prediction for row with the path it took from the
// root to its leaf. A NaN (in a model that takes missing values) is marked
// Missing in its Step, and goes the node's learnt way.
func (m *Tree) Explain(row []float64) (Explanation, error) {
	pred, err := m.Predict(row, nil)
	if err != nil {
		return Explanation{}, err
	}
	ex := Explanation{Prediction: pred}
	i := m.e.ens.Root(0)
	for {
		f, split := m.e.ens.Split(i)
		if !split {
			ex.Leaf = int(m.e.ids[i])
			return ex, nil
		}
		v := row[f]
		next, left := m.e.ens.Next(i, v)
		ex.Path = append(ex.Path, Step{
			Node:      int(m.e.ids[i]),
			Feature:   m.info.Features[f],
			Value:     v,
			Threshold: m.e.thresholds[i],
			Left:      left,
			Missing:   v != v, // Predict took the row: the model takes NaN
		})
		i = next
	}
}
