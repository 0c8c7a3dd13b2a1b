package classifyhttp

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHealth(t *testing.T) {
	hs := newHarness(t, classify.IrisRules(), Options{})
	got := hs.get("/health")
	assert.Equal(t, http.StatusOK, got.status)
	assert.JSONEq(t, `{"status":"healthy"}`, string(got.body))
}

func TestReady(t *testing.T) {
	hs := newHarness(t, classify.IrisRules(), Options{})
	got := hs.get("/ready")
	assert.Equal(t, http.StatusOK, got.status)
	assert.JSONEq(t, `{"status":"ready","model":"heuristic"}`, string(got.body))

	hs.srv.Drain()
	got = hs.get("/ready")
	assert.Equal(t, http.StatusServiceUnavailable, got.status)
	assert.JSONEq(t, `{"status":"unavailable"}`, string(got.body))

	empty := newHarness(t, nil, Options{})
	got = empty.get("/ready")
	assert.Equal(t, http.StatusServiceUnavailable, got.status)
	// A model swapped in makes it ready.
	empty.srv.Swap(classify.IrisRules())
	empty.loadDoc()
	assert.Equal(t, http.StatusOK, empty.get("/ready").status)
}

func TestModelsFromRegistry(t *testing.T) {
	reg, err := classify.OpenRegistry(models.FS)
	require.NoError(t, err)
	m, err := reg.Load("heuristic")
	require.NoError(t, err)
	entry, err := reg.Entry("heuristic")
	require.NoError(t, err)
	hs := newHarness(t, m, Options{Catalog: &Catalog{Registry: reg}})
	got := hs.get("/models")
	require.Equal(t, http.StatusOK, got.status)
	list := got.json(t)["models"].([]any)
	require.Len(t, list, 1)
	v := list[0].(map[string]any)
	assert.Equal(t, "heuristic", v["name"])
	assert.Equal(t, "heuristic", v["kind"])
	assert.Equal(t, entry.Version, v["version"])
	assert.Equal(t, "registry", v["source"])
	assert.Equal(t, entry.SHA256, v["sha256"])
	assert.Len(t, v["metrics"], len(entry.Metrics))
	assert.Equal(t, []any{"sepal_length", "sepal_width", "petal_length", "petal_width"}, v["features"])
	assert.Equal(t, []any{"setosa", "versicolor", "virginica"}, v["classes"])
}

func TestModelsFromFile(t *testing.T) {
	hs := newHarness(t, weatherModel(), Options{})
	got := hs.get("/models")
	assert.JSONEq(t, `{"models":[{"name":"weather","kind":"decision_tree","version":"2.1.0",
		"features":["temperature","humidity","wind"],"classes":["dry","rain"],"metrics":[],"source":"file",
		"role":"primary","variant":"weather","weight":1,"missing_values":false}],"split":"weather=1","split_header":"X-Client-ID"}`, string(got.body))

	empty := newHarness(t, nil, Options{})
	assert.JSONEq(t, `{"models":[],"split":"default=1","split_header":"X-Client-ID"}`, string(empty.get("/models").body))
}

func TestRouterErrorsAreJSON(t *testing.T) {
	hs := newHarness(t, classify.IrisRules(), Options{})
	for _, tc := range []struct {
		method, path string
		status       int
		want, allow  string
	}{
		{"GET", "/nope", 404, `{"detail":"Not Found"}`, ""},
		{"GET", "/predict", 405, `{"detail":"Method Not Allowed"}`, "POST"},
		{"DELETE", "/health", 405, `{"detail":"Method Not Allowed"}`, "GET, HEAD"},
		{"GET", "/v2/nope", 404, `{"error":"Not Found"}`, ""},
		{"GET", "/v2/models/heuristic/infer", 405, `{"error":"Method Not Allowed"}`, "POST"},
		{"GET", "/docs/assets/missing.js", 404, `{"detail":"Not Found"}`, ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			got := hs.do(tc.method, tc.path, "", nil, false)
			assert.Equal(t, tc.status, got.status)
			assert.Equal(t, jsonType, got.header.Get("Content-Type"))
			assert.JSONEq(t, tc.want, string(got.body))
			assert.Equal(t, tc.allow, got.header.Get("Allow"))
		})
	}
}

