package flat

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// Contributions: path-dependent TreeSHAP (Lundberg et al., "Consistent
// individualized feature attribution for tree ensembles", 2018,
// Algorithm 2), the algorithm of XGBoost's pred_contribs, LightGBM's
// pred_contrib and shap's TreeExplainer (feature_perturbation
// "tree_path_dependent"). For one tree and a row, the game it explains
// is
//
//	v(S) = sum over leaves l of value(l) * product over the splits on l's path of
//	       [the row goes l's way]             when the split's feature is in S,
//	       cover(child) / cover(split)        otherwise,
//
// the tree's expected output when the features outside S are unknown and
// follow the training data down the tree. Its Shapley values are the
// contributions; v of no feature, the tree's expected value (the mean of
// its leaves weighted by cover), is its share of the bias. Algorithm 2
// computes them exactly in one walk of the tree, carrying along the path
// from the root the features met so far, each with its zero fraction
// (the share of cover that goes this way), its one fraction (1 when the
// row goes this way, else 0) and the weights of the subsets of the
// path's other features (pweight): at a leaf, each feature's
// contribution is the leaf value times (one - zero) times the sum of the
// weights the path would have without it (unwoundSum). A feature met
// twice on a path is taken out (unwind) and put back with the product of
// its fractions.
//
// A split whose cover is zero weights its children equally: the
// reference libraries divide by zero there (NaN), which no trained model
// meets. Both the contributions and the expected value use the same
// weights, so a row's contributions and bias add up to its prediction
// whatever the covers.

// MaxExplainDepth bounds the depth (splits on the longest path) of a tree
// Contributions explains: the walk recurses once per level and its
// scratch grows with the square of the depth.
const MaxExplainDepth = 1024

// pathElem is one feature on the path of Algorithm 2.
type pathElem struct {
	feature   int32   // -1 for the root's placeholder
	zero, one float64 // zero and one fractions
	weight    float64 // pweight
}

// Node returns node i (an index in 0 .. the ensemble's node count) as it
// was added: Right is relative to its tree's root, Dist and Categories
// are copies. It is for inspection, not for a hot path.
func (e *Ensemble) Node(i int32) Node {
	t := e.treeOf(i)
	root := e.roots[t]
	n := &e.nodes[i]
	inf := &e.info[i]
	nd := Node{Tag: e.tags[i], Cover: inf.cover, Threshold: inf.threshold, Gain: inf.gain, MissingLeft: inf.missingLeft}
	if nd.Cover < 0 {
		nd.Cover = math.NaN()
	}
	if n.right == i {
		nd.Leaf = true
		switch e.combine {
		case Mean:
			nd.Dist = append([]float64(nil), e.dist[e.at[i]:][:e.outputs]...)
		case Sum:
			nd.Value = e.vals[i]
		case Sum64:
			nd.Value64 = e.vals64[i]
		}
		return nd
	}
	nd.Feature, nd.Bound, nd.Right = int(n.feature), n.bound, int(n.right-root)
	if e.cat != nil && e.cat[i] >= 0 {
		nd.Categories = append([]uint32(nil), e.catSet(e.cat[i])...)
	}
	return nd
}

// treeOf returns the tree node i belongs to.
func (e *Ensemble) treeOf(i int32) int {
	return sort.Search(len(e.roots), func(t int) bool { return e.roots[t] > i }) - 1
}

// TreeLen returns the number of nodes of tree t: they are Root(t) ..
// Root(t)+TreeLen(t)-1, in preorder.
func (e *Ensemble) TreeLen(t int) int {
	if t+1 < len(e.roots) {
		return int(e.roots[t+1] - e.roots[t])
	}
	return len(e.nodes) - int(e.roots[t])
}

// Group returns the output group tree t adds to (0 in a Mean ensemble).
func (e *Ensemble) Group(t int) int { return int(e.group[t]) }

// MaxDepth returns the number of splits on the longest path of any tree.
func (e *Ensemble) MaxDepth() int { return e.maxDepth }

// HasCovers reports whether every node was added with a cover (>= 0,
// finite): Contributions needs them.
func (e *Ensemble) HasCovers() bool { return e.covered && len(e.roots) > 0 }

// ErrNoCovers and ErrTooDeep say why Explainable refuses an ensemble.
var (
	ErrNoCovers = errors.New("flat: the trees carry no node covers")
	ErrTooDeep  = errors.New("flat: a tree is too deep to explain")
)

