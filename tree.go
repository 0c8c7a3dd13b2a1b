package classify

import (
	"fmt"
	"io"
	"math"
)

// Tree is a scikit-learn DecisionTreeClassifier, loaded from a
// classify/sklearn-trees dump (research/FORMATS.md). It reproduces
// scikit-learn 1.2's predict and predict_proba exactly, float32 input
// semantics included.
//
// A Tree is immutable after loading and safe for concurrent use.
type Tree struct {
	info Info
	e    flatTrees
}

// flatTrees holds one or more trees in one array of nodes, each tree in
// depth-first preorder so that a node's left child is the next node. Rows
// are compared with bounds precomputed from scikit-learn's thresholds (see
// threshold.go), so the hot path does no float32 rounding.
type flatTrees struct {
	nodes   []node
	roots   []int32
	leaves  []float64 // per leaf, its normalised class distribution
	classes int

	// For Explain: the dump's own threshold and node id per node.
	thresholds []float64
	ids        []int32
}

// node is a split or a leaf. A split sends a row to the next node when
// row[feature] <= bound and to node right otherwise. A leaf has a negative
// feature, -1-c with c its class (the arg max of its distribution, so a
// single tree needs no arg max per row), and right is the offset of its
// distribution in leaves.
type node struct {
	bound   float64
	right   int32
	feature int32
}

// treesFile is the classify/sklearn-trees v1 artifact.
type treesFile struct {
	Format        string     `json:"format"`
	FormatVersion int        `json:"format_version"`
	Kind          Kind       `json:"kind"`
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
}

