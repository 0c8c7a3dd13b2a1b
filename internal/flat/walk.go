package flat

// Every walk takes exactly depth[t] steps through tree t: a leaf points to
// itself, so a row that reaches a leaf early stays there. A step is
//
//	i = n.child[b2i(x > n.bound)]
//
// which the compiler turns into a flag set and an indexed load: no branch
// to mispredict, only the chain of loads from one node to the next. Walks
// are interleaved four at a time (four trees for one row, four rows for
// one tree in a batch) so that four independent chains overlap.
//
// A NaN fails x > bound and would go left; rows holding NaN, in an
// ensemble that takes them, walk with stepNaN, which picks child[2] for a
// NaN. Finite rows (most rows, all rows of an ensemble that refuses NaN)
// do not pay for that test.

// b2i is 1 for true and 0 for false, without a branch.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// stepNaN is the child of n that x goes to, NaN included.
func stepNaN(n *node, x float64) int32 {
	return n.child[b2i(x > n.bound)|b2i(x != x)<<1]
}

// step is the child of n that a number x goes to.
func step(n *node, x float64) int32 {
	return n.child[b2i(x > n.bound)&1]
}

// Predict writes the prediction for one row into out (Outputs values):
// for a Mean ensemble the mean of its trees' leaf distributions, for a Sum
// ensemble each group's margin, as float64 values of float32 sums. It
// returns the Tag of the first tree's leaf. row must hold Features values,
// none infinite; NaN only in an ensemble that takes missing values. It
// allocates nothing.
func (e *Ensemble) Predict(row, out []float64) int32 {
	nan := e.missing && hasNaN(row)
	if e.combine == Mean {
		return e.predictMean(row, out, nan)
	}
	return e.predictSum(row, out, nan)
}

// hasNaN reports whether v holds a NaN.
func hasNaN(v []float64) bool {
	nan := false
	for _, x := range v {
		nan = nan || x != x
	}
	return nan
}

// Leaf returns the node index of the leaf row reaches in tree t.
func (e *Ensemble) Leaf(t int, row []float64) int32 {
	return e.walk1(t, row, e.missing && hasNaN(row))
}

// Root returns the node index of tree t's root.
func (e *Ensemble) Root(t int) int32 { return e.roots[t] }

// Split returns node i's feature and whether it is a split (false for a
// leaf).
func (e *Ensemble) Split(i int32) (feature int, split bool) {
	n := &e.nodes[i]
	return int(n.feature), n.child[0] != i
}

// Next returns the child of split i that value x goes to, and whether it
// is the left one; NaN goes the node's missing-value way (right in an
// ensemble that refuses NaN).
func (e *Ensemble) Next(i int32, x float64) (int32, bool) {
	n := &e.nodes[i]
	j := stepNaN(n, x)
	return j, j == n.child[0]
}

// LeafTag returns the Tag of leaf node i.
func (e *Ensemble) LeafTag(i int32) int32 { return e.tags[e.nodes[i].leafIndex()] }

// predictMean is Predict for a Mean ensemble.
func (e *Ensemble) predictMean(row, out []float64, nan bool) int32 {
	k := e.outputs
	out = out[:k]
	if len(e.roots) == 1 {
		leaf := e.nodes[e.walk1(0, row, nan)].leafIndex()
		dist := e.dist[int(leaf)*k:][:k]
		for c := range out {
			out[c] = dist[c]
		}
		return e.tags[leaf]
	}
	for c := range out {
		out[c] = 0
	}
	var tag int32
	var leaves [4]int32
	for t := 0; t < len(e.roots); t += 4 {
		n := e.walk4trees(t, row, &leaves, nan)
		if t == 0 {
			tag = e.tags[leaves[0]]
		}
		for _, leaf := range leaves[:n] {
			dist := e.dist[int(leaf)*k:][:k]
			for c := range out {
				out[c] += dist[c]
			}
		}
	}
	nt := float64(len(e.roots))
	for c := range out {
		out[c] /= nt
	}
	return tag
}

// predictSum is Predict for a Sum ensemble. Margins add in a float32
// array on the stack when there are few groups, else in out itself (a
// float32 stored as float64 converts back exactly).
func (e *Ensemble) predictSum(row, out []float64, nan bool) int32 {
	g := e.outputs
	out = out[:g]
	var small [8]float32
	var leaves [4]int32
	var tag int32
	if g <= len(small) {
		acc := small[:g]
		copy(acc, e.base)
		for t := 0; t < len(e.roots); t += 4 {
			n := e.walk4trees(t, row, &leaves, nan)
			if t == 0 {
				tag = e.tags[leaves[0]]
			}
			grp := e.group[t:][:n]
			for j, leaf := range leaves[:n] {
				acc[grp[j]] += e.vals[leaf]
			}
		}
		for i, v := range acc {
			out[i] = float64(v)
		}
		return tag
	}
	for i, v := range e.base {
		out[i] = float64(v)
	}
	for t := 0; t < len(e.roots); t += 4 {
		n := e.walk4trees(t, row, &leaves, nan)
		if t == 0 {
			tag = e.tags[leaves[0]]
		}
		grp := e.group[t:][:n]
		for j, leaf := range leaves[:n] {
			o := &out[grp[j]]
			*o = float64(float32(*o) + e.vals[leaf])
		}
	}
	return tag
}

// walk1 walks row through tree t and returns its leaf node.
func (e *Ensemble) walk1(t int, row []float64, nan bool) int32 {
	nodes := e.nodes
	i := e.roots[t]
	d := e.depth[t]
	if nan {
		for ; d > 0; d-- {
			n := &nodes[i]
			i = stepNaN(n, row[n.feature])
		}
		return i
	}
	for ; d > 0; d-- {
		n := &nodes[i]
		i = step(n, row[n.feature])
	}
	return i
}

// walk4trees walks row through trees t to t+3 (fewer at the end) at once,
// writes their leaves' table indexes into leaves and returns how many it
// walked. The four walks take as many steps as the deepest of them.
func (e *Ensemble) walk4trees(t int, row []float64, leaves *[4]int32, nan bool) int {
	nodes := e.nodes
	n := min(len(e.roots)-t, 4)
	if n < 4 {
		for j := 0; j < n; j++ {
			leaves[j] = nodes[e.walk1(t+j, row, nan)].leafIndex()
		}
		return n
	}
	r := e.roots[t:][:4]
	dp := e.depth[t:][:4]
	i0, i1, i2, i3 := r[0], r[1], r[2], r[3]
	d := max(dp[0], dp[1], dp[2], dp[3])
	if nan {
		for ; d > 0; d-- {
			n0, n1, n2, n3 := &nodes[i0], &nodes[i1], &nodes[i2], &nodes[i3]
			i0 = stepNaN(n0, row[n0.feature])
			i1 = stepNaN(n1, row[n1.feature])
			i2 = stepNaN(n2, row[n2.feature])
			i3 = stepNaN(n3, row[n3.feature])
		}
	} else {
		for ; d > 0; d-- {
			n0, n1, n2, n3 := &nodes[i0], &nodes[i1], &nodes[i2], &nodes[i3]
			i0 = step(n0, row[n0.feature])
			i1 = step(n1, row[n1.feature])
			i2 = step(n2, row[n2.feature])
			i3 = step(n3, row[n3.feature])
		}
	}
	leaves[0], leaves[1], leaves[2], leaves[3] = nodes[i0].leafIndex(), nodes[i1].leafIndex(), nodes[i2].leafIndex(), nodes[i3].leafIndex()
	return 4
}
