package flat

import (
	"math"
	"slices"
)

// Leaf tables: Algorithm 2 (shap.go) at a leaf depends on the row only
// through the one fractions of the leaf's path features, 0 or 1: whether
// the row meets every split on that feature along the path. A leaf whose
// path tests k distinct features thus has 2^k possible outcomes, and for
// each the weights Algorithm 2 gives the k features can be computed once,
// when the ensemble is first explained. The row's outcome at a leaf is k
// interval tests: the splits on one feature along a path bound it to an
// interval (lo, hi], and send NaN one way or the other. An explanation
// then costs, per leaf, k tests and k multiply-adds per leaf value,
// instead of the path arithmetic's O(k^2) divisions: on the production
// forest (100 trees of Iris) about ten times fewer nanoseconds per row.
//
// A tree takes leaf tables when it takes no region table (shapregion.go,
// cheaper still), has no categorical split (a category set is not an
// interval) and no leaf's path tests more than maxTableFeatures distinct
// features, within maxTableValues values for all such trees; otherwise
// Contributions walks it with Algorithm 2. The region tables read a
// tree's leaf tables to fill their cells.

const (
	maxTableFeatures = 6
	maxTableValues   = 1 << 23 // 64 MiB of float64
)

// leafCond is the condition a leaf's path puts on one feature.
type leafCond struct {
	feature int32
	nan     bool    // a NaN meets it
	lo, hi  float64 // a number x meets it when lo < x <= hi
}

// leafEntry is one leaf of the tables.
type leafEntry struct {
	node   int32 // the leaf's node
	out    int32 // its group's offset in the output (Sum, Sum64), 0 for Mean
	conds  int32 // its conditions: conds[conds : conds+k]
	k      int32
	weight int32 // its shares: weights[weight : weight+(k<<k)*values], k*values per outcome
}

// shapTables are the leaf tables of some of an ensemble's trees.
// weights hold each feature's share of the leaf under each outcome, its
// Algorithm 2 weight already multiplied by the leaf's value (by each of
// its values, feature-major, in a Mean ensemble: values per leaf).
type shapTables struct {
	leaves  []leafEntry
	conds   []leafCond
	weights []float64
	values  int
}

// shapPlan says how Contributions explains each tree: with its region
// table (shapregion.go), with its leaves' tables, or by Algorithm 2's
// walk; a tree of one leaf contributes nothing and is in none.
type shapPlan struct {
	region *regionTables // nil when no tree has a region table
	leaves *shapTables   // nil when no tree has leaf tables
	walk   []int32       // the trees walked, in order
}

// explainMethods restricts, for tests, the ways a plan may take.
type explainMethods uint8

const (
	anyMethod explainMethods = iota // region tables, else leaf tables, else the walk
	noRegions                       // leaf tables, else the walk
	walkOnly                        // the walk
)

// plan returns the ensemble's plan, built on first use.
func (e *Ensemble) plan() *shapPlan {
	e.planOnce.Do(func() { e.shapPlan = e.buildPlan() })
	return e.shapPlan
}

// buildPlan gives each tree the cheapest way that applies: a region table
// when the tree has no categorical split and few enough cells, within the
// ensemble's budget; else leaf tables when no split is categorical and
// every leaf's path tests at most maxTableFeatures features, within their
// budget; else the walk.
func (e *Ensemble) buildPlan() *shapPlan {
	p := &shapPlan{}
	var rest []int // trees for the leaf tables
	var rb *regionBuilder
	if e.methods == anyMethod {
		rb = e.newRegionBuilder()
	}
	for t := range e.roots {
		switch {
		case e.TreeLen(t) == 1:
		case e.categorical(t) || e.methods == walkOnly:
			p.walk = append(p.walk, int32(t))
		case rb != nil && rb.add(t):
		default:
			rest = append(rest, t)
		}
	}
	if rb != nil && len(rb.rt.trees) > 0 {
		p.region = &rb.rt
	}
	if len(rest) > 0 {
		st, walk := e.buildTables(rest)
		if len(st.leaves) > 0 {
			p.leaves = st
		}
		if len(walk) > 0 {
			// Trees stay in order within each way; ways add up in any order.
			p.walk = append(p.walk, walk...)
			slices.Sort(p.walk)
		}
	}
	return p
}

