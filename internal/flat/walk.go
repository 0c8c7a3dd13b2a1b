package flat

// Two walks read the same nodes (see node and Walk):
//
// walkLeaf (Branching) follows the row until the node whose right is
// itself: per split, a load of the node and of the row's value, a
// compare and a branch, and a leaf test. It executes fewest
// instructions, and runs fastest while the branch predictor guesses the
// path (the same rows again, or trees whose paths barely vary); every
// mispredicted split costs a pipeline flush.
//
// walkFixed (Fixed) takes exactly the tree's depth in steps, and walks
// are interleaved (four trees for one row; four rows, or eight in deep
// trees, for one tree in a batch) so that their chains of loads overlap.
// A leaf sends every number to itself, so a row that reaches a leaf early
// stays on it. A step in a deep tree is computed without a branch (step:
// the comparison's outcome masks the distance to the right child), so
// no branch depends on the row; in a shallow tree it is an if, a branch
// (stepBranch). Go 1.26 turns neither form of
//
//	next := i + 1
//	if x > n.bound { next = n.right }
//
// into a conditional move when the comparison is of floats: until this
// was noticed, every Fixed walk branched.
//
// A NaN fails x > bound and would go left; rows holding NaN, in an
// ensemble that takes them, walk with the NaN variants, which read
// nanRight for a NaN. Finite rows (most rows, all rows of an ensemble
// that refuses NaN) do not pay for that test.

// walkLeaf walks row from node i to its leaf, branching.
func (e *Ensemble) walkLeaf(i int32, row []float64) int32 { return leafOf(e.nodes, i, row, 0) }

// leafOf is walkLeaf for the row at rows[at:]: a function of its
// arguments alone, which a caller's loop keeps in registers, and indexes
// the walk reads as unsigned (zero-extending loads, one bounds check
// each).
func leafOf(nodes []node, root int32, rows []float64, at int) int32 {
	i := uint(uint32(root))
	for {
		n := &nodes[i]
		r := uint(uint32(n.right))
		if r == i {
			return int32(i)
		}
		if rows[at+int(uint32(n.feature))] > n.bound {
			i = r
		} else {
			i++
		}
	}
}

// walkLeafNaN is walkLeaf for a row that may hold NaN.
func (e *Ensemble) walkLeafNaN(i int32, row []float64) int32 {
	nodes, nanRight := e.nodes, e.nanRight
	for {
		n := &nodes[i]
		if n.right == i {
			return i
		}
		if x := row[n.feature]; x > n.bound || x != x && nanRight[i] {
			i = n.right
		} else {
			i++
		}
	}
}

// step is the node a number x at node n (index i) goes to, without a
// branch: the outcome (a SETcc, see b2u) is turned into a mask that keeps
// or clears the distance to the right child. Written as an if, the
// compiler makes it a branch (Go 1.26 does not turn a float comparison
// into a conditional move), which mispredicts on half of the splits of
// an unpredictable walk.
func step(n *node, i int32, x float64) int32 {
	return to(n, i, b2u(x > n.bound))
}

// to is the node after n (index i) for outcome right (1: the right
// child, 0: the left one, i+1).
func to(n *node, i int32, right uint) int32 {
	return i + 1 + (n.right-i-1)&-int32(right)
}

// stepBranch is step written as an if, which the compiler makes a
// branch: on shallow trees (see shallow) the branch predictor guesses
// most splits and the walk's chain of loads is shorter than step's.
func stepBranch(n *node, i int32, x float64) int32 {
	next := i + 1
	if x > n.bound {
		next = n.right
	}
	return next
}

// shallow is the depth up to which a Fixed walk branches (stepBranch)
// rather than computing each step (step). On the production XGBoost model
// (300 trees of depth 0 to 5, four at a time), branching took 26% less
// time a row; on perf/reference.py's large model (2,000 trees of depth
// 8), computing took half the time of branching (benchstat of alternating
// runs, BenchmarkCompare).
const shallow = 4

// stepNaN is step for an x that may be NaN.
func (e *Ensemble) stepNaN(n *node, i int32, x float64) int32 {
	return to(n, i, b2u(x > n.bound)|b2u(x != x)&b2u(e.nanRight[i]))
}

// walkFixed walks row through t for t's depth in steps, branch-free.
func (e *Ensemble) walkFixed(t tree, row []float64, nan bool) int32 {
	nodes := e.nodes
	i := t.root
	if nan {
		for d := t.depth; d > 0; d-- {
			i = e.stepNaN(&nodes[i], i, row[nodes[i].feature])
		}
		return i
	}
	if t.depth <= shallow {
		for d := t.depth; d > 0; d-- {
			n := &nodes[i]
			i = stepBranch(n, i, row[n.feature])
		}
		return i
	}
	for d := t.depth; d > 0; d-- {
		n := &nodes[i]
		i = step(n, i, row[n.feature])
	}
	return i
}

