package classify

import (
	"math"

	"github.com/ml-production-service/classify/internal/flat"
)

// TreeModel for the four tree types: their trees read back from the flat
// engine (internal/flat), which keeps each node's threshold as the
// library wrote it, its cover and its gain beside what the walks read;
// and the importances each library reports, computed as the library
// computes them, in the same order of additions where that decides the
// last bit.

var (
	_ TreeModel = (*Tree)(nil)
	_ TreeModel = (*Forest)(nil)
	_ TreeModel = (*Booster)(nil)
	_ TreeModel = (*Boosted)(nil)
)

// The rules of TreeGraph.Rule: how each library's splits decide.
const (
	ruleSklearn = "float32(x) <= t" // scikit-learn trees, forests, GradientBoosting
	ruleXGBoost = "float32(x) < t"
	ruleDouble  = "x <= t" // LightGBM, HistGradientBoosting
)

// The importances' GainKind, as the libraries name them.
const (
	gainSklearn = "feature_importances_"
	gainXGBoost = "total_gain"
	gainLGBM    = "gain"
	gainHGB     = "total_split_gain"
)

// Trees returns 1: a decision tree is one tree.
func (m *Tree) Trees() int { return 1 }

// TreeGraph returns the tree (i must be 0; any other i gives a TreeGraph
// without nodes). Its leaves' Value is the class distribution
// predict_proba gives there; Cover and Gain are zero for a dump without
// node statistics (classify/sklearn-trees before version 3).
func (m *Tree) TreeGraph(i int) TreeGraph { return treeGraph(m.e.ens, i, ruleSklearn) }

// Importance returns the splits per feature and scikit-learn's
// feature_importances_ (the tree's weighted impurity decrease per feature,
// divided by the root's weighted samples, normalised to sum to 1). Gain is
// all zeros for a dump without node statistics.
func (m *Tree) Importance() Importance {
	imp := m.e.importance(m.info.Features)
	imp.Gain = m.e.sklearnTree(0, true)
	return imp
}

// TreeGraph returns tree i, 0 <= i < Trees() (a TreeGraph without nodes
// otherwise), as Tree.TreeGraph does.
func (m *Forest) TreeGraph(i int) TreeGraph { return treeGraph(m.e.ens, i, ruleSklearn) }

// Importance returns the splits per feature over the trees and
// scikit-learn's feature_importances_ of the forest: the mean of its
// trees' normalised importances (trees of one node left out), normalised.
// Gain is all zeros for a dump without node statistics.
func (m *Forest) Importance() Importance {
	imp := m.e.importance(m.info.Features)
	var per [][]float64
	for t := range m.e.ens.Trees() {
		if m.e.ens.TreeLen(t) > 1 {
			per = append(per, m.e.sklearnTree(t, true))
		}
	}
	imp.Gain = meanNormalised(per, len(m.info.Features))
	return imp
}

// Trees returns the number of trees: rounds times output groups.
func (b *Booster) Trees() int { return b.e.ens.Trees() }

// TreeGraph returns tree i, 0 <= i < Trees() (a TreeGraph without nodes
// otherwise): thresholds as XGBoost stores them (float32), a leaf's one
// value, covers as sum_hess and gains as loss_chg.
func (b *Booster) TreeGraph(i int) TreeGraph { return treeGraph(b.e.ens, i, ruleXGBoost) }

// Importance returns XGBoost's get_score: Splits its "weight", Gain its
// "total_gain", summed in float32 as XGBoost sums it (tree by tree, each
// tree's nodes depth-first with the right child first).
func (b *Booster) Importance() Importance {
	ens := b.e.ens
	imp := Importance{Features: append([]string(nil), b.info.Features...), Splits: make([]int, b.nFeatures), GainKind: gainXGBoost}
	gain := make([]float32, b.nFeatures)
	for t := range ens.Trees() {
		root := ens.Root(t)
		stack := []int32{0}
		for len(stack) > 0 {
			k := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			nd := ens.Node(root + k)
			if nd.Leaf {
				continue
			}
			imp.Splits[nd.Feature]++
			gain[nd.Feature] += float32(nd.Gain)
			stack = append(stack, k+1, int32(nd.Right)) // the right child is visited first
		}
	}
	imp.Gain = make([]float64, len(gain))
	for f, g := range gain {
		imp.Gain[f] = float64(g)
	}
	return imp
}

