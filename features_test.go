package classify

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRowAndPredictNamed(t *testing.T) {
	m := IrisRules()
	values := map[string]float64{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
	row, err := Row(m.Info(), values, make([]float64, 0, 4))
	require.NoError(t, err)
	assert.Equal(t, []float64{5.1, 3.5, 1.4, 0.2}, row)

	p, err := PredictNamed(m, values, nil)
	require.NoError(t, err)
	assert.Equal(t, "setosa", p.Label)

	_, err = PredictNamed(m, map[string]float64{"sepal_length": 1, "petal_width": 1, "colour": 3, "age": 1}, nil)
	require.ErrorIs(t, err, ErrFeature)
	var fe *FeatureError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, []string{"sepal_width", "petal_length"}, fe.Missing)
	assert.Equal(t, []string{"age", "colour"}, fe.Unknown)
	assert.EqualError(t, err, "classify: features do not match the model: missing sepal_width, petal_length; unknown age, colour")

	_, err = Row(m.Info(), map[string]float64{"sepal_length": 1}, nil)
	assert.EqualError(t, err, "classify: features do not match the model: missing sepal_width, petal_length, petal_width")

	values["petal_width"] = math.Inf(-1)
	_, err = PredictNamed(m, values, nil)
	assert.ErrorIs(t, err, ErrInput)
}
