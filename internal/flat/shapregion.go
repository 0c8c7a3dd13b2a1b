package flat

import (
	"math"
	"slices"
)

// Region tables: a tree's path-dependent TreeSHAP values for a row depend
// on the row only through which way it goes at each split, and that is
// fixed by where each of the tree's features falls among the distinct
// bounds the tree splits it at (x goes left of bound b when x <= b), and
// by NaN, its own state where the ensemble routes missing values. For a
// tree splitting features f1..fk at m1..mk distinct bounds, a row's cell
// is (i1, .., ik), ij the number of fj's bounds below the row's value
// (mj+1 for NaN); the tree has (m1+1)(m2+1)..(mk+1) cells (each factor one
// more with NaN). Each cell's contributions (k features times the leaf
// values: one, or a Mean ensemble's classes) are computed once, when the
// ensemble is first explained, by Algorithm 2's walk of the tree on a row
// inside the cell. A row then costs per tree one comparison per bound, a
// few multiply-adds for the cell's index and k*values adds.
//
// A tree takes a region table when it has no categorical split (a
// category set is not an interval), at most maxRegionCells cells, and its
// table fits in what remains of the ensemble's maxRegionValues; trees are
// taken in order. The others take leaf tables or the walk (shaptable.go).

const (
	// maxRegionCells bounds a tree's cells: the build walks the tree once
	// per cell.
	maxRegionCells = 4096
	// maxRegionValues bounds the values of an ensemble's region tables:
	// 64 MiB of float64.
	maxRegionValues = 1 << 23
)

// regionFeature is one feature a region tree splits on.
type regionFeature struct {
	feature int32
	bounds  int32 // its distinct bounds, ascending: bounds[bounds : bounds+n]
	n       int32
	nan     int32 // NaN's index, n+1, in an ensemble that routes NaN; else 0
	stride  int32 // the cell index's step per step of this feature's index
}

// regionTree is one tree's region table.
type regionTree struct {
	feats, k int32 // its features: feats[feats : feats+k]
	outs, kv int32 // where its cells' values add up in the output: outs[outs : outs+kv]
	table    int32 // its cells, kv values each from table[table:]
}

// regionTables are the region tables of some of an ensemble's trees.
type regionTables struct {
	trees  []regionTree
	feats  []regionFeature
	bounds []float64
	outs   []int32
	table  []float64
}

// contributions adds the trees' contributions to row to out (zeroed,
// Outputs()*(Features()+1) values).
func (rt *regionTables) contributions(row, out []float64) {
	for ti := range rt.trees {
		t := &rt.trees[ti]
		w := rt.table[uint(t.table)+rt.cell(t, row)*uint(t.kv):][:t.kv]
		outs := rt.outs[t.outs:][:t.kv]
		for i, o := range outs {
			out[o] += w[i]
		}
	}
}

// cell returns the index of row's cell in tree t's table. Without a
// branch on the row: a row's cell is as unpredictable as the row.
func (rt *regionTables) cell(t *regionTree, row []float64) uint {
	cell := uint(0)
	for _, f := range rt.feats[t.feats:][:t.k] {
		x := row[f.feature]
		i := bit(x != x) * uint(f.nan)
		for _, b := range rt.bounds[f.bounds:][:f.n] {
			i += bit(x > b)
		}
		cell += i * uint(f.stride)
	}
	return cell
}

// regionBuilder builds region tables tree by tree.
type regionBuilder struct {
	e       *Ensemble
	rt      regionTables
	path    []pathElem
	row     []float64
	scratch []float64 // a walk's output
	idx     []int     // a cell's index per feature
}

func (e *Ensemble) newRegionBuilder() *regionBuilder {
	return &regionBuilder{e: e, path: make([]pathElem, e.pathLen), row: make([]float64, e.features),
		scratch: make([]float64, e.outputs*(e.features+1))}
}

