package classifyhttp

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/rollout"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewRefuses(t *testing.T) {
	router := singleRouter(classify.IrisRules())
	for _, tc := range []struct {
		name   string
		router *rollout.Router
		opts   Options
		err    string
	}{
		{"no router", nil, Options{}, "classifyhttp: New needs a router"},
		{"prefix without a slash", router, Options{Prefix: "classify"}, `classifyhttp: prefix "classify" must start with / and not end with one`},
		{"prefix ending in a slash", router, Options{Prefix: "/classify/"}, `classifyhttp: prefix "/classify/" must start with / and not end with one`},
		{"shadow fraction", router, Options{Challenger: rollout.NewLive(classify.IrisRules()), ShadowFraction: 2}, "classifyhttp: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := New(tc.router, tc.opts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.err)
			assert.Nil(t, h)
		})
	}
}

// TestNewRegistersOnce: a second handler on the same registry is refused,
// and leaves nothing of its own registered.
func TestNewRegistersOnce(t *testing.T) {
	reg := prometheus.NewRegistry()
	_, err := New(singleRouter(classify.IrisRules()), Options{Registerer: reg})
	require.NoError(t, err)
	_, err = New(singleRouter(classify.IrisRules()), Options{Registerer: reg})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "classifyhttp: register metrics:")

	other := prometheus.NewRegistry()
	require.NoError(t, other.Register(prometheus.NewGauge(prometheus.GaugeOpts{Name: "mps_http_requests_in_flight", Help: "taken"})))
	_, err = New(singleRouter(classify.IrisRules()), Options{Registerer: other})
	require.Error(t, err)
	families, err := other.Gather()
	require.NoError(t, err)
	for _, f := range families {
		assert.Equal(t, "mps_http_requests_in_flight", f.GetName(), "rolled back")
	}
}

// TestZeroOptions: no metrics, no admin endpoints, no reloads.
func TestZeroOptions(t *testing.T) {
	h := mustNew(singleRouter(classify.IrisRules()), Options{})
	assert.Equal(t, `{"detail":"Not Found"}`, serve(h, http.MethodGet, "/metrics", ""))
	assert.Equal(t, `{"detail":"Not Found"}`, serve(h, http.MethodPost, "/admin/reload", ""))
	assert.EqualError(t, h.Reload(nil, "test"), "this server has no model source to reload from")
	assert.False(t, h.ReloadIfChanged("test"))
	assert.Contains(t, serve(h, http.MethodPost, "/predict", seedRequest), `"prediction":"setosa"`)
}

// TestPrefix mounts the API under a path: it answers there, and the links
// it generates carry the prefix.
func TestPrefix(t *testing.T) {
	h := mustNew(singleRouter(classify.IrisRules()), Options{Prefix: "/api/classify"})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("hi")) })
	mux.Handle("/api/classify/", h)
	get := func(target string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		return rec
	}
	assert.Equal(t, "hi", get("/hello").Body.String())
	assert.Contains(t, serve(mux, http.MethodPost, "/api/classify/predict", seedRequest), `"prediction":"setosa"`)
	assert.Equal(t, `{"status":"healthy"}`, get("/api/classify/health").Body.String())

	doc := get("/api/classify/openapi.json").Body.String()
	assert.Contains(t, doc, `"servers":[{"url":"/api/classify"}]`)
	for page, assets := range map[string][]string{
		"/api/classify/docs":  {"swagger-ui/swagger-ui.css", "swagger-ui/swagger-ui-bundle.js", "swagger-init.js"},
		"/api/classify/redoc": {"redoc/redoc.standalone.js", "redoc-init.js"},
	} {
		body := get(page).Body.String()
		assert.NotContains(t, body, `"/docs/assets/`, page)
		for _, a := range assets {
			assert.Contains(t, body, `"/api/classify/docs/assets/`+a+`"`, page)
			assert.Equal(t, http.StatusOK, get("/api/classify/docs/assets/"+a).Code, a)
		}
	}
	for _, js := range []string{"swagger-init.js", "redoc-init.js"} {
		rec := get("/api/classify/docs/assets/" + js)
		assert.Contains(t, rec.Body.String(), `"/api/classify/openapi.json"`, js)
		assert.True(t, strings.HasPrefix(rec.Header().Get("Content-Type"), "text/javascript"), js)
	}

	// Without a prefix the pages are as they always were.
	root := mustNew(singleRouter(classify.IrisRules()), Options{})
	rec := httptest.NewRecorder()
	root.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/docs", nil))
	assert.Equal(t, string(swaggerPage), rec.Body.String())
	rec = httptest.NewRecorder()
	root.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	assert.NotContains(t, rec.Body.String(), `"servers"`)
}
