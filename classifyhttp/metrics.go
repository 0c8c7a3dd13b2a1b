package classifyhttp

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the handler's Prometheus collectors, registered with the
// caller's Registerer (or none: they count, unseen): request counts and latencies by route, method, status,
// model and variant; predictions by variant, model and class; the models
// serving now and the split's weights; reloads; shadow agreement; requests
// in flight.
type metrics struct {
	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	predictions   *prometheus.CounterVec
	modelInfo     *prometheus.GaugeVec
	weights       *prometheus.GaugeVec
	reloads       *prometheus.CounterVec
	shadow        *prometheus.CounterVec
	shadowDropped prometheus.Counter
	inflight      prometheus.Gauge
	contributions *prometheus.CounterVec

	// series holds the request counter and latency histogram of each
	// label set seen (seriesKey → *requestSeries): the vectors' own lookup
	// hashes and validates five label values twice per request, which
	// was about 6% of a request's instructions in BenchmarkHandler. The
	// label values come from a bounded set (routes, normalised methods,
	// status codes, the configured models and variants), and the series
	// are never deleted, so the cache stays small and never goes stale.
	// Each served model also remembers the series it was last counted
	// under (served.last), which most of its requests share.
	series sync.Map
}

// seriesKey is the label set of a request series.
type seriesKey struct {
	route, method, model, variant string
	status                        int
}

// requestSeries is the counter and histogram of one label set.
type requestSeries struct {
	key      seriesKey
	requests prometheus.Counter
	duration prometheus.Observer
}

// Values of the reload counter's labels.
const (
	targetPrimary = "primary" // the split's variants
	targetShadow  = "shadow"  // the challenger
	resultSuccess = "success"
	resultFailure = "failure"
)

func newMetrics() *metrics {
	labels := []string{"route", "method", "status", "model", "variant"}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mps_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method, status code, serving model and split variant.",
		}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mps_http_request_duration_seconds",
			Help: "Time from reading the request headers to the handler's return, by route pattern, method, status code, serving model and split variant.",
			// From 50µs: a prediction takes well under a millisecond.
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, labels),
		predictions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mps_predictions_total",
			Help: "Rows classified, by split variant, model and predicted class.",
		}, []string{"variant", "model", "class"}),
		modelInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mps_model_info",
			Help: "The models serving now: 1 per model, labelled with its role (primary or shadow), variant, name, kind and version. A reload replaces the series.",
		}, []string{"role", "variant", "name", "kind", "version"}),
		weights: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mps_split_weight",
			Help: "The weight of each variant in the split in force.",
		}, []string{"variant"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mps_model_reloads_total",
			Help: "Model reloads, by trigger (sighup, admin, watch), target (primary: the split's variants; shadow: the challenger), result (success, failure) and the failure's reason (registry, missing, checksum, format, not_found, features, warmup, other; empty on success).",
		}, []string{"trigger", "target", "result", "reason"}),
		shadow: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mps_shadow_predictions_total",
			Help: "Shadowed requests, by the primary's variant and model, the challenger, and the result: agree, disagree or error.",
		}, []string{"variant", "primary", "challenger", "result"}),
		shadowDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mps_shadow_dropped_total",
			Help: "Requests sampled for the shadow but not shadowed because every challenger slot was busy.",
		}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mps_http_requests_in_flight",
			Help: "Requests being handled now.",
		}),
		contributions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mps_contributions_rows_total",
			Help: "Rows whose feature contributions were computed (asked for with contributions, or for an importance), by split variant and model.",
		}, []string{"variant", "model"}),
	}
	return m
}

// register registers every collector with r, or none: on the first
// refusal the ones registered are unregistered again.
func (m *metrics) register(r prometheus.Registerer) error {
	cs := []prometheus.Collector{m.requests, m.duration, m.predictions, m.modelInfo, m.weights, m.reloads, m.shadow,
		m.shadowDropped, m.inflight, m.contributions}
	for i, c := range cs {
		if err := r.Register(c); err != nil {
			for _, done := range cs[:i] {
				r.Unregister(done)
			}
			return err
		}
	}
	return nil
}

