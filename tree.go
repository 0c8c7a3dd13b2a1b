package classify

import (
	"fmt"
	"io"
	"math"
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

// flatTrees holds one or more trees in one array of nodes, each tree in
// depth-first preorder so that a node's left child is the next node. Rows
// are compared with bounds precomputed from scikit-learn's thresholds (see
// threshold.go), so the hot path does no float32 rounding.
type flatTrees struct {
	nodes   []node
	roots   []int32
	leaves  []float64 // per leaf, its normalised class distribution
	classes int

	// missingLeft is nil when the model refuses NaN; otherwise, per node,
	// whether a NaN goes left (scikit-learn's missing_go_to_left). Only
	// rows holding a NaN read it (leafMissing); a finite row walks with
	// leaf in every model (see takesMissing).
	missingLeft []bool

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

// treesFile is the classify/sklearn-trees artifact, versions 1 and 2.
// Estimator and a tree's MissingGoToLeft are version 2's.
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
	if err := checkFormat(f.Format, f.FormatVersion, "classify/sklearn-trees", 2); err != nil {
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
	e := flatTrees{classes: len(f.Classes)}
	if missing {
		e.missingLeft = []bool{}
	}
	for i := range f.Trees {
		t := &f.Trees[i]
		switch {
		case missing && t.MissingGoToLeft == nil:
			return fail("tree %d lacks missing_go_to_left, which tree 0 has: it is in every tree or in none", i)
		case !missing && t.MissingGoToLeft != nil:
			return fail("tree %d has missing_go_to_left, which tree 0 lacks: it is in every tree or in none", i)
		}
		if err := e.add(t, len(f.Features)); err != nil {
			return fail("tree %d: %v", i, err)
		}
	}
	return Info{Kind: kind, Features: f.Features, Classes: f.Classes, Missing: missing}, e, nil
}

// checkVersionFields checks what differs between versions 1 and 2: version 2
// names its estimator and library and may carry missing_go_to_left, which
// version 1 does not know.
func checkVersionFields(f *treesFile) error {
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
	case t.MissingGoToLeft != nil && len(t.MissingGoToLeft) != n:
		return fmt.Errorf("missing_go_to_left has %d entries for %d nodes", len(t.MissingGoToLeft), n)
	}
	for id, v := range t.MissingGoToLeft {
		if v != 0 && v != 1 {
			return fmt.Errorf("node %d: missing_go_to_left is %d, not 0 or 1", id, v)
		}
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
			// predict is the arg max of tree_.value itself, which
			// normalising could turn into a tie by rounding.
			e.nodes = append(e.nodes, node{feature: int32(-1 - argmax(t.Value[id])), right: int32(len(e.leaves))})
			e.leaves = append(e.leaves, dist...)
			e.thresholds = append(e.thresholds, 0)
			e.ids = append(e.ids, int32(id))
			e.addMissing(t, id)
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
		e.addMissing(t, id)
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

// addMissing appends dump node id's missing-value direction when the model
// takes missing values.
func (e *flatTrees) addMissing(t *treeDump, id int) {
	if e.missingLeft != nil {
		e.missingLeft = append(e.missingLeft, t.MissingGoToLeft[id] == 1)
	}
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

// leafMissing is leaf for a row that holds NaN, in a model that takes
// missing values: scikit-learn's _apply_dense sends a NaN the node's learnt
// way, any other value left when float32(x) <= threshold. NaN <= bound is
// false, so the NaN test is needed only where the bound test fails.
func (e *flatTrees) leafMissing(root int32, row []float64) *node {
	i := root
	for {
		n := &e.nodes[i]
		if n.feature < 0 {
			return n
		}
		if v := row[n.feature]; v <= n.bound || v != v && e.missingLeft[i] {
			i++
		} else {
			i = n.right
		}
	}
}

// probaMissing is proba for a row that holds NaN: the same sums, walking
// with leafMissing. proba stays free of the missing-value test, which
// finite rows (most rows, every row of a model that refuses NaN) never need.
func (e *flatTrees) probaMissing(row []float64, p []float64) int {
	k := e.classes
	if len(e.roots) == 1 {
		n := e.leafMissing(e.roots[0], row)
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
		dist := e.leaves[e.leafMissing(root, row).right:][:k]
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

// takesMissing reports whether a row that is not finite is still valid:
// the model takes missing values and the row's only non-finite values are
// NaNs. Prediction checks a row as finite first, as a model that refuses
// NaN does, and only a row that fails that check is looked at again: a
// finite row pays nothing for the missing-value support, in any model.
func (e *flatTrees) takesMissing(row []float64, nf int) bool {
	return e.missingLeft != nil && rowOK(row, nf, true, true)
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
		if proba != nil {
			p = proba[i*k : (i+1)*k]
		}
		switch {
		case rowOK(row, nf, true, false):
			classes[i] = e.proba(row, p)
		case e.takesMissing(row, nf):
			classes[i] = e.probaMissing(row, p)
		default:
			return fmt.Errorf("row %d: %w", i, rowError(row, nf, true, e.missingLeft != nil))
		}
	}
	return nil
}

func (e *flatTrees) predict(info *Info, row []float64, proba []float64) (Prediction, error) {
	if !rowOK(row, len(info.Features), true, false) {
		return e.predictMissing(info, row, proba)
	}
	p := probaBuffer(proba, e.classes)
	c := e.proba(row, p)
	return Prediction{Class: c, Label: info.Classes[c], Probabilities: p}, nil
}

// predictMissing is predict for a row that is not finite: one holding NaN
// in a model that takes missing values, or an error.
func (e *flatTrees) predictMissing(info *Info, row []float64, proba []float64) (Prediction, error) {
	nf := len(info.Features)
	if !e.takesMissing(row, nf) {
		return Prediction{}, rowError(row, nf, true, e.missingLeft != nil)
	}
	p := probaBuffer(proba, e.classes)
	c := e.probaMissing(row, p)
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
// root to its leaf. A NaN (in a model that takes missing values) is marked
// Missing in its Step, and goes the node's learnt way.
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
		v := row[n.feature]
		s := Step{
			Node:      int(m.e.ids[i]),
			Feature:   m.info.Features[n.feature],
			Value:     v,
			Threshold: m.e.thresholds[i],
			Left:      v <= n.bound,
			Missing:   v != v,
		}
		if s.Missing {
			s.Left = m.e.missingLeft[i] // Predict took the row: the model takes NaN
		}
		ex.Path = append(ex.Path, s)
		if s.Left {
			i++
		} else {
			i = n.right
		}
	}
}
