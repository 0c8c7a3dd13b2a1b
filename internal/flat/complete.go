package flat

import "math"

// The complete layout: a Sum ensemble's shallow trees (depth at most
// maxComplete) are also kept as complete binary trees in breadth-first
// order, the way a heap is stored, for PredictBatch's blocks of finite
// rows. A tree
// of depth d takes 2^(d+1)-1 slots of cnodes, its 2^d-1 splits then its
// 2^d leaves; the children of slot k are 2k+1 (left) and 2k+2 (right), so
// a step is
//
//	k = 2k + 1
//	if x > n.bound { k++ }
//
// (a SETcc and an LEA, see b2u), with no right child to load, and a walk
// is exactly d steps: no leaf test, no loop back at a leaf. A leaf above
// the last level is padded out: its slot becomes a split that sends
// every number left (bound +Inf), and every leaf slot below it holds its
// value, so each row reaches the value it reaches in the preorder nodes.
// A leaf slot holds its float32 value as a float64 in bound, so one
// array serves the walk and the addition. Depth 0 (a tree that is one
// leaf, a quarter of the production XGBoost model) takes no split at
// all: its value is added without a walk.
//
// The production XGBoost model's trees average 1.4 splits on a path: the
// preorder walk's per-tree costs (walkRows's setup and leaf stores, then
// a loop adding each row's leaf) outweighed its steps. The complete
// layout's walks are fused with the addition and specialised by depth.
// From depth 2 the first three splits are compared at once (top3), and
// their outcomes index a table of where the row goes (third): a
// dependent walk, one load waiting on the last, executed 45% fewer
// instructions than the preorder walk but took nearly the same time (it
// was latency bound); with the table the batch took about 40% less CPU
// time. Rows holding NaN, trees deeper than maxComplete and, when a
// caller asks for tags, the first tree walk the preorder nodes as before.
//
// Predict (one row) keeps the preorder walk4, four trees interleaved:
// walking the complete layout a tree at a time took 14,500 instructions
// a row against 16,900 but about 15% more CPU time (a tree's walk waits
// on its loads, and its loop ends after a number of steps that changes
// from tree to tree); walking each group's trees in order of depth into
// a buffer, then adding them, 17,900 instructions and 40% more time; the
// same with each run of one depth walked by a loop of its own, the first
// three splits compared at once, 20,400 and nearly twice the time.
//
// The padding is why the layout stops at maxComplete: a tree of depth d
// takes 16*(2^(d+1)-1) bytes whatever its number of nodes (2 KiB at
// depth 6). At 8, perf/reference.py's large model (2,000 trees of depth
// 8, 50 features) took 16 MB of complete layout and its batch about
// 40% more CPU time than the preorder walk (256 rows, BenchmarkCompare).

// maxComplete is the depth of the deepest tree laid out complete.
const maxComplete = 6

// cnode is a slot of a tree in complete layout: at a split, x goes to the
// right child when x > bound; at a leaf, bound is the leaf's value.
type cnode struct {
	bound   float64
	feature int32
}

// layComplete lays out nodes (a checked tree of depth d, in preorder)
// complete when it is shallow enough, and returns its offset in cnodes,
// or -1.
func (e *Ensemble) layComplete(nodes []Node, d int) int32 {
	if d > maxComplete {
		return -1
	}
	off := int32(len(e.cnodes))
	e.cnodes = append(e.cnodes, make([]cnode, 1<<(d+1)-1)...)
	cn := e.cnodes[off:]
	// fill places node i at slot k of the given level.
	var fill func(i, k, level int)
	fill = func(i, k, level int) {
		nd := &nodes[i]
		switch {
		case level == d: // a leaf: depth is the longest path
			cn[k] = cnode{bound: float64(nd.Value)}
		case nd.Leaf:
			cn[k] = cnode{bound: math.Inf(1)}
			fill(i, 2*k+1, level+1)
			fill(i, 2*k+2, level+1)
		default:
			cn[k] = cnode{bound: nd.Bound, feature: int32(nd.Feature)}
			fill(i+1, 2*k+1, level+1)
			fill(nd.Right, 2*k+2, level+1)
		}
	}
	fill(0, 0, 0)
	return off
}

// b2u is 1 for true, 0 for false: the compiler makes it a SETcc.
func b2u(b bool) uint {
	if b {
		return 1
	}
	return 0
}

