package classify

import "github.com/ml-production-service/classify/internal/flat"

// EngineRow returns row as m's engine reads it: rewritten by a Boosted
// model's pre (HistGradientBoosting's category codes, LightGBM's zero as
// missing), as it is otherwise. For trees_walk_test.go.
func EngineRow(m Model, row []float64) []float64 {
	if b, ok := m.(*Boosted); ok && b.pre != nil {
		x := make([]float64, len(row))
		b.pre(x, row)
		return x
	}
	return row
}

// EngineLeaf returns the leaf the engine reaches in tree t for an engine
// row, as an index into TreeGraph(t).Nodes.
func EngineLeaf(m Model, t int, x []float64) int {
	var e *flat.Ensemble
	switch m := m.(type) {
	case *Tree:
		e = m.e.ens
	case *Forest:
		e = m.e.ens
	case *Booster:
		e = m.e.ens
	case *Boosted:
		e = m.e
	}
	return int(e.Leaf(t, x) - e.Root(t))
}
