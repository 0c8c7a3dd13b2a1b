package classify

import "github.com/ml-production-service/classify/internal/flat"

// RawOutputs writes the raw outputs Contributions explains for row into
// out (len(Outputs()) values), for the external tests: a tree's or a
// forest's probabilities, a boosted model's margins as the engine adds
// them, before the link (divided as the model divides them). It takes a
// row the model accepts.
func RawOutputs(m Model, row, out []float64) {
	switch m := m.(type) {
	case *Tree:
		m.e.ens.Predict(row, out, flat.HasNaN(row))
	case *Forest:
		m.e.ens.Predict(row, out, flat.HasNaN(row))
	case *Booster:
		p := make([]float64, m.nClasses)
		m.e.ens.Predict(row, p, flat.HasNaN(row))
		copy(out, p[:m.nGroups])
	case *Boosted:
		x := append([]float64(nil), row...)
		if m.pre != nil {
			m.pre(x, row)
		}
		m.e.Predict(x, out, flat.HasNaN(x))
		if m.divide != 0 {
			for i := range out {
				out[i] /= m.divide
			}
		}
	}
}