// addComplete adds to acc[r] the leaf value row r of rows (nf values
// each) reaches in the tree of depth d laid out complete at cn[off:]:
// PredictBatch's loop for a block of finite rows.
func addComplete(cn []cnode, off, d int32, rows []float64, nf int, acc []float32) {
	nodes := cn[uint(off):][:1<<(d+1)-1]
	switch d {
	case 0:
		v := float32(nodes[0].bound)
		for r := range acc {
			acc[r] += v
		}
	case 1:
		addDepth1((*[3]cnode)(nodes), rows, nf, acc)
	case 2:
		addDepth2((*[7]cnode)(nodes), rows, nf, acc)
	case 3:
		addDepth3((*[15]cnode)(nodes), rows, nf, acc)
	default:
		addDepth(nodes, int(d), rows, nf, acc)
	}
}

// addDepth1 is addComplete for a tree of one split.
func addDepth1(nodes *[3]cnode, rows []float64, nf int, acc []float32) {
	f, b := uint(nodes[0].feature), nodes[0].bound
	// An index, not a choice between two floats, which the compiler
	// would make a branch.
	v := [2]float32{float32(nodes[1].bound), float32(nodes[2].bound)}
	base := uint(0)
	for r := range acc {
		acc[r] += v[b2u(rows[base+f] > b)]
		base += uint(nf)
	}
}

// top3 returns the index i = c0 | c1<<1 | c2<<2 of the outcomes c (1:
// right) of a row at a complete tree's first three splits, which are
// compared at once: none waits for another's outcome. The split the row
// then reaches at the third level is slot third(i).
func top3(rows []float64, base, f0, f1, f2 uint, b0, b1, b2 float64) uint {
	return b2u(rows[base+f0] > b0) | b2u(rows[base+f1] > b1)<<1 | b2u(rows[base+f2] > b2)<<2
}

// third is the slot at the third level of a complete tree that the
// outcomes i (top3) at its first three splits lead to: the root's outcome
// chooses the child whose outcome counts.
func third(i uint) uint {
	k := 1 + i&1
	return 2*k + 1 + i>>k&1
}

// addDepth2 is addComplete for a tree of depth 2: its three splits are
// compared at once, and the outcomes index a table of the leaf each
// combination reaches.
func addDepth2(nodes *[7]cnode, rows []float64, nf int, acc []float32) {
	f0, f1, f2 := uint(nodes[0].feature), uint(nodes[1].feature), uint(nodes[2].feature)
	b0, b1, b2 := nodes[0].bound, nodes[1].bound, nodes[2].bound
	var v [8]float32
	for i := range uint(8) {
		v[i] = float32(nodes[third(i)].bound)
	}
	base := uint(0)
	for r := range acc {
		acc[r] += v[top3(rows, base, f0, f1, f2, b0, b1, b2)&7]
		base += uint(nf)
	}
}

// addDepth3 is addComplete for a tree of depth 3: its first three splits
// are compared at once, and the outcomes index a table of the split each
// combination reaches, with its two leaves.
func addDepth3(nodes *[15]cnode, rows []float64, nf int, acc []float32) {
	f0, f1, f2 := uint(nodes[0].feature), uint(nodes[1].feature), uint(nodes[2].feature)
	b0, b1, b2 := nodes[0].bound, nodes[1].bound, nodes[2].bound
	type split struct {
		bound   float64
		feature uint
		v       [2]float32
	}
	var s [8]split
	for i := range uint(8) {
		k := third(i) & 7
		s[i] = split{nodes[k].bound, uint(nodes[k].feature),
			[2]float32{float32(nodes[(2*k+1)&15].bound), float32(nodes[(2*k+2)&15].bound)}}
	}
	base := uint(0)
	for r := range acc {
		n := &s[top3(rows, base, f0, f1, f2, b0, b1, b2)&7]
		acc[r] += n.v[b2u(rows[base+n.feature] > n.bound)]
		base += uint(nf)
	}
}

// addDepth is addComplete for a tree of depth d > 3: the first three
// splits compared at once, then a step per level.
func addDepth(nodes []cnode, d int, rows []float64, nf int, acc []float32) {
	f0, f1, f2 := uint(nodes[0].feature), uint(nodes[1].feature), uint(nodes[2].feature)
	b0, b1, b2 := nodes[0].bound, nodes[1].bound, nodes[2].bound
	var lv [8]uint
	for i := range uint(8) {
		lv[i] = third(i)
	}
	for r := range acc {
		base := uint(r * nf)
		k := lv[top3(rows, base, f0, f1, f2, b0, b1, b2)&7]
		for range d - 2 {
			n := &nodes[k]
			k = 2*k + 1 + b2u(rows[base+uint(n.feature)] > n.bound)
		}
		acc[r] += float32(nodes[k].bound)
	}
}
