package classifyhttp

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/models"
	"github.com/prometheus/client_golang/prometheus"
)

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark
// measures the handler tree rather than httptest's recorder.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// BenchmarkHandler measures one request through the whole handler tree as
// cmd/serve configures it: request id, limits, recovery, Prometheus
// metrics, the request log line (into a buffer), validation, the
// prediction and the answer.
func BenchmarkHandler(b *testing.B) {
	batch10 := `{"instances":[` + strings.Repeat(seedRequest+",", 9) + seedRequest + `]}`
	for _, tc := range []struct {
		name, path, body string
		model            func() classify.Model
	}{
		{"predict", "/predict", seedRequest, rules},
		{"batch10", "/predict/batch", batch10, rules},
		{"v2infer", "/v2/models/heuristic/infer", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":[5.1,3.5,1.4,0.2]}]}`, rules},
		// The cost of asking for contributions: the same model (production
		// decision tree) with and without them.
		{"predict_tree", "/predict", seedRequest, benchTree},
		{"predict_contributions", "/predict?contributions=true", seedRequest, benchTree},
		{"batch10_tree", "/predict/batch", batch10, benchTree},
		{"batch10_contributions", "/predict/batch?contributions=true", batch10, benchTree},
		{"predict_xgboost", "/predict", seedRequest, benchXGBoost},
		{"predict_xgboost_contributions", "/predict?contributions=true", seedRequest, benchXGBoost},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var logs syncBuffer
			h := mustNew(singleRouter(tc.model()), Options{
				Logger:     slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: benchLevel})),
				Registerer: prometheus.NewRegistry(),
			})
			// The request must be answered, and with contributions when
			// it asks for them.
			if got := serve(h, http.MethodPost, tc.path, tc.body); strings.Contains(got, `"detail"`) ||
				strings.Contains(tc.path, "contributions") != strings.Contains(got, `"contributions"`) {
				b.Fatalf("%s: %s", tc.name, got)
			}
			body := strings.NewReader(tc.body)
			req := httptest.NewRequest(http.MethodPost, tc.path, body)
			req.Header.Set("Content-Type", jsonType)
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				body.Reset(tc.body)
				r := *req
				r.Body = http.NoBody
				r.Body = readCloser{body}
				clear(w.h)
				h.ServeHTTP(w, &r)
				if logs.b.Len() > 1<<20 {
					logs.b.Reset()
				}
			}
			reportCPU(b, cpu)
		})
	}
}

func rules() classify.Model { return classify.IrisRules() }

// benchTree is the production decision tree (its artifact carries node
// covers: the benchmark fails, not falls back to another model, when it
// cannot explain).
func benchTree() classify.Model { return registryModel("decision_tree") }

// benchXGBoost is the production XGBoost model (300 trees).
func benchXGBoost() classify.Model { return registryModel("xgboost") }

func registryModel(name string) classify.Model {
	reg, err := classify.OpenRegistry(models.FS)
	if err != nil {
		panic(err)
	}
	m, err := reg.Load(name)
	if err != nil {
		panic(err)
	}
	return m
}

// reportCPU reports the CPU time per operation since start, as cpu-ns/op:
// on a shared machine it varies far less than ns/op.
func reportCPU(b *testing.B, start time.Duration) {
	if now := cpuTime(); start > 0 && now > start {
		b.ReportMetric(float64(now-start)/float64(b.N), "cpu-ns/op")
	}
}

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }

// benchLevel logs every request, as production does.
var benchLevel = slog.LevelInfo
