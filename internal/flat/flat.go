package flat

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
)

// Node is one node of a tree as a loader hands it to AddMean or AddSum. A
// tree's nodes are in depth-first preorder with the root first: a split at
// index i has its left child at i+1 and its right child after the whole
// left subtree.
type Node struct {
	// Leaf reports whether the node is a leaf. A leaf's other split
	// fields are ignored.
	Leaf bool
	// Feature is the index of the value a split reads.
	Feature int
	// Bound: a split sends x left when x <= Bound. Loaders turn their
	// library's rule into a bound (classify's threshold.go) so that the
	// walk compares float64 inputs without rounding them.
	Bound float64
	// Right is the index of a split's right child, within the tree.
	Right int
	// MissingLeft says where a split sends NaN, in an ensemble built with
	// missing values; it is ignored otherwise.
	MissingLeft bool
	// Dist is a leaf's class distribution in a Mean ensemble (one value
	// per class); Value its leaf value in a Sum ensemble.
	Dist  []float64
	Value float32
	// Value64 is a leaf's value in a Sum64 ensemble.
	Value64 float64
	// Categories, when not nil, makes a split categorical (Sum64
	// ensembles only): x goes left when its category is in the set
	// (InSet), NaN the MissingLeft way; Bound is not read.
	Categories []uint32
	// Tag is the loader's own number for a leaf (a Tree's class), handed
	// back by Leaf; the engine does not read it.
	Tag int32

	// For inspection and explanation, kept beside the nodes the walks
	// read (so prediction does not pay for them) and handed back by Node.
	// Cover is the node's training cover (scikit-learn's
	// weighted_n_node_samples, XGBoost's sum_hess, LightGBM's counts):
	// >= 0, or NaN when the artifact holds none (any other value that
	// is not a finite cover counts as none, and Node hands it back as
	// NaN); Contributions needs one at every node (HasCovers). Threshold is a split's threshold as its
	// library wrote it, for display; Gain a split's gain as its library
	// recorded it (0 when none). The walks read neither.
	Cover     float64
	Threshold float64
	Gain      float64
}

// node is a node as the walks read it, 16 bytes (four to a cache line).
// A split at i sends a number x to its left child i+1 when x <= bound
// and to right when x > bound; NaN goes right when nanRight[i] (an
// ensemble that refuses NaN never walks one). A leaf is the node whose
// right is itself. Its bound is -Inf and its feature 0, so that a
// number read at a leaf sends the walk back to the leaf (x > -Inf):
// the branch-free walk (walkFixed) takes each tree's full depth and a
// row that reaches a leaf early stays on it; the branching walk
// (walkLeaf) stops at the leaf.
type node struct {
	bound   float64
	right   int32
	feature int32
}

// Walk is how an ensemble walks its trees.
type Walk uint8

const (
	// Branching walks each tree until the leaf, one branch per split:
	// fewest instructions, fast where the branches are predictable.
	Branching Walk = iota + 1
	// Fixed walks each tree for its full depth without a branch that
	// depends on the row (a conditional move per step), four walks
	// interleaved: more instructions, no mispredictions.
	Fixed
)

func (w Walk) String() string {
	switch w {
	case Branching:
		return "branching"
	case Fixed:
		return "fixed"
	}
	return "Walk(" + strconv.Itoa(int(w)) + ")"
}

// Combine is how an ensemble combines its trees' leaves.
type Combine uint8

const (
	// Mean averages float64 leaf distributions in tree order, as
	// scikit-learn's forests do (a single tree gives its leaf's).
	Mean Combine = iota + 1
	// Sum adds float32 leaf values, per output group in tree order,
	// starting from a base margin, as XGBoost does.
	Sum
	// Sum64 adds float64 leaf values, per output group in tree order,
	// starting from a base, as LightGBM and scikit-learn's gradient
	// boosting do; its splits may be categorical (see sum64.go).
	Sum64
)

