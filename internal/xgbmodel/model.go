// Package xgbmodel reads every model file XGBoost writes into one validated
// tree model, and encodes that model into the legacy binary layout that
// github.com/dmitryikh/leaves reads.
//
// Parse tells the formats apart by their content, as XGBoost's own loader
// does: a file starting with '{' followed (after JSON white space) by '"'
// or '}' is JSON, one starting with '{' followed by anything else is UBJSON
// (the same document in Universal Binary JSON), and anything else is the
// legacy binary, with or without the "binf" magic. Accepted:
//
//   - JSON, XGBoost 1.0 to 3.x (schema: doc/model.schema in XGBoost's
//     repository);
//   - UBJSON, XGBoost 1.6 to 3.x (save_model's default since 2.1);
//   - the legacy binary of XGBoost 0.x and 1.x, and the one 2.x writes
//     under a ".deprecated" name (the same layout, with size_leaf_vector 1
//     in every tree header for a scalar leaf, where 1.x wrote 0).
//
// Every reader checks every length, count and index against the bytes that
// are there and never panics or loops without end. What Parse allocates, in
// total, is bounded by its input, which the caller bounds (classify reads
// at most 64 MiB): TestAllocBound holds Parse to 8 times the input, on
// real models (under 2 times) and on documents built to make each reader
// allocate (at most 4 times); go test -run TestAllocBound -v logs each
// figure. How:
//
//   - the binary reader allocates node arrays only after checking that the
//     bytes for them are there (under 1 times the input);
//   - the JSON reader decodes with encoding/json, but every array the model
//     keeps decodes itself: numbers into slices of exactly their count
//     (4 bytes for at least 2 bytes of text), feature_names capped at
//     MaxFeatures names and attributes at 1024 entries (only scikit_learn
//     is kept), and trees one at a time, each checked for its node count
//     and array lengths before the next is read;
//   - the UBJSON reader decodes the document directly into the JSON
//     reader's document types, as encoding/json would decode the same
//     document as JSON text, and runs the JSON reader's checks on it (each
//     tree's shape as it is read, then the model): every length and count
//     is checked against the bytes left before anything is allocated or
//     copied, typed arrays of numbers (the node arrays XGBoost writes)
//     are decoded in bulk into slices of exactly their count (at most 4
//     bytes for 1 byte of input), nesting is limited to 64 levels
//     (XGBoost's documents nest 6 deep), and the JSON text the document
//     stands for, counted at the fewest bytes each value takes, may not
//     exceed 4 times the input plus 4 KiB nor MaxJSONText (arrays of nulls
//     and booleans, 1 byte of input and 5 of text each, or none in a typed
//     array, are what it stops). A number keeps its UBJSON type: an
//     integer array refuses a float element, which the JSON text of it
//     ("1" for 1.0) would not show.
//
// The tree model keeps only the nodes reachable from each root, numbered in
// preorder: XGBoost keeps the nodes that gamma pruning deleted in the file,
// and leaves reads them as live nodes (a pruned root with deleted children
// made it fail with "logic error").
package xgbmodel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Limits on what a model may declare. They bound what the caller allocates
// for a model (feature names, per-call buffers), independently of the file
// size, which the caller bounds.
const (
	// MaxFeatures bounds the number of features.
	MaxFeatures = 1 << 16
	// MaxClasses bounds the number of classes (output groups).
	MaxClasses = 1 << 16
	// maxName bounds the objective and booster names.
	maxName = 256
)

// The formats Parse reads, as Model.Format names them.
const (
	FormatBinary = "binary"
	FormatJSON   = "JSON"
	FormatUBJSON = "UBJSON"
)

// Node is one node of a tree: a split when Left >= 0, a leaf otherwise.
type Node struct {
	Left, Right int32   // children, indices into Tree.Nodes; -1 for a leaf
	Feature     uint32  // split feature
	DefaultLeft bool    // where a missing value (NaN) goes
	Value       float32 // split condition (left when float32(x) < Value), or leaf value
	// The node's statistics: its hessian sum (sum_hess, the cover
	// XGBoost's TreeSHAP weighs by; NaN when the file has none) and a
	// split's loss change (loss_chg, the gain of importance_type
	// "gain"; 0 when the file has none). Prediction reads neither.
	SumHess, LossChg float32
}

// Tree is one regression tree: node 0 is the root, and every node is
// reachable from it exactly once (nodes in preorder, left subtree first).
type Tree struct {
	Nodes []Node
}