// Trees returns the number of trees: iterations times output groups.
func (b *Boosted) Trees() int { return b.e.Trees() }

// TreeGraph returns tree i, 0 <= i < Trees() (a TreeGraph without nodes
// otherwise). LightGBM and HistGradientBoosting trees compare doubles
// ("x <= t"), GradientBoosting's as scikit-learn's trees do; a leaf's
// Value is what the tree adds (for GradientBoosting, learning_rate times
// the leaf's value). A categorical split lists the categories that go
// left: LightGBM's categories themselves, and for HistGradientBoosting
// their codes, the positions of the raw values in the feature's sorted
// known categories (the dump's "categories").
func (b *Boosted) TreeGraph(i int) TreeGraph {
	rule := ruleDouble
	if b.info.Kind == GradientBoosting {
		rule = ruleSklearn
	}
	return treeGraph(b.e, i, rule)
}

// Importance returns the importances each library reports: LightGBM's
// feature_importance "split" and "gain" (splits of positive gain only, as
// LightGBM counts them, gains as the float32 LightGBM holds); for
// GradientBoosting scikit-learn's feature_importances_ (each tree's
// impurity decrease per feature over its root's weighted samples, averaged
// over the trees of more than one node, normalised); for
// HistGradientBoosting, for which scikit-learn reports none, the splits
// and the sum of their gain per input feature.
func (b *Boosted) Importance() Importance {
	nf := len(b.info.Features)
	imp := Importance{Features: append([]string(nil), b.info.Features...), Splits: make([]int, nf), Gain: make([]float64, nf)}
	var per [][]float64 // GradientBoosting: each tree's importances
	for t := range b.e.Trees() {
		root, n := b.e.Root(t), b.e.TreeLen(t)
		tree := make([]float64, nf)
		for k := range n {
			nd := b.e.Node(root + int32(k))
			if nd.Leaf {
				continue
			}
			switch b.info.Kind {
			case LightGBM:
				if g := float64(float32(nd.Gain)); g > 0 {
					imp.Splits[nd.Feature]++
					imp.Gain[nd.Feature] += g
				}
			case GradientBoosting:
				imp.Splits[nd.Feature]++
				tree[nd.Feature] += nd.Gain
			default:
				imp.Splits[nd.Feature]++
				imp.Gain[nd.Feature] += nd.Gain
			}
		}
		if b.info.Kind == GradientBoosting && n > 1 {
			if c := b.e.Node(root).Cover; c > 0 {
				for f := range tree {
					tree[f] /= c
				}
			}
			per = append(per, tree)
		}
	}
	switch b.info.Kind {
	case LightGBM:
		imp.GainKind = gainLGBM
	case GradientBoosting:
		imp.GainKind = gainSklearn
		imp.Gain = meanNormalised(per, nf)
	default:
		imp.GainKind = gainHGB
	}
	return imp
}

// treeGraph reads tree i of e back as a TreeGraph.
func treeGraph(e *flat.Ensemble, i int, rule string) TreeGraph {
	if i < 0 || i >= e.Trees() {
		return TreeGraph{Rule: rule}
	}
	root, n := e.Root(i), e.TreeLen(i)
	g := TreeGraph{Output: e.Group(i), Rule: rule, Nodes: make([]TreeNode, n)}
	for k := range n {
		nd := e.Node(root + int32(k))
		tn := TreeNode{Feature: -1, Left: -1, Right: -1, Cover: nd.Cover, Gain: nd.Gain}
		if math.IsNaN(tn.Cover) {
			tn.Cover = 0 // the artifact records none
		}
		switch {
		case nd.Leaf && e.Combine() == flat.Mean:
			tn.Value = nd.Dist
		case nd.Leaf && e.Combine() == flat.Sum:
			tn.Value = []float64{float64(nd.Value)}
		case nd.Leaf:
			tn.Value = []float64{nd.Value64}
		default:
			tn.Feature, tn.Left, tn.Right, tn.MissingLeft = nd.Feature, k+1, nd.Right, nd.MissingLeft
			if nd.Categories != nil {
				tn.Categories = categories(nd.Categories)
			} else {
				tn.Threshold = nd.Threshold
			}
		}
		g.Nodes[k] = tn
	}
	return g
}

