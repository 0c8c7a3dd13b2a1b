package classifyhttp

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/models"
	"github.com/ml-production-service/classify/rollout"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTreePageInChromium renders a model's page in headless Chromium
// (Debian's chromium package, which .ci/run installs) from a server on
// loopback, with every host name but 127.0.0.1 made unresolvable, and
// checks that the DOM Chromium built holds the importance chart and the
// trees as SVG, and that the page asked the server for nothing but itself
// (and perhaps a favicon) and names no other origin. It fails when
// Chromium is missing, whatever CI says; -short leaves it out with the
// other tests that start a browser.
func TestTreePageInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium: runs without -short (CI's full run)")
	}
	browser := findChromium()
	require.NotEmpty(t, browser, "chromium not found: install Debian's chromium package (apt-get install -y chromium; .ci/run does)")

	reg, err := classify.OpenRegistry(models.FS)
	require.NoError(t, err)
	router, err := rollout.LoadRouter(mustSplit(t, "xgboost"), reg.Load, nil)
	require.NoError(t, err)
	h := mustNew(router, Options{Prefix: "/classify"})
	var mu sync.Mutex
	var requested []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requested = append(requested, r.URL.Path)
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	defer ts.Close()
	require.True(t, strings.HasPrefix(ts.URL, "http://127.0.0.1:"), ts.URL)

	page := "/classify/models/xgboost/page"
	// No host name but 127.0.0.1 resolves.
	dom := dumpDOM(t, browser, ts.URL+page, "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
		"--virtual-time-budget=5000")
	assert.Contains(t, dom, "<h1>xgboost</h1>")
	assert.Contains(t, dom, `<svg xmlns="http://www.w3.org/2000/svg" class="importance"`)
	assert.Equal(t, 4, strings.Count(dom, `<g class="feature">`), "one bar row per feature")
	assert.Contains(t, dom, "gain (total_gain)")
	assert.Equal(t, 10, strings.Count(dom, `<section class="tree"`))
	assert.Equal(t, 11, strings.Count(dom, "<svg "), "the chart and ten trees")
	assert.Contains(t, dom, "petal_length &lt; ", "a split condition, as Chromium serialises it")
	assert.Contains(t, dom, `<a href="trees/299.svg">299</a>`)

	// Nothing from elsewhere: no URL in the DOM but the SVG namespace,
	// and no request but the page's.
	urls := regexp.MustCompile(`(?i)\b(?:https?:)?//[^\s"'<>)]+`).FindAllString(dom, -1)
	for _, u := range urls {
		assert.Equal(t, "http://www.w3.org/2000/svg", u, "the page names another origin")
	}
	mu.Lock()
	defer mu.Unlock()
	require.Contains(t, requested, page)
	for _, p := range requested {
		assert.True(t, slices.Contains([]string{page, "/favicon.ico"}, p), "the page made the browser fetch %s", p)
	}
}
