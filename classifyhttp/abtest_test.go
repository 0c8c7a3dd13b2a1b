package classifyhttp

import (
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/models"
	"github.com/ml-production-service/classify/rollout"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// productionSplit serves split over the embedded registry.
func productionSplit(t *testing.T, split string, opts Options) *harness {
	t.Helper()
	reg, err := classify.OpenRegistry(models.FS)
	require.NoError(t, err)
	router, err := rollout.LoadRouter(mustSplit(t, split), reg.Load, nil)
	require.NoError(t, err)
	opts.Catalog = &Catalog{Registry: reg}
	return newRouterHarness(t, router, opts)
}

// TestSplitThroughHandler sends 20,000 distinct keys through the handler
// of a 90/10 split (the library checks 100,000 on the router) and finds
// each variant's share within a percentage point; a second server, built
// independently as after a restart, sends every key to the same variant;
// keyless requests follow the injected random source.
func TestSplitThroughHandler(t *testing.T) {
	a := productionSplit(t, "decision_tree=90,xgboost=10", Options{})
	b := productionSplit(t, "decision_tree=90,xgboost=10", Options{})
	const n = 20_000
	shares := map[string]int{}
	for i := range n {
		key := "user-" + itoa(i)
		req := httptest.NewRequest(http.MethodPost, "/predict", strings.NewReader(seedRequest))
		req.Header.Set("X-Client-ID", key)
		rec := httptest.NewRecorder()
		a.h.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code)
		variant := rec.Header().Get("X-Model-Variant")
		shares[variant]++
		if i%20 == 0 { // a sample through the second server's handler, all of them through its router
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, "/predict", strings.NewReader(seedRequest))
			req.Header.Set("X-Client-ID", key)
			b.h.ServeHTTP(rec, req)
			require.Equal(t, variant, rec.Header().Get("X-Model-Variant"), key)
		} else {
			require.Equal(t, variant, b.srv.router.Route(key, 0).Name, key)
		}
	}
	assert.InDelta(t, 0.90, float64(shares["decision_tree"])/n, 0.01, "%v", shares)
	assert.InDelta(t, 0.10, float64(shares["xgboost"])/n, 0.01, "%v", shares)

	// The answer names the variant and version, in headers and body, and the
	// document describes both.
	got := a.do(http.MethodPost, "/predict", seedRequest, map[string]string{"X-Client-ID": keyFor(t, a.srv.router, "xgboost")}, true)
	assert.Equal(t, "xgboost", got.header.Get("X-Model-Variant"))
	assert.Equal(t, "1.0.1", got.header.Get("X-Model-Version"))
	assert.Equal(t, map[string]any{"kind": "xgboost", "name": "xgboost", "version": "1.0.1", "variant": "xgboost"}, got.json(t)["model"])
	batch := a.do(http.MethodPost, "/predict/batch", `{"instances":[`+seedRequest+`,`+seedRequest+`]}`,
		map[string]string{"X-Client-ID": keyFor(t, a.srv.router, "decision_tree")}, true)
	assert.Equal(t, "decision_tree", batch.header.Get("X-Model-Variant"))
	assert.Equal(t, "decision_tree", batch.json(t)["model"].(map[string]any)["variant"])

	// Requests per variant show in the metrics.
	metrics := string(a.get("/metrics").body)
	assert.Contains(t, metrics, `mps_http_requests_total{method="POST",model="xgboost",route="/predict",status="200",variant="xgboost"} `)
	assert.Contains(t, metrics, `mps_predictions_total{class="setosa",model="decision_tree",variant="decision_tree"} `)
	assert.Contains(t, metrics, `mps_http_request_duration_seconds_count{method="POST",model="xgboost",route="/predict",status="200",variant="xgboost"} `)
}