// Ensemble is a set of trees in flat arrays, with the way their leaves
// combine. Build one with NewMean or NewSum and AddMean or AddSum; it is
// immutable once built and safe for concurrent use.
type Ensemble struct {
	combine  Combine
	features int // values per row
	outputs  int // values per prediction: classes (Mean) or groups (Sum)

	walk Walk
	// missing reports whether the ensemble takes NaN; nanRight holds
	// where it goes.
	missing bool

	nodes []node
	// nanRight: per node, whether NaN goes right (true at leaves, which
	// loop); nil in an ensemble that refuses NaN.
	nanRight []bool
	// Per node, read at leaves (zero at splits): the Tag; in a Mean
	// ensemble, the offset of the leaf's distribution in dist; in a Sum
	// ensemble, the leaf's value. One load from the node a walk ends on.
	tags []int32
	at   []int32
	vals []float32
	// roots and depth, per tree in the order added: its root node, and
	// the number of splits on its longest path (the steps walkFixed
	// takes).
	roots []int32
	depth []int32
	// groups: per output group, its trees in the order added (Mean: one
	// group of all trees). A group's float32 sum depends only on the
	// order of its own trees, so Sum adds one group at a time, in a
	// register.
	groups [][]tree

	dist []float64 // Mean: outputs values per leaf

	base  []float32 // Sum: per group, the margin it starts from
	first int       // the group of the first tree added (Mean: 0)
	// Sum: the complete layout of trees of depth at most maxComplete
	// (complete.go), and per group, per tree, its offset in cnodes (-1
	// for a deeper tree): beside groups, whose tree stays 8 bytes (a
	// 12-byte stride cost an instruction a tree in the Mean walks).
	cnodes []cnode
	coffs  [][]int32

	// Sum64: per node, the leaf's value (zero at splits); per group, the
	// value it starts from.
	vals64 []float64
	base64 []float64
	// cat is nil in an ensemble without categorical splits; otherwise,
	// per node, -1 or the index c of its set,
	// catWords[catOff[c]:catOff[c+1]].
	cat      []int32
	catOff   []int32
	catWords []uint32

	// Inspection and explanation (shap.go), never read by a prediction:
	// per node what Node hands back beyond the walk's fields, per tree
	// its output group. covered is false once a node without a cover is
	// added; expectSum holds, per output, the sum of the trees' expected
	// values (one per class in a Mean ensemble, else one per tree).
	info      []nodeInfo
	group     []int32
	covered   bool
	maxDepth  int
	expectSum []float64
	// paths holds *shapScratch (pathLen() path elements): Contributions'
	// scratch. No New function: made on first need.
	paths sync.Pool
	// How each tree is explained (shaptable.go), with its tables, built
	// on the first explanation; methods (tests) restricts the ways.
	planOnce sync.Once
	shapPlan *shapPlan
	methods  explainMethods
}

// nodeInfo is what a node keeps beyond the walk's fields.
type nodeInfo struct {
	cover, threshold, gain float64
	missingLeft            bool
}

// tree is a tree as the walks take it.
type tree struct{ root, depth int32 }

// Errors of the builder. Loaders check their files before they build, so
// these mean a loader let something through.
var errTree = errors.New("flat: malformed tree")

// NewMean returns an empty ensemble that averages class distributions of
// the given number of classes. With missing, NaN is a missing value routed
// by each split's MissingLeft; without, the caller must refuse rows
// holding NaN.
func NewMean(features, classes int, missing bool) *Ensemble {
	return &Ensemble{combine: Mean, features: features, outputs: classes, missing: missing, walk: Branching,
		groups: make([][]tree, 1), covered: true, expectSum: make([]float64, classes)}
}

// NewSum returns an empty ensemble that adds float32 leaf values per
// output group, each group starting from its base margin (one per group).
// It always takes NaN as missing, as XGBoost does.
func NewSum(features int, base []float32) *Ensemble {
	return &Ensemble{combine: Sum, features: features, outputs: len(base), walk: Fixed,
		base: append([]float32(nil), base...), missing: true, groups: make([][]tree, len(base)),
		coffs:   make([][]int32, len(base)),
		covered: true, expectSum: make([]float64, len(base))}
}

// Combine returns how the ensemble combines its trees.
func (e *Ensemble) Combine() Combine { return e.combine }

// Trees returns the number of trees.
func (e *Ensemble) Trees() int { return len(e.roots) }

// Outputs returns the number of values a prediction writes per row.
func (e *Ensemble) Outputs() int { return e.outputs }

// Features returns the number of values per row.
func (e *Ensemble) Features() int { return e.features }

// Walk returns how the ensemble walks its trees: Branching for Mean
// ensembles, Fixed for Sum ensembles (see walk.go for the measurements
// behind the choice).
func (e *Ensemble) Walk() Walk { return e.walk }

// Missing reports whether the ensemble routes NaN.
func (e *Ensemble) Missing() bool { return e.missing }

