package classify

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLive(t *testing.T) {
	var empty Live
	assert.Nil(t, empty.Model())
	a, b := IrisRules(), IrisRules()
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
				if m != Model(a) && m != Model(b) {
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
	tree, err := LoadDecisionTree(strings.NewReader(dump(t, DecisionTree, smallTree())))
	require.NoError(t, err)
	rules := IrisRules()
	l := NewLive(rules)

	got, err := l.Reload(func() (Model, error) { return tree, nil }, nil)
	require.NoError(t, err)
	assert.Same(t, tree, got)
	assert.Same(t, tree, l.Model())

	other, err := LoadRules(strings.NewReader(testRules))
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		load   func() (Model, error)
		warmup []float64
		msg    string
	}{
		{"load fails", func() (Model, error) { return nil, errors.New("corrupt") }, nil, "classify: reload: load: corrupt"},
		{"no model", func() (Model, error) { return nil, nil }, nil, "load returned no model"},
		{"other features", func() (Model, error) { return other, nil }, nil, "new model takes features [a b]"},
		{"warm-up fails", func() (Model, error) { return rules, nil }, []float64{1}, "warm-up prediction: classify: invalid input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := l.Reload(tc.load, tc.warmup)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
			assert.Same(t, tree, l.Model(), "the old model keeps serving")
		})
	}
	var empty Live
	_, err = empty.Reload(func() (Model, error) { return other, nil }, nil)
	require.NoError(t, err)
	assert.Same(t, other, empty.Model())
}
