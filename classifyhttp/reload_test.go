package classifyhttp

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/rollout"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// copyRegistry copies the production registry (manifest.json and every
// artifact) into a temporary directory a test may damage.
func copyRegistry(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob("../models/*")
	require.NoError(t, err)
	for _, f := range files {
		if strings.HasSuffix(f, ".go") {
			continue
		}
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644))
	}
	return dir
}

// editManifest rewrites the entry called name in dir's manifest.
func editManifest(t *testing.T, dir, name string, edit func(e map[string]any)) {
	t.Helper()
	path := filepath.Join(dir, "manifest.json")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	for _, e := range m["models"].([]any) {
		if e := e.(map[string]any); e["name"] == name {
			edit(e)
		}
	}
	b, err = json.MarshalIndent(m, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b, 0o644))
}

// Triggers, as cmd/serve names them.
const (
	triggerSIGHUP = "sighup"
	triggerWatch  = "watch"
)

// registrySource is a Source over the registry directory dir, as cmd/serve
// makes one: models by entry name, fingerprinted by their entries.
func registrySource(dir string) Source {
	return func() (*Catalog, error) {
		reg, err := classify.OpenRegistryDir(dir)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		return &Catalog{Registry: reg, Load: reg.Load, Fingerprint: func(names []string) string {
			var b strings.Builder
			for _, name := range names {
				if e, err := reg.Entry(name); err == nil {
					fmt.Fprintf(&b, "%s=%s/%s/%s/%s;", name, e.Name, e.Version, e.SHA256, e.MetaSHA256)
				} else {
					fmt.Fprintf(&b, "%s=?;", name)
				}
			}
			return b.String()
		}}, nil
	}
}

// registryServer serves the split from the registry in dir, as cmd/serve
// wires it, with the admin endpoints on.
func registryServer(t *testing.T, dir, split string, opts Options) *harness {
	t.Helper()
	src := registrySource(dir)
	cat, err := src()
	require.NoError(t, err)
	router, err := rollout.LoadRouter(mustSplit(t, split), cat.Load, nil)
	require.NoError(t, err)
	opts.Source, opts.Catalog = src, cat
	if opts.AdminToken == "" {
		opts.AdminToken = "t0ken"
	}
	return newRouterHarness(t, router, opts)
}

func (hs *harness) admin(body string) exchange {
	return hs.do(http.MethodPost, "/admin/reload", body, map[string]string{"Authorization": "Bearer " + hs.srv.opts.AdminToken}, true)
}

// predictKeyed posts the seed request with a sticky key and returns the
// answer's variant and version, from the headers, and its body.
func (hs *harness) predictKeyed(key string) (variant, version string, body map[string]any) {
	got := hs.do(http.MethodPost, "/predict", seedRequest, map[string]string{"X-Client-ID": key}, true)
	require.Equal(hs.t, http.StatusOK, got.status, "%s", got.body)
	return got.header.Get("X-Model-Variant"), got.header.Get("X-Model-Version"), got.json(hs.t)
}

func reloads(hs *harness, trigger, target, result, reason string) float64 {
	return counterValue(hs.t, hs.srv.metrics.reloads.WithLabelValues(trigger, target, result, reason))
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	require.NoError(t, c.Write(&m))
	return m.GetCounter().GetValue()
}