// categorical reports whether tree t has a categorical split.
func (e *Ensemble) categorical(t int) bool {
	if e.cat == nil {
		return false
	}
	root := int(e.roots[t])
	for i := root; i < root+e.TreeLen(t); i++ {
		if e.cat[i] >= 0 {
			return true
		}
	}
	return false
}

// buildTables builds the leaf tables of trees (none categorical), and
// returns, in order, those that do not fit (see above).
func (e *Ensemble) buildTables(trees []int) (*shapTables, []int32) {
	st := &shapTables{values: 1}
	if e.combine == Mean {
		st.values = e.outputs
	}
	var walk []int32
	var leafVals []float64
	var path []leafCond // the conditions so far, one per feature
	var zero []float64  // their zero fractions
	values := 0
	ok := true
	var visit func(i int32, out int32)
	visit = func(i int32, out int32) {
		if !ok {
			return
		}
		n := &e.nodes[i]
		if n.right == i {
			k := len(path)
			size := k << k * st.values
			if k > maxTableFeatures || values+size > maxTableValues {
				ok = false
				return
			}
			if k == 0 {
				return // a tree of one leaf: its value is its expected value
			}
			switch e.combine {
			case Mean:
				leafVals = e.dist[e.at[i]:][:e.outputs]
			case Sum:
				leafVals = []float64{float64(e.vals[i])}
			default:
				leafVals = e.vals64[i : i+1]
			}
			st.leaves = append(st.leaves, leafEntry{node: i, out: out, conds: int32(len(st.conds)), k: int32(k), weight: int32(len(st.weights))})
			st.conds = append(st.conds, path...)
			for _, w := range leafWeights(zero) {
				for _, v := range leafVals {
					st.weights = append(st.weights, w*v)
				}
			}
			values += size
			return
		}
		wl, wr := fractions(e.info, i, i+1, n.right)
		nanLeft := e.missing && !e.nanRight[i]
		for _, c := range [2]struct {
			child int32
			w     float64
			left  bool
		}{{i + 1, wl, true}, {n.right, wr, false}} {
			j := 0
			for j < len(path) && path[j].feature != n.feature {
				j++
			}
			added := j == len(path)
			if added {
				path = append(path, leafCond{feature: n.feature, nan: e.missing, lo: math.Inf(-1), hi: math.Inf(1)})
				zero = append(zero, 1)
			}
			saved, savedZero := path[j], zero[j]
			if c.left {
				path[j].hi = min(path[j].hi, n.bound)
			} else {
				path[j].lo = max(path[j].lo, n.bound)
			}
			path[j].nan = path[j].nan && nanLeft == c.left
			zero[j] *= c.w
			visit(c.child, out)
			if added {
				path, zero = path[:len(path)-1], zero[:len(zero)-1]
			} else {
				path[j], zero[j] = saved, savedZero
			}
		}
	}
	stride := int32(e.features + 1)
	for _, t := range trees {
		out := int32(0)
		if e.combine != Mean {
			out = e.group[t] * stride
		}
		if !e.pathsFit(e.roots[t], path[:0]) {
			walk = append(walk, int32(t))
			continue
		}
		nl, nc, nw, nv := len(st.leaves), len(st.conds), len(st.weights), values
		ok = true
		path, zero = path[:0], zero[:0]
		visit(e.roots[t], out)
		if !ok {
			// The tree is walked: its leaves so far are dropped.
			st.leaves, st.conds, st.weights, values = st.leaves[:nl], st.conds[:nc], st.weights[:nw], nv
			walk = append(walk, int32(t))
		}
	}
	return st, walk
}