// Explainable returns nil when Contributions can explain the ensemble,
// else ErrNoCovers or an error wrapping ErrTooDeep.
func (e *Ensemble) Explainable() error {
	if !e.HasCovers() {
		return ErrNoCovers
	}
	if e.maxDepth > MaxExplainDepth {
		return fmt.Errorf("%w: depth %d, at most %d", ErrTooDeep, e.maxDepth, MaxExplainDepth)
	}
	return nil
}

// addExpectation adds the expected value of the tree just added (nodes,
// whose info is at off) to expectSum when every node has a cover: the
// cover-weighted mean of its leaves, by children before parents.
func (e *Ensemble) addExpectation(nodes []Node, off int32, g int) {
	if !e.covered {
		return
	}
	k := 1
	if e.combine == Mean {
		k = e.outputs
	}
	n := len(nodes)
	mean := make([]float64, n*k)
	for i := n - 1; i >= 0; i-- {
		nd := &nodes[i]
		m := mean[i*k : (i+1)*k]
		if nd.Leaf {
			switch e.combine {
			case Mean:
				copy(m, nd.Dist)
			case Sum:
				m[0] = float64(nd.Value)
			case Sum64:
				m[0] = nd.Value64
			}
			continue
		}
		wl, wr := fractions(e.info, off+int32(i), off+int32(i+1), off+int32(nd.Right))
		l, r := mean[(i+1)*k:], mean[nd.Right*k:]
		for c := range m {
			m[c] = wl*l[c] + wr*r[c]
		}
	}
	if e.combine == Mean {
		for c, v := range mean[:k] {
			e.expectSum[c] += v
		}
		return
	}
	e.expectSum[g] += mean[0]
}

// shapWalk is one tree's walk for one row.
type shapWalk struct {
	e    *Ensemble
	row  []float64
	path []pathElem
	// out receives the contributions: out[c*stride+f] for leaf value c
	// (the classes of a Mean ensemble; one value otherwise, out already
	// at the tree's group).
	out    []float64
	stride int
	one    [1]float64 // a Sum leaf's value as float64
}

// Contributions writes row's TreeSHAP contributions into out
// (Outputs()*(Features()+1) values): out[o*(F+1)+f] is feature f's
// contribution to output o, out[o*(F+1)+F] the bias (Sum and Sum64: the
// base plus the group's trees' expected values; Mean: the mean of the
// trees' expected values), so that each output's values add up to
// Predict's (Sum: before float32 rounding). The ensemble must be
// Explainable; row is taken as Predict takes it (NaN goes each split's
// missing-value way in an ensemble that takes NaN, without a flag). It
// allocates nothing once warm.
func (e *Ensemble) Contributions(row, out []float64) {
	s := e.scratch()
	e.contributions(row, out, s)
	e.paths.Put(s)
}

// ContributionsBatch writes the contributions of the n rows stored back
// to back in rows into out, row r's at out[r*Outputs()*(Features()+1):].
func (e *Ensemble) ContributionsBatch(rows []float64, n int, out []float64) {
	s := e.scratch()
	nf, size := e.features, e.outputs*(e.features+1)
	for r := range n {
		e.contributions(rows[r*nf:(r+1)*nf], out[r*size:(r+1)*size], s)
	}
	e.paths.Put(s)
}

// shapScratch is one explanation's scratch: the path of Algorithm 2, and
// the feature-major sums of the leaf tables (shaptable.go).
type shapScratch struct {
	path []pathElem
	acc  []float64
}

// pathLen is the length of Algorithm 2's path scratch: level d of a walk
// holds a path of at most min(d, features)+1 elements, and every level's
// path is kept until the walk leaves it.
func (e *Ensemble) pathLen() int {
	n := 0
	for d := 0; d <= min(e.maxDepth, MaxExplainDepth); d++ {
		n += min(d, e.features) + 1
	}
	return n
}

func (e *Ensemble) scratch() *shapScratch {
	if s, ok := e.paths.Get().(*shapScratch); ok {
		return s
	}
	return &shapScratch{path: make([]pathElem, e.pathLen()), acc: make([]float64, e.features*e.outputs)}
}

func (e *Ensemble) contributions(row, out []float64, s *shapScratch) {
	nf := e.features
	stride := nf + 1
	out = out[:e.outputs*stride]
	clear(out)
	p := e.plan()
	if p.region != nil {
		p.region.contributions(row, out)
	}
	if p.leaves != nil {
		e.tableContributions(p.leaves, row, out, s.acc)
	}
	if len(p.walk) > 0 {
		w := shapWalk{e: e, row: row, path: s.path, stride: stride}
		for _, t := range p.walk {
			w.out = out
			if e.combine != Mean {
				w.out = out[int(e.group[t])*stride:]
			}
			w.walk(e.roots[t], 0, 0, 1, 1, -1)
		}
	}
	for o := range e.outputs {
		b := e.expectSum[o]
		switch e.combine {
		case Sum:
			b += float64(e.base[o])
		case Sum64:
			b += e.base64[o]
		}
		out[o*stride+nf] = b
	}
	if e.combine == Mean && len(e.roots) > 1 {
		nt := float64(len(e.roots))
		for i := range out {
			out[i] /= nt
		}
	}
}

