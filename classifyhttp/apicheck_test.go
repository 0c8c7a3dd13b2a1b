package classifyhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/rollout"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/stretchr/testify/require"
)

// This file is the tests' harness: a server over a chosen model, and an
// exchange helper that checks every answer against the server's own
// OpenAPI document (loaded and validated with kin-openapi), every request
// that is meant to be valid too, and that every body is JSON.

// stubModel is a classify.Model for tests: any schema, any behaviour.
type stubModel struct {
	info    classify.Info
	predict func(row, proba []float64) (classify.Prediction, error)
}

func (m *stubModel) Info() classify.Info { return m.info }

func (m *stubModel) Predict(row, proba []float64) (classify.Prediction, error) {
	if m.predict != nil {
		return m.predict(row, proba)
	}
	// Class 0 when the first feature is below 10, else class 1 (a missing
	// value, for a model that takes them, is below 10).
	if len(row) != len(m.info.Features) {
		return classify.Prediction{}, classify.ErrInput
	}
	for _, v := range row {
		if math.IsInf(v, 0) || math.IsNaN(v) && !m.info.Missing {
			return classify.Prediction{}, classify.ErrInput
		}
	}
	p := make([]float64, len(m.info.Classes))
	class := 0
	if row[0] >= 10 {
		class = 1
	}
	p[class] = 1
	return classify.Prediction{Class: class, Label: m.info.Classes[class], Probabilities: p}, nil
}

func (m *stubModel) PredictBatch(rows []float64, classes []int, proba []float64) error {
	nf, nc := len(m.info.Features), len(m.info.Classes)
	for i := range classes {
		p, err := m.Predict(rows[i*nf:(i+1)*nf], nil)
		if err != nil {
			return err
		}
		classes[i] = p.Class
		if proba != nil {
			copy(proba[i*nc:], p.Probabilities)
		}
	}
	return nil
}

// weatherModel has a schema unlike Iris's: other feature and class names.
func weatherModel() *stubModel {
	return &stubModel{info: classify.Info{Kind: classify.DecisionTree, Name: "weather", Version: "2.1.0",
		Features: []string{"temperature", "humidity", "wind"}, Classes: []string{"dry", "rain"}}}
}

// harness is a server under test.
type harness struct {
	t      *testing.T
	srv    *Handler
	h      http.Handler
	doc    *openapi3.T
	router routers.Router
}

func newHarness(t *testing.T, m classify.Model, opts Options) *harness {
	t.Helper()
	variant := "default"
	if m != nil {
		variant = modelName(m.Info())
	}
	split, err := rollout.NewSplit([]rollout.Arm{{Name: variant, Weight: 1}})
	require.NoError(t, err)
	router, err := rollout.NewRouter(split, map[string]classify.Model{variant: m})
	require.NoError(t, err)
	return newRouterHarness(t, router, opts)
}

// singleRouter is a router of one variant, named after m, serving m.
func singleRouter(m classify.Model) *rollout.Router {
	split, err := rollout.NewSplit([]rollout.Arm{{Name: modelName(m.Info()), Weight: 1}})
	if err != nil {
		panic(err)
	}
	r, err := rollout.NewRouter(split, map[string]classify.Model{modelName(m.Info()): m})
	if err != nil {
		panic(err)
	}
	return r
}

// newRouterHarness is a harness over the variants of router.
func newRouterHarness(t *testing.T, router *rollout.Router, opts Options) *harness {
	t.Helper()
	if opts.Registerer == nil {
		// As cmd/serve wires it: the handler's collectors beside the Go
		// runtime's and the process's, on a registry served at /metrics.
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		opts.Registerer, opts.Gatherer = reg, reg
	}
	srv, err := New(router, opts)
	require.NoError(t, err)
	hs := &harness{t: t, srv: srv, h: srv}
	if srv.view().primary() != nil {
		hs.loadDoc()
	}
	return hs
}

// mustNew is New for a test that cannot fail.
func mustNew(router *rollout.Router, opts Options) *Handler {
	h, err := New(router, opts)
	if err != nil {
		panic(err)
	}
	return h
}

// loadDoc fetches /openapi.json and validates it as OpenAPI 3.
func (hs *harness) loadDoc() {
	t := hs.t
	t.Helper()
	rec := httptest.NewRecorder()
	hs.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(rec.Body.Bytes())
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()), "the served OpenAPI document is invalid")
	router, err := gorillamux.NewRouter(doc)
	require.NoError(t, err)
	hs.doc, hs.router = doc, router
}

// exchange is one request and its answer.
type exchange struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the answer's body.
func (e exchange) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal(e.body, &v), "body: %s", e.body)
	return v
}

// do sends a request through the whole handler tree. It checks that the
// body is JSON (except for the docs pages and /metrics), that the answer
// matches the OpenAPI document when the route is documented, and, when
// validRequest is set, that the request does too.
func (hs *harness) do(method, target string, body string, header map[string]string, validRequest bool) exchange {
	t := hs.t
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	rec := httptest.NewRecorder()
	hs.h.ServeHTTP(rec, req)
	res := rec.Result()
	got := exchange{status: res.StatusCode, header: res.Header, body: rec.Body.Bytes()}

	ct := res.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(target, "/docs") || strings.HasPrefix(target, "/redoc") || target == "/metrics":
	default:
		require.Equal(t, jsonType, ct, "%s %s: answer is not JSON: %s", method, target, got.body)
		require.True(t, json.Valid(got.body), "%s %s: body is not JSON: %s", method, target, got.body)
	}
	require.NotEmpty(t, res.Header.Get("X-Request-ID"))
	if hs.router == nil {
		return got
	}
	vreq := httptest.NewRequest(method, target, strings.NewReader(body))
	vreq.Header = req.Header.Clone()
	route, params, err := hs.router.FindRoute(vreq)
	if err != nil {
		return got // not a documented route (docs pages, 404s)
	}
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route,
		Options: &openapi3filter.Options{MultiError: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	if validRequest {
		require.NoError(t, openapi3filter.ValidateRequest(context.Background(), in), "%s %s: request does not match the OpenAPI document", method, target)
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: got.status, Header: res.Header,
		Body:    io.NopCloser(bytes.NewReader(got.body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	require.NoError(t, openapi3filter.ValidateResponse(context.Background(), out),
		"%s %s: answer %d does not match the OpenAPI document: %s", method, target, got.status, got.body)
	return got
}

func (hs *harness) get(target string) exchange { return hs.do(http.MethodGet, target, "", nil, true) }

func (hs *harness) post(target, body string) exchange {
	return hs.do(http.MethodPost, target, body, nil, false)
}

// postValid posts a request that must match the OpenAPI document.
func (hs *harness) postValid(target, body string) exchange {
	return hs.do(http.MethodPost, target, body, nil, true)
}

const seedRequest = `{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}`

// serve sends a JSON request through h and returns the body; unlike the
// harness it is safe to call from many goroutines.
func serve(h http.Handler, method, target, body string) string {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.Header.Set("Content-Type", jsonType)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Body.String()
}