// TestReloadFailuresKeepServing damages the registry in each way a reload
// can meet (a corrupt artifact, a checksum mismatch, a missing file, a
// manifest that does not parse, a model that fails its warm-up) and finds
// the old models serving, /ready at 200 and the failure counted with its
// reason, whichever trigger asked.
func TestReloadFailuresKeepServing(t *testing.T) {
	dir := copyRegistry(t)
	var logs syncBuffer
	hs := registryServer(t, dir, "decision_tree=90,xgboost=10", Options{Logger: jsonLogger(&logs, slog.LevelInfo)})
	pristine := map[string][]byte{}
	for _, f := range []string{"manifest.json", "xgboost.json", "xgboost.json.meta.json", "decision_tree.json"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		pristine[f] = b
	}
	restore := func() {
		for f, b := range pristine {
			require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
		}
	}
	before := map[string]classify.Model{}
	for _, v := range hs.srv.router.Variants() {
		before[v.Name] = v.Model()
	}
	for _, tc := range []struct {
		name, reason string
		watched      bool // the damage changes the manifest, so the watch sees it
		damage       func()
	}{
		{"corrupt artifact", "format", true, func() {
			// Bytes whose checksum the manifest matches, but not a model.
			junk := []byte("binf not really a model")
			require.NoError(t, os.WriteFile(filepath.Join(dir, "xgboost.json"), junk, 0o644))
			editManifest(t, dir, "xgboost", func(e map[string]any) { e["sha256"] = sha256Hex(junk) })
		}},
		{"checksum mismatch", "checksum", false, func() {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "decision_tree.json"), append(pristine["decision_tree.json"], ' '), 0o644))
		}},
		{"missing file", "missing", false, func() {
			require.NoError(t, os.Remove(filepath.Join(dir, "xgboost.json.meta.json")))
		}},
		{"missing model", "not_found", true, func() {
			// A valid manifest that names no "xgboost": the entry becomes a
			// decision tree, which carries no sidecar checksum.
			editManifest(t, dir, "xgboost", func(e map[string]any) {
				e["name"] = "xgboost_v2"
				e["kind"] = "decision_tree"
				delete(e, "meta_sha256")
			})
		}},
		{"manifest", "registry", false, func() {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "manifest.json"), []byte("{"), 0o644))
		}},
	} {
		for _, trigger := range []string{triggerAdmin, triggerSIGHUP, triggerWatch} {
			t.Run(tc.name+" by "+trigger, func(t *testing.T) {
				defer restore()
				tc.damage()
				failures := reloads(hs, trigger, targetPrimary, resultFailure, tc.reason)
				switch trigger {
				case triggerAdmin:
					got := hs.admin("")
					require.Equal(t, http.StatusInternalServerError, got.status, "%s", got.body)
					body := got.json(t)
					assert.Equal(t, "failed", body["status"])
					assert.Equal(t, "decision_tree=90,xgboost=10", body["split"])
					assert.NotEmpty(t, body["error"])
				case triggerSIGHUP:
					err := hs.srv.Reload(nil, triggerSIGHUP)
					require.Error(t, err)
				case triggerWatch:
					// The watch reloads when the manifest changes; a damaged
					// artifact under an unchanged manifest waits for a SIGHUP
					// or an admin request.
					require.Equal(t, tc.watched, hs.srv.ReloadIfChanged(triggerWatch))
					if !tc.watched {
						failures--
					}
				}
				assert.Equal(t, failures+1, reloads(hs, trigger, targetPrimary, resultFailure, tc.reason), "failure counted with reason %s", tc.reason)
				assert.Equal(t, http.StatusOK, hs.get("/ready").status)
				for _, v := range hs.srv.router.Variants() {
					assert.Same(t, before[v.Name], v.Model(), "%s keeps serving", v.Name)
				}
				variant, version, body := hs.predictKeyed("client-7")
				assert.NotEmpty(t, variant)
				assert.Equal(t, map[string]string{"decision_tree": "1.0.2", "xgboost": "1.0.1"}[variant], version, "the registry's version of %s", variant)
				assert.Equal(t, "setosa", body["prediction"])
			})
		}
	}
	assert.Contains(t, logs.String(), `"msg":"reload failed"`)

	// Repaired, the registry reloads; the watch notices nothing to do.
	got := hs.admin("")
	require.Equal(t, http.StatusOK, got.status, "%s", got.body)
	assert.False(t, hs.srv.ReloadIfChanged(triggerWatch), "no change since the last reload")
	assert.Equal(t, float64(1), reloads(hs, triggerAdmin, targetPrimary, resultSuccess, ""))
}

