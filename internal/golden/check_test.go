package golden

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/internal/modeltest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// irisFile returns v2File read, for checks against the Iris rules.
func irisFile(t *testing.T) *File {
	t.Helper()
	f, err := Read(strings.NewReader(v2File))
	require.NoError(t, err)
	return f
}

func TestCheckMissingValues(t *testing.T) {
	f := irisFile(t)
	// The rules refuse NaN: the case with a missing value is refused, named.
	r, err := Check(classify.IrisRules(), f, 1e-9)
	require.NoError(t, err)
	assert.False(t, r.OK())
	require.Len(t, r.Refused, 1)
	assert.Equal(t, "b", r.Refused[0].Name)
	assert.ErrorIs(t, r.Refused[0].Err, classify.ErrInput)
	assert.Equal(t, "b: refused: invalid input: feature 1 is NaN", r.Refused[0].String())
	assert.Empty(t, r.Mismatches)
	assert.Empty(t, r.BatchDiffs, "no batch check when a case was refused")

	// A model that takes missing values answers it.
	r, err = Check(modeltest.Missing(classify.IrisRules(), 3.0), f, 1e-9)
	require.NoError(t, err)
	assert.True(t, r.OK(), "%v", r.Failures())
	assert.Equal(t, 2, r.Cases)
	assert.Equal(t, 0.0, r.MaxDiff)
}

func TestCheckLabelMismatch(t *testing.T) {
	f := irisFile(t)
	f.Cases[0].Label, f.Cases[0].Proba = "versicolor", []float64{0, 1, 0}
	r, err := Check(modeltest.Missing(classify.IrisRules(), 3.0), f, 1e-9)
	require.NoError(t, err)
	assert.False(t, r.OK())
	require.Len(t, r.Mismatches, 1)
	m := r.Mismatches[0]
	assert.Equal(t, "a", m.Name)
	assert.Equal(t, 0, m.Case)
	assert.Equal(t, "versicolor", m.Want)
	assert.Equal(t, "setosa", m.Got)
	assert.Equal(t, "a: label setosa, reference versicolor (probabilities [1 0 0])", m.String())
	assert.Equal(t, 1.0, r.MaxDiff)
	assert.Equal(t, 0, r.MaxDiffCase)
	assert.Equal(t, 0, r.MaxDiffClass)
	assert.Equal(t, []Failure{m}, r.Failures())
}

func TestCheckTolerance(t *testing.T) {
	f := irisFile(t)
	f.Cases[1].Proba = []float64{0, 1e-7, 1 - 1e-7}
	m := modeltest.Missing(classify.IrisRules(), 3.0)
	r, err := Check(m, f, 1e-9)
	require.NoError(t, err)
	assert.False(t, r.OK(), "1e-7 is beyond 1e-9")
	assert.Empty(t, r.Failures(), "labels all match")
	assert.InDelta(t, 1e-7, r.MaxDiff, 1e-12)
	assert.Equal(t, 1, r.MaxDiffCase)
	assert.Equal(t, 1, r.MaxDiffClass, "the first class with the largest difference")

	r, err = Check(m, f, 1e-6)
	require.NoError(t, err)
	assert.True(t, r.OK())
}

func TestCheckSchema(t *testing.T) {
	f := irisFile(t)
	f.Features = []string{"a", "b", "c", "d"}
	_, err := Check(classify.IrisRules(), f, 0)
	assert.ErrorContains(t, err, "golden: the model's features [sepal_length sepal_width petal_length petal_width] are not the file's [a b c d]")

	f = irisFile(t)
	f.Classes = []string{"virginica", "versicolor", "setosa"}
	_, err = Check(classify.IrisRules(), f, 0)
	assert.ErrorContains(t, err, "classes")
}

// odd is a model whose answers the tests choose: one probability vector
// for Predict, another (or an error) for PredictBatch.
type odd struct {
	classify.Model
	proba      []float64
	batchClass int
	batchErr   error
}

func (o *odd) Predict(row, proba []float64) (classify.Prediction, error) {
	p := append([]float64(nil), o.proba...) // not the caller's buffer
	return classify.Prediction{Class: 0, Label: "setosa", Probabilities: p}, nil
}

func (o *odd) PredictBatch(rows []float64, classes []int, proba []float64) error {
	if o.batchErr != nil {
		return o.batchErr
	}
	for i := range classes {
		classes[i] = o.batchClass
		copy(proba[i*3:], o.proba)
	}
	return nil
}

func TestCheckBatchAndOddAnswers(t *testing.T) {
	f := irisFile(t)
	f.Cases = f.Cases[:1]

	// Probabilities in a slice of the model's own are compared too.
	r, err := Check(&odd{Model: classify.IrisRules(), proba: []float64{1, 0, 0}}, f, 0)
	require.NoError(t, err)
	assert.True(t, r.OK(), "%v", r.Failures())

	// PredictBatch answering another class is a failure.
	r, err = Check(&odd{Model: classify.IrisRules(), proba: []float64{1, 0, 0}, batchClass: 2}, f, 0)
	require.NoError(t, err)
	assert.False(t, r.OK())
	require.Len(t, r.BatchDiffs, 1)
	assert.Equal(t, "a: PredictBatch answered virginica [1 0 0], unlike Predict (setosa)", r.BatchDiffs[0].String())

	// PredictBatch failing is one too.
	r, err = Check(&odd{Model: classify.IrisRules(), proba: []float64{1, 0, 0}, batchErr: errors.New("classify: broken")}, f, 0)
	require.NoError(t, err)
	require.Len(t, r.BatchDiffs, 1)
	assert.Equal(t, "PredictBatch: refused: broken", r.BatchDiffs[0].String())

	// NaN probabilities are infinitely far from the reference.
	r, err = Check(&odd{Model: classify.IrisRules(), proba: []float64{math.NaN(), 0, 0}}, f, 1)
	require.NoError(t, err)
	assert.False(t, r.OK())
	assert.True(t, math.IsInf(r.MaxDiff, 1))

	// So is a probability vector of the wrong length.
	r, err = Check(&odd{Model: classify.IrisRules(), proba: []float64{1, 0}}, f, 1)
	require.NoError(t, err)
	assert.True(t, math.IsInf(r.MaxDiff, 1))
	assert.Equal(t, -1, r.MaxDiffClass)

	assert.Equal(t, "class #7", label([]string{"a"}, 7))
}
