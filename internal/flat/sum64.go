package flat

import "fmt"

// Sum64 ensembles: float64 leaf values summed per group in tree order, as
// LightGBM and scikit-learn's gradient boosting sum them, and categorical
// splits (a set of categories that go left). Only Sum64 ensembles take
// categorical splits, and only an ensemble that has one walks with
// walkCat: the other ensembles' walks are unchanged.

// NewSum64 returns an empty ensemble that adds float64 leaf values per
// output group, each group starting from its base (one per group). With
// missing, NaN is a missing value routed by each split's MissingLeft;
// without, the caller must refuse rows holding NaN.
func NewSum64(features int, base []float64, missing bool) *Ensemble {
	return &Ensemble{combine: Sum64, features: features, outputs: len(base), walk: Fixed,
		base64: append([]float64(nil), base...), missing: missing, groups: make([][]tree, len(base)),
		covered: true, expectSum: make([]float64, len(base))}
}

// AddSum64 appends a tree of output group g to a Sum64 ensemble. Trees are
// summed in the order they are added. Its leaves' values are Value64;
// a split with Categories is a categorical split.
func (e *Ensemble) AddSum64(nodes []Node, g int) error {
	if e.combine != Sum64 {
		return fmt.Errorf("%w: AddSum64 on a Mean or Sum ensemble", errTree)
	}
	if g < 0 || g >= e.outputs {
		return fmt.Errorf("%w: group %d outside [0, %d)", errTree, g, e.outputs)
	}
	return e.add(nodes, g)
}

// InSet reports whether a categorical split with the set words sends x
// left: x's category is x truncated toward zero (LightGBM's
// static_cast<int>), and category c is bit c%32 of word c/32. NaN,
// negative categories, categories beyond int32 and beyond the set go
// right.
func InSet(words []uint32, x float64) bool {
	if !(x > -1 && x < 1<<31) {
		return false
	}
	c := uint32(x)
	return int(c/32) < len(words) && words[c/32]>>(c%32)&1 != 0
}

// catSet returns categorical node i's set.
func (e *Ensemble) catSet(c int32) []uint32 { return e.catWords[e.catOff[c]:e.catOff[c+1]] }

// walkCat walks row from node i to its leaf, branching, in an ensemble
// with categorical splits; nan says whether row may hold NaN.
func (e *Ensemble) walkCat(i int32, row []float64, nan bool) int32 {
	nodes, cat := e.nodes, e.cat
	for {
		n := &nodes[i]
		if n.right == i {
			return i
		}
		x := row[n.feature]
		var right bool
		if c := cat[i]; c >= 0 {
			right = !InSet(e.catSet(c), x)
		} else {
			right = x > n.bound
		}
		if nan && x != x {
			right = e.nanRight[i]
		}
		if right {
			i = n.right
		} else {
			i++
		}
	}
}

// walk64 walks row through t in a Sum64 ensemble.
func (e *Ensemble) walk64(t tree, row []float64, nan bool) int32 {
	if e.cat != nil {
		return e.walkCat(t.root, row, nan)
	}
	return e.walkFixed(t, row, nan)
}

// predictSum64 is Predict for a Sum64 ensemble: each group's value adds
// its trees' leaf values in float64, in the order they were added.
func (e *Ensemble) predictSum64(row, out []float64, nan bool) int32 {
	out = out[:e.outputs]
	vals := e.vals64
	var tag int32
	for g, trees := range e.groups {
		s := e.base64[g]
		if g == e.first && len(trees) > 0 {
			i := e.walk64(trees[0], row, nan)
			tag = e.tags[i]
			s += vals[i]
			trees = trees[1:]
		}
		if e.cat == nil {
			for ; len(trees) >= 4; trees = trees[4:] {
				i0, i1, i2, i3 := e.walk4(trees, row, nan)
				s += vals[i0]
				s += vals[i1]
				s += vals[i2]
				s += vals[i3]
			}
		}
		for _, t := range trees {
			s += vals[e.walk64(t, row, nan)]
		}
		out[g] = s
	}
	return tag
}

// predictBatch64 is PredictBatch for a Sum64 ensemble.
func (e *Ensemble) predictBatch64(rows []float64, n int, out []float64, stride int, tags []int32, nan bool) {
	nf := e.features
	var leaves [Block]int32
	var acc [Block]float64
	vals := e.vals64
	for lo := 0; lo < n; lo += Block {
		hi := min(lo+Block, n)
		blk := rows[lo*nf : hi*nf]
		o := out[lo*stride:]
		lv := leaves[:hi-lo]
		for g, trees := range e.groups {
			a := acc[:hi-lo]
			for r := range a {
				a[r] = e.base64[g]
			}
			for j, t := range trees {
				if e.cat != nil {
					for r := range lv {
						lv[r] = e.walkCat(t.root, blk[r*nf:][:nf], nan)
					}
				} else {
					e.walkRows(t, blk, lv, nan)
				}
				if j == 0 && g == e.first && tags != nil {
					for r, i := range lv {
						tags[lo+r] = e.tags[i]
					}
				}
				for r, i := range lv {
					a[r] += vals[i]
				}
			}
			for r, v := range a {
				o[r*stride+g] = v
			}
		}
	}
}
