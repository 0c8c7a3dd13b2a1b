package xgbmodel

// The legacy binary layout (XGBoost 1.x; before 1.0 the same without the
// magic; 2.x, under a ".deprecated" file name, the same with
// size_leaf_vector 1 in every tree header):
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
//	                             of statistics (RTreeNodeStat: loss_chg
//	                             f32, sum_hess f32, base_weight f32,
//	                             leaf_child_cnt i32)
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
// the class count in the learner header); Encode writes that.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Magic starts every binary model XGBoost 1.0 and later writes.
const Magic = "binf"

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

// parseBinary reads a legacy binary model.
func parseBinary(data []byte) (*Model, error) {
	m, err := parseBinary1(data)
	if err != nil && len(data) > 0 && data[0] == '{' {
		return nil, fmt.Errorf("not a model (neither JSON, UBJSON nor binary): %w", err)
	}
	return m, err
}

func parseBinary1(data []byte) (*Model, error) {
	m := &Model{Format: FormatBinary}
	switch {
	case len(data) >= 4 && string(data[:4]) == Magic:
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
	base := f32(h, 0)
	numFeature := u32(h, 4)
	numClass := i32(h, 8)
	extraAttrs := i32(h, 12)
	evalMetrics := i32(h, 16)
	m.Version = [3]int{int(min(u32(h, 20), 1<<20)), int(min(u32(h, 24), 1<<20)), 0}
	m.BaseIsMargin = m.Version[0] == 0
	r.pos = learnerParamSize
	if numFeature == 0 || numFeature > MaxFeatures {
		return nil, fmt.Errorf("learner header: feature count %d is outside [1, %d]", numFeature, MaxFeatures)
	}
	if numClass < 0 || numClass > MaxClasses {
		return nil, fmt.Errorf("learner header: class count %d is outside [0, %d]", numClass, MaxClasses)
	}
	if math.IsNaN(float64(base)) || math.IsInf(float64(base), 0) {
		return nil, fmt.Errorf("learner header: base score is %v", base)
	}
	m.NumFeature = int(numFeature)
	m.NumClass = int(numClass)
	m.NumGroups = max(m.NumClass, 1)
	m.BaseScore = make([]float32, m.NumGroups)
	for i := range m.BaseScore {
		m.BaseScore[i] = base
	}

	var err error
	if m.Objective, err = r.str("objective name", maxName); err != nil {
		return nil, err
	}
	if m.Booster, err = r.str("booster name", maxName); err != nil {
		return nil, err
	}
	if err := checkBooster(m.Booster); err != nil {
		return nil, err
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
	r.pos += gbtreeParamSize
	if numTrees <= 0 {
		return nil, fmt.Errorf("gbtree header: tree count %d (need at least 1)", numTrees)
	}
	if int64(numTrees)*(treeParamSize+nodeSize+nodeStatSize+4) > int64(r.remaining()) {
		return nil, fmt.Errorf("gbtree header: %d trees cannot fit in the %d bytes left", numTrees, r.remaining())
	}
	if numParallel < 1 || numParallel > numTrees {
		return nil, fmt.Errorf("gbtree header: %d parallel trees per round for %d trees", numParallel, numTrees)
	}
	m.ParallelTrees = int(numParallel)
	if gbFeature < 0 || gbFeature > int32(numFeature) {
		return nil, fmt.Errorf("gbtree header: feature count %d, learner header has %d", gbFeature, numFeature)
	}
	if numGroup != 0 && numGroup != int32(m.NumGroups) {
		return nil, fmt.Errorf("gbtree header: %d output groups, learner header has %d classes", numGroup, numClass)
	}
	if err := checkLeafVector(int64(leafVector), -1); err != nil {
		return nil, err
	}
	m.Trees = make([]Tree, 0, numTrees)
	for t := 0; t < int(numTrees); t++ {
		if err := m.readTree(r, t); err != nil {
			return nil, err
		}
	}

	if err := r.need(4*len(m.Trees), "tree info"); err != nil {
		return nil, err
	}
	m.Groups = make([]int32, len(m.Trees))
	for t := range m.Groups {
		m.Groups[t] = i32(data, r.pos+4*t)
	}
	r.pos += 4 * len(m.Trees)
	if err := m.checkGroups(); err != nil {
		return nil, err
	}

	// What follows is not read by leaves, but a file that ends early or
	// carries bytes nobody wrote is not a model.
	if extraAttrs != 0 {
		n, err := r.count(16, "attributes")
		if err != nil {
			return nil, err
		}
		for i := 0; i < n; i++ {
			k, err := r.str(fmt.Sprintf("attribute %d", i), r.remaining())
			if err != nil {
				return nil, err
			}
			v, err := r.str(fmt.Sprintf("attribute %d", i), r.remaining())
			if err != nil {
				return nil, err
			}
			if k == "scikit_learn" {
				if m.Classes, err = sklearnClasses(v, m.NumGroups); err != nil {
					return nil, err
				}
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

// checkBooster refuses every booster but gbtree, saying what to do.
func checkBooster(name string) error {
	switch name {
	case "gbtree":
		return nil
	case "dart":
		return errors.New(`booster "dart" is not supported (only gbtree): dart drops trees with ` +
			`per-tree weights; retrain with booster="gbtree"`)
	case "gblinear":
		return errors.New(`booster "gblinear" is not supported (only gbtree): a linear model ` +
			`has no trees; retrain with booster="gbtree"`)
	}
	return fmt.Errorf("booster %q is not supported (only gbtree)", clip(name))
}

// checkLeafVector refuses vector leaves: size_leaf_vector is 0 (before 2.0)
// or 1 (2.0 on) for a tree with scalar leaves. t is the tree, -1 for the
// gbtree header.
func checkLeafVector(n int64, t int) error {
	if n == 0 || n == 1 {
		return nil
	}
	where := "gbtree header"
	if t >= 0 {
		where = "tree " + strconv.Itoa(t)
	}
	return fmt.Errorf("%s: leaf vector size %d: vector leaves (multi_strategy=\"multi_output_tree\") "+
		"are not supported; retrain with multi_strategy=\"one_output_per_tree\" (the default)", where, n)
}

// readTree reads tree t and adds it to m.
func (m *Model) readTree(r *reader, t int) error {
	if err := r.need(treeParamSize, "tree header"); err != nil {
		return fmt.Errorf("tree %d: %w", t, err)
	}
	p := r.b[r.pos : r.pos+treeParamSize]
	numRoots := i32(p, 0)
	numNodes := i32(p, 4)
	numDeleted := i32(p, 8)
	numFeature := i32(p, 16)
	leafVector := i32(p, 20)
	r.pos += treeParamSize
	if numRoots != 1 {
		return fmt.Errorf("tree %d: %d roots (only 1 is supported)", t, numRoots)
	}
	if numNodes <= 0 {
		return fmt.Errorf("tree %d: node count %d (need at least 1)", t, numNodes)
	}
	if int64(numNodes)*(nodeSize+nodeStatSize) > int64(r.remaining()) {
		return fmt.Errorf("tree %d: %d nodes cannot fit in the %d bytes left", t, numNodes, r.remaining())
	}
	if numDeleted < 0 || numDeleted >= numNodes {
		return fmt.Errorf("tree %d: deleted node count %d of %d nodes", t, numDeleted, numNodes)
	}
	if numFeature < 0 || numFeature > int32(m.NumFeature) {
		return fmt.Errorf("tree %d: feature count %d, learner header has %d", t, numFeature, m.NumFeature)
	}
	if err := checkLeafVector(int64(leafVector), t); err != nil {
		return err
	}
	n := int(numNodes)
	base := r.pos
	raw := &rawTree{
		left:    make([]int32, n),
		right:   make([]int32, n),
		feature: make([]uint32, n),
		value:   make([]float32, n),
	}
	for i := 0; i < n; i++ {
		off := base + i*nodeSize
		raw.left[i], raw.right[i] = i32(r.b, off+4), i32(r.b, off+8)
		raw.feature[i] = u32(r.b, off+12) & (1<<31 - 1)
		raw.value[i] = f32(r.b, off+16)
	}
	raw.defaultLeft = func(i int) bool { return u32(r.b, base+i*nodeSize+12)>>31 != 0 }
	// RTreeNodeStat: loss_chg f32, sum_hess f32, base_weight f32,
	// leaf_child_cnt i32.
	stats := base + n*nodeSize
	raw.stats = func(i int) (float32, float32) {
		off := stats + i*nodeStatSize
		return f32(r.b, off+4), f32(r.b, off)
	}
	r.pos += n * (nodeSize + nodeStatSize)
	return m.addTree(raw, t)
}
