package classifyhttp

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Functional tests: whole request flows through the handler tree, checking
// what they leave behind in metrics and logs.

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// lines decodes the JSON log lines written so far.
func (s *syncBuffer) lines(t *testing.T) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(s.b.Bytes()))
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), "log line is not JSON: %s", sc.Bytes())
		out = append(out, m)
	}
	return out
}

func jsonLogger(w *syncBuffer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

func TestFlowPredictShowsInMetrics(t *testing.T) {
	reg, err := classify.OpenRegistry(models.FS)
	require.NoError(t, err)
	m, err := reg.Load("decision_tree")
	require.NoError(t, err)
	hs := newHarness(t, m, Options{Catalog: &Catalog{Registry: reg}})
	version := m.Info().Version

	for range 3 {
		require.Equal(t, http.StatusOK, hs.postValid("/predict", seedRequest).status)
	}
	require.Equal(t, http.StatusOK, hs.postValid("/predict/batch",
		`{"instances":[`+seedRequest+`,{"sepal_length": 7, "sepal_width": 3, "petal_length": 6, "petal_width": 2.3}]}`).status)
	hs.post("/predict", `{}`)
	hs.get("/nope")

	metrics := string(hs.get("/metrics").body)
	for _, want := range []string{
		`mps_http_requests_total{method="POST",model="decision_tree",route="/predict",status="200",variant="decision_tree"} 3`,
		`mps_http_requests_total{method="POST",model="decision_tree",route="/predict",status="422",variant="decision_tree"} 1`,
		`mps_http_requests_total{method="POST",model="decision_tree",route="/predict/batch",status="200",variant="decision_tree"} 1`,
		`mps_http_requests_total{method="GET",model="",route="unmatched",status="404",variant=""} 1`,
		`mps_http_request_duration_seconds_count{method="POST",model="decision_tree",route="/predict",status="200",variant="decision_tree"} 3`,
		`mps_predictions_total{class="setosa",model="decision_tree",variant="decision_tree"} 4`,
		`mps_predictions_total{class="virginica",model="decision_tree",variant="decision_tree"} 1`,
		`mps_predictions_total{class="versicolor",model="decision_tree",variant="decision_tree"} 0`,
		`mps_model_info{kind="decision_tree",name="decision_tree",role="primary",variant="decision_tree",version="` + version + `"} 1`,
		`mps_split_weight{variant="decision_tree"} 1`,
		`mps_http_requests_in_flight 1`, // the /metrics request itself
		`go_goroutines `,
		`process_cpu_seconds_total `,
	} {
		assert.Contains(t, metrics, want)
	}
}

func TestFlowUnknownMethodsShareOneSeries(t *testing.T) {
	hs := newHarness(t, classify.IrisRules(), Options{})
	for i := 1; i <= 50; i++ {
		hs.do(fmt.Sprintf("M%d", i), "/health", "", nil, false)
	}
	hs.do(http.MethodDelete, "/health", "", nil, false)

	metrics := string(hs.get("/metrics").body)
	assert.NotRegexp(t, `method="M\d+"`, metrics, "each unknown method made a series of its own")
	var other []string
	for _, line := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(line, "mps_http_requests_total{") && strings.Contains(line, `method="OTHER"`) {
			other = append(other, line)
		}
	}
	require.Len(t, other, 1, "the unknown methods' series: %v", other)
	assert.True(t, strings.HasSuffix(other[0], " 50"), other[0])
	assert.Contains(t, metrics, `mps_http_requests_total{method="DELETE",`, "a standard method keeps its name")
}

func TestFlowSwapChangesEverything(t *testing.T) {
	hs := newHarness(t, classify.IrisRules(), Options{})
	assert.Equal(t, "setosa", hs.postValid("/predict", seedRequest).json(t)["prediction"])

	old := hs.srv.Swap(weatherModel())
	assert.Equal(t, classify.Heuristic, old.Info().Kind)
	hs.loadDoc() // the document now describes the weather model
	got := hs.postValid("/predict", `{"temperature": 3, "humidity": 0.5, "wind": 3}`)
	assert.Equal(t, "dry", got.json(t)["prediction"])
	assert.Equal(t, "weather", hs.get("/models").json(t)["models"].([]any)[0].(map[string]any)["name"])
	assert.Equal(t, http.StatusOK, hs.get("/v2/models/weather").status)
	// The variant keeps its name (the one the split gives it), and /v2
	// addresses it by that name too.
	assert.Equal(t, "weather", hs.get("/v2/models/heuristic").json(t)["name"])
	assert.Equal(t, http.StatusNotFound, hs.get("/v2/models/random_forest").status)

	metrics := string(hs.get("/metrics").body)
	assert.Contains(t, metrics, `mps_model_info{kind="decision_tree",name="weather",role="primary",variant="heuristic",version="2.1.0"} 1`)
	assert.NotContains(t, metrics, `mps_model_info{kind="heuristic"`)
}

