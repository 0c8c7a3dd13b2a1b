package flat

// Block is the number of rows a batch walks through each tree before it
// moves to the next tree: the tree's nodes stay in the cache for the
// whole block, and the block's rows too for all trees. (A branching Mean
// ensemble walks its block row by row instead: see blockMean.)
const Block = 64

// PredictBatch writes the prediction of each of the n rows stored back to
// back in rows (Features values each, checked as for Predict; nan says
// whether any may hold NaN) into out: row r's Outputs values at
// out[r*stride:], stride >= Outputs; and, when tags is not nil, the Tag
// of row r's leaf in the first tree into tags[r]. It walks blocks of rows
// through each tree and allocates nothing.
func (e *Ensemble) PredictBatch(rows []float64, n int, out []float64, stride int, tags []int32, nan bool) {
	nan = nan && e.missing
	if e.combine == Sum64 {
		e.predictBatch64(rows, n, out, stride, tags, nan)
		return
	}
	nf := e.features
	var leaves [Block]int32
	var acc [Block]float32
	for lo := 0; lo < n; lo += Block {
		hi := min(lo+Block, n)
		blk := rows[lo*nf : hi*nf]
		var tg []int32
		if tags != nil {
			tg = tags[lo:hi]
		}
		o := out[lo*stride:]
		if e.combine == Mean {
			e.blockMean(blk, hi-lo, o, stride, nan, &leaves, tg)
		} else {
			e.blockSum(blk, hi-lo, o, stride, nan, &leaves, &acc, tg)
		}
	}
}

// blockMean predicts the m <= Block rows in rows for a Mean ensemble: the
// first tree's distributions are written into out, the others' added in
// tree order.
func (e *Ensemble) blockMean(rows []float64, m int, out []float64, stride int, nan bool, leaves *[Block]int32, tags []int32) {
	k := e.outputs
	trees := e.groups[0]
	lv := leaves[:m]
	if len(trees) == 1 && k == 3 && e.walk == Branching && !nan {
		oneTree3(e.nodes, trees[0].root, rows, e.features, e.at, e.dist, out, stride, lv)
		for r := range tags {
			tags[r] = e.tags[lv[r]]
		}
		return
	}
	if e.walk == Branching {
		// Row by row, every tree for one row before the next row: the
		// trees of a forest mostly agree, so the branches of one row's
		// walks predict each other's, where the same tree's walks of
		// different rows do not (the production forest: about 2.5 times
		// less CPU time a row than tree by tree over the block).
		nf := e.features
		for r := range m {
			t := e.predictMean(rows[r*nf:][:nf], out[r*stride:][:k], nan)
			if tags != nil {
				tags[r] = t
			}
		}
		return
	}
	e.walkRows(trees[0], rows, lv, nan)
	for r := range tags {
		tags[r] = e.tags[lv[r]]
	}
	if len(trees) > 1 && k == 3 {
		var acc [Block][3]float64
		a := acc[:m]
		e.blockMean3(rows, lv, a, trees, nan)
		nt := float64(len(trees))
		for r := range a {
			o := out[r*stride:][:3]
			o[0], o[1], o[2] = a[r][0]/nt, a[r][1]/nt, a[r][2]/nt
		}
		return
	}
	for r, i := range lv {
		e.setDist(out[r*stride:][:k], i)
	}
	if len(trees) == 1 {
		return
	}
	for _, t := range trees[1:] {
		e.walkRows(t, rows, lv, nan)
		for r, i := range lv {
			e.addDist(out[r*stride:][:k], i)
		}
	}
	nt := float64(len(trees))
	for r := range lv {
		o := out[r*stride:][:k]
		for c := range o {
			o[c] /= nt
		}
	}
}

// blockMean3 is blockMean's sum for three classes with the Fixed walk,
// in acc (one per row), lv holding the first tree's leaves: sums in an
// array of [3]float64 on the stack cost a fraction of the general loop's
// bounds checks and index arithmetic.
func (e *Ensemble) blockMean3(rows []float64, lv []int32, acc [][3]float64, trees []tree, nan bool) {
	at, dist := e.at, e.dist
	lv = lv[:len(acc)]
	for r := range acc {
		d := dist[at[lv[r]]:][:3]
		acc[r] = [3]float64{d[0], d[1], d[2]}
	}
	for _, t := range trees[1:] {
		e.walkRows(t, rows, lv, nan)
		for r := range acc {
			add3(acc[r][:], dist, at[lv[r]])
		}
	}
}

// oneTree3 is blockMean for a single tree of three classes: it writes
// each row's leaf distribution into out and its leaf into leaves.
func oneTree3(nodes []node, root int32, rows []float64, nf int, at []int32, dist []float64, out []float64, stride int, leaves []int32) {
	for r := range leaves {
		i := leafOf(nodes, root, rows, r*nf)
		leaves[r] = i
		o := uint(uint32(at[i]))
		_ = dist[o+2]
		b := r * stride
		_ = out[b+2]
		out[b], out[b+1], out[b+2] = dist[o], dist[o+1], dist[o+2]
	}
}

