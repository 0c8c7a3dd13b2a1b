package rollout

import (
	"errors"
	"sync"
	"testing"

	"github.com/ml-production-service/classify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLive(t *testing.T) {
	var empty Live
	assert.Nil(t, empty.Model())
	a, b := classify.IrisRules(), classify.IrisRules()
	l := NewLive(a)
	assert.Same(t, a, l.Model())
	assert.Same(t, a, l.Swap(b))
	assert.Same(t, b, l.Model())

	// Readers racing a writer see one whole model or the other.
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				m := l.Model()
				if m != classify.Model(a) && m != classify.Model(b) {
					t.Error("torn model")
					return
				}
			}
		}()
	}
	for i := range 1000 {
		if i%2 == 0 {
			l.Swap(a)
		} else {
			l.Swap(b)
		}
	}
	wg.Wait()
}

func TestLiveReload(t *testing.T) {
	tree := productionModel(t, "decision_tree")
	rules := classify.IrisRules()
	l := NewLive(rules)

	got, err := l.Reload(func() (classify.Model, error) { return tree, nil }, nil)
	require.NoError(t, err)
	assert.Same(t, tree, got)
	assert.Same(t, tree, l.Model())

	other := twoFeatureRules(t)
	for _, tc := range []struct {
		name   string
		load   func() (classify.Model, error)
		warmup []float64
		msg    string
	}{
		{"load fails", func() (classify.Model, error) { return nil, errors.New("corrupt") }, nil, "rollout: reload: load: corrupt"},
		{"no model", func() (classify.Model, error) { return nil, nil }, nil, "load returned no model"},
		{"other features", func() (classify.Model, error) { return other, nil }, nil, "new model takes features [a b]"},
		{"warm-up fails", func() (classify.Model, error) { return rules, nil }, []float64{1}, "warm-up prediction: classify: invalid input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := l.Reload(tc.load, tc.warmup)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
			assert.Same(t, tree, l.Model(), "the old model keeps serving")
		})
	}
	var empty Live
	_, err = empty.Reload(func() (classify.Model, error) { return other, nil }, nil)
	require.NoError(t, err)
	assert.Same(t, other, empty.Model())
}
