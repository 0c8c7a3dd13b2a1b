package classifyhttp

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/models"
	"github.com/ml-production-service/classify/rollout"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// picture fetches a picture endpoint through the whole handler: its
// answers are not JSON, which the harness's get insists on.
func picture(t *testing.T, h http.Handler, target string) exchange {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return exchange{status: rec.Code, header: rec.Result().Header, body: rec.Body.Bytes()}
}

// wellFormed parses b as XML, strictly.
func wellFormed(t *testing.T, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		require.NoError(t, err)
	}
}

func TestTreePictures(t *testing.T) {
	hs := productionSplit(t, "decision_tree=1,xgboost=1", Options{})
	for _, p := range []string{"/models/{name}/page", "/models/{name}/trees/{index}.svg", "/models/{name}/trees/{index}.dot"} {
		assert.NotNil(t, hs.doc.Paths.Find(p), "the OpenAPI document lists %s", p)
	}
	for _, m := range hs.get("/models").json(t)["models"].([]any) {
		mv := m.(map[string]any)
		assert.Equal(t, "/models/"+mv["variant"].(string)+"/page", mv["page"])
	}

	page := picture(t, hs.h, "/models/xgboost/page")
	require.Equal(t, http.StatusOK, page.status, "%s", page.body)
	assert.Equal(t, "text/html; charset=utf-8", page.header.Get("Content-Type"))
	assert.Equal(t, pictureCSP, page.header.Get("Content-Security-Policy"))
	assert.Equal(t, "nosniff", page.header.Get("X-Content-Type-Options"))
	body := string(page.body)
	assert.Contains(t, body, "<h1>xgboost</h1>")
	assert.Contains(t, body, "gain (total_gain)")
	assert.Equal(t, 10, strings.Count(body, `<section class="tree"`), "the first ten trees")
	assert.Contains(t, body, `<a href="trees/10.svg">10</a>`, "links to the others, relative to the page")
	assert.NotRegexp(t, `https?://`, strings.ReplaceAll(body, `xmlns="http://www.w3.org/2000/svg"`, ""), "nothing from elsewhere")
	assert.NotContains(t, body, "<script")

	for _, tc := range []struct{ target, contentType, starts string }{
		{"/models/decision_tree/trees/0.svg", "image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg"`},
		{"/models/decision_tree/trees/0.dot", "text/vnd.graphviz; charset=utf-8", "digraph tree {"},
		{"/models/xgboost/trees/299.dot", "text/vnd.graphviz; charset=utf-8", "digraph tree {"},
	} {
		got := picture(t, hs.h, tc.target)
		require.Equal(t, http.StatusOK, got.status, "%s: %s", tc.target, got.body)
		assert.Equal(t, tc.contentType, got.header.Get("Content-Type"), tc.target)
		assert.True(t, strings.HasPrefix(string(got.body), tc.starts), "%s: %.80s", tc.target, got.body)
		if strings.HasSuffix(tc.target, ".svg") {
			wellFormed(t, got.body)
			assert.Contains(t, string(got.body), "petal_", "feature names in the conditions")
		}
	}
	assert.Contains(t, string(picture(t, hs.h, "/models/xgboost/trees/299.dot").body), "xgboost, tree 299 of 300")
}

func TestTreePictureErrors(t *testing.T) {
	hs := productionSplit(t, "decision_tree=1,heuristic=1", Options{})
	for _, tc := range []struct {
		target string
		status int
		detail string
	}{
		{"/models/nope/page", 404, `model "nope" is not served here`},
		{"/models/nope/trees/0.svg", 404, `model "nope" is not served here`},
		{"/models/heuristic/page", 404, `model "heuristic" (heuristic) has no trees to draw`},
		{"/models/heuristic/trees/0.dot", 404, "has no trees to draw"},
		{"/models/decision_tree/trees/1.svg", 404, `model "decision_tree" has no tree 1: its trees are 0 to 0`},
		{"/models/decision_tree/trees/0.png", 404, `no format "png"`},
		{"/models/decision_tree/trees/0", 404, `no format ""`},
		{"/models/decision_tree/trees/x.svg", 400, `"x.svg" is not a tree`},
		{"/models/decision_tree/trees/-1.svg", 400, "is not a tree"},
		{"/models/decision_tree/trees/01.svg", 400, "is not a tree"},
		{"/models/decision_tree/trees/.svg", 400, "is not a tree"},
	} {
		// JSON, and as the OpenAPI document says; a 400's request is not
		// one it allows.
		got := hs.do(http.MethodGet, tc.target, "", nil, tc.status != 400)
		assert.Equal(t, tc.status, got.status, tc.target)
		assert.Contains(t, got.json(t)["detail"], tc.detail, tc.target)
	}
	models := hs.get("/models").json(t)["models"].([]any)
	for _, m := range models {
		mv := m.(map[string]any)
		if mv["kind"] == "heuristic" {
			assert.NotContains(t, mv, "page", "the rules have no trees")
		}
	}

	empty := newRouterHarness(t, emptyRouter(t), Options{})
	got := empty.get("/models/decision_tree/page")
	assert.Equal(t, http.StatusServiceUnavailable, got.status)
}

// emptyRouter is a router whose one variant has no model yet.
func emptyRouter(t *testing.T) *rollout.Router {
	t.Helper()
	r, err := rollout.NewRouter(mustSplit(t, "decision_tree"), map[string]classify.Model{"decision_tree": nil})
	require.NoError(t, err)
	return r
}

// TestTreePicturesAddressing: a variant by its name, a model by its name,
// the shadow by its model name, and all of it under a prefix.
func TestTreePicturesAddressing(t *testing.T) {
	shadow, err := classify.New(classify.DecisionTree, "../models/decision_tree.json")
	require.NoError(t, err)
	reg, err := classify.OpenRegistry(models.FS)
	require.NoError(t, err)
	router, err := rollout.LoadRouter(mustSplit(t, "xgboost"), reg.Load, nil)
	require.NoError(t, err)
	h := mustNew(router, Options{Prefix: "/classify", Challenger: rollout.NewLive(shadow), ShadowModel: "decision_tree"})
	list := serve(h, http.MethodGet, "/classify/models", "")
	assert.Contains(t, list, `"page":"/classify/models/xgboost/page"`)
	assert.Contains(t, list, `"page":"/classify/models/decision_tree/page"`, "the shadow's page, by its model name")
	for _, target := range []string{"/classify/models/xgboost/trees/3.svg", "/classify/models/decision_tree/page"} {
		assert.Equal(t, http.StatusOK, picture(t, h, target).status, target)
	}
	assert.Equal(t, http.StatusNotFound, picture(t, h, "/models/xgboost/page").status, "outside the prefix")
}
