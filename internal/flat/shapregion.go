package flat

import (
	"cmp"
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
// ensemble is first explained, for a row inside the cell (checked to
// fall in it), by Algorithm 2: read from the tree's leaf tables
// (shaptable.go), or its walk when a path tests too many features for
// them. A row then costs per tree one comparison per bound, a few
// multiply-adds for the cell's index and k*values adds. The values
// differ from the other ways' only in the order of the additions: a
// tree's leaves are summed before they are added to the row's output.
//
// A tree takes a region table when it has no categorical split (a
// category set is not an interval), at most maxRegionCells cells, and its
// table and its build fit in what remains of the ensemble's
// maxRegionValues and maxRegionWork; trees are taken in order. The others take leaf tables or the walk (shaptable.go).

const (
	// maxRegionCells bounds a tree's cells: the build reads the tree
	// once per cell.
	maxRegionCells = 4096
	// maxRegionValues bounds the values of an ensemble's region tables:
	// 64 MiB of float64.
	maxRegionValues = 1 << 23
	// maxRegionWork bounds the build's work: the sum over the trees of
	// their cells times their nodes (each cell reads every leaf's table),
	// at about 15 ns a unit on this machine, about 130 ms.
	maxRegionWork = 1 << 23
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
	feats, k int32     // its features: feats[feats : feats+k]
	outs, kv int32     // where its cells' values add up in the output: outs[outs : outs+kv]
	table    []float64 // its cells, kv values each
}

// regionTables are the region tables of some of an ensemble's trees.
type regionTables struct {
	trees  []regionTree
	feats  []regionFeature
	bounds []float64
	outs   []int32
}

// contributions adds the trees' contributions to row to out (zeroed,
// Outputs()*(Features()+1) values).
func (rt *regionTables) contributions(row, out []float64) {
	for ti := range rt.trees {
		t := &rt.trees[ti]
		w := t.table[rt.cell(t, row)*uint(t.kv):][:t.kv]
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
		i := b2u(x != x) * uint(f.nan)
		for _, b := range rt.bounds[f.bounds:][:f.n] {
			i += b2u(x > b)
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
	scratch []float64 // a cell's contributions
	acc     []float64 // tableContributions' scratch
	idx     []int     // a cell's index per feature
	splits  []split
	// values and work: the tables' values so far, and their cells times
	// their trees' nodes.
	values, work int
}

// split is a split's feature and bound.
type split struct {
	feature int32
	bound   float64
}

func (e *Ensemble) newRegionBuilder() *regionBuilder {
	return &regionBuilder{e: e, path: make([]pathElem, e.pathLen()), row: make([]float64, e.features),
		scratch: make([]float64, e.outputs*(e.features+1)), acc: make([]float64, e.features*e.outputs)}
}

// add builds the region table of tree t (of more than one node, without
// categorical splits) and returns true, or returns false when it does not
// fit (see above).
func (b *regionBuilder) add(t int) bool {
	e, rt := b.e, &b.rt
	root := int(e.roots[t])
	size := e.TreeLen(t)
	// The tree's splits, by feature then bound: per feature its distinct
	// bounds, ascending.
	b.splits = b.splits[:0]
	for i := root; i < root+size; i++ {
		if n := &e.nodes[i]; n.right != int32(i) {
			b.splits = append(b.splits, split{n.feature, n.bound})
		}
	}
	slices.SortFunc(b.splits, func(x, y split) int {
		if x.feature != y.feature {
			return int(x.feature - y.feature)
		}
		return cmp.Compare(x.bound, y.bound)
	})
	b.splits = slices.CompactFunc(b.splits, func(x, y split) bool { return x.feature == y.feature && x.bound == y.bound })
	states := func(n int) int {
		if e.missing {
			return n + 2
		}
		return n + 1
	}
	cells, k := 1, 0
	for i, n := 0, 0; i < len(b.splits); i++ {
		if n++; i+1 == len(b.splits) || b.splits[i+1].feature != b.splits[i].feature {
			if cells *= states(n); cells > maxRegionCells {
				return false
			}
			k, n = k+1, 0
		}
	}
	values := 1
	if e.combine == Mean {
		values = e.outputs
	}
	kv := k * values
	if b.values+cells*kv > maxRegionValues || b.work+cells*size > maxRegionWork {
		return false
	}
	tr := regionTree{feats: int32(len(rt.feats)), k: int32(k), outs: int32(len(rt.outs)), kv: int32(kv)}
	stride := int32(1)
	for i, sp := range b.splits {
		if i == 0 || b.splits[i-1].feature != sp.feature {
			rt.feats = append(rt.feats, regionFeature{feature: sp.feature, bounds: int32(len(rt.bounds)), stride: stride})
		}
		f := &rt.feats[len(rt.feats)-1]
		rt.bounds = append(rt.bounds, sp.bound)
		f.n++
		if i+1 == len(b.splits) || b.splits[i+1].feature != sp.feature {
			if e.missing {
				f.nan = f.n + 1
			}
			stride *= int32(states(int(f.n)))
		}
	}
	fs := rt.feats[tr.feats:][:k]
	// A cell's values, output-major: each output's features side by side.
	nf := e.features + 1
	at := 0
	if e.combine != Mean {
		at = int(e.group[t]) * nf
	}
	for c := range values {
		for _, f := range fs {
			rt.outs = append(rt.outs, int32(at+c*nf+int(f.feature)))
		}
	}
	outs := rt.outs[tr.outs:][:kv]
	tr.table = make([]float64, 0, cells*kv)
	b.idx = append(b.idx[:0], make([]int, k)...)
	// The cells' values: the tree's leaf tables read on each cell's row,
	// or, when a leaf's path tests too many features for them, the walk.
	leaves, walk := e.buildTables([]int{t})
	if len(walk) > 0 {
		leaves = nil
	}
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
			rt.feats, rt.bounds = rt.feats[:tr.feats], rt.bounds[:fs[0].bounds]
			rt.outs = rt.outs[:tr.outs]
			return false
		}
		clear(b.scratch)
		if leaves != nil {
			e.tableContributions(leaves, b.row, b.scratch, b.acc)
		} else {
			w.out = b.scratch[at:]
			w.walk(e.roots[t], 0, 0, 1, 1, -1)
		}
		for _, o := range outs {
			tr.table = append(tr.table, b.scratch[o])
		}
		// The next cell: the first feature's index steps fastest.
		for j := range fs {
			if b.idx[j]++; b.idx[j] < states(int(fs[j].n)) {
				break
			}
			b.idx[j] = 0
		}
	}
	rt.trees = append(rt.trees, tr)
	b.values += cells * kv
	b.work += cells * size
	return true
}