// Reserve makes room for trees more trees of nodes nodes in all, so that
// adding them does not grow the ensemble's arrays tree by tree (on a
// 2,000-tree XGBoost model the regrowing took a third of the load). It
// changes nothing else: adding more than reserved still works, and an
// ensemble built with or without it is the same. Negative counts reserve
// nothing.
func (e *Ensemble) Reserve(trees, nodes int) {
	trees, nodes = max(trees, 0), max(nodes, 0)
	e.info = slices.Grow(e.info, nodes)
	e.growNodes(nodes)
	e.roots = slices.Grow(e.roots, trees)
	e.depth = slices.Grow(e.depth, trees)
	e.group = slices.Grow(e.group, trees)
}

// growNodes makes room for n more nodes in the per-node arrays add
// appends to (all but info, which add grows first): Reserve and add
// share it so that a new per-node array is grown in one place.
func (e *Ensemble) growNodes(n int) {
	e.nodes = slices.Grow(e.nodes, n)
	e.tags = slices.Grow(e.tags, n)
	if e.missing {
		e.nanRight = slices.Grow(e.nanRight, n)
	}
	switch e.combine {
	case Mean:
		e.at = slices.Grow(e.at, n)
	case Sum:
		e.vals = slices.Grow(e.vals, n)
	case Sum64:
		e.vals64 = slices.Grow(e.vals64, n)
	}
}

// AddMean appends a tree to a Mean ensemble. Every leaf's Dist must hold
// one value per class.
func (e *Ensemble) AddMean(nodes []Node) error {
	if e.combine != Mean {
		return fmt.Errorf("%w: AddMean on a Sum ensemble", errTree)
	}
	return e.add(nodes, 0)
}

// AddSum appends a tree of output group g to a Sum ensemble. Trees are
// summed in the order they are added.
func (e *Ensemble) AddSum(nodes []Node, g int) error {
	if e.combine != Sum {
		return fmt.Errorf("%w: AddSum on a Mean ensemble", errTree)
	}
	if g < 0 || g >= e.outputs {
		return fmt.Errorf("%w: group %d outside [0, %d)", errTree, g, e.outputs)
	}
	return e.add(nodes, g)
}

// add checks that nodes form one binary tree in preorder, each node
// reached once, and appends it.
func (e *Ensemble) add(nodes []Node, g int) error {
	n := len(nodes)
	switch {
	case n == 0:
		return fmt.Errorf("%w: no nodes", errTree)
	case len(e.nodes)+n > math.MaxInt32:
		return fmt.Errorf("%w: more than %d nodes", errTree, math.MaxInt32)
	case len(e.dist)+n*e.outputs > math.MaxInt32:
		return fmt.Errorf("%w: more than %d leaf values", errTree, math.MaxInt32)
	}
	words := 0
	for i := range nodes {
		if !nodes[i].Leaf {
			words += len(nodes[i].Categories)
		}
	}
	if len(e.catWords)+words > math.MaxInt32 {
		return fmt.Errorf("%w: more than %d category words", errTree, math.MaxInt32)
	}
	for i := range nodes {
		if err := e.check(&nodes[i], i, n); err != nil {
			return fmt.Errorf("%w: node %d: %v", errTree, i, err)
		}
	}
	// A preorder walk from the root must visit 0, 1, ..., n-1: then every
	// node is reached once and every subtree is contiguous.
	depth, err := preorderDepth(nodes)
	if err != nil {
		return fmt.Errorf("%w: %v", errTree, err)
	}
	off := int32(len(e.nodes))
	if len(e.roots) == 0 {
		e.first = g
	}
	e.roots = append(e.roots, off)
	e.depth = append(e.depth, int32(depth))
	e.group = append(e.group, int32(g))
	e.maxDepth = max(e.maxDepth, depth)
	e.info = slices.Grow(e.info, n)
	for i := range nodes {
		nd := &nodes[i]
		// No cover is kept as -1, not NaN: two ensembles built alike stay
		// reflect.DeepEqual.
		cover := nd.Cover
		if !(cover >= 0) || math.IsInf(cover, 1) {
			cover, e.covered = -1, false
		}
		e.info = append(e.info, nodeInfo{cover: cover, threshold: nd.Threshold, gain: nd.Gain, missingLeft: nd.MissingLeft})
	}
	e.addExpectation(nodes, off, g)
	e.groups[g] = append(e.groups[g], tree{root: off, depth: int32(depth)})
	if e.combine == Sum {
		e.coffs[g] = append(e.coffs[g], e.layComplete(nodes, depth))
	}
	e.growNodes(n)
	if e.cat == nil && words > 0 {
		// The first categorical split: every node so far is numerical.
		e.cat = make([]int32, len(e.nodes), len(e.nodes)+n)
		for i := range e.cat {
			e.cat[i] = -1
		}
		e.catOff = []int32{0}
	}
	for i := range nodes {
		nd := &nodes[i]
		self := off + int32(i)
		if nd.Leaf {
			e.tags = append(e.tags, nd.Tag)
			switch e.combine {
			case Mean:
				e.at = append(e.at, int32(len(e.dist)))
				e.dist = append(e.dist, nd.Dist...)
			case Sum:
				e.vals = append(e.vals, nd.Value)
			case Sum64:
				e.vals64 = append(e.vals64, nd.Value64)
			}
			if e.cat != nil {
				e.cat = append(e.cat, -1)
			}
			if e.missing {
				e.nanRight = append(e.nanRight, true)
			}
			e.nodes = append(e.nodes, node{bound: math.Inf(-1), right: self})
			continue
		}
		e.tags = append(e.tags, 0)
		switch e.combine {
		case Mean:
			e.at = append(e.at, 0)
		case Sum:
			e.vals = append(e.vals, 0)
		case Sum64:
			e.vals64 = append(e.vals64, 0)
		}
		if e.cat != nil {
			c := int32(-1)
			if nd.Categories != nil {
				c = int32(len(e.catOff) - 1)
				e.catWords = append(e.catWords, nd.Categories...)
				e.catOff = append(e.catOff, int32(len(e.catWords)))
			}
			e.cat = append(e.cat, c)
		}
		if e.missing {
			e.nanRight = append(e.nanRight, !nd.MissingLeft)
		}
		e.nodes = append(e.nodes, node{bound: nd.Bound, right: off + int32(nd.Right), feature: int32(nd.Feature)})
	}
	return nil
}

