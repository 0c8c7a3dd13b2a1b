package classifyhttp

import (
	"bufio"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/ml-production-service/classify"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readPayloads reads a payload log's JSON lines.
func readPayloads(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), "%s", sc.Bytes())
		out = append(out, m)
	}
	return out
}

func TestPayloadLog(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	p, err := OpenPayloadLog(dir, PayloadLogOptions{Now: func() time.Time { return now }})
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "payloads.jsonl"), p.Path())
	reg := prometheus.NewRegistry()
	hs := newHarness(t, modeltestMissing(), Options{PayloadLog: p, Registerer: reg, Gatherer: reg, MaxBatch: 10})

	got := hs.do(http.MethodPost, "/predict", `{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}`,
		map[string]string{"X-Request-ID": "req-1"}, true)
	require.Equal(t, http.StatusOK, got.status, "%s", got.body)
	got = hs.do(http.MethodPost, "/predict/batch", `{"instances": [{"sepal_length": 6.7, "sepal_width": 3.0, "petal_length": 5.2, "petal_width": 2.3}, {"sepal_length": "x"}]}`,
		map[string]string{"X-Request-ID": "req-2"}, false)
	require.Equal(t, http.StatusOK, got.status, "%s", got.body)
	got = hs.do(http.MethodPost, "/v2/models/heuristic/infer", `{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP64","data":[5.1,null,1.4,0.2]}]}`,
		map[string]string{"X-Request-ID": "req-3"}, true)
	require.Equal(t, http.StatusOK, got.status, "%s", got.body)
	_, err = hs.srv.Infer(context.Background(), &InferRequest{Model: "heuristic", RequestID: "req-4",
		Inputs: []InferInput{{Name: "x", Datatype: "FP64", Shape: []int64{1, 4}, FP64: []float64{6.7, 3.0, 5.2, 2.3}}}})
	require.NoError(t, err)
	require.NoError(t, p.Close())
	require.NoError(t, p.Close(), "Close twice is harmless")

	lines := readPayloads(t, p.Path())
	require.Len(t, lines, 4, "one line per predicted row; the refused row is not one")
	assert.Equal(t, map[string]any{"time": "2026-11-30T12:00:00Z", "request_id": "req-1", "model": "heuristic", "variant": "heuristic", "version": "",
		"input":         map[string]any{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2},
		"prediction":    "setosa",
		"probabilities": map[string]any{"setosa": 1.0, "versicolor": 0.0, "virginica": 0.0}}, lines[0])
	assert.Equal(t, "req-2", lines[1]["request_id"])
	assert.Equal(t, "virginica", lines[1]["prediction"])
	assert.Equal(t, "req-3", lines[2]["request_id"])
	assert.Nil(t, lines[2]["input"].(map[string]any)["sepal_width"], "a missing value is null")
	assert.Equal(t, "req-4", lines[3]["request_id"])
	assert.Equal(t, 4.0, testutil.ToFloat64(collectorOf(t, reg, "mps_payload_records_total", "written")))

	// Offered after Close: dropped, counted.
	hs.srv.logPayload("late", hs.srv.view().primary(), []float64{1, 1, 1, 1}, 0, []float64{1, 0, 0})
	assert.Equal(t, uint64(1), p.Dropped())
}

// modeltestMissing is the Iris rules taking missing values (filled with 3).
func modeltestMissing() classify.Model { return missingRules(3.0) }

// collectorOf returns the gathered value of name{result=...}.
func collectorOf(t *testing.T, reg *prometheus.Registry, name, result string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == result {
				return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "x"}, func() float64 { return m.GetCounter().GetValue() })
			}
		}
	}
	t.Fatalf("no %s{result=%q}", name, result)
	return nil
}

func TestPayloadLogSampleRotateDrop(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "drift.jsonl")
	tick := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	u := 0.0
	p, err := OpenPayloadLog(path, PayloadLogOptions{Sample: 0.5, MaxBytes: 600, MaxFiles: 2,
		Rand: func() float64 { u = math.Mod(u+0.3, 1); return u }, // 0.3 0.6 0.9 0.2 0.5 0.8 0.1 ...: about half under 0.5
		Now:  func() time.Time { tick = tick.Add(time.Second); return tick }})
	require.NoError(t, err)
	h := mustNew(singleRouter(classify.IrisRules()), Options{PayloadLog: p})
	c := h.view().primary()
	for range 40 {
		h.logPayload("r", c, []float64{5.1, 3.5, 1.4, 0.2}, 0, []float64{1, 0, 0})
	}
	require.NoError(t, p.Close())
	assert.InDelta(t, 20, p.Written(), 3, "about half sampled")
	assert.Zero(t, p.Dropped())
	rotated, err := filepath.Glob(filepath.Join(dir, "drift-*.jsonl"))
	require.NoError(t, err)
	sort.Strings(rotated)
	assert.Len(t, rotated, 2, "MaxFiles rotated files kept")
	assert.Regexp(t, `drift-20261130T120\d\d\d\.000Z\.jsonl$`, rotated[0])
	for _, f := range append(rotated, path) {
		st, err := os.Stat(f)
		require.NoError(t, err)
		assert.LessOrEqual(t, st.Size(), int64(600), f)
		assert.NotEmpty(t, readPayloads(t, f))
	}

	// A full queue drops rather than blocks: a queue of 1 whose writer
	// cannot keep up with a burst.
	q, err := OpenPayloadLog(filepath.Join(dir, "q.jsonl"), PayloadLogOptions{Queue: 1})
	require.NoError(t, err)
	hq := mustNew(singleRouter(classify.IrisRules()), Options{PayloadLog: q})
	start := time.Now()
	for range 10000 {
		hq.logPayload("r", hq.view().primary(), []float64{5.1, 3.5, 1.4, 0.2}, 0, []float64{1, 0, 0})
	}
	require.NoError(t, q.Close())
	assert.Positive(t, q.Dropped())
	assert.Equal(t, uint64(10000), q.Dropped()+q.Written())
	t.Logf("10000 offers in %v: %d written, %d dropped", time.Since(start), q.Written(), q.Dropped())
}

func TestOpenPayloadLogRefuses(t *testing.T) {
	_, err := OpenPayloadLog("", PayloadLogOptions{})
	assert.EqualError(t, err, "classifyhttp: payload log: no path")
	_, err = OpenPayloadLog(t.TempDir(), PayloadLogOptions{Sample: 1.5})
	assert.EqualError(t, err, "classifyhttp: payload log: sample 1.5 is not in [0, 1]")
	_, err = OpenPayloadLog(filepath.Join(t.TempDir(), "no", "such", "dir", "f.jsonl"), PayloadLogOptions{})
	assert.ErrorContains(t, err, "classifyhttp: payload log:")
	sub := filepath.Join(t.TempDir(), "new") + "/"
	p, err := OpenPayloadLog(sub, PayloadLogOptions{})
	require.NoError(t, err, "a trailing slash makes the directory")
	assert.Equal(t, filepath.Join(sub, "payloads.jsonl"), p.Path())
	require.NoError(t, p.Close())
}