// Model is what Parse found in a model file. It is not modified after Parse
// returns and is safe for concurrent use.
type Model struct {
	Format     string // FormatBinary, FormatJSON or FormatUBJSON
	Version    [3]int // XGBoost version that wrote the file; zero before 1.0 and when not stored
	Objective  string // e.g. "multi:softprob", "binary:logistic"
	Booster    string // always "gbtree": Parse refuses the others
	NumFeature int    // features per row
	NumClass   int    // the model's class count: 0 or 1 for a single output
	NumGroups  int    // outputs per row: NumClass, at least 1
	// BaseScore holds NumGroups values: the global bias as stored. Since
	// XGBoost 1.0 it is in output space (a probability for
	// binary:logistic; the caller applies the objective's link); when
	// BaseIsMargin is true (binary files before 1.0) it is the margin.
	BaseScore    []float32
	BaseIsMargin bool
	// FeatureNames are learner.feature_names (JSON and UBJSON), nil when
	// the model has none (never stored in the binary).
	FeatureNames []string
	// Classes are the class labels the scikit-learn wrapper stored
	// (classes_ in the scikit_learn attribute, XGBoost 1.x), nil when it
	// stored none.
	Classes []string
	// Trees and their output groups (tree_info), in the file's order.
	Trees  []Tree
	Groups []int32
	// ParallelTrees is num_parallel_tree: the trees per group and round
	// (more than 1 for a random forest).
	ParallelTrees int
}

// Parse reads and validates a model in any of the formats XGBoost writes.
// The returned Model does not keep data. Errors describe what is wrong and
// where, without a package prefix.
func Parse(data []byte) (*Model, error) {
	switch sniff(data) {
	case FormatJSON:
		return parseJSON(data)
	case FormatUBJSON:
		return parseUBJSON(data)
	}
	return parseBinary(data)
}

// sniff tells the format of data as XGBoost's loader does.
func sniff(data []byte) string {
	if len(data) == 0 || data[0] != '{' {
		return FormatBinary
	}
	for _, c := range data[1:] {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '"', '}':
			return FormatJSON
		}
		return FormatUBJSON
	}
	return FormatJSON
}

// FeatureName returns the name of feature f for messages: its stored name,
// quoted, or f<index>.
func (m *Model) FeatureName(f int) string {
	if f >= 0 && f < len(m.FeatureNames) {
		return strconv.Quote(m.FeatureNames[f])
	}
	return "f" + strconv.Itoa(f)
}

// rawTree is a tree as a file stores it, before validation: parallel
// arrays indexed by node id, holding deleted nodes too.
type rawTree struct {
	left, right []int32
	feature     []uint32 // without the default-left bit
	defaultLeft func(i int) bool
	value       []float32
	categorical func(i int) bool // nil when the format has no categorical splits
	// stats returns node i's sum_hess and loss_chg; nil when the file
	// has none.
	stats func(i int) (sumHess, lossChg float32)
}

// addTree validates raw as tree t and appends its reachable nodes,
// renumbered in preorder, to m.Trees. Its nodes must form a single binary
// tree from node 0 (every child in range and reached once, so no cycles
// and no shared subtrees), every split feature must exist, every split
// condition must not be NaN and every leaf value must be finite.
// Unreachable nodes are deleted (pruned) nodes: XGBoost ignores them, and
// so does the result.
func (m *Model) addTree(raw *rawTree, t int) error {
	n := len(raw.left)
	if n == 0 {
		return fmt.Errorf("tree %d: no nodes", t)
	}
	nodes := make([]Node, 0, min(n, 1024))
	visited := make([]bool, n)
	visited[0] = true
	// stack of (raw node, index of the parent's child field to patch)
	type item struct {
		raw    int32
		parent int32 // new index of the parent, -1 for the root
		right  bool
	}
	stack := make([]item, 1, 64)
	stack[0] = item{raw: 0, parent: -1}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		i := int(it.raw)
		id := int32(len(nodes))
		if it.parent >= 0 {
			if it.right {
				nodes[it.parent].Right = id
			} else {
				nodes[it.parent].Left = id
			}
		}
		left, right, value := raw.left[i], raw.right[i], raw.value[i]
		hess, gain := float32(math.NaN()), float32(0)
		if raw.stats != nil {
			hess, gain = raw.stats(i)
		}
		if left == -1 {
			if math.IsNaN(float64(value)) || math.IsInf(float64(value), 0) {
				return fmt.Errorf("tree %d: node %d: leaf value is %v", t, i, value)
			}
			nodes = append(nodes, Node{Left: -1, Right: -1, Value: value, SumHess: hess})
			continue
		}
		for _, c := range [2]int32{left, right} {
			if c < 1 || int(c) >= n {
				return fmt.Errorf("tree %d: node %d: child %d is outside [1, %d)", t, i, c, n)
			}
			if visited[c] {
				return fmt.Errorf("tree %d: node %d: child %d is reached twice", t, i, c)
			}
			visited[c] = true
		}
		f := raw.feature[i]
		if f >= uint32(m.NumFeature) {
			return fmt.Errorf("tree %d: node %d: split on feature %d, model has %d", t, i, f, m.NumFeature)
		}
		if raw.categorical != nil && raw.categorical(i) {
			return fmt.Errorf("tree %d: node %d: categorical split on feature %s: categorical splits are "+
				"not supported; train without enable_categorical (one-hot encode the feature instead)",
				t, i, m.FeatureName(int(f)))
		}
		if math.IsNaN(float64(value)) {
			return fmt.Errorf("tree %d: node %d: split condition is NaN", t, i)
		}
		nodes = append(nodes, Node{Feature: f, DefaultLeft: raw.defaultLeft(i), Value: value, SumHess: hess, LossChg: gain})
		// Right pushed first: the left subtree comes first in preorder.
		stack = append(stack, item{raw: right, parent: id, right: true}, item{raw: left, parent: id})
	}
	m.Trees = append(m.Trees, Tree{Nodes: nodes})
	return nil
}

