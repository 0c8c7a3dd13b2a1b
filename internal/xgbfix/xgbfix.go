// Package xgbfix reads XGBoost's legacy binary model format (what
// Booster.save_model writes for a file name that does not end in .json or
// .ubj), checks every length, count and index in it against the bytes that
// are actually there, and rewrites it into the layout that
// github.com/dmitryikh/leaves reads.
//
// leaves trusts the file: a length field is allocated before it is read, a
// child index is followed without a range check, a split feature indexes the
// input row unchecked, and a malformed tree can make its prediction loop
// forever. Parse rejects all of that, so bytes that Parse accepted and
// Normalize rewrote can be handed to leaves.XGEnsembleFromReader safely.
//
// The layout (XGBoost 1.x; before 1.0 the same without the magic):
//
//	"binf"                       magic, XGBoost 1.0 and later
//	LearnerModelParam            136 bytes: base_score f32, num_feature u32,
//	                             num_class i32, contain_extra_attrs i32,
//	                             contain_eval_metrics i32, major_version u32,
//	                             minor_version u32, reserved
//	objective, booster           strings: u64 length, bytes
//	GBTreeModelParam             160 bytes: num_trees i32, num_parallel_tree
//	                             i32, num_feature i32, pad i32, num_pbuffer
//	                             i64, num_output_group i32, size_leaf_vector
//	                             i32, reserved
//	num_trees × tree             TreeParam (148 bytes: num_roots, num_nodes,
//	                             num_deleted, max_depth, num_feature,
//	                             size_leaf_vector, reserved; all i32), then
//	                             num_nodes × node (parent, left, right i32,
//	                             split index u32 with the default-left flag
//	                             in its top bit, leaf value or split
//	                             condition f32), then num_nodes × 16 bytes
//	                             of statistics
//	tree_info                    num_trees × i32, the output group of each
//	                             tree
//	attributes                   if contain_extra_attrs: u64 count, pairs
//	                             of strings
//	max_delta_step               if the objective is count:poisson: string
//	eval metrics                 if contain_eval_metrics: u64 count, strings
//
// All integers are little-endian. leaves reads up to tree_info and expects
// the pre-1.0 layout: no magic, and the output-group field of the tree
// section set to the number of classes (XGBoost 1.x leaves it 0 and keeps
// the class count in the learner header).
package xgbfix

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Limits on what a model may declare. They bound what the caller allocates
// for a model (feature names, per-call buffers), independently of the file
// size, which the caller bounds.
const (
	// MaxFeatures bounds the number of features.
	MaxFeatures = 1 << 16
	// maxName bounds the objective and booster names.
	maxName = 256
)

// Sizes of the fixed records of the format.
const (
	learnerParamSize = 136
	gbtreeParamSize  = 160
	treeParamSize    = 148
	nodeSize         = 20
	nodeStatSize     = 16
)

// Magic starts every binary model XGBoost 1.0 and later writes.
const Magic = "binf"

// Model is what Parse found in a binary model. It is not modified after
// Parse returns and is safe for concurrent use.
type Model struct {
	Objective    string  // e.g. "multi:softprob", "binary:logistic"
	Booster      string  // always "gbtree": Parse refuses the others
	NumFeature   int     // features per row, from the learner header
	NumClass     int     // the learner header's class count: 0 or 1 for a single output
	NumGroups    int     // outputs per row: NumClass, at least 1
	NumTrees     int     // trees in all groups
	BaseScore    float32 // global bias as stored
	MajorVersion uint32  // XGBoost version that wrote the file; 0 before 1.0
	HasMagic     bool    // the file starts with Magic

	body      []byte    // the file without the magic, up to the end of tree_info
	groupOff  int       // offset in body of the tree section's output-group field
	splitOffs []int     // offsets in body of every reachable split condition
	leafStart []int     // tree t's leaf values are leafVals[leafStart[t]:leafStart[t+1]]
	leafVals  []float32 // leaf values of every tree, in leaves' numbering
}

// LeafValues returns the leaf values of tree t (0 <= t < NumTrees) in the
// order github.com/dmitryikh/leaves numbers a tree's leaves, so that its
// leaf-index predictions index this slice: leaves numbers the leaves of a
// tree in its conversion order, a preorder walk from the root that visits a
// node's right subtree before its left one and, at each split, numbers its
// leaf children left first. The slice must not be modified.
func (m *Model) LeafValues(t int) []float32 {
	return m.leafVals[m.leafStart[t]:m.leafStart[t+1]]
}

