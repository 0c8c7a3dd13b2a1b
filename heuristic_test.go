package classify

import (
	"io/fs"
	"math"
	"strings"
	"testing"

	"github.com/ml-production-service/classify/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testRules = `{"format": "classify/rules", "format_version": 1,
 "features": ["a", "b"],
 "classes": ["x", "y", "z"],
 "rules": [
  {"name": "small-a", "when": [{"feature": "a", "op": "<", "value": 1}], "then": "x"},
  {"name": "a-le-2-and-b-ge-3", "when": [{"feature": "a", "op": "<=", "value": 2}, {"feature": "b", "op": ">=", "value": 3}], "then": "y"},
  {"name": "big-b", "when": [{"feature": "b", "op": ">", "value": 10}], "then": "x"}
 ],
 "default": "z", "source": "test"}`

func TestRulesPredict(t *testing.T) {
	m, err := LoadRules(strings.NewReader(testRules))
	require.NoError(t, err)
	assert.Equal(t, Info{Kind: Heuristic, Features: []string{"a", "b"}, Classes: []string{"x", "y", "z"}}, m.Info())
	tests := []struct {
		row   []float64
		label string
		rule  string
	}{
		{[]float64{0.5, 0}, "x", "small-a"},
		{[]float64{1, 0}, "z", "default"},                    // < is strict
		{[]float64{2, 3}, "y", "a-le-2-and-b-ge-3"},          // <= and >= include the bound
		{[]float64{2, math.Nextafter(3, 0)}, "z", "default"}, // float64 comparisons, no rounding
		{[]float64{5, 10}, "z", "default"},                   // > is strict
		{[]float64{5, 11}, "x", "big-b"},
		{[]float64{0, 11}, "x", "small-a"}, // first match wins
	}
	for _, tc := range tests {
		t.Run(tc.rule, func(t *testing.T) {
			buf := make([]float64, 3)
			p, err := m.Predict(tc.row, buf)
			require.NoError(t, err)
			assert.Equal(t, tc.label, p.Label)
			want := []float64{0, 0, 0}
			want[p.Class] = 1
			assert.Equal(t, want, p.Probabilities)
			assert.Same(t, &buf[0], &p.Probabilities[0], "the caller's buffer is used")

			ex, err := m.Explain(tc.row)
			require.NoError(t, err)
			assert.Equal(t, tc.rule, ex.Rule)
			assert.Equal(t, p, ex.Prediction)
		})
	}
	_, err = m.Predict([]float64{1, math.NaN()}, nil)
	assert.ErrorIs(t, err, ErrInput)
	_, err = m.Explain([]float64{1})
	assert.ErrorIs(t, err, ErrInput)
	// The heuristic has no float32 limit: Python compares float64s.
	p, err := m.Predict([]float64{1e300, 1e300}, nil)
	require.NoError(t, err)
	assert.Equal(t, "x", p.Label)
}

func TestRulesBatch(t *testing.T) {
	m, err := LoadRules(strings.NewReader(testRules))
	require.NoError(t, err)
	classes := make([]int, 3)
	proba := make([]float64, 9)
	require.NoError(t, m.PredictBatch([]float64{0, 0, 2, 3, 5, 5}, classes, proba))
	assert.Equal(t, []int{0, 1, 2}, classes)
	assert.Equal(t, []float64{1, 0, 0, 0, 1, 0, 0, 0, 1}, proba)
	require.NoError(t, m.PredictBatch([]float64{0, 0, 2, 3, 5, 5}, classes, nil))
	err = m.PredictBatch([]float64{0, 0, 2, math.Inf(1), 5, 5}, classes, nil)
	require.ErrorIs(t, err, ErrInput)
	assert.Contains(t, err.Error(), "row 1: ")
	assert.ErrorIs(t, m.PredictBatch([]float64{0}, classes, nil), ErrInput)
}

func TestIrisRulesBuiltIn(t *testing.T) {
	m := IrisRules()
	assert.Equal(t, Heuristic, m.Info().Kind)
	assert.Equal(t, irisFeatures, m.Info().Features)
	assert.Equal(t, irisClasses, m.Info().Classes)
	p, err := m.Predict([]float64{5.1, 3.5, 1.4, 0.2}, nil)
	require.NoError(t, err)
	assert.Equal(t, "setosa", p.Label)

	n, err := New(Heuristic, "")
	require.NoError(t, err)
	assert.Equal(t, m, n)

	// What the docs say: the embedded bytes are the registry's own
	// heuristic.json, parsed anew on every call.
	reg, err := fs.ReadFile(models.FS, "heuristic.json")
	require.NoError(t, err)
	assert.Equal(t, reg, irisRulesJSON)
	assert.NotSame(t, m, IrisRules())
}

func TestLoadRulesErrors(t *testing.T) {
	tests := []struct {
		name, old, new, msg string
	}{
		{"wrong format", `"classify/rules"`, `"classify/other"`, `format is "classify/other"`},
		{"version 0", `"format_version": 1`, `"format_version": 0`, "version 0 is not supported"},
		{"unknown field", `"default"`, `"fallback"`, "unknown field"},
		{"unknown default", `"default": "z"`, `"default": "w"`, `default: unknown class "w"`},
		{"unknown then", `"then": "y"`, `"then": "q"`, `rule 1 (a-le-2-and-b-ge-3): unknown class "q"`},
		{"unknown feature", `"feature": "b", "op": ">"`, `"feature": "c", "op": ">"`, `rule 2 (big-b): unknown feature "c"`},
		{"bad op", `"op": ">"`, `"op": "=="`, `op "==" is not one of`},
		{"no value", `"op": ">", "value": 10`, `"op": ">"`, `condition on "b" has no value`},
		{"no conditions", `"when": [{"feature": "b", "op": ">", "value": 10}]`, `"when": []`, "rule 2 (big-b) has no conditions"},
		{"no name", `"name": "big-b"`, `"name": ""`, "rule 2 needs a name"},
		{"padded name", `"name": "big-b"`, `"name": " big-b"`, "rule 2 needs a name without surrounding spaces"},
		{"duplicate class", `"classes": ["x", "y", "z"]`, `"classes": ["x", "y", "x"]`, `class name "x" appears twice`},
		{"no features", `"features": ["a", "b"]`, `"features": []`, "no feature names"},
		{"not JSON", `{"format"`, `{"format`, "rules:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := strings.Replace(testRules, tc.old, tc.new, 1)
			require.NotEqual(t, testRules, in, "the test's replacement must change the input")
			_, err := LoadRules(strings.NewReader(in))
			require.ErrorIs(t, err, ErrFormat)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
	_, err := LoadRules(failingReader{})
	assert.ErrorContains(t, err, "disk on fire")
}

func TestMustLoadRulesPanicsOnBadBuiltIn(t *testing.T) {
	assert.PanicsWithValue(t, `classify: built-in Iris rules: classify: invalid model artifact: rules: format is "x", want "classify/rules"`,
		func() { mustLoadRules([]byte(`{"format":"x","format_version":1}`)) })
}