// checkGroups validates the output group of every tree: each in
// [0, NumGroups), and every group with the same number of trees (XGBoost
// grows ParallelTrees trees per group and round).
func (m *Model) checkGroups() error {
	if len(m.Trees) == 0 {
		return errors.New("the model has no trees")
	}
	if len(m.Groups) != len(m.Trees) {
		return fmt.Errorf("tree info has %d entries for %d trees", len(m.Groups), len(m.Trees))
	}
	count := make([]int, m.NumGroups)
	for t, g := range m.Groups {
		if g < 0 || int(g) >= m.NumGroups {
			return fmt.Errorf("tree info: tree %d is in output group %d, model has %d", t, g, m.NumGroups)
		}
		count[g]++
	}
	for g, c := range count {
		if c != count[0] {
			return fmt.Errorf("tree info: output group %d has %d trees, group 0 has %d", g, c, count[0])
		}
	}
	return nil
}

// setBaseScore parses a stored base_score: a number ("5E-1") or, from
// XGBoost 3.1 on, a vector ("[6.274165E-1]", "[0E0,0E0,0E0]") of 1 or
// NumGroups values. A single value applies to every group.
func (m *Model) setBaseScore(s string) error {
	s = strings.TrimSpace(s)
	vector := strings.HasPrefix(s, "[")
	if vector {
		if !strings.HasSuffix(s, "]") {
			return fmt.Errorf("base_score %q: unterminated vector", clip(s))
		}
		s = s[1 : len(s)-1]
	}
	parts := []string{s}
	if vector {
		if strings.Count(s, ",") >= m.NumGroups {
			return fmt.Errorf("base_score has more than %d values", m.NumGroups)
		}
		parts = strings.Split(s, ",")
	}
	if len(parts) != 1 && len(parts) != m.NumGroups {
		return fmt.Errorf("base_score has %d values, model has %d outputs", len(parts), m.NumGroups)
	}
	m.BaseScore = make([]float32, m.NumGroups)
	for i, p := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 32)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("base_score %q is not a finite number", clip(p))
		}
		m.BaseScore[i] = float32(v)
	}
	if len(parts) == 1 {
		for i := range m.BaseScore {
			m.BaseScore[i] = m.BaseScore[0]
		}
	}
	return nil
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// LeafValues returns the leaf values of tree t in the order
// github.com/dmitryikh/leaves numbers its leaves, so that leaves'
// leaf-index predictions index the slice: for a single-leaf tree its one
// leaf; otherwise leaves numbers the leaves in its conversion order, a
// preorder walk from the root that visits a node's right subtree before its
// left one and, at each split, numbers its leaf children left first.
func LeafValues(t *Tree) []float32 {
	nodes := t.Nodes
	if nodes[0].Left < 0 {
		return []float32{nodes[0].Value}
	}
	var out []float32
	stack := []int32{0}
	for len(stack) > 0 {
		nd := nodes[stack[len(stack)-1]]
		stack = stack[:len(stack)-1]
		if l := nodes[nd.Left]; l.Left < 0 {
			out = append(out, l.Value)
		} else {
			stack = append(stack, nd.Left)
		}
		if r := nodes[nd.Right]; r.Left < 0 {
			out = append(out, r.Value)
		} else {
			stack = append(stack, nd.Right) // popped first: right subtree before left
		}
	}
	return out
}