// observe records one answered request. last, when not nil, is the
// series the answering model's requests were last counted under: a request
// with the same labels (most of them: one route, method and status) is
// counted there without hashing its labels for the map (BenchmarkHandler/
// predict: 27,899-27,908 instructions a request with the map alone,
// 27,320-27,405 with last; callgrind with GOGC=off, two benchmark lengths,
// as perf/PROFILES.md measures); any other goes through the map and
// becomes last.
func (m *metrics) observe(last *atomic.Pointer[requestSeries], route, method string, status int, model, variant string, seconds float64) {
	k := seriesKey{route: route, method: methodLabel(method), model: model, variant: variant, status: status}
	var rs *requestSeries
	if last != nil {
		rs = last.Load()
	}
	if rs == nil || rs.key != k {
		v, ok := m.series.Load(k)
		if !ok {
			code := statusText(status)
			v, _ = m.series.LoadOrStore(k, &requestSeries{
				key:      k,
				requests: m.requests.WithLabelValues(k.route, k.method, code, model, variant),
				duration: m.duration.WithLabelValues(k.route, k.method, code, model, variant),
			})
		}
		rs = v.(*requestSeries)
		if last != nil {
			last.Store(rs)
		}
	}
	rs.requests.Inc()
	rs.duration.Observe(seconds)
}

// published is one series of mps_model_info.
type published struct{ role, variant, name, kind, version string }

func (p published) labels() []string { return []string{p.role, p.variant, p.name, p.kind, p.version} }

// publishModels makes mps_model_info and mps_split_weight describe v: the
// series of models and variants no longer serving are deleted, not left
// behind at 1. It runs under s.deriving.
func (h *Handler) publishModels(v *view) {
	var now []published
	for _, c := range v.served {
		if c != nil {
			now = append(now, published{targetPrimary, c.variant, c.name, string(c.info.Kind), c.info.Version})
		}
	}
	if v.challenger != nil {
		info := v.challenger.Info()
		now = append(now, published{targetShadow, "", modelName(info), string(info.Kind), info.Version})
	}
	m := h.metrics
	for _, p := range h.published {
		keep := false
		for _, q := range now {
			keep = keep || p == q
		}
		if !keep {
			m.modelInfo.DeleteLabelValues(p.labels()...)
		}
	}
	for _, p := range now {
		m.modelInfo.WithLabelValues(p.labels()...).Set(1)
	}
	h.published = now
	m.weights.Reset()
	for _, variant := range v.table.Variants() {
		m.weights.WithLabelValues(variant.Name).Set(float64(variant.Weight))
	}
}

// classCounters returns the prediction counters of a variant's model's
// classes, in class order, so the hot path increments without a label
// lookup.
func (m *metrics) classCounters(variant, name string, classes []string) []prometheus.Counter {
	c := make([]prometheus.Counter, len(classes))
	for i, class := range classes {
		c[i] = m.predictions.WithLabelValues(variant, name, class)
	}
	return c
}

// reloaded counts one reload of target.
func (m *metrics) reloaded(trigger, target string, err error) {
	if err == nil {
		m.reloads.WithLabelValues(trigger, target, resultSuccess, "").Inc()
		return
	}
	m.reloads.WithLabelValues(trigger, target, resultFailure, reloadReason(err)).Inc()
}

// methodLabel bounds the method label: net/http accepts any method token,
// so a client could otherwise create as many series as it likes. The
// standard methods keep their name; any other is "OTHER" (as promhttp
// does).
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete,
		http.MethodPatch, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "OTHER"
}

// statusCodes caches the label text of the status codes this server sends.
var statusCodes = func() map[int]string {
	s := map[int]string{}
	for _, c := range []int{200, 400, 401, 404, 405, 413, 415, 422, 500, 503} {
		s[c] = strconv.Itoa(c)
	}
	return s
}()

func statusText(code int) string {
	if s, ok := statusCodes[code]; ok {
		return s
	}
	return strconv.Itoa(code)
}