// Parse reads and validates a binary model. The returned Model keeps a
// reference to data, which must not be modified afterwards. Errors describe
// what is wrong and where, without a package prefix.
func Parse(data []byte) (*Model, error) {
	m, err := parse(data)
	if err != nil && len(data) > 0 && data[0] == '{' {
		return nil, fmt.Errorf("not a binary model (JSON or UBJSON? save the model under a name "+
			"that does not end in .json or .ubj): %w", err)
	}
	return m, err
}

// reader walks a byte slice, refusing to read past its end.
type reader struct {
	b   []byte
	pos int
}

var errShort = errors.New("unexpected end of data")

func (r *reader) remaining() int { return len(r.b) - r.pos }

func (r *reader) need(n int, what string) error {
	if n < 0 || n > r.remaining() {
		return fmt.Errorf("%s: needs %d bytes at offset %d, %d left: %w", what, n, r.pos, r.remaining(), errShort)
	}
	return nil
}

func (r *reader) u64(what string) (uint64, error) {
	if err := r.need(8, what); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint64(r.b[r.pos:])
	r.pos += 8
	return v, nil
}

// count reads a u64 element count of elements that take at least size
// bytes each, refusing one that the remaining bytes cannot hold.
func (r *reader) count(size int, what string) (int, error) {
	n, err := r.u64(what + " length")
	if err != nil {
		return 0, err
	}
	if n > uint64(r.remaining()/size) {
		return 0, fmt.Errorf("%s: length %d is more than the %d bytes left can hold", what, n, r.remaining())
	}
	return int(n), nil
}

// str reads a string: u64 length, then the bytes.
func (r *reader) str(what string, limit int) (string, error) {
	n, err := r.count(1, what)
	if err != nil {
		return "", err
	}
	if n > limit {
		return "", fmt.Errorf("%s: length %d exceeds %d", what, n, limit)
	}
	s := string(r.b[r.pos : r.pos+n])
	r.pos += n
	return s, nil
}

func i32(b []byte, off int) int32   { return int32(binary.LittleEndian.Uint32(b[off:])) }
func u32(b []byte, off int) uint32  { return binary.LittleEndian.Uint32(b[off:]) }
func f32(b []byte, off int) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b[off:])) }
func putF32(b []byte, off int, v float32) {
	binary.LittleEndian.PutUint32(b[off:], math.Float32bits(v))
}

