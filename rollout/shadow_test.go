package rollout

import (
	"sync"
	"testing"

	"github.com/ml-production-service/classify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestShadow(t *testing.T) {
	tree := productionModel(t, "decision_tree")
	primary := classify.IrisRules()
	var mu sync.Mutex
	var results []ShadowResult
	s, err := NewShadow(NewLive(tree), 0.5, 4, func(r ShadowResult) {
		mu.Lock()
		results = append(results, r)
		mu.Unlock()
	})
	require.NoError(t, err)
	assert.Equal(t, 0.5, s.Fraction())

	rows := [][]float64{{5.1, 3.5, 1.4, 0.2}, {6, 3, 2.45, 1}}
	for _, row := range rows {
		p, err := primary.Predict(row, nil)
		require.NoError(t, err)
		assert.False(t, s.Observe(row, p, 0.5), "u at the fraction is not sampled")
		assert.True(t, s.Observe(row, p, 0.49))
	}
	s.Wait()
	require.Len(t, results, 2)
	assert.True(t, results[0].Agree || results[1].Agree)
	for _, r := range results {
		assert.Equal(t, classify.DecisionTree, r.Model.Kind)
		assert.Nil(t, r.Primary.Probabilities)
		assert.Equal(t, r.Primary.Label == r.Challenger.Label, r.Agree)
	}
	// A challenger failure is reported, never raised.
	results = nil
	p, _ := primary.Predict(rows[0], nil)
	assert.True(t, s.Observe([]float64{1}, p, 0))
	s.Wait()
	require.Len(t, results, 1)
	assert.ErrorIs(t, results[0].Err, classify.ErrInput)
	assert.False(t, results[0].Agree)

	// No model in the challenger's Live.
	empty, err := NewShadow(&Live{}, 1, 1, func(r ShadowResult) {
		mu.Lock()
		results = append(results, r)
		mu.Unlock()
	})
	require.NoError(t, err)
	results = nil
	assert.True(t, empty.Observe(rows[0], p, 0))
	empty.Wait()
	assert.EqualError(t, results[0].Err, "rollout: shadow: no challenger model")
}

func TestShadowNeverBlocks(t *testing.T) {
	release := make(chan struct{})
	s, err := NewShadow(NewLive(classify.IrisRules()), 1, 1, func(ShadowResult) { <-release })
	require.NoError(t, err)
	p := classify.Prediction{Label: "setosa"}
	assert.True(t, s.Observe([]float64{1, 2, 3, 4}, p, 0))
	assert.False(t, s.Observe([]float64{1, 2, 3, 4}, p, 0), "all slots busy: dropped, not queued")
	assert.Equal(t, ShadowDropped, s.ObserveFrom(classify.Info{}, "", []float64{1, 2, 3, 4}, p, 0))
	assert.Equal(t, ShadowSkipped, s.ObserveFrom(classify.Info{}, "", []float64{1, 2, 3, 4}, p, 1))
	close(release)
	s.Wait()
}

func TestNewShadowErrors(t *testing.T) {
	report := func(ShadowResult) {}
	for _, tc := range []struct {
		live     *Live
		fraction float64
		slots    int
		report   func(ShadowResult)
		msg      string
	}{
		{nil, 0.1, 1, report, "needs a challenger"},
		{&Live{}, 0.1, 1, nil, "needs a challenger and a report function"},
		{&Live{}, 1.5, 1, report, "fraction 1.5 is not between 0 and 1"},
		{&Live{}, -0.1, 1, report, "fraction -0.1"},
		{&Live{}, 0.1, 0, report, "maxInFlight 0 is not positive"},
	} {
		_, err := NewShadow(tc.live, tc.fraction, tc.slots, tc.report)
		assert.ErrorContains(t, err, tc.msg)
	}
}

func TestShadowObserveFromNamesThePrimary(t *testing.T) {
	results := make(chan ShadowResult, 1)
	s, err := NewShadow(NewLive(classify.IrisRules()), 1, 1, func(r ShadowResult) { results <- r })
	require.NoError(t, err)
	primary := classify.Info{Kind: classify.XGBoost, Name: "xgboost", Version: "2"}
	assert.Equal(t, ShadowStarted, s.ObserveFrom(primary, "canary", []float64{5.1, 3.5, 1.4, 0.2}, classify.Prediction{Label: "setosa"}, 0.999))
	s.Wait()
	r := <-results
	assert.Equal(t, primary, r.PrimaryModel)
	assert.Equal(t, "canary", r.Tag)
	assert.True(t, r.Agree)
	assert.Equal(t, ShadowSkipped, s.ObserveFrom(primary, "", nil, classify.Prediction{}, 1), "u = 1 is never sampled")
}
