package golden

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/ml-production-service/classify"
)

// Failure is one case the model did not answer as the reference did.
type Failure struct {
	Case  int    // index into File.Cases
	Name  string // the case's name
	Want  string // the reference's label
	Got   string // the model's label; "" when the model refused the row
	Err   error  // why the model refused the row (wraps classify.ErrInput for a row it does not take)
	Proba []float64
	// Batch is set when PredictBatch answered this case differently from
	// Predict (class or probabilities, bit for bit).
	Batch bool
}

func (f Failure) String() string {
	switch {
	case f.Err != nil:
		return fmt.Sprintf("%s: refused: %s", f.Name, strings.TrimPrefix(f.Err.Error(), "classify: "))
	case f.Batch:
		return fmt.Sprintf("%s: PredictBatch answered %s %v, unlike Predict (%s)", f.Name, f.Got, f.Proba, f.Want)
	}
	return fmt.Sprintf("%s: label %s, reference %s (probabilities %v)", f.Name, f.Got, f.Want, f.Proba)
}

// Result is what Check found.
type Result struct {
	Cases      int       // cases checked
	Mismatches []Failure // cases whose label differs from the reference's, in case order
	Refused    []Failure // cases the model refused, in case order
	BatchDiffs []Failure // cases PredictBatch answered unlike Predict
	// MaxDiff is the largest absolute difference between a probability the
	// model gave and the reference's, over every case the model answered
	// (+Inf when the model gave NaN); MaxDiffCase and MaxDiffClass say
	// where (-1 when no case was answered).
	MaxDiff      float64
	MaxDiffCase  int
	MaxDiffClass int
	Tolerance    float64
}

// OK reports whether the model matched the reference: every label, no
// refused case, the batch path equal to the single-row path, and every
// probability within Tolerance.
func (r *Result) OK() bool {
	return len(r.Mismatches) == 0 && len(r.Refused) == 0 && len(r.BatchDiffs) == 0 && r.MaxDiff <= r.Tolerance
}

// Failures returns every failing case, in case order.
func (r *Result) Failures() []Failure {
	all := slices.Concat(r.Mismatches, r.Refused, r.BatchDiffs)
	slices.SortStableFunc(all, func(a, b Failure) int { return a.Case - b.Case })
	return all
}

// Check predicts every case of f with m and compares the answers with the
// reference's: labels exactly, probabilities within tolerance. It also
// predicts the cases as one PredictBatch call (when the model refused none)
// and requires the same classes and probabilities, bit for bit. It returns
// an error, and no result, when m's features or classes are not the file's
// (in the same order): the cases cannot be compared then.
func Check(m classify.Model, f *File, tolerance float64) (*Result, error) {
	info := m.Info()
	if !slices.Equal(info.Features, f.Features) {
		return nil, fmt.Errorf("golden: the model's features %v are not the file's %v", info.Features, f.Features)
	}
	if !slices.Equal(info.Classes, f.Classes) {
		return nil, fmt.Errorf("golden: the model's classes %v are not the file's %v", info.Classes, f.Classes)
	}
	nf, nc := len(f.Features), len(f.Classes)
	r := &Result{Cases: len(f.Cases), MaxDiffCase: -1, MaxDiffClass: -1, Tolerance: tolerance}
	classes := make([]int, len(f.Cases))
	proba := make([]float64, len(f.Cases)*nc)
	for i, c := range f.Cases {
		p, err := m.Predict(c.Input, proba[i*nc:(i+1)*nc])
		if err != nil {
			r.Refused = append(r.Refused, Failure{Case: i, Name: c.Name, Want: c.Label, Err: err})
			continue
		}
		classes[i] = p.Class
		got := p.Probabilities
		copy(proba[i*nc:(i+1)*nc], got) // a model may answer in a slice of its own
		if p.Label != c.Label {
			r.Mismatches = append(r.Mismatches, Failure{Case: i, Name: c.Name, Want: c.Label, Got: p.Label, Proba: slices.Clone(got)})
		}
		if len(got) != nc {
			r.MaxDiff, r.MaxDiffCase, r.MaxDiffClass = math.Inf(1), i, -1
			continue
		}
		for j, want := range c.Proba {
			d := math.Abs(got[j] - want)
			if d != d {
				d = math.Inf(1)
			}
			if d > r.MaxDiff || r.MaxDiffCase < 0 {
				r.MaxDiff, r.MaxDiffCase, r.MaxDiffClass = d, i, j
			}
		}
	}
	if len(r.Refused) > 0 {
		return r, nil
	}
	rows := make([]float64, 0, len(f.Cases)*nf)
	for _, c := range f.Cases {
		rows = append(rows, c.Input...)
	}
	batchClasses := make([]int, len(f.Cases))
	batchProba := make([]float64, len(proba))
	if err := m.PredictBatch(rows, batchClasses, batchProba); err != nil {
		r.BatchDiffs = append(r.BatchDiffs, Failure{Name: "PredictBatch", Err: err, Batch: true})
		return r, nil
	}
	for i, c := range f.Cases {
		if batchClasses[i] != classes[i] || !sameBits(batchProba[i*nc:(i+1)*nc], proba[i*nc:(i+1)*nc]) {
			r.BatchDiffs = append(r.BatchDiffs, Failure{Case: i, Name: c.Name, Want: f.Classes[classes[i]],
				Got: label(f.Classes, batchClasses[i]), Proba: slices.Clone(batchProba[i*nc : (i+1)*nc]), Batch: true})
		}
	}
	return r, nil
}

// sameBits reports whether a and b hold the same float64 bits (NaN equal
// to NaN).
func sameBits(a, b []float64) bool {
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

func label(classes []string, i int) string {
	if i < 0 || i >= len(classes) {
		return fmt.Sprintf("class #%d", i)
	}
	return classes[i]
}