// add builds the region table of tree t (of more than one node, without
// categorical splits) and returns true, or returns false when it does not
// fit (see above).
func (b *regionBuilder) add(t int) bool {
	e, rt := b.e, &b.rt
	root := int(e.roots[t])
	end := root + e.TreeLen(t)
	// The tree's bounds per feature, distinct and ascending; features in
	// ascending order.
	var feats []int32
	bounds := map[int32][]float64{}
	for i := root; i < end; i++ {
		n := &e.nodes[i]
		if n.right == int32(i) {
			continue
		}
		if _, ok := bounds[n.feature]; !ok {
			feats = append(feats, n.feature)
		}
		bounds[n.feature] = append(bounds[n.feature], n.bound)
	}
	slices.Sort(feats)
	cells := 1
	for _, f := range feats {
		bs := bounds[f]
		slices.Sort(bs)
		bs = slices.Compact(bs)
		bounds[f] = bs
		states := len(bs) + 1
		if e.missing {
			states++
		}
		if cells *= states; cells > maxRegionCells {
			return false
		}
	}
	values := 1
	if e.combine == Mean {
		values = e.outputs
	}
	k := len(feats)
	kv := k * values
	if len(rt.table)+cells*kv > maxRegionValues {
		return false
	}
	tr := regionTree{feats: int32(len(rt.feats)), k: int32(k), outs: int32(len(rt.outs)), kv: int32(kv), table: int32(len(rt.table))}
	stride, nb := int32(1), 0
	for _, f := range feats {
		bs := bounds[f]
		rf := regionFeature{feature: f, bounds: int32(len(rt.bounds)), n: int32(len(bs)), stride: stride}
		states := int32(len(bs)) + 1
		if e.missing {
			rf.nan = states
			states++
		}
		stride *= states
		rt.feats = append(rt.feats, rf)
		rt.bounds = append(rt.bounds, bs...)
		nb += len(bs)
	}
	// A cell's values, output-major: each output's features side by side.
	nf := e.features + 1
	at := 0
	if e.combine != Mean {
		at = int(e.group[t]) * nf
	}
	for c := range values {
		for _, f := range feats {
			rt.outs = append(rt.outs, int32(at+c*nf+int(f)))
		}
	}
	fs := rt.feats[tr.feats:][:k]
	outs := rt.outs[tr.outs:][:kv]
	rt.table = slices.Grow(rt.table, cells*kv)
	b.idx = append(b.idx[:0], make([]int, k)...)
	w := shapWalk{e: e, row: b.row, path: b.path, stride: nf}
	for cell := range cells {
		// The cell's row: feature j at its idx-th interval's upper bound
		// (x <= that bound, x > the one below), past the last bound
		// the next float64 up, or NaN.
		for j := range fs {
			f := &fs[j]
			bs := rt.bounds[f.bounds:][:f.n]
			x := math.NaN()
			switch i := b.idx[j]; {
			case i < len(bs):
				x = bs[i]
			case i == len(bs):
				x = math.Nextafter(bs[i-1], math.Inf(1))
			}
			b.row[f.feature] = x
		}
		if rt.cell(&tr, b.row) != uint(cell) {
			// Only a cell no row reaches (above a bound of +Inf) has no
			// row: the tree is left to the other ways.
			rt.feats, rt.bounds = rt.feats[:tr.feats], rt.bounds[:len(rt.bounds)-nb]
			rt.outs, rt.table = rt.outs[:tr.outs], rt.table[:tr.table]
			return false
		}
		clear(b.scratch)
		w.out = b.scratch[at:]
		w.walk(e.roots[t], 0, 0, 1, 1, -1)
		for _, o := range outs {
			rt.table = append(rt.table, b.scratch[o])
		}
		// The next cell: the first feature's index steps fastest.
		for j := range fs {
			states := int(fs[j].n) + 1
			if e.missing {
				states++
			}
			if b.idx[j]++; b.idx[j] < states {
				break
			}
			b.idx[j] = 0
		}
	}
	rt.trees = append(rt.trees, tr)
	return true
}
