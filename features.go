package classify

import (
	"slices"
	"strings"
)

// FeatureError reports named features that did not match a model's schema.
// It matches ErrFeature with errors.Is.
type FeatureError struct {
	Missing []string // features the model needs that were not given, in schema order
	Unknown []string // names given that the model does not know, sorted
}

func (e *FeatureError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, "missing "+strings.Join(e.Missing, ", "))
	}
	if len(e.Unknown) > 0 {
		parts = append(parts, "unknown "+strings.Join(e.Unknown, ", "))
	}
	return "classify: features do not match the model: " + strings.Join(parts, "; ")
}

// Is reports whether target is ErrFeature.
func (e *FeatureError) Is(target error) bool { return target == ErrFeature }

// Row orders named values as the schema's features into dst (reused when it
// has room) and returns it. A name the schema lacks, or a feature with no
// value, gives a *FeatureError naming all of them.
func Row(info Info, values map[string]float64, dst []float64) ([]float64, error) {
	row := probaBuffer(dst, len(info.Features))
	var fe FeatureError
	for i, name := range info.Features {
		v, ok := values[name]
		if !ok {
			fe.Missing = append(fe.Missing, name)
		}
		row[i] = v
	}
	if len(values) > len(info.Features)-len(fe.Missing) {
		for name := range values {
			if !slices.Contains(info.Features, name) {
				fe.Unknown = append(fe.Unknown, name)
			}
		}
		slices.Sort(fe.Unknown)
	}
	if len(fe.Missing) > 0 || len(fe.Unknown) > 0 {
		return nil, &fe
	}
	return row, nil
}

// PredictNamed classifies one row given as feature names and values, mapped
// through m's schema. It is the convenience for callers that hold named
// values (a decoded request, say); Predict is the fast path.
func PredictNamed(m Model, values map[string]float64, proba []float64) (Prediction, error) {
	row, err := Row(m.Info(), values, nil)
	if err != nil {
		return Prediction{}, err
	}
	p, err := m.Predict(row, proba)
	if err != nil {
		return Prediction{}, err
	}
	return p, nil
}