func parse(data []byte) (*Model, error) {
	m := &Model{}
	switch {
	case len(data) >= 4 && string(data[:4]) == Magic:
		m.HasMagic = true
		data = data[4:]
	case len(data) >= 4 && string(data[:4]) == "bs64":
		return nil, errors.New("base64-encoded model (bs64) is not supported")
	}
	r := &reader{b: data}

	// Learner header.
	if err := r.need(learnerParamSize, "learner header"); err != nil {
		return nil, err
	}
	h := data[:learnerParamSize]
	m.BaseScore = f32(h, 0)
	numFeature := u32(h, 4)
	numClass := i32(h, 8)
	extraAttrs := i32(h, 12)
	evalMetrics := i32(h, 16)
	m.MajorVersion = u32(h, 20)
	r.pos = learnerParamSize
	if numFeature == 0 || numFeature > MaxFeatures {
		return nil, fmt.Errorf("learner header: feature count %d is outside [1, %d]", numFeature, MaxFeatures)
	}
	if numClass < 0 {
		return nil, fmt.Errorf("learner header: negative class count %d", numClass)
	}
	if math.IsNaN(float64(m.BaseScore)) || math.IsInf(float64(m.BaseScore), 0) {
		return nil, fmt.Errorf("learner header: base score is %v", m.BaseScore)
	}
	m.NumFeature = int(numFeature)
	m.NumClass = int(numClass)
	m.NumGroups = max(m.NumClass, 1)

	var err error
	if m.Objective, err = r.str("objective name", maxName); err != nil {
		return nil, err
	}
	if m.Booster, err = r.str("booster name", maxName); err != nil {
		return nil, err
	}
	if m.Booster != "gbtree" {
		return nil, fmt.Errorf("booster %q is not supported (only gbtree)", m.Booster)
	}

	// Tree section header.
	if err := r.need(gbtreeParamSize, "gbtree header"); err != nil {
		return nil, err
	}
	g := data[r.pos : r.pos+gbtreeParamSize]
	numTrees := i32(g, 0)
	numParallel := i32(g, 4)
	gbFeature := i32(g, 8)
	numGroup := i32(g, 24)
	leafVector := i32(g, 28)
	m.groupOff = r.pos + 24
	r.pos += gbtreeParamSize
	if numTrees <= 0 {
		return nil, fmt.Errorf("gbtree header: tree count %d (need at least 1)", numTrees)
	}
	if int64(numTrees)*(treeParamSize+nodeSize+nodeStatSize+4) > int64(r.remaining()) {
		return nil, fmt.Errorf("gbtree header: %d trees cannot fit in the %d bytes left", numTrees, r.remaining())
	}
	if numParallel != 1 {
		return nil, fmt.Errorf("gbtree header: %d parallel trees per round (only 1 is supported)", numParallel)
	}
	if gbFeature < 0 || gbFeature > int32(numFeature) {
		return nil, fmt.Errorf("gbtree header: feature count %d, learner header has %d", gbFeature, numFeature)
	}
	if numGroup != 0 && numGroup != int32(m.NumGroups) {
		return nil, fmt.Errorf("gbtree header: %d output groups, learner header has %d classes", numGroup, numClass)
	}
	if leafVector != 0 {
		return nil, fmt.Errorf("gbtree header: leaf vector size %d (only 0 is supported)", leafVector)
	}
	if int(numTrees)%m.NumGroups != 0 {
		return nil, fmt.Errorf("gbtree header: %d trees is not a multiple of %d output groups", numTrees, m.NumGroups)
	}
	m.NumTrees = int(numTrees)
	m.leafStart = make([]int, 1, m.NumTrees+1)

	for t := 0; t < m.NumTrees; t++ {
		if err := m.readTree(r, t); err != nil {
			return nil, fmt.Errorf("tree %d: %w", t, err)
		}
	}

	if err := r.need(4*m.NumTrees, "tree info"); err != nil {
		return nil, err
	}
	for t := 0; t < m.NumTrees; t++ {
		if g := i32(data, r.pos+4*t); g != int32(t%m.NumGroups) {
			return nil, fmt.Errorf("tree info: tree %d is in output group %d, want %d", t, g, t%m.NumGroups)
		}
	}
	r.pos += 4 * m.NumTrees
	m.body = data[:r.pos]

	// What follows is not read by leaves, but a file that ends early or
	// carries bytes nobody wrote is not a model.
	if extraAttrs != 0 {
		n, err := r.count(16, "attributes")
		if err != nil {
			return nil, err
		}
		for i := 0; i < 2*n; i++ {
			if _, err := r.str(fmt.Sprintf("attribute %d", i/2), r.remaining()); err != nil {
				return nil, err
			}
		}
	}
	if m.Objective == "count:poisson" {
		if _, err := r.str("max_delta_step", r.remaining()); err != nil {
			return nil, err
		}
	}
	if evalMetrics != 0 {
		n, err := r.count(8, "eval metrics")
		if err != nil {
			return nil, err
		}
		for i := 0; i < n; i++ {
			if _, err := r.str(fmt.Sprintf("eval metric %d", i), r.remaining()); err != nil {
				return nil, err
			}
		}
	}
	if r.remaining() != 0 {
		return nil, fmt.Errorf("%d unexpected bytes after the model at offset %d", r.remaining(), r.pos)
	}
	return m, nil
}