// LoadDecisionTree reads a decision tree dump.
func LoadDecisionTree(r io.Reader) (*Tree, error) {
	info, e, err := loadTrees(r, DecisionTree)
	if err != nil {
		return nil, err
	}
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
	if err := checkFormat(f.Format, f.FormatVersion, "classify/sklearn-trees", 1); err != nil {
		return fail("%v", err)
	}
	if f.Kind != kind {
		return fail("the file holds a %q model", f.Kind)
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
	e := flatTrees{classes: len(f.Classes)}
	for i := range f.Trees {
		if err := e.add(&f.Trees[i], len(f.Features)); err != nil {
			return fail("tree %d: %v", i, err)
		}
	}
	return Info{Kind: kind, Features: f.Features, Classes: f.Classes}, e, nil
}

// add validates one dumped tree and appends it in preorder. Node indexes fit
// an int32 because readAll bounds the file: every node takes at least a dozen
// bytes of JSON. Thresholds are finite because JSON cannot write NaN or an
// infinity and encoding/json refuses numbers beyond float64.
func (e *flatTrees) add(t *treeDump, features int) error {
	n := len(t.Feature)
	switch {
	case n == 0:
		return fmt.Errorf("no nodes")
	case len(t.ChildrenLeft) != n || len(t.ChildrenRight) != n || len(t.Threshold) != n || len(t.Value) != n:
		return fmt.Errorf("arrays differ in length (children_left %d, children_right %d, feature %d, threshold %d, value %d)",
			len(t.ChildrenLeft), len(t.ChildrenRight), n, len(t.Threshold), len(t.Value))
	}
	// placed[id] is dump node id's position in e.nodes, -1 until placed.
	placed := make([]int32, n)
	for i := range placed {
		placed[i] = -1
	}
	// fixes: a split's position in e.nodes and the dump id of its right
	// child, whose position is known once the left subtree is placed.
	type fix struct{ at, right int }
	var fixes []fix
	stack := []int{0}
	e.roots = append(e.roots, int32(len(e.nodes)))
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if placed[id] >= 0 {
			return fmt.Errorf("node %d is reached twice", id)
		}
		placed[id] = int32(len(e.nodes))
		l, r := t.ChildrenLeft[id], t.ChildrenRight[id]
		if l == -1 && r == -1 {
			dist, err := normalise(t.Value[id], e.classes)
			if err != nil {
				return fmt.Errorf("node %d: %v", id, err)
			}
			e.nodes = append(e.nodes, node{feature: int32(-1 - argmax(dist)), right: int32(len(e.leaves))})
			e.leaves = append(e.leaves, dist...)
			e.thresholds = append(e.thresholds, 0)
			e.ids = append(e.ids, int32(id))
			continue
		}
		if l < 0 || l >= n || r < 0 || r >= n {
			return fmt.Errorf("node %d: children %d and %d out of range [0, %d)", id, l, r, n)
		}
		fi, thr := t.Feature[id], t.Threshold[id]
		if fi < 0 || fi >= features {
			return fmt.Errorf("node %d: feature %d out of range [0, %d)", id, fi, features)
		}
		if _, err := normalise(t.Value[id], e.classes); err != nil {
			return fmt.Errorf("node %d: %v", id, err)
		}
		fixes = append(fixes, fix{at: len(e.nodes), right: r})
		e.nodes = append(e.nodes, node{feature: int32(fi), bound: sklearnBound(thr)})
		e.thresholds = append(e.thresholds, thr)
		e.ids = append(e.ids, int32(id))
		stack = append(stack, r, l) // left is popped first: preorder
	}
	for id, at := range placed {
		if at < 0 {
			return fmt.Errorf("node %d is not reachable from the root", id)
		}
	}
	for _, f := range fixes {
		e.nodes[f.at].right = placed[f.right]
	}
	return nil
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

// leaf walks the tree rooted at root and returns its leaf node. The loader
// guarantees that every path ends at a leaf and that every feature index is
// within a checked row.
func (e *flatTrees) leaf(root int32, row []float64) *node {
	i := root
	for {
		n := &e.nodes[i]
		if n.feature < 0 {
			return n
		}
		if row[n.feature] <= n.bound {
			i++
		} else {
			i = n.right
		}
	}
}

// proba writes the mean of the trees' leaf distributions for row into p
// and returns the arg max. Loops rather than copy and clear: for a handful
// of classes a call to memmove or memclr costs more than the stores.
func (e *flatTrees) proba(row []float64, p []float64) int {
	k := e.classes
	if len(e.roots) == 1 {
		n := e.leaf(e.roots[0], row)
		dist := e.leaves[n.right:][:k]
		for c := range p {
			p[c] = dist[c]
		}
		return int(-1 - n.feature)
	}
	for c := range p {
		p[c] = 0
	}
	for _, root := range e.roots {
		dist := e.leaves[e.leaf(root, row).right:][:k]
		for c := range p {
			p[c] += dist[c]
		}
	}
	n := float64(len(e.roots))
	for c := range p {
		p[c] /= n
	}
	return argmax(p)
}

// batch classifies rows for PredictBatch. scratch holds one row's
// probabilities when the caller wants none.
func (e *flatTrees) batch(rows []float64, classes []int, proba []float64, nf int) error {
	k := e.classes
	if err := checkBatch(rows, classes, proba, nf, k); err != nil {
		return err
	}
	var scratch [8]float64
	p := scratch[:0]
	if proba == nil {
		p = probaBuffer(p, k)
	}
	for i := range classes {
		row := rows[i*nf : (i+1)*nf]
		if !rowOK(row, nf, true, false) {
			return fmt.Errorf("row %d: %w", i, rowError(row, nf, true, false))
		}
		if proba != nil {
			p = proba[i*k : (i+1)*k]
		}
		classes[i] = e.proba(row, p)
	}
	return nil
}

func (e *flatTrees) predict(info *Info, row []float64, proba []float64) (Prediction, error) {
	if !rowOK(row, len(info.Features), true, false) {
		return Prediction{}, rowError(row, len(info.Features), true, false)
	}
	p := probaBuffer(proba, e.classes)
	c := e.proba(row, p)
	return Prediction{Class: c, Label: info.Classes[c], Probabilities: p}, nil
}

// Info implements Model.
func (m *Tree) Info() Info { return m.info }

// Predict implements Model.
func (m *Tree) Predict(row []float64, proba []float64) (Prediction, error) {
	return m.e.predict(&m.info, row, proba)
}

// PredictBatch implements Model.
func (m *Tree) PredictBatch(rows []float64, classes []int, proba []float64) error {
	return m.e.batch(rows, classes, proba, len(m.info.Features))
}

// Explain returns the prediction for row with the path it took from the
// root to its leaf.
func (m *Tree) Explain(row []float64) (Explanation, error) {
	pred, err := m.Predict(row, nil)
	if err != nil {
		return Explanation{}, err
	}
	ex := Explanation{Prediction: pred}
	i := m.e.roots[0]
	for {
		n := &m.e.nodes[i]
		if n.feature < 0 {
			ex.Leaf = int(m.e.ids[i])
			return ex, nil
		}
		s := Step{
			Node:      int(m.e.ids[i]),
			Feature:   m.info.Features[n.feature],
			Value:     row[n.feature],
			Threshold: m.e.thresholds[i],
			Left:      row[n.feature] <= n.bound,
		}
		ex.Path = append(ex.Path, s)
		if s.Left {
			i++
		} else {
			i = n.right
		}
	}
}