// categories lists the members of a bitset (category c is bit c%32 of
// word c/32), in increasing order.
func categories(words []uint32) []int {
	out := []int{}
	for w, word := range words {
		for bit := range 32 {
			if word>>bit&1 != 0 {
				out = append(out, w*32+bit)
			}
		}
	}
	return out
}

// importance counts the splits of a scikit-learn tree or forest per
// feature; its Gain is left to the caller.
func (e *flatTrees) importance(features []string) Importance {
	imp := Importance{Features: append([]string(nil), features...), Splits: make([]int, len(features)), GainKind: gainSklearn}
	for i := range e.ids {
		if nd := e.ens.Node(int32(i)); !nd.Leaf {
			imp.Splits[nd.Feature]++
		}
	}
	return imp
}

// sklearnTree is scikit-learn's Tree.compute_feature_importances(
// normalize) for tree t: the gains (weighted impurity decreases) summed
// per feature in the dump's node order, divided by the root's weighted
// samples, then, when normalize, divided by their sum (NumPy's) if it is
// positive. Without node statistics every gain is zero and so is the
// result.
func (e *flatTrees) sklearnTree(t int, normalize bool) []float64 {
	imp := make([]float64, e.nf)
	root, n := e.ens.Root(t), e.ens.TreeLen(t)
	// order[id] is the engine node of dump node id: scikit-learn adds the
	// gains in its node order, not the engine's preorder.
	order := make([]int32, n)
	for k := range n {
		order[e.ids[int(root)+k]] = root + int32(k)
	}
	for _, i := range order {
		if nd := e.ens.Node(i); !nd.Leaf {
			imp[nd.Feature] += nd.Gain
		}
	}
	if c := e.ens.Node(root).Cover; c > 0 {
		for f := range imp {
			imp[f] /= c
		}
	}
	if normalize {
		if s := npSum(imp); s > 0 {
			for f := range imp {
				imp[f] /= s
			}
		}
	}
	return imp
}

// meanNormalised is NumPy's mean(per, axis=0) (the trees added in order,
// divided by their count) divided by its sum, as scikit-learn's forests
// and GradientBoosting finish feature_importances_; zeros when there are
// no trees or the sum is not positive (scikit-learn would divide zero by
// zero).
func meanNormalised(per [][]float64, nf int) []float64 {
	out := make([]float64, nf)
	if len(per) == 0 {
		return out
	}
	for _, p := range per {
		for f, v := range p {
			out[f] += v
		}
	}
	for f := range out {
		out[f] /= float64(len(per))
	}
	s := npSum(out)
	if !(s > 0) {
		return make([]float64, nf)
	}
	for f := range out {
		out[f] /= s
	}
	return out
}

// npSum is NumPy's sum of a float64 array, its pairwise summation to the
// last bit: below 8 values one by one; up to 128 in eight running sums
// combined as ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)), then the rest one by
// one; above, the two halves (the first a multiple of 8) summed so.
func npSum(a []float64) float64 {
	n := len(a)
	switch {
	case n < 8:
		s := 0.0
		for _, v := range a {
			s += v
		}
		return s
	case n <= 128:
		var r [8]float64
		copy(r[:], a[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			for j := range r {
				r[j] += a[i+j]
			}
		}
		s := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			s += a[i]
		}
		return s
	}
	h := n / 2
	h -= h % 8
	return npSum(a[:h]) + npSum(a[h:])
}
