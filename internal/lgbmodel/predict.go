package lgbmodel

import "math"

// Leaf returns the leaf of tree t that row reaches, following LightGBM's
// Tree::GetLeaf, NumericalDecision and CategoricalDecision on a row whose
// values within ZeroThreshold of zero have been zeroed (Zero does that).
func (t *Tree) Leaf(row []float64) int {
	if len(t.SplitFeature) == 0 {
		return 0
	}
	n := int32(0)
	for n >= 0 {
		if t.decide(int(n), row[t.SplitFeature[n]]) {
			n = t.Left[n]
		} else {
			n = t.Right[n]
		}
	}
	return int(^n)
}

// decide reports whether split i sends x left.
func (t *Tree) decide(i int, x float64) bool {
	if t.IsCategorical(i) {
		return InBitset(t.Bitset(i), x)
	}
	mt := t.MissingType(i)
	if math.IsNaN(x) && mt != MissingNaN {
		x = 0
	}
	if (mt == MissingZero && -ZeroThreshold <= x && x <= ZeroThreshold) || (mt == MissingNaN && math.IsNaN(x)) {
		return t.DefaultLeft(i)
	}
	return x <= t.Threshold[i]
}

// Zero writes row into dst with every value within ZeroThreshold of zero
// replaced by 0, as LightGBM's C API drops them from a dense row
// (RowPairFunctionFromDenseMatrix); NaN is kept.
func Zero(dst, row []float64) {
	for i, v := range row {
		if math.Abs(v) <= ZeroThreshold {
			v = 0
		}
		dst[i] = v
	}
}

// Raw writes the model's raw scores for row (Features values) into raw
// (Groups values), as GBDT::PredictRaw: each tree's leaf value added in
// float64 in tree order to its group, divided by the iteration count for
// average_output. It is the reference the serving engine is tested
// against, not a fast path.
func (m *Model) Raw(row, raw []float64) {
	x := make([]float64, len(row))
	Zero(x, row)
	clear(raw)
	for i := range m.Trees {
		t := &m.Trees[i]
		raw[i%m.Groups] += t.LeafValue[t.Leaf(x)]
	}
	if m.AverageOutput {
		iters := float64(len(m.Trees) / m.Groups)
		for k := range raw {
			raw[k] /= iters
		}
	}
}

// Proba writes the probabilities predict_proba gives for raw scores into
// p (Classes values): binary [1-q, q] with q = 1/(1+exp(-sigmoid*raw));
// multiclass softmax; multiclassova each class's sigmoid, not normalised.
func (m *Model) Proba(raw, p []float64) {
	switch m.Objective {
	case "binary":
		q := 1 / (1 + math.Exp(-m.Sigmoid*raw[0]))
		p[0], p[1] = 1-q, q
	case "multiclassova":
		for k, v := range raw {
			p[k] = 1 / (1 + math.Exp(-m.Sigmoid*v))
		}
	default:
		mx := raw[0]
		for _, v := range raw[1:] {
			mx = max(mx, v)
		}
		s := 0.0
		for k, v := range raw {
			p[k] = math.Exp(v - mx)
			s += p[k]
		}
		for k := range p {
			p[k] /= s
		}
	}
}