// pathsFit reports whether no path below node i, whose path from the root
// has the conditions path, tests more than maxTableFeatures features: a
// check before the tables' arithmetic.
func (e *Ensemble) pathsFit(i int32, path []leafCond) bool {
	n := &e.nodes[i]
	if n.right == i {
		return true
	}
	if !slices.ContainsFunc(path, func(c leafCond) bool { return c.feature == n.feature }) {
		if len(path) == maxTableFeatures {
			return false
		}
		path = append(path, leafCond{feature: n.feature})
	}
	return e.pathsFit(i+1, path) && e.pathsFit(n.right, path)
}

// leafWeights returns, for a leaf whose path features have the zero
// fractions zero, the weight Algorithm 2 gives each feature under each
// outcome: outcome m (bit j set when the row meets feature j's
// condition) at [m*k : (m+1)*k]. An outcome with a feature of zero
// fractions 0 and 0 has weights 0: Algorithm 2 does not walk there.
func leafWeights(zero []float64) []float64 {
	k := len(zero)
	out := make([]float64, k<<k)
	path := make([]pathElem, k+1)
outcomes:
	for m := range 1 << k {
		path = path[:1]
		extend(path, 1, 1, -1)
		for j, z := range zero {
			one := float64(m >> j & 1)
			if z == 0 && one == 0 {
				continue outcomes
			}
			path = path[:len(path)+1]
			extend(path, z, one, int32(j))
		}
		w := out[m*k : (m+1)*k]
		for j := range k {
			el := &path[j+1]
			w[j] = unwoundSum(path, j+1) * (el.one - el.zero)
		}
	}
	return out
}

// tableContributions adds the leaves' shares of row to out (zeroed,
// Outputs()*(Features()+1) values) with the tables; acc is scratch of
// Features()*Outputs() values for a Mean ensemble, whose shares add up
// feature-major (each leaf's classes side by side) before they are
// written out.
func (e *Ensemble) tableContributions(st *shapTables, row, out, acc []float64) {
	nan := e.missing && HasNaN(row)
	conds, weights := st.conds, st.weights
	kv := st.values
	if e.combine == Mean {
		clear(acc)
	}
	for li := range st.leaves {
		l := &st.leaves[li]
		k := uint(l.k)
		at := uint(l.conds)
		cs := conds[at : at+k : at+k]
		// Without a branch on the row: a leaf's outcome is as
		// unpredictable as the row, and a mispredicted branch costs more
		// than the tests.
		m := uint(0)
		if nan {
			for j := range cs {
				c := &cs[j]
				x := row[c.feature]
				m |= (b2u(x > c.lo)&b2u(x <= c.hi) | b2u(x != x)&b2u(c.nan)) << (uint(j) & 63)
			}
		} else {
			for j := range cs {
				c := &cs[j]
				x := row[c.feature]
				m |= b2u(x > c.lo) & b2u(x <= c.hi) << (uint(j) & 63)
			}
		}
		n := k * uint(kv)
		at = uint(l.weight) + m*n
		w := weights[at : at+n : at+n]
		switch {
		case kv == 3:
			// Indexes rather than subslices (see add3).
			for j := range cs {
				o := uint(uint32(cs[j].feature)) * 3
				i := uint(j) * 3
				_, _ = acc[o+2], w[i+2]
				acc[o] += w[i]
				acc[o+1] += w[i+1]
				acc[o+2] += w[i+2]
			}
		case e.combine == Mean:
			for j := range cs {
				a := acc[int(cs[j].feature)*kv:][:kv]
				for c, v := range w[j*kv:][:kv] {
					a[c] += v
				}
			}
		default:
			o := out[l.out:]
			for j := range cs {
				o[cs[j].feature] += w[j]
			}
		}
	}
	if e.combine == Mean {
		stride := e.features + 1
		for f := range e.features {
			for c, v := range acc[f*kv : (f+1)*kv] {
				out[c*stride+f] += v
			}
		}
	}
}