// walk1 walks row through t with the ensemble's walk and returns its
// leaf node.
func (e *Ensemble) walk1(t tree, row []float64, nan bool) int32 {
	switch {
	case e.walk == Fixed:
		return e.walkFixed(t, row, nan)
	case nan:
		return e.walkLeafNaN(t.root, row)
	}
	return e.walkLeaf(t.root, row)
}

// walk4 walks row through the four trees ts[0:4] at once, branch-free,
// and returns their leaf nodes. The four walks take as many steps as the
// deepest of them.
func (e *Ensemble) walk4(ts []tree, row []float64, nan bool) (i0, i1, i2, i3 int32) {
	ts = ts[:4]
	nodes := e.nodes
	i0, i1, i2, i3 = ts[0].root, ts[1].root, ts[2].root, ts[3].root
	d := max(ts[0].depth, ts[1].depth, ts[2].depth, ts[3].depth)
	if nan {
		for ; d > 0; d-- {
			n0, n1, n2, n3 := &nodes[i0], &nodes[i1], &nodes[i2], &nodes[i3]
			i0 = e.stepNaN(n0, i0, row[n0.feature])
			i1 = e.stepNaN(n1, i1, row[n1.feature])
			i2 = e.stepNaN(n2, i2, row[n2.feature])
			i3 = e.stepNaN(n3, i3, row[n3.feature])
		}
		return
	}
	if d <= shallow {
		for ; d > 0; d-- {
			n0, n1, n2, n3 := &nodes[i0], &nodes[i1], &nodes[i2], &nodes[i3]
			i0 = stepBranch(n0, i0, row[n0.feature])
			i1 = stepBranch(n1, i1, row[n1.feature])
			i2 = stepBranch(n2, i2, row[n2.feature])
			i3 = stepBranch(n3, i3, row[n3.feature])
		}
		return
	}
	for ; d > 0; d-- {
		n0, n1, n2, n3 := &nodes[i0], &nodes[i1], &nodes[i2], &nodes[i3]
		i0 = step(n0, i0, row[n0.feature])
		i1 = step(n1, i1, row[n1.feature])
		i2 = step(n2, i2, row[n2.feature])
		i3 = step(n3, i3, row[n3.feature])
	}
	return
}

// Predict writes the prediction for one row into out (Outputs values):
// for a Mean ensemble the mean of its trees' leaf distributions, for a Sum
// ensemble each group's margin, as float64 values of float32 sums. It
// returns the Tag of the first tree's leaf. row must hold Features values,
// none infinite; nan says whether it may hold NaN (then only in an
// ensemble that takes missing values; with nan false, a NaN would go
// left). It allocates nothing.
func (e *Ensemble) Predict(row, out []float64, nan bool) int32 {
	nan = nan && e.missing
	if e.combine == Mean {
		return e.predictMean(row, out, nan)
	}
	if e.combine == Sum64 {
		return e.predictSum64(row, out, nan)
	}
	return e.predictSum(row, out, nan)
}

// HasNaN reports whether v holds a NaN: the nan argument of Predict and
// PredictBatch, for a caller that does not know it from its own checks.
func HasNaN(v []float64) bool {
	for _, x := range v {
		if x != x {
			return true
		}
	}
	return false
}

// Leaf returns the node index of the leaf row reaches in tree t (in the
// order trees were added).
func (e *Ensemble) Leaf(t int, row []float64) int32 {
	if e.cat != nil {
		return e.walkCat(e.roots[t], row, e.missing && HasNaN(row))
	}
	return e.walk1(tree{root: e.roots[t], depth: e.depth[t]}, row, e.missing && HasNaN(row))
}

// Root returns the node index of tree t's root.
func (e *Ensemble) Root(t int) int32 { return e.roots[t] }

// Split returns node i's feature and whether it is a split (false for a
// leaf).
func (e *Ensemble) Split(i int32) (feature int, split bool) {
	n := &e.nodes[i]
	return int(n.feature), n.right != i
}

// Next returns the child of split i that value x goes to, and whether it
// is the left one; NaN goes the node's missing-value way (right in an
// ensemble that refuses NaN).
func (e *Ensemble) Next(i int32, x float64) (int32, bool) {
	n := &e.nodes[i]
	if e.cat != nil && e.cat[i] >= 0 {
		right := !InSet(e.catSet(e.cat[i]), x)
		if x != x {
			right = !e.missing || e.nanRight[i]
		}
		if right {
			return n.right, false
		}
		return i + 1, true
	}
	if x > n.bound || x != x && (!e.missing || e.nanRight[i]) {
		return n.right, false
	}
	return i + 1, true
}