// readTree validates one tree: its header, that its nodes form a single
// binary tree from node 0 (every child in range and reached once, so no
// cycles and no shared subtrees), that every split feature exists and every
// split condition and leaf value is a number. Unreachable nodes are
// XGBoost's deleted (pruned) nodes and are ignored, as XGBoost and leaves
// ignore them.
func (m *Model) readTree(r *reader, t int) error {
	if err := r.need(treeParamSize, "tree header"); err != nil {
		return err
	}
	p := r.b[r.pos : r.pos+treeParamSize]
	numRoots := i32(p, 0)
	numNodes := i32(p, 4)
	numDeleted := i32(p, 8)
	numFeature := i32(p, 16)
	leafVector := i32(p, 20)
	r.pos += treeParamSize
	if numRoots != 1 {
		return fmt.Errorf("%d roots (only 1 is supported)", numRoots)
	}
	if numNodes <= 0 {
		return fmt.Errorf("node count %d (need at least 1)", numNodes)
	}
	if int64(numNodes)*(nodeSize+nodeStatSize) > int64(r.remaining()) {
		return fmt.Errorf("%d nodes cannot fit in the %d bytes left", numNodes, r.remaining())
	}
	if numDeleted < 0 || numDeleted >= numNodes {
		return fmt.Errorf("deleted node count %d of %d nodes", numDeleted, numNodes)
	}
	if numFeature < 0 || numFeature > int32(m.NumFeature) {
		return fmt.Errorf("feature count %d, learner header has %d", numFeature, m.NumFeature)
	}
	if leafVector != 0 {
		return fmt.Errorf("leaf vector size %d (only 0 is supported)", leafVector)
	}
	n := int(numNodes)
	base := r.pos
	node := func(i int) []byte { return r.b[base+i*nodeSize : base+(i+1)*nodeSize] }

	visited := make([]bool, n)
	stack := make([]int32, 1, min(n, 64))
	visited[0] = true
	for len(stack) > 0 {
		i := int(stack[len(stack)-1])
		stack = stack[:len(stack)-1]
		nd := node(i)
		left, right := i32(nd, 4), i32(nd, 8)
		value := f32(nd, 16)
		if left == -1 {
			if math.IsNaN(float64(value)) || math.IsInf(float64(value), 0) {
				return fmt.Errorf("node %d: leaf value is %v", i, value)
			}
			continue
		}
		for _, c := range [2]int32{left, right} {
			if c < 1 || c >= numNodes {
				return fmt.Errorf("node %d: child %d is outside [1, %d)", i, c, n)
			}
			if visited[c] {
				return fmt.Errorf("node %d: child %d is reached twice", i, c)
			}
			visited[c] = true
			stack = append(stack, c)
		}
		if f := u32(nd, 12) & (1<<31 - 1); f >= uint32(m.NumFeature) {
			return fmt.Errorf("node %d: split on feature %d, model has %d", i, f, m.NumFeature)
		}
		if math.IsNaN(float64(value)) {
			return fmt.Errorf("node %d: split condition is NaN", i)
		}
		m.splitOffs = append(m.splitOffs, base+i*nodeSize+16)
	}

	// Leaf values in leaves' numbering (see LeafValues). The tree is known
	// to be well formed now.
	isLeaf := func(i int32) bool { return i32(node(int(i)), 4) == -1 }
	value := func(i int32) float32 { return f32(node(int(i)), 16) }
	if isLeaf(0) {
		m.leafVals = append(m.leafVals, value(0))
	}
	stack = append(stack[:0], 0)
	for !isLeaf(0) && len(stack) > 0 {
		nd := node(int(stack[len(stack)-1]))
		stack = stack[:len(stack)-1]
		left, right := i32(nd, 4), i32(nd, 8)
		if isLeaf(left) {
			m.leafVals = append(m.leafVals, value(left))
		} else {
			stack = append(stack, left)
		}
		if isLeaf(right) {
			m.leafVals = append(m.leafVals, value(right))
		} else {
			stack = append(stack, right) // popped first: right subtree before left
		}
	}
	m.leafStart = append(m.leafStart, len(m.leafVals))
	r.pos += n * (nodeSize + nodeStatSize)
	return nil
}

// Normalize returns a new copy of the model in the layout leaves reads: no
// magic, the tree section's output-group field set to NumGroups, the base
// score replaced by baseMargin (the bias leaves adds to every raw output:
// XGBoost 1.x stores base_score before the objective's ProbToMargin
// transformation, leaves adds the stored value as it is), every reachable
// split condition t replaced by the largest float32 below t, and nothing
// after tree_info (the header's flags for what used to follow cleared).
//
// The last rewrite turns XGBoost's decision float32(x) < t into leaves'
// decision x <= t' for inputs x that are float32 values: no float32 lies
// strictly between t' and t, so float32(x) < t exactly when
// float32(x) <= t'. The caller must round every input to float32 before
// handing it to leaves.
func (m *Model) Normalize(baseMargin float32) []byte {
	out := make([]byte, len(m.body))
	copy(out, m.body)
	putF32(out, 0, baseMargin)
	// Nothing follows tree_info any more: clear contain_extra_attrs and
	// contain_eval_metrics, so the result is a complete model in itself.
	binary.LittleEndian.PutUint32(out[12:], 0)
	binary.LittleEndian.PutUint32(out[16:], 0)
	binary.LittleEndian.PutUint32(out[m.groupOff:], uint32(m.NumGroups))
	for _, off := range m.splitOffs {
		putF32(out, off, Below(f32(out, off)))
	}
	return out
}

// Below returns the largest float32 less than t (-Inf for -Inf and for the
// lowest finite float32).
func Below(t float32) float32 {
	return math.Nextafter32(t, float32(math.Inf(-1)))
}