func TestFlowRequestLog(t *testing.T) {
	var logs syncBuffer
	hs := newHarness(t, classify.IrisRules(), Options{Logger: jsonLogger(&logs, slog.LevelInfo)})
	hs.do(http.MethodPost, "/predict", seedRequest, map[string]string{"X-Request-ID": "req-42"}, true)
	hs.get("/nope")

	var lines []map[string]any
	for _, l := range logs.lines(t) {
		if l["path"] != "/openapi.json" { // the harness's own request
			lines = append(lines, l)
		}
	}
	require.Len(t, lines, 2)
	first := lines[0]
	assert.Equal(t, "INFO", first["level"])
	assert.Equal(t, "request", first["msg"])
	assert.Equal(t, "POST", first["method"])
	assert.Equal(t, "/predict", first["path"])
	assert.Equal(t, float64(200), first["status"])
	assert.Equal(t, "heuristic", first["model"])
	assert.Equal(t, "req-42", first["request_id"])
	assert.Contains(t, first, "duration_us")
	assert.Equal(t, float64(404), lines[1]["status"])
	assert.Len(t, lines[1]["request_id"], 32)
}

func TestFlowLogLevelWarningSilencesRequests(t *testing.T) {
	var logs syncBuffer
	hs := newHarness(t, classify.IrisRules(), Options{Logger: jsonLogger(&logs, slog.LevelWarn)})
	hs.postValid("/predict", seedRequest)
	assert.Empty(t, logs.lines(t))
}

func TestFlowPanicRecovery(t *testing.T) {
	var logs syncBuffer
	m := weatherModel()
	calls := 0
	m.predict = func(row, proba []float64) (classify.Prediction, error) {
		calls++
		if calls == 1 {
			panic("boom")
		}
		return classify.Prediction{Class: 1, Label: "rain", Probabilities: []float64{0, 1}}, nil
	}
	hs := newHarness(t, m, Options{Logger: jsonLogger(&logs, slog.LevelInfo)})
	body := `{"temperature": 3, "humidity": 0.5, "wind": 3}`
	got := hs.post("/predict", body)
	assert.Equal(t, http.StatusInternalServerError, got.status)
	assert.JSONEq(t, `{"detail":"Internal Server Error"}`, string(got.body))
	// The server keeps serving.
	got = hs.postValid("/predict", body)
	assert.Equal(t, http.StatusOK, got.status)

	var panics, requests int
	for _, l := range logs.lines(t) {
		switch l["msg"] {
		case "panic":
			panics++
			assert.Equal(t, "ERROR", l["level"])
			assert.Equal(t, "boom", l["panic"])
			assert.True(t, strings.Contains(l["stack"].(string), "TestFlowPanicRecovery"))
		case "request":
			if l["path"] == "/predict" {
				requests++
			}
		}
	}
	assert.Equal(t, 1, panics)
	assert.Equal(t, 2, requests)
	assert.Contains(t, string(hs.get("/metrics").body),
		`mps_http_requests_total{method="POST",model="weather",route="/predict",status="500",variant="weather"} 1`)
}

func TestFlowAbortHandlerPanicPropagates(t *testing.T) {
	m := weatherModel()
	m.predict = func(row, proba []float64) (classify.Prediction, error) { panic(http.ErrAbortHandler) }
	hs := newHarness(t, m, Options{})
	assert.PanicsWithValue(t, http.ErrAbortHandler, func() {
		hs.post("/predict", `{"temperature": 3, "humidity": 0.5, "wind": 3}`)
	})
}

func TestFlowConcurrentPredictions(t *testing.T) {
	hs := newHarness(t, classify.IrisRules(), Options{})
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				body := seedRequest
				want := "setosa"
				if (i+j)%2 == 1 {
					body = `{"sepal_length": 7, "sepal_width": 3, "petal_length": 6, "petal_width": 2}`
					want = "virginica"
				}
				rec := serve(hs.h, http.MethodPost, "/predict", body)
				if !strings.Contains(rec, `"prediction":"`+want+`"`) {
					errs <- rec
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("wrong answer under concurrency: %s", e)
	}
}