// LeafTag returns the Tag of leaf node i.
func (e *Ensemble) LeafTag(i int32) int32 { return e.tags[i] }

// setDist writes leaf node i's distribution into out (len k): three
// stores rather than a call to memmove for three classes.
func (e *Ensemble) setDist(out []float64, i int32) {
	k := len(out)
	d := e.dist[e.at[i]:][:k]
	if k == 3 {
		out[0], out[1], out[2] = d[0], d[1], d[2]
		return
	}
	copy(out, d)
}

// addDist adds leaf node i's distribution to out (len k).
func (e *Ensemble) addDist(out []float64, i int32) {
	k := len(out)
	if k == 3 {
		add3(out, e.dist, e.at[i])
		return
	}
	d := e.dist[e.at[i]:][:k]
	for c, v := range d {
		out[c] += v
	}
}

// add3 adds the three values at dist[at:] to a's: indexes rather than
// a subslice, whose bounds checks and pointer masking cost more than the
// three additions.
func add3(a []float64, dist []float64, at int32) {
	o := uint(uint32(at))
	_ = dist[o+2]
	_ = a[2]
	a[0] += dist[o]
	a[1] += dist[o+1]
	a[2] += dist[o+2]
}

// predictMean is Predict for a Mean ensemble.
func (e *Ensemble) predictMean(row, out []float64, nan bool) int32 {
	out = out[:e.outputs]
	trees := e.groups[0]
	if len(trees) == 1 && e.walk == Branching && !nan && len(out) == 3 {
		// A single tree of three classes (a DecisionTree): the walk, three
		// stores and the tag, without walk1's and setDist's calls and
		// slices (callgrind: 30 instructions a row fewer).
		i := leafOf(e.nodes, trees[0].root, row, 0)
		o, d := uint(uint32(e.at[i])), e.dist
		_ = d[o+2]
		out[0], out[1], out[2] = d[o], d[o+1], d[o+2]
		return e.tags[i]
	}
	first := e.walk1(trees[0], row, nan)
	e.setDist(out, first)
	if len(trees) == 1 {
		return e.LeafTag(first)
	}
	rest := trees[1:]
	if e.walk == Branching && !nan && len(out) == 3 {
		addTrees3(e.nodes, rest, row, e.at, e.dist, out)
		rest = nil
	}
	if e.walk == Fixed {
		for ; len(rest) >= 4; rest = rest[4:] {
			i0, i1, i2, i3 := e.walk4(rest, row, nan)
			e.addDist(out, i0)
			e.addDist(out, i1)
			e.addDist(out, i2)
			e.addDist(out, i3)
		}
	}
	for _, t := range rest {
		e.addDist(out, e.walk1(t, row, nan))
	}
	nt := float64(len(trees))
	for c := range out {
		out[c] /= nt
	}
	return e.LeafTag(first)
}

// addTrees3 adds to out (three classes) the distribution of the leaf row
// reaches in each of trees, walking with leafOf: a loop in a function of
// its own, which keeps all it needs in registers.
func addTrees3(nodes []node, trees []tree, row []float64, at []int32, dist []float64, out []float64) {
	_ = out[2]
	for _, t := range trees {
		o := uint(uint32(at[leafOf(nodes, t.root, row, 0)]))
		_ = dist[o+2]
		out[0] += dist[o]
		out[1] += dist[o+1]
		out[2] += dist[o+2]
	}
}

// predictSum is Predict for a Sum ensemble: each group's margin adds its
// trees' leaf values in a float32 register, in the order they were added.
func (e *Ensemble) predictSum(row, out []float64, nan bool) int32 {
	out = out[:e.outputs]
	vals := e.vals
	var tag int32
	for g, trees := range e.groups {
		s := e.base[g]
		if g == e.first {
			// The ensemble's first tree is its group's first.
			i := e.walk1(trees[0], row, nan)
			tag = e.LeafTag(i)
			s += vals[i]
			trees = trees[1:]
		}
		if e.walk == Fixed {
			for ; len(trees) >= 4; trees = trees[4:] {
				i0, i1, i2, i3 := e.walk4(trees, row, nan)
				s += vals[i0]
				s += vals[i1]
				s += vals[i2]
				s += vals[i3]
			}
		}
		for _, t := range trees {
			s += vals[e.walk1(t, row, nan)]
		}
		out[g] = float64(s)
	}
	return tag
}