// TestReloadNewVersion publishes a new version in the registry: the watch
// sees it and reloads, the answers say the new version, and mps_model_info
// drops the old version's series.
func TestReloadNewVersion(t *testing.T) {
	dir := copyRegistry(t)
	hs := registryServer(t, dir, "decision_tree=90,xgboost=10", Options{})
	assert.False(t, hs.srv.ReloadIfChanged(triggerWatch))
	editManifest(t, dir, "decision_tree", func(e map[string]any) { e["version"] = "1.1.0" })
	assert.True(t, hs.srv.ReloadIfChanged(triggerWatch))
	assert.Equal(t, float64(1), reloads(hs, triggerWatch, targetPrimary, resultSuccess, ""))

	key := keyFor(t, hs.srv.router, "decision_tree")
	variant, version, body := hs.predictKeyed(key)
	assert.Equal(t, "decision_tree", variant)
	assert.Equal(t, "1.1.0", version)
	assert.Equal(t, map[string]any{"kind": "decision_tree", "name": "decision_tree", "version": "1.1.0", "variant": "decision_tree"}, body["model"])
	models := hs.get("/models").json(t)["models"].([]any)
	assert.Equal(t, "registry", models[0].(map[string]any)["source"], "the new version's manifest entry is found")
	assert.Equal(t, "1.1.0", models[0].(map[string]any)["version"])

	metrics := string(hs.get("/metrics").body)
	assert.Contains(t, metrics, `mps_model_info{kind="decision_tree",name="decision_tree",role="primary",variant="decision_tree",version="1.1.0"} 1`)
	assert.NotContains(t, metrics, `version="1.0.2",variant="decision_tree"`)
	assert.NotContains(t, metrics, `variant="decision_tree",version="1.0.2"`)
	assert.Equal(t, 2, strings.Count(metrics, "mps_model_info{"))
}

// keyFor returns a sticky key the router sends to variant.
func keyFor(t *testing.T, r *rollout.Router, variant string) string {
	t.Helper()
	for i := range 10_000 {
		key := "client-" + itoa(i)
		if r.Route(key, 0).Name == variant {
			return key
		}
	}
	t.Fatalf("no key reaches %s", variant)
	return ""
}

// TestReloadPromotesCanary promotes a 10% canary to all traffic by an
// admin reload with a new split, and back.
func TestReloadPromotesCanary(t *testing.T) {
	hs := registryServer(t, copyRegistry(t), "decision_tree=90,xgboost=10", Options{})
	dtKey := keyFor(t, hs.srv.router, "decision_tree")
	variant, _, _ := hs.predictKeyed(dtKey)
	assert.Equal(t, "decision_tree", variant)

	got := hs.admin(`{"model_type": "decision_tree=0,xgboost=100"}`)
	require.Equal(t, http.StatusOK, got.status, "%s", got.body)
	assert.JSONEq(t, `{"status":"reloaded","trigger":"admin","split":"decision_tree=0,xgboost=100","variants":[
		{"variant":"decision_tree","weight":0,"name":"decision_tree","kind":"decision_tree","version":"1.0.2"},
		{"variant":"xgboost","weight":100,"name":"xgboost","kind":"xgboost","version":"1.0.1"}]}`, string(got.body))
	for i := range 200 {
		variant, _, _ := hs.predictKeyed("client-" + itoa(i))
		require.Equal(t, "xgboost", variant)
	}
	// A weight-0 variant stays loaded and addressable by name.
	assert.Equal(t, http.StatusOK, hs.get("/v2/models/decision_tree/ready").status)
	metrics := string(hs.get("/metrics").body)
	assert.Contains(t, metrics, `mps_split_weight{variant="decision_tree"} 0`)
	assert.Contains(t, metrics, `mps_split_weight{variant="xgboost"} 100`)

	// A split naming a model the registry lacks is the client's error, and
	// changes nothing.
	for i, split := range []string{"xgboost=50,svm=50", "nosuch=50,xgboost=50"} {
		got = hs.admin(`{"model_type": "` + split + `"}`)
		assert.Equal(t, http.StatusUnprocessableEntity, got.status, "%s", got.body)
		detail, _ := got.json(t)["detail"].(string)
		assert.True(t, strings.HasPrefix(detail, "model_type: the model source has no model named "), detail)
		assert.Contains(t, detail, "; use one of heuristic, decision_tree, random_forest, xgboost")
		assert.Equal(t, float64(i+1), reloads(hs, triggerAdmin, targetPrimary, resultFailure, "not_found"))
	}
	assert.Contains(t, hs.admin(`{"model_type": "nosuch=50,xgboost=50"}`).json(t)["detail"], `"nosuch"`)
	assert.Equal(t, "decision_tree=0,xgboost=100", hs.srv.router.Table().Split().String())

	// Back to one model: the split's variants shrink to it.
	got = hs.admin(`{"model_type": "Random_Forest"}`)
	require.Equal(t, http.StatusOK, got.status, "%s", got.body)
	hs.loadDoc()
	variant, _, _ = hs.predictKeyed(dtKey)
	assert.Equal(t, "random_forest", variant)
	assert.Equal(t, http.StatusNotFound, hs.get("/v2/models/xgboost").status)
	assert.NotContains(t, string(hs.get("/metrics").body), `mps_model_info{kind="xgboost"`)
}

