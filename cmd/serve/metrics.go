package main

import (
	"net/http"
	"strconv"

	"github.com/ml-production-service/classify"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus collectors, on a registry of their own
// (no global state): request counts and latencies by route, method, status
// and model; predictions by model and class; the serving model's identity;
// requests in flight; and the Go runtime and process collectors.
type metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	predictions *prometheus.CounterVec
	modelInfo   *prometheus.GaugeVec
	inflight    prometheus.Gauge
}

func newMetrics() *metrics {
	labels := []string{"route", "method", "status", "model"}
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mps_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method, status code and serving model.",
		}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mps_http_request_duration_seconds",
			Help: "Time from reading the request headers to the handler's return, by route pattern, method, status code and serving model.",
			// From 50µs: a prediction takes well under a millisecond.
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, labels),
		predictions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mps_predictions_total",
			Help: "Rows classified, by model and predicted class.",
		}, []string{"model", "class"}),
		modelInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mps_model_info",
			Help: "The serving model: 1 for the model serving now, labelled with its name, kind and version.",
		}, []string{"name", "kind", "version"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mps_http_requests_in_flight",
			Help: "Requests being handled now.",
		}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.predictions, m.modelInfo, m.inflight,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// handler serves the registry in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// observe records one answered request.
func (m *metrics) observe(route, method string, status int, model string, seconds float64) {
	code := statusText(status)
	m.requests.WithLabelValues(route, method, code, model).Inc()
	m.duration.WithLabelValues(route, method, code, model).Observe(seconds)
}

// setModel makes info the only serving model in mps_model_info.
func (m *metrics) setModel(name string, info classify.Info) {
	m.modelInfo.Reset()
	m.modelInfo.WithLabelValues(name, string(info.Kind), info.Version).Set(1)
}

// classCounters returns the prediction counters of a model's classes, in
// class order, so the hot path increments without a label lookup.
func (m *metrics) classCounters(name string, classes []string) []prometheus.Counter {
	c := make([]prometheus.Counter, len(classes))
	for i, class := range classes {
		c[i] = m.predictions.WithLabelValues(name, class)
	}
	return c
}

// statusCodes caches the label text of the status codes this server sends.
var statusCodes = func() map[int]string {
	s := map[int]string{}
	for _, c := range []int{200, 400, 404, 405, 413, 415, 422, 500, 503} {
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