// check validates node i of a tree of n nodes on its own.
func (e *Ensemble) check(nd *Node, i, n int) error {
	if nd.Leaf {
		switch {
		case e.combine == Mean && len(nd.Dist) != e.outputs:
			return fmt.Errorf("distribution of %d values for %d classes", len(nd.Dist), e.outputs)
		case e.combine == Sum && (math.IsNaN(float64(nd.Value)) || math.IsInf(float64(nd.Value), 0)):
			return fmt.Errorf("leaf value %v", nd.Value)
		case e.combine == Sum64 && (math.IsNaN(nd.Value64) || math.IsInf(nd.Value64, 0)):
			return fmt.Errorf("leaf value %v", nd.Value64)
		}
		return nil
	}
	switch {
	case nd.Feature < 0 || nd.Feature >= e.features:
		return fmt.Errorf("feature %d outside [0, %d)", nd.Feature, e.features)
	case nd.Categories != nil && e.combine != Sum64:
		return errors.New("a categorical split outside a Sum64 ensemble")
	case nd.Categories != nil && len(nd.Categories) == 0:
		return errors.New("a categorical split with an empty category set")
	case nd.Categories == nil && math.IsNaN(nd.Bound):
		return errors.New("bound is NaN")
	case i+1 >= n || nd.Right <= i+1 || nd.Right >= n:
		return fmt.Errorf("children %d and %d: want %d and one in (%d, %d)", i+1, nd.Right, i+1, i+1, n)
	}
	return nil
}

// preorderDepth walks nodes from the root, left first, and checks that it
// visits them in index order, each once; it returns the longest path's
// number of splits.
func preorderDepth(nodes []Node) (int, error) {
	type item struct{ i, d int }
	stack := []item{{0, 0}}
	next, deepest := 0, 0
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if it.i != next {
			return 0, fmt.Errorf("node %d comes where preorder has node %d", it.i, next)
		}
		next++
		nd := &nodes[it.i]
		if nd.Leaf {
			deepest = max(deepest, it.d)
			continue
		}
		stack = append(stack, item{nd.Right, it.d + 1}, item{it.i + 1, it.d + 1})
	}
	if next != len(nodes) {
		return 0, fmt.Errorf("node %d is not reachable from the root", next)
	}
	return deepest, nil
}