// rulesRegistry writes a registry holding one rule model, "rules", that
// answers label for every row, with the given version.
func rulesRegistry(t *testing.T, label, version string) *classify.Registry {
	t.Helper()
	dir := t.TempDir()
	rules := []byte(`{"format": "classify/rules", "format_version": 1,
 "features": ["sepal_length", "sepal_width", "petal_length", "petal_width"],
 "classes": ["setosa", "versicolor", "virginica"], "rules": [], "default": "` + label + `", "source": "test"}`)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rules.json"), rules, 0o644))
	manifest := `{"format":"classify/manifest","format_version":1,"models":[{"name":"rules","kind":"heuristic","file":"rules.json",
		"sha256":"` + sha256Hex(rules) + `","version":"` + version + `","created":"2026-01-01T00:00:00Z",
		"features":["sepal_length","sepal_width","petal_length","petal_width"],"classes":["setosa","versicolor","virginica"],"metrics":[]}]}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(manifest), 0o644))
	reg, err := classify.OpenRegistryDir(dir)
	require.NoError(t, err)
	return reg
}

// TestReloadUnderLoad predicts from several goroutines while the model is
// reloaded 200 times, every couple of milliseconds, alternating
// between two versions that answer the probe row differently: every answer
// is 200 and its label is the one of the version it claims, in the header
// and in the body.
func TestReloadUnderLoad(t *testing.T) {
	answers := map[string]string{"1": "setosa", "2": "virginica"}
	regs := map[string]*classify.Registry{"1": rulesRegistry(t, "setosa", "1"), "2": rulesRegistry(t, "virginica", "2")}
	router, err := rollout.LoadRouter(mustSplit(t, "rules"), regs["1"].Load, nil)
	require.NoError(t, err)
	hs := newRouterHarness(t, router, Options{})

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var count atomic.Int64
	byVersion := [3]atomic.Int64{}
	fail := make(chan string, 16)
	for g := range 6 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				req := httptest.NewRequest(http.MethodPost, "/predict", strings.NewReader(seedRequest))
				req.Header.Set("Content-Type", jsonType)
				if g%2 == 0 {
					req.Header.Set("X-Client-ID", "client-"+itoa(i))
				}
				rec := httptest.NewRecorder()
				hs.h.ServeHTTP(rec, req)
				var body struct {
					Prediction string
					Model      struct{ Version, Variant string }
				}
				err := json.Unmarshal(rec.Body.Bytes(), &body)
				version := rec.Header().Get("X-Model-Version")
				if rec.Code != http.StatusOK || err != nil || body.Model.Version != version ||
					answers[version] == "" || body.Prediction != answers[version] || body.Model.Variant != "rules" {
					select {
					case fail <- rec.Header().Get("X-Model-Version") + " " + rec.Body.String():
					default:
					}
					return
				}
				count.Add(1)
				byVersion[version[0]-'0'].Add(1)
			}
		})
	}
	// A fixed number of swaps, not a time: on a loaded machine a deadline
	// left too few swaps to mean anything.
	const swaps = 200
	for i := range swaps {
		version := []string{"1", "2"}[i%2]
		_, err := router.Reload(nil, regs[version].Load, nil)
		require.NoError(t, err)
		time.Sleep(2 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	close(fail)
	for f := range fail {
		t.Errorf("torn or failed answer: %s", f)
	}
	t.Logf("%d answers (%d from version 1, %d from version 2) across %d swaps", count.Load(), byVersion[1].Load(), byVersion[2].Load(), swaps)
	assert.Positive(t, byVersion[1].Load())
	assert.Positive(t, byVersion[2].Load())
	metrics := string(hs.get("/metrics").body)
	assert.Equal(t, 1, strings.Count(metrics, "mps_model_info{"), "one series for the one variant")
}

func mustSplit(t *testing.T, s string) *rollout.Split {
	t.Helper()
	split, err := ParseModelType(s)
	require.NoError(t, err)
	return split
}

func TestReloadWithoutSource(t *testing.T) {
	hs := newHarness(t, classify.IrisRules(), Options{AdminToken: "x"})
	got := hs.admin("")
	assert.Equal(t, http.StatusInternalServerError, got.status)
	assert.Equal(t, "this server has no model source to reload from", got.json(t)["error"])
	assert.False(t, hs.srv.ReloadIfChanged(triggerWatch))
}

// TestReloadShadowFailureChangesNothing reloads with a new split while the
// shadow model's artifact is broken: the challenger is proved before
// anything is swapped, so the split, the variants and the challenger stay
// as they were, the answer is "failed", and the watch keeps trying until
// the artifact is repaired.
func TestReloadShadowFailureChangesNothing(t *testing.T) {
	dir := copyRegistry(t)
	reg, err := classify.OpenRegistryDir(dir)
	require.NoError(t, err)
	xgb, err := reg.Load("xgboost")
	require.NoError(t, err)
	challenger := rollout.NewLive(xgb)
	hs := registryServer(t, dir, "decision_tree", Options{Challenger: challenger, ShadowModel: "xgboost"})
	before := hs.srv.router.Variants()[0].Model()

	pristine, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	require.NoError(t, err)
	artifact, err := os.ReadFile(filepath.Join(dir, "xgboost.json"))
	require.NoError(t, err)
	junk := []byte("binf not really a model")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "xgboost.json"), junk, 0o644))
	editManifest(t, dir, "xgboost", func(e map[string]any) { e["sha256"] = sha256Hex(junk) })

	got := hs.admin(`{"model_type": "decision_tree=0,random_forest=100"}`)
	require.Equal(t, http.StatusInternalServerError, got.status, "%s", got.body)
	body := got.json(t)
	assert.Equal(t, "failed", body["status"])
	assert.Equal(t, "decision_tree=1", body["split"], "the new split is not applied")
	assert.Contains(t, body["error"], `shadow model "xgboost"`)
	assert.Equal(t, []any{map[string]any{"variant": "decision_tree", "weight": 1.0, "name": "decision_tree",
		"kind": "decision_tree", "version": "1.0.2"}}, body["variants"])
	require.Len(t, hs.srv.router.Variants(), 1)
	assert.Same(t, before, hs.srv.router.Variants()[0].Model(), "the variant keeps serving")
	assert.Same(t, xgb, challenger.Model(), "the challenger keeps serving")
	assert.Equal(t, float64(1), reloads(hs, triggerAdmin, targetShadow, resultFailure, "format"))
	assert.Equal(t, float64(0), reloads(hs, triggerAdmin, targetPrimary, resultSuccess, ""), "the variants were not reloaded")

	// The watch sees the changed manifest and tries, and tries again at the
	// next check: the failure did not record the source as loaded.
	assert.True(t, hs.srv.ReloadIfChanged(triggerWatch))
	assert.True(t, hs.srv.ReloadIfChanged(triggerWatch))
	assert.Equal(t, float64(2), reloads(hs, triggerWatch, targetShadow, resultFailure, "format"))
	assert.Same(t, xgb, challenger.Model())

	// Repaired, both reload together.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "xgboost.json"), artifact, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "manifest.json"), pristine, 0o644))
	got = hs.admin(`{"model_type": "decision_tree=0,random_forest=100"}`)
	require.Equal(t, http.StatusOK, got.status, "%s", got.body)
	assert.Equal(t, "decision_tree=0,random_forest=100", got.json(t)["split"])
	assert.NotSame(t, xgb, challenger.Model(), "the challenger reloaded")
	assert.Equal(t, float64(1), reloads(hs, triggerAdmin, targetShadow, resultSuccess, ""))
	assert.Equal(t, float64(1), reloads(hs, triggerAdmin, targetPrimary, resultSuccess, ""))
	assert.False(t, hs.srv.ReloadIfChanged(triggerWatch), "no change since the last reload")
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
