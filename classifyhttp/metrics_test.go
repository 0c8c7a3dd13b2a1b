package classifyhttp

import (
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
)

// TestObserveCountsEachLabelSet: requests of one model with changing labels
// (the case the last-series shortcut must not confuse) are each counted
// under their own labels, with or without the shortcut.
func TestObserveCountsEachLabelSet(t *testing.T) {
	type req struct {
		route, method string
		status        int
		model         string
	}
	reqs := []req{
		{"/predict", "POST", 200, "tree"},
		{"/predict", "POST", 422, "tree"},
		{"/predict", "POST", 200, "tree"},
		{"/predict", "POST", 200, "tree"},
		{"/predict/batch", "POST", 200, "tree"},
		{"/predict", "PATCH", 200, "tree"},
		{"/predict", "POST", 200, "rules"}, // another model through the same last
		{"/predict", "POST", 200, "tree"},
	}
	want := map[req]float64{}
	for _, r := range reqs {
		want[r]++
	}
	for _, tc := range []struct {
		name string
		last *atomic.Pointer[requestSeries]
	}{
		{"without last", nil},
		{"with last", new(atomic.Pointer[requestSeries])},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMetrics()
			for _, r := range reqs {
				m.observe(tc.last, r.route, r.method, r.status, r.model, "v", 0.001)
			}
			for r, n := range want {
				assert.Equal(t, n, testutil.ToFloat64(m.requests.WithLabelValues(r.route, r.method, itoa(r.status), r.model, "v")), "%+v", r)
			}
			assert.Equal(t, len(want), testutil.CollectAndCount(m.requests))
			assert.Equal(t, len(want), testutil.CollectAndCount(m.duration))
		})
	}
}

// TestObserveAllocs: counting a request like the one before it allocates
// nothing.
func TestObserveAllocs(t *testing.T) {
	m := newMetrics()
	var last atomic.Pointer[requestSeries]
	m.observe(&last, "/predict", "POST", 200, "tree", "v", 0.001)
	assert.Zero(t, testing.AllocsPerRun(100, func() { m.observe(&last, "/predict", "POST", 200, "tree", "v", 0.001) }))
}