// blockSum predicts the m <= Block rows in rows for a Sum ensemble, one
// group at a time: its margins add in acc, float32, in tree order.
func (e *Ensemble) blockSum(rows []float64, m int, out []float64, stride int, nan bool, leaves *[Block]int32, acc *[Block]float32, tags []int32) {
	vals := e.vals
	lv := leaves[:m]
	for g, trees := range e.groups {
		a := acc[:m]
		for r := range a {
			a[r] = e.base[g]
		}
		coffs := e.coffs[g][:len(trees)]
		for j, t := range trees {
			first := j == 0 && g == e.first
			if off := coffs[j]; off >= 0 && !nan && !(first && tags != nil) {
				addComplete(e.cnodes, off, t.depth, rows, e.features, a)
				continue
			}
			e.walkRows(t, rows, lv, nan)
			if first {
				for r := range tags {
					tags[r] = e.tags[lv[r]]
				}
			}
			for r, i := range lv {
				a[r] += vals[i]
			}
		}
		for r, v := range a {
			out[r*stride+g] = float64(v)
		}
	}
}

// walkRows walks the rows through tree t and writes their leaf nodes into
// leaves (one per row): with the Fixed walk four rows at a time, eight in
// a tree deeper than shallow (walkRows8).
func (e *Ensemble) walkRows(t tree, rows []float64, leaves []int32, nan bool) {
	nf := e.features
	if e.walk == Branching {
		if nan {
			for r := range leaves {
				leaves[r] = e.walkLeafNaN(t.root, rows[r*nf:][:nf])
			}
			return
		}
		nodes := e.nodes
		for r := range leaves {
			leaves[r] = leafOf(nodes, t.root, rows, r*nf)
		}
		return
	}
	nodes := e.nodes
	r := 0
	if !nan && t.depth > shallow {
		r = walkRows8(nodes, t, rows, nf, leaves)
	}
	for ; r+4 <= len(leaves); r += 4 {
		// One base and constant offsets: four row slices would take
		// eight registers and spill the walk's state.
		o := rows[r*nf : (r+4)*nf]
		i0, i1, i2, i3 := t.root, t.root, t.root, t.root
		if nan {
			for d := t.depth; d > 0; d-- {
				n0, n1, n2, n3 := &nodes[i0], &nodes[i1], &nodes[i2], &nodes[i3]
				i0 = e.stepNaN(n0, i0, o[n0.feature])
				i1 = e.stepNaN(n1, i1, o[int(n1.feature)+nf])
				i2 = e.stepNaN(n2, i2, o[int(n2.feature)+2*nf])
				i3 = e.stepNaN(n3, i3, o[int(n3.feature)+3*nf])
			}
		} else {
			for d := t.depth; d > 0; d-- {
				n0, n1, n2, n3 := &nodes[i0], &nodes[i1], &nodes[i2], &nodes[i3]
				i0 = stepBranch(n0, i0, o[n0.feature])
				i1 = stepBranch(n1, i1, o[int(n1.feature)+nf])
				i2 = stepBranch(n2, i2, o[int(n2.feature)+2*nf])
				i3 = stepBranch(n3, i3, o[int(n3.feature)+3*nf])
			}
		}
		leaves[r], leaves[r+1], leaves[r+2], leaves[r+3] = i0, i1, i2, i3
	}
	for ; r < len(leaves); r++ {
		leaves[r] = e.walkFixed(t, rows[r*nf:][:nf], nan)
	}
}

// walkRows8 walks rows through t eight rows at a time, branch-free, and
// returns how many rows it walked (a multiple of 8).
func walkRows8(nodes []node, t tree, rows []float64, nf int, leaves []int32) int {
	r := 0
	for ; r+8 <= len(leaves); r += 8 {
		o := rows[r*nf : (r+8)*nf]
		i0, i1, i2, i3, i4, i5, i6, i7 := t.root, t.root, t.root, t.root, t.root, t.root, t.root, t.root
		for d := t.depth; d > 0; d-- {
			n0, n1, n2, n3 := &nodes[i0], &nodes[i1], &nodes[i2], &nodes[i3]
			n4, n5, n6, n7 := &nodes[i4], &nodes[i5], &nodes[i6], &nodes[i7]
			i0 = step(n0, i0, o[n0.feature])
			i1 = step(n1, i1, o[int(n1.feature)+nf])
			i2 = step(n2, i2, o[int(n2.feature)+2*nf])
			i3 = step(n3, i3, o[int(n3.feature)+3*nf])
			i4 = step(n4, i4, o[int(n4.feature)+4*nf])
			i5 = step(n5, i5, o[int(n5.feature)+5*nf])
			i6 = step(n6, i6, o[int(n6.feature)+6*nf])
			i7 = step(n7, i7, o[int(n7.feature)+7*nf])
		}
		l := leaves[r : r+8]
		l[0], l[1], l[2], l[3], l[4], l[5], l[6], l[7] = i0, i1, i2, i3, i4, i5, i6, i7
	}
	return r
}