// walk visits node i, whose parent's path is w.path[from:from+n], coming
// from a split on feature f with the fractions zero and one.
func (w *shapWalk) walk(i int32, from, n int, zero, one float64, f int32) {
	at := from + n
	path := w.path[at : at+n+1]
	copy(path, w.path[from:at])
	extend(path, zero, one, f)
	e := w.e
	nd := &e.nodes[i]
	if nd.right == i {
		w.leaf(i, path)
		return
	}
	hot, left := e.Next(i, w.row[nd.feature])
	cold := nd.right
	if !left {
		cold = i + 1
	}
	hz, cz := fractions(e.info, i, hot, cold)
	iz, io := 1.0, 1.0
	for j := 1; j < len(path); j++ {
		if path[j].feature == nd.feature {
			iz, io = path[j].zero, path[j].one
			unwind(path, j)
			path = path[:len(path)-1]
			break
		}
	}
	// A child whose fractions are both zero adds nothing to any subset,
	// and would divide by zero in unwoundSum: it is not walked.
	if z := hz * iz; z != 0 || io != 0 {
		w.walk(hot, at, len(path), z, io, nd.feature)
	}
	if z := cz * iz; z != 0 {
		w.walk(cold, at, len(path), z, 0, nd.feature)
	}
}

// fractions returns the weights of split i's children a and b: their
// covers over its own, or 1/2 each when its cover is zero (see above).
func fractions(info []nodeInfo, i, a, b int32) (float64, float64) {
	c := info[i].cover
	if c == 0 {
		return 0.5, 0.5
	}
	return info[a].cover / c, info[b].cover / c
}

// leaf adds leaf i's share to every feature on its path.
func (w *shapWalk) leaf(i int32, path []pathElem) {
	e := w.e
	var vals []float64
	switch e.combine {
	case Mean:
		vals = e.dist[e.at[i]:][:e.outputs]
	case Sum:
		w.one[0] = float64(e.vals[i])
		vals = w.one[:]
	default:
		vals = e.vals64[i : i+1]
	}
	for j := 1; j < len(path); j++ {
		el := &path[j]
		s := unwoundSum(path, j) * (el.one - el.zero)
		o := w.out[el.feature:]
		for c, v := range vals {
			o[c*w.stride] += s * v
		}
	}
}

// extend appends feature f with its fractions to path (whose last
// element is the new one's place) and updates the subset weights.
func extend(path []pathElem, zero, one float64, f int32) {
	d := len(path) - 1
	path[d] = pathElem{feature: f, zero: zero, one: one}
	if d == 0 {
		path[0].weight = 1
		return
	}
	path[d].weight = 0
	inv := 1 / float64(d+1)
	for i := d - 1; i >= 0; i-- {
		path[i+1].weight += one * path[i].weight * float64(i+1) * inv
		path[i].weight = zero * path[i].weight * float64(d-i) * inv
	}
}

// unwind takes element j out of path (extend undone); the caller drops
// the last element.
func unwind(path []pathElem, j int) {
	d := len(path) - 1
	one, zero := path[j].one, path[j].zero
	next := path[d].weight
	n := float64(d + 1)
	for i := d - 1; i >= 0; i-- {
		if one != 0 {
			t := path[i].weight
			path[i].weight = next * n / (float64(i+1) * one)
			next = t - path[i].weight*zero*float64(d-i)/n
		} else {
			path[i].weight = path[i].weight * n / (zero * float64(d-i))
		}
	}
	for i := j; i < d; i++ {
		path[i].feature, path[i].zero, path[i].one = path[i+1].feature, path[i+1].zero, path[i+1].one
	}
}

// unwoundSum returns the total weight path would have with element j
// unwound, without unwinding it.
func unwoundSum(path []pathElem, j int) float64 {
	d := len(path) - 1
	one, zero := path[j].one, path[j].zero
	total := 0.0
	if one != 0 {
		next := path[d].weight
		for i := d - 1; i >= 0; i-- {
			t := next / (float64(i+1) * one)
			total += t
			next = path[i].weight - t*zero*float64(d-i)
		}
	} else {
		for i := d - 1; i >= 0; i-- {
			total += path[i].weight / (zero * float64(d-i))
		}
	}
	return total * float64(d+1)
}