// Order returns the trees in the order leaves needs them: round-robin by
// output group (tree i*NumGroups+k is group k's i-th tree), each group's
// trees in the file's order, which is the order XGBoost adds them in.
// checkGroups has made sure every group has the same number of trees.
func (m *Model) Order() []int {
	order := make([]int, len(m.Trees))
	next := make([]int, m.NumGroups)
	for t, g := range m.Groups {
		order[next[g]*m.NumGroups+int(g)] = t
		next[g]++
	}
	return order
}

// Sizes of the fixed records of the legacy binary format.
const (
	learnerParamSize = 136
	gbtreeParamSize  = 160
	treeParamSize    = 148
	nodeSize         = 20
	nodeStatSize     = 16
)

// Encode writes the model in the pre-1.0 legacy binary layout that leaves
// reads, with the trees in the given order (Order's): no magic, base score
// 0 (the caller adds the base margin itself), the output-group field of the
// tree section set to NumGroups, tree_info round-robin, only reachable
// nodes, and every split condition t replaced by the largest float32 below
// t.
//
// The last rewrite turns XGBoost's decision float32(x) < t into leaves'
// decision x <= t' for inputs x that are float32 values: no float32 lies
// strictly between t' and t, so float32(x) < t exactly when
// float32(x) <= t'. The caller must round every input to float32 before
// handing it to leaves.
func (m *Model) Encode(order []int) []byte {
	le := binary.LittleEndian
	size := learnerParamSize + 16 + len(m.Objective) + len("gbtree") + gbtreeParamSize + 4*len(order)
	for _, t := range order {
		size += treeParamSize + (nodeSize+nodeStatSize)*len(m.Trees[t].Nodes)
	}
	out := make([]byte, learnerParamSize, size)
	le.PutUint32(out[4:], uint32(m.NumFeature))
	le.PutUint32(out[8:], uint32(m.NumClass))
	for _, s := range []string{m.Objective, "gbtree"} {
		out = le.AppendUint64(out, uint64(len(s)))
		out = append(out, s...)
	}
	g := make([]byte, gbtreeParamSize)
	le.PutUint32(g[0:], uint32(len(order)))
	le.PutUint32(g[4:], 1)
	le.PutUint32(g[8:], uint32(m.NumFeature))
	le.PutUint32(g[24:], uint32(m.NumGroups))
	out = append(out, g...)
	for _, t := range order {
		nodes := m.Trees[t].Nodes
		p := make([]byte, treeParamSize)
		le.PutUint32(p[0:], 1)
		le.PutUint32(p[4:], uint32(len(nodes)))
		le.PutUint32(p[16:], uint32(m.NumFeature))
		out = append(out, p...)
		parent := make([]int32, len(nodes))
		parent[0] = -1
		for i, nd := range nodes {
			if nd.Left >= 0 {
				parent[nd.Left] = int32(i) | math.MinInt32 // XGBoost's is-left-child bit
				parent[nd.Right] = int32(i)
			}
		}
		for i, nd := range nodes {
			out = le.AppendUint32(out, uint32(parent[i]))
			out = le.AppendUint32(out, uint32(nd.Left))
			out = le.AppendUint32(out, uint32(nd.Right))
			s, v := nd.Feature, nd.Value
			if nd.Left >= 0 {
				if nd.DefaultLeft {
					s |= 1 << 31
				}
				v = Below(v)
			}
			out = le.AppendUint32(out, s)
			out = le.AppendUint32(out, math.Float32bits(v))
		}
		for _, nd := range nodes {
			out = le.AppendUint32(out, math.Float32bits(nd.LossChg))
			out = le.AppendUint32(out, math.Float32bits(nd.SumHess))
			out = append(out, make([]byte, 8)...) // base_weight, leaf_child_cnt
		}
	}
	for i := range order {
		out = le.AppendUint32(out, uint32(i%m.NumGroups))
	}
	return out
}

// Below returns the largest float32 less than t (-Inf for -Inf and for the
// lowest finite float32).
func Below(t float32) float32 {
	return math.Nextafter32(t, float32(math.Inf(-1)))
}