func TestBodyLimit(t *testing.T) {
	hs := newHarness(t, classify.IrisRules(), Options{MaxBodyBytes: 64})
	big := `{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2, "pad": "` + strings.Repeat("x", 100) + `"}`
	got := hs.post("/predict", big)
	assert.Equal(t, http.StatusRequestEntityTooLarge, got.status)
	assert.JSONEq(t, `{"detail":"Request body too large"}`, string(got.body))

	// Without a Content-Length the limit stops the read.
	req := httptest.NewRequest(http.MethodPost, "/predict", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	rec := httptest.NewRecorder()
	hs.h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	assert.JSONEq(t, `{"detail":"Request body too large"}`, rec.Body.String())

	for _, path := range []string{"/predict/batch", "/v2/models/heuristic/infer"} {
		req := httptest.NewRequest(http.MethodPost, path, io.MultiReader(strings.NewReader(big)))
		req.ContentLength = -1
		rec := httptest.NewRecorder()
		hs.h.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code, path)
	}
	got = hs.post("/v2/models/heuristic/infer", big)
	assert.JSONEq(t, `{"error":"Request body too large"}`, string(got.body))
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestBodyReadError(t *testing.T) {
	hs := newHarness(t, classify.IrisRules(), Options{})
	for _, path := range []string{"/predict", "/v2/models/heuristic/infer"} {
		req := httptest.NewRequest(http.MethodPost, path, failingReader{})
		rec := httptest.NewRecorder()
		hs.h.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusBadRequest, rec.Code, path)
		assert.True(t, strings.HasPrefix(rec.Header().Get("Content-Type"), jsonType))
	}
}

func TestRequestID(t *testing.T) {
	hs := newHarness(t, classify.IrisRules(), Options{})
	got := hs.do("GET", "/health", "", map[string]string{"X-Request-ID": "abc-123"}, true)
	assert.Equal(t, "abc-123", got.header.Get("X-Request-ID"))

	a := hs.get("/health").header.Get("X-Request-ID")
	b := hs.get("/health").header.Get("X-Request-ID")
	assert.Len(t, a, 32)
	assert.NotEqual(t, a, b)

	for _, bad := range []string{"has space", strings.Repeat("x", 129), "tab\there", "é"} {
		got := hs.do("GET", "/health", "", map[string]string{"X-Request-ID": bad}, true)
		assert.Len(t, got.header.Get("X-Request-ID"), 32, "%q must be replaced", bad)
	}
}

// The harness must catch answers that break the document; otherwise the
// checks above prove nothing.
func TestHarnessCatchesUndocumentedAnswers(t *testing.T) {
	hs := newHarness(t, classify.IrisRules(), Options{})
	check := func(status int, body string) error {
		req := httptest.NewRequest(http.MethodPost, "/predict", strings.NewReader(seedRequest))
		req.Header.Set("Content-Type", jsonType)
		route, params, err := hs.router.FindRoute(req)
		require.NoError(t, err)
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route}
		h := http.Header{"Content-Type": []string{jsonType}}
		return openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: status, Header: h, Body: io.NopCloser(bytes.NewReader([]byte(body))),
			Options: &openapi3filter.Options{IncludeResponseStatus: true},
		})
	}
	assert.NoError(t, check(200, `{"prediction":"setosa"}`))
	assert.Error(t, check(200, `{"prediction":"tulip"}`), "a label outside the classes")
	assert.Error(t, check(200, `{"label":"setosa"}`), "no prediction")
	assert.Error(t, check(418, `{"detail":"teapot"}`), "an undocumented status")
	assert.Error(t, check(422, `{"detail":"not a list"}`), "a 422 that is not pydantic's shape")

	req := httptest.NewRequest(http.MethodPost, "/predict", strings.NewReader(`{"sepal_length": 5.1}`))
	req.Header.Set("Content-Type", jsonType)
	route, params, err := hs.router.FindRoute(req)
	require.NoError(t, err)
	assert.Error(t, openapi3filter.ValidateRequest(context.Background(),
		&openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route}), "a request missing features")
}

// Swap makes m the model of the first variant, unchecked, and returns the
// one it replaces: for tests that change the model behind the server's
// back. Servers reload through Reload, which loads, checks and warms up.
func (h *Handler) Swap(m classify.Model) classify.Model {
	old, err := h.router.Swap(h.router.Variants()[0].Name, m)
	if err != nil {
		panic(err)
	}
	h.view()
	return old
}

// TestRequestIDRule: RequestID keeps a client's id of 1 to 128 printable ASCII characters
// and makes a new one (32 hex digits) for anything else.
func TestRequestIDRule(t *testing.T) {
	for _, id := range []string{"abc", strings.Repeat("a", 128), "~!"} {
		assert.Equal(t, id, RequestID(id))
	}
	for _, id := range []string{"", strings.Repeat("a", 129), "a b", "é"} {
		got := RequestID(id)
		assert.Regexp(t, `^[0-9a-f]{32}$`, got, "for %q", id)
	}
}
