package flat

// Block is the number of rows a batch walks through each tree before it
// moves to the next tree: the tree's nodes stay in the cache for the
// whole block, and the block's rows too for all trees.
const Block = 64

// PredictBatch writes the prediction of each of the n rows stored back to
// back in rows (Features values each, checked as for Predict) into out:
// row r's Outputs values at out[r*stride:], stride >= Outputs; and, when
// tags is not nil, the Tag of row r's leaf in the first tree into tags[r].
// It walks blocks of rows through each tree and allocates nothing.
func (e *Ensemble) PredictBatch(rows []float64, n int, out []float64, stride int, tags []int32) {
	nf := e.features
	var leaves [Block]int32
	for lo := 0; lo < n; lo += Block {
		hi := min(lo+Block, n)
		blk := rows[lo*nf : hi*nf]
		var tg []int32
		if tags != nil {
			tg = tags[lo:hi]
		}
		e.block(blk, hi-lo, out[lo*stride:], stride, e.missing && hasNaN(blk), &leaves, tg)
	}
}

// block predicts the m <= Block rows in rows. They are walked four at a
// time through each tree, writing leaf table indexes into leaves; then the
// leaves are added into out, so every output is still summed in tree
// order.
func (e *Ensemble) block(rows []float64, m int, out []float64, stride int, nan bool, leaves *[Block]int32, tags []int32) {
	k := e.outputs
	for r := 0; r < m; r++ {
		o := out[r*stride:][:k]
		if e.combine == Sum {
			for c, v := range e.base {
				o[c] = float64(v)
			}
			continue
		}
		for c := range o {
			o[c] = 0
		}
	}
	for t := range e.roots {
		e.walkRows(t, rows, m, leaves, nan)
		if t == 0 && tags != nil {
			for r, leaf := range leaves[:m] {
				tags[r] = e.tags[leaf]
			}
		}
		if e.combine == Mean {
			for r, leaf := range leaves[:m] {
				dist := e.dist[int(leaf)*k:][:k]
				o := out[r*stride:][:k]
				for c := range o {
					o[c] += dist[c]
				}
			}
			continue
		}
		g := int(e.group[t])
		vals := e.vals
		for r, leaf := range leaves[:m] {
			o := &out[r*stride+g]
			*o = float64(float32(*o) + vals[leaf])
		}
	}
	if e.combine == Mean && len(e.roots) > 1 {
		nt := float64(len(e.roots))
		for r := 0; r < m; r++ {
			o := out[r*stride:][:k]
			for c := range o {
				o[c] /= nt
			}
		}
	}
}

// walkRows walks the m rows through tree t, four at a time, and writes
// their leaves' table indexes into leaves.
func (e *Ensemble) walkRows(t int, rows []float64, m int, leaves *[Block]int32, nan bool) {
	nodes := e.nodes
	nf := e.features
	root, depth := e.roots[t], e.depth[t]
	r := 0
	for ; r+4 <= m; r += 4 {
		// One base and constant offsets: four row slices would take
		// eight registers and spill the walk's state.
		o := rows[r*nf : (r+4)*nf]
		i0, i1, i2, i3 := root, root, root, root
		if nan {
			for d := depth; d > 0; d-- {
				n0, n1, n2, n3 := &nodes[i0], &nodes[i1], &nodes[i2], &nodes[i3]
				i0 = stepNaN(n0, o[n0.feature])
				i1 = stepNaN(n1, o[int(n1.feature)+nf])
				i2 = stepNaN(n2, o[int(n2.feature)+2*nf])
				i3 = stepNaN(n3, o[int(n3.feature)+3*nf])
			}
		} else {
			for d := depth; d > 0; d-- {
				n0, n1, n2, n3 := &nodes[i0], &nodes[i1], &nodes[i2], &nodes[i3]
				i0 = step(n0, o[n0.feature])
				i1 = step(n1, o[int(n1.feature)+nf])
				i2 = step(n2, o[int(n2.feature)+2*nf])
				i3 = step(n3, o[int(n3.feature)+3*nf])
			}
		}
		leaves[r], leaves[r+1], leaves[r+2], leaves[r+3] = nodes[i0].leafIndex(), nodes[i1].leafIndex(), nodes[i2].leafIndex(), nodes[i3].leafIndex()
	}
	for ; r < m; r++ {
		leaves[r] = nodes[e.walk1(t, rows[r*nf:][:nf], nan)].leafIndex()
	}
}
