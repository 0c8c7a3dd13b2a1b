package flat

import (
	"errors"
	"fmt"
	"math"
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
	// Tag is the loader's own number for a leaf (a Tree's class), handed
	// back by Leaf; the engine does not read it.
	Tag int32
}

// node is a node as the walk reads it, 24 bytes. A split at i sends a
// value x to child[0] (i+1) when x <= bound, to child[1] when x > bound,
// and to child[2] when x is NaN (its missing-value child; its right child
// in an ensemble that refuses NaN). A leaf's children are all itself, so a
// walk may take more steps than the leaf's depth and stay on it (see
// Ensemble.depth); its bound holds its index into the ensemble's leaf
// tables (exact: an int32 in a float64) and its feature is 0, so the
// extra steps read a real value.
type node struct {
	bound   float64
	child   [3]int32
	feature int32
}

// leafIndex returns leaf n's index into the leaf tables.
func (n *node) leafIndex() int32 { return int32(n.bound) }

// Combine is how an ensemble combines its trees' leaves.
type Combine uint8

const (
	// Mean averages float64 leaf distributions in tree order, as
	// scikit-learn's forests do (a single tree gives its leaf's).
	Mean Combine = iota + 1
	// Sum adds float32 leaf values, per output group in tree order,
	// starting from a base margin, as XGBoost does.
	Sum
)

// Ensemble is a set of trees in flat arrays, with the way their leaves
// combine. Build one with NewMean or NewSum and AddMean or AddSum; it is
// immutable once built and safe for concurrent use.
type Ensemble struct {
	combine  Combine
	features int // values per row
	outputs  int // values per prediction: classes (Mean) or groups (Sum)

	nodes []node
	roots []int32
	// depth is the number of splits on each tree's longest path: a walk
	// takes exactly that many steps, branch-free, ending on the leaf.
	depth []int32
	// missing reports whether the ensemble takes NaN; the nodes hold
	// where it goes.
	missing bool

	// Leaf tables, indexed by a leaf node's leafIndex.
	dist []float64 // Mean: outputs values per leaf
	vals []float32 // Sum: one value per leaf
	tags []int32

	group []int32   // Sum: per tree, its output group
	base  []float32 // Sum: per group, the margin it starts from
}

// Errors of the builder. Loaders check their files before they build, so
// these mean a loader let something through.
var errTree = errors.New("flat: malformed tree")

// NewMean returns an empty ensemble that averages class distributions of
// the given number of classes. With missing, NaN is a missing value routed
// by each split's MissingLeft; without, the caller must refuse rows
// holding NaN.
func NewMean(features, classes int, missing bool) *Ensemble {
	return &Ensemble{combine: Mean, features: features, outputs: classes, missing: missing}
}

// NewSum returns an empty ensemble that adds float32 leaf values per
// output group, each group starting from its base margin (one per group).
// It always takes NaN as missing, as XGBoost does.
func NewSum(features int, base []float32) *Ensemble {
	return &Ensemble{combine: Sum, features: features, outputs: len(base),
		base: append([]float32(nil), base...), missing: true}
}

// Combine returns how the ensemble combines its trees.
func (e *Ensemble) Combine() Combine { return e.combine }

// Trees returns the number of trees.
func (e *Ensemble) Trees() int { return len(e.roots) }

// Outputs returns the number of values a prediction writes per row.
func (e *Ensemble) Outputs() int { return e.outputs }

// Features returns the number of values per row.
func (e *Ensemble) Features() int { return e.features }

// Missing reports whether the ensemble routes NaN.
func (e *Ensemble) Missing() bool { return e.missing }

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
	e.roots = append(e.roots, off)
	e.depth = append(e.depth, int32(depth))
	if e.combine == Sum {
		e.group = append(e.group, int32(g))
	}
	for i := range nodes {
		nd := &nodes[i]
		self := off + int32(i)
		if nd.Leaf {
			leaf := int32(len(e.tags))
			e.tags = append(e.tags, nd.Tag)
			if e.combine == Mean {
				e.dist = append(e.dist, nd.Dist...)
			} else {
				e.vals = append(e.vals, nd.Value)
			}
			e.nodes = append(e.nodes, node{bound: float64(leaf), child: [3]int32{self, self, self}})
			continue
		}
		left, right := self+1, off+int32(nd.Right)
		missing := right
		if e.missing && nd.MissingLeft {
			missing = left
		}
		e.nodes = append(e.nodes, node{bound: nd.Bound, child: [3]int32{left, right, missing}, feature: int32(nd.Feature)})
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
		}
		return nil
	}
	switch {
	case nd.Feature < 0 || nd.Feature >= e.features:
		return fmt.Errorf("feature %d outside [0, %d)", nd.Feature, e.features)
	case math.IsNaN(nd.Bound):
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