func TestSplitWithoutKeyUsesInjectedRandomness(t *testing.T) {
	seeded := func() func() float64 {
		rng := rand.New(rand.NewPCG(42, 0))
		var mu sync.Mutex
		return func() float64 { mu.Lock(); defer mu.Unlock(); return rng.Float64() }
	}
	run := func() []string {
		hs := productionSplit(t, "decision_tree=50,xgboost=50", Options{Rand: seeded()})
		var got []string
		for range 40 {
			got = append(got, hs.postValid("/predict", seedRequest).header.Get("X-Model-Variant"))
		}
		return got
	}
	first := run()
	assert.Equal(t, first, run(), "the same seed splits the same way")
	assert.Contains(t, first, "decision_tree")
	assert.Contains(t, first, "xgboost")

	// A custom header carries the key.
	hs := productionSplit(t, "decision_tree=50,xgboost=50", Options{SplitHeader: "x-user-id", Rand: func() float64 { return 0 }})
	key := keyFor(t, hs.srv.router, "xgboost")
	got := hs.do(http.MethodPost, "/predict", seedRequest, map[string]string{"X-User-ID": key}, true)
	assert.Equal(t, "xgboost", got.header.Get("X-Model-Variant"))
	assert.Equal(t, "decision_tree", hs.postValid("/predict", seedRequest).header.Get("X-Model-Variant"), "u=0 without a key")
	assert.Equal(t, "x-user-id", hs.doc.Paths.Value("/predict").Post.Parameters[0].Value.Name)
}

func TestSplitV2AddressesVariantsByName(t *testing.T) {
	hs := productionSplit(t, "decision_tree=100,xgboost=0", Options{})
	for _, name := range []string{"decision_tree", "xgboost"} {
		got := hs.postValid("/v2/models/"+name+"/infer", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":[5.1,3.5,1.4,0.2]}]}`)
		require.Equal(t, http.StatusOK, got.status, "%s", got.body)
		assert.Equal(t, name, got.json(t)["model_name"])
		assert.Equal(t, name, got.header.Get("X-Model-Variant"))
	}
	got := hs.get("/v2/models/random_forest")
	assert.Equal(t, http.StatusNotFound, got.status)
	assert.Equal(t, `model "random_forest" is not served here; this server serves "decision_tree", "xgboost"`, got.json(t)["error"])

	ready := hs.get("/ready")
	assert.JSONEq(t, `{"status":"ready","model":"decision_tree=100,xgboost=0"}`, string(ready.body))
	models := hs.get("/models").json(t)
	assert.Equal(t, "decision_tree=100,xgboost=0", models["split"])
	assert.Len(t, models["models"], 2)
}

func TestAdminAuth(t *testing.T) {
	off := newHarness(t, classify.IrisRules(), Options{})
	got := off.do(http.MethodPost, "/admin/reload", "", map[string]string{"Authorization": "Bearer anything"}, false)
	assert.Equal(t, http.StatusNotFound, got.status)
	assert.JSONEq(t, `{"detail":"Not Found"}`, string(got.body))

	hs := registryServer(t, copyRegistry(t), "heuristic", Options{AdminToken: "s3cret"})
	for _, tc := range []struct {
		name, auth, detail string
	}{
		{"no header", "", "Not authenticated"},
		{"other scheme", "Basic czNjcmV0", "Not authenticated"},
		{"wrong token", "Bearer s3cre", "Invalid authentication credentials"},
		{"longer token", "Bearer s3cret2", "Invalid authentication credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := hs.do(http.MethodPost, "/admin/reload", "", map[string]string{"Authorization": tc.auth}, true)
			assert.Equal(t, http.StatusUnauthorized, got.status)
			assert.Equal(t, tc.detail, got.json(t)["detail"])
			assert.Contains(t, got.header.Get("WWW-Authenticate"), "Bearer")
		})
	}
	got = hs.do(http.MethodPost, "/admin/reload", "", map[string]string{"Authorization": "bearer s3cret"}, true)
	assert.Equal(t, http.StatusOK, got.status, "the scheme is case-insensitive")
	assert.Equal(t, http.StatusMethodNotAllowed, hs.get("/admin/reload").status)

	for body, detail := range map[string]string{
		`{"model_type": "a=x"}`:  `model_type: rollout: split: weight of "a" is "x", not an integer`,
		`{"split": "a=1"}`:       `unknown field "split"`,
		`[1]`:                    `the body must be empty or {"model_type": "name=weight,..."}`,
		`{"model_type": 5}`:      "cannot unmarshal number",
		`{"model_type": ""} {} `: `the body must be empty`,
	} {
		got := hs.do(http.MethodPost, "/admin/reload", body, map[string]string{"Authorization": "Bearer s3cret"}, false)
		assert.Equal(t, http.StatusUnprocessableEntity, got.status, body)
		assert.Contains(t, got.json(t)["detail"], detail, body)
	}
	got = hs.admin(`{}`)
	assert.Equal(t, http.StatusOK, got.status)
}