// TestFlowSwapUnderLoad swaps between two models with different schemas
// while readers predict: every answer comes whole from one of them. It
// keeps swapping until each reader has answered several times and both
// models have answered (with a deadline), and checks that they did, so a
// busy machine cannot make it pass having checked nothing.
func TestFlowSwapUnderLoad(t *testing.T) {
	const readers, perReader, minSwaps = 4, 20, 50
	hs := newHarness(t, classify.IrisRules(), Options{})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	bad := make(chan string, 16)
	var answered [readers]atomic.Int64
	var iris, weather atomic.Int64
	for g := range readers {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				body := serve(hs.h, http.MethodPost, "/predict", seedRequest)
				// Either model answers whole: Iris's labels or a weather 422.
				switch {
				case strings.Contains(body, `"prediction":"setosa"`):
					iris.Add(1)
				case strings.Contains(body, `"loc":["body","temperature"]`):
					weather.Add(1)
				default:
					select {
					case bad <- body:
					default:
					}
					continue
				}
				answered[g].Add(1)
			}
		})
	}
	done := func() bool {
		for g := range answered {
			if answered[g].Load() < perReader {
				return false
			}
		}
		return iris.Load() > 0 && weather.Load() > 0
	}
	swaps := 0
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); swaps++ {
		if swaps >= minSwaps && done() {
			break
		}
		if swaps%2 == 0 {
			hs.srv.Swap(weatherModel())
		} else {
			hs.srv.Swap(classify.IrisRules())
		}
		time.Sleep(200 * time.Microsecond)
	}
	close(stop)
	wg.Wait()
	close(bad)
	for b := range bad {
		t.Errorf("answer from a half-swapped model: %s", b)
	}
	t.Logf("%d swaps; %d Iris answers, %d weather answers", swaps, iris.Load(), weather.Load())
	assert.GreaterOrEqual(t, swaps, minSwaps)
	for g := range answered {
		assert.Positive(t, answered[g].Load(), "reader %d answered nothing", g)
	}
	assert.Positive(t, iris.Load(), "no answer from the Iris model was checked")
	assert.Positive(t, weather.Load(), "no answer from the weather model was checked")
	metrics := string(hs.get("/metrics").body)
	assert.Equal(t, 1, strings.Count(metrics, "mps_model_info{"), "one serving model in mps_model_info")
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestFlowRefusedRequestsCountUnderTheirRoute sends each route a request
// the router or the body limit refuses before the route's handler runs (a
// wrong method: 405; a declared body over the limit: 413) and finds it
// counted under the route it was sent to; only a path no route matches is
// "unmatched".
func TestFlowRefusedRequestsCountUnderTheirRoute(t *testing.T) {
	hs := newHarness(t, classify.IrisRules(), Options{MaxBodyBytes: 64, AdminToken: "t0ken"})
	big := `{"pad": "` + strings.Repeat("x", 100) + `"}`
	for _, tc := range []struct {
		method, path, body string
		status             int
		route              string
	}{
		{"GET", "/predict", "", 405, "/predict"},
		{"POST", "/predict", big, 413, "/predict"},
		{"GET", "/predict/batch", "", 405, "/predict/batch"},
		{"POST", "/predict/batch", big, 413, "/predict/batch"},
		{"GET", "/v2/models/heuristic/infer", "", 405, "/v2/models/{name}/infer"},
		{"PUT", "/v2/models/heuristic/infer", "", 405, "/v2/models/{name}/infer"},
		{"POST", "/v2/models/heuristic/infer", big, 413, "/v2/models/{name}/infer"},
		{"GET", "/v2/models/heuristic/versions/1/infer", "", 405, "/v2/models/{name}/versions/{version}/infer"},
		{"POST", "/v2/models/heuristic/versions/1/infer", big, 413, "/v2/models/{name}/versions/{version}/infer"},
		{"GET", "/admin/reload", "", 405, "/admin/reload"},
		{"POST", "/admin/reload", big, 413, "/admin/reload"},
		{"DELETE", "/health", "", 405, "/health"},
		{"POST", "/models", big, 413, "/models"},
		{"GET", "/nope", "", 404, "unmatched"},
		{"POST", "/nope", big, 413, "unmatched"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			got := hs.do(tc.method, tc.path, tc.body, nil, false)
			require.Equal(t, tc.status, got.status, "%s", got.body)
			want := fmt.Sprintf(`mps_http_requests_total{method=%q,model="",route=%q,status="%d",variant=""} 1`,
				tc.method, tc.route, tc.status)
			var counted []string
			for _, line := range strings.Split(string(hs.get("/metrics").body), "\n") {
				if strings.HasPrefix(line, "mps_http_requests_total{") && !strings.Contains(line, `route="/metrics"`) {
					counted = append(counted, line)
				}
			}
			assert.Contains(t, counted, want)
		})
	}
}