// TestShadow runs a challenger on every request: the primary answers as
// before, agreement and disagreement are counted per primary variant and
// logged at DEBUG.
func TestShadow(t *testing.T) {
	var logs syncBuffer
	challenger := rollout.NewLive(weatherLike("virginica"))
	hs := productionSplit(t, "heuristic", Options{Challenger: challenger, ShadowModel: "always-virginica", ShadowFraction: 1,
		Logger: jsonLogger(&logs, slog.LevelDebug)})
	for range 3 {
		assert.Equal(t, "setosa", hs.postValid("/predict", seedRequest).json(t)["prediction"])
	}
	virginica := `{"sepal_length": 7, "sepal_width": 3, "petal_length": 6, "petal_width": 2.3}`
	assert.Equal(t, http.StatusOK, hs.postValid("/predict/batch", `{"instances":[`+virginica+`]}`).status)
	assert.Equal(t, http.StatusOK, hs.postValid("/v2/models/heuristic/infer", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":[5.1,3.5,1.4,0.2]}]}`).status)
	hs.srv.shadow.Wait()
	metrics := string(hs.get("/metrics").body)
	assert.Contains(t, metrics, `mps_shadow_predictions_total{challenger="always-virginica",primary="heuristic",result="disagree",variant="heuristic"} 4`)
	assert.Contains(t, metrics, `mps_shadow_predictions_total{challenger="always-virginica",primary="heuristic",result="agree",variant="heuristic"} 1`)
	assert.Contains(t, metrics, `mps_model_info{kind="heuristic",name="always-virginica",role="shadow",variant="",version="9"} 1`)
	shadowLines := 0
	for _, l := range logs.lines(t) {
		if l["msg"] == "shadow" {
			shadowLines++
			assert.Equal(t, "DEBUG", l["level"])
			assert.Equal(t, "heuristic", l["variant"])
			assert.Equal(t, "virginica", l["challenger_label"])
		}
	}
	assert.Equal(t, 5, shadowLines)
	models := hs.get("/models").json(t)
	assert.Equal(t, 1.0, models["shadow_fraction"])
	assert.Equal(t, "shadow", models["models"].([]any)[1].(map[string]any)["role"])
}

// weatherLike is a rule-like stub over the Iris schema that always answers
// label.
func weatherLike(label string) *stubModel {
	classes := []string{"setosa", "versicolor", "virginica"}
	class := 0
	for i, c := range classes {
		if c == label {
			class = i
		}
	}
	return &stubModel{
		info: classify.Info{Kind: classify.Heuristic, Name: "always-" + label, Version: "9",
			Features: []string{"sepal_length", "sepal_width", "petal_length", "petal_width"}, Classes: classes},
		predict: func(row, proba []float64) (classify.Prediction, error) {
			p := make([]float64, 3)
			p[class] = 1
			return classify.Prediction{Class: class, Label: label, Probabilities: p}, nil
		},
	}
}

// TestShadowNeverHurtsThePrimary gives the primary answer while the
// challenger is stuck or failing: no added wait, no failed request; busy
// slots drop shadowing, counted.
func TestShadowNeverHurtsThePrimary(t *testing.T) {
	release := make(chan struct{})
	stuck := weatherLike("setosa")
	stuck.predict = func(row, proba []float64) (classify.Prediction, error) {
		<-release
		return classify.Prediction{}, errors.New("challenger broke")
	}
	hs := productionSplit(t, "heuristic", Options{Challenger: rollout.NewLive(stuck), ShadowModel: "stuck", ShadowFraction: 1})
	for range shadowMaxInFlight + 10 {
		got := hs.postValid("/predict", seedRequest)
		require.Equal(t, http.StatusOK, got.status)
	}
	assert.Equal(t, 10.0, counterValue(t, hs.srv.metrics.shadowDropped))
	close(release)
	hs.srv.shadow.Wait()
	assert.Contains(t, string(hs.get("/metrics").body),
		`mps_shadow_predictions_total{challenger="always-setosa",primary="heuristic",result="error",variant="heuristic"} 64`)

	none := productionSplit(t, "heuristic", Options{Challenger: rollout.NewLive(stuck), ShadowModel: "stuck", ShadowFraction: 0})
	none.postValid("/predict", seedRequest)
	none.srv.shadow.Wait()
	assert.NotContains(t, string(none.get("/metrics").body), "mps_shadow_predictions_total{")
}
