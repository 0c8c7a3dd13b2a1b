package classifyhttp

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/internal/modeltest"
	"github.com/ml-production-service/classify/rollout"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Missing values: a model whose Info().Missing is set takes null (and NaN,
// and "NaN") for a feature; any other model refuses them exactly as the old
// service did (TestPredictValidation pins those answers).

// missingRules is the Iris rules taking missing values, a missing value
// routed as fill.
func missingRules(fill float64) classify.Model { return modeltest.Missing(classify.IrisRules(), fill) }

const (
	nullPetal   = `{"sepal_length": 6.3, "sepal_width": 3.3, "petal_length": null, "petal_width": 2.5}`
	nanPetal    = `{"sepal_length": 6.3, "sepal_width": 3.3, "petal_length": NaN, "petal_width": 2.5}`
	nanStrPetal = `{"sepal_length": 6.3, "sepal_width": 3.3, "petal_length": "nan", "petal_width": 2.5}`
)

func TestPredictMissingValues(t *testing.T) {
	// Routed as 1.0, a missing petal length makes the row setosa; as 6.0,
	// virginica: the model decides, the server only passes NaN on.
	for fill, want := range map[float64]string{1.0: "setosa", 6.0: "virginica"} {
		hs := newHarness(t, missingRules(fill), Options{})
		got := hs.postValid("/predict", nullPetal)
		require.Equal(t, http.StatusOK, got.status, "%s", got.body)
		assert.Equal(t, want, got.json(t)["prediction"])
		for _, body := range []string{nanPetal, nanStrPetal} {
			got = hs.post("/predict", body)
			require.Equal(t, http.StatusOK, got.status, "%s", got.body)
			assert.Equal(t, want, got.json(t)["prediction"], body)
		}
	}

	hs := newHarness(t, missingRules(6.0), Options{})
	for _, tc := range []struct{ name, body, want string }{
		// An absent feature is still a missing field, not a missing value.
		{"absent", `{"sepal_length": 6.3, "sepal_width": 3.3, "petal_width": 2.5}`,
			`{"detail":[{"loc":["body","petal_length"],"msg":"field required","type":"value_error.missing"}]}`},
		// Infinities are not missing values.
		{"infinity beside null", `{"sepal_length": null, "sepal_width": 3.3, "petal_length": 4, "petal_width": Infinity}`,
			`{"detail":[{"loc":["body","petal_width"],"msg":"ensure this value is a finite number","type":"value_error.number.not_finite_number"}]}`},
		// The gt=0 rule still holds for the values given.
		{"zero beside null", `{"sepal_length": null, "sepal_width": 0, "petal_length": 4, "petal_width": 1}`,
			`{"detail":[{"loc":["body","sepal_width"],"msg":"ensure this value is greater than 0","type":"value_error.number.not_gt","ctx":{"limit_value":0}}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := hs.post("/predict", tc.body)
			assert.Equal(t, http.StatusUnprocessableEntity, got.status)
			assert.JSONEq(t, tc.want, string(got.body))
		})
	}

	// The batch takes them row by row; a model without them refuses those
	// rows in place, as before.
	batch := `{"instances":[` + seedRequest + `,` + nullPetal + `,` + nanPetal + `]}`
	got := hs.post("/predict/batch", batch)
	require.Equal(t, http.StatusOK, got.status)
	assert.JSONEq(t, `{"predictions":[
		{"prediction":"setosa","probabilities":{"setosa":1,"versicolor":0,"virginica":0}},
		{"prediction":"virginica","probabilities":{"setosa":0,"versicolor":0,"virginica":1}},
		{"prediction":"virginica","probabilities":{"setosa":0,"versicolor":0,"virginica":1}}],
		"errors":0,"model":{"kind":"heuristic","name":"heuristic","version":"","variant":"heuristic"}}`, string(got.body))
	got = hs.postValid("/predict/batch", `{"instances":[`+seedRequest+`,`+nullPetal+`]}`)
	assert.Equal(t, http.StatusOK, got.status)

	plain := newHarness(t, classify.IrisRules(), Options{})
	got = plain.post("/predict/batch", batch)
	require.Equal(t, http.StatusOK, got.status)
	assert.JSONEq(t, `{"predictions":[
		{"prediction":"setosa","probabilities":{"setosa":1,"versicolor":0,"virginica":0}},
		{"detail":[{"loc":["body","instances",1,"petal_length"],"msg":"none is not an allowed value","type":"type_error.none.not_allowed"}]},
		{"detail":[{"loc":["body","instances",2,"petal_length"],"msg":"ensure this value is greater than 0","type":"value_error.number.not_gt","ctx":{"limit_value":0}}]}],
		"errors":2,"model":{"kind":"heuristic","name":"heuristic","version":"","variant":"heuristic"}}`, string(got.body))
}

// With the old gt=0 rule off, NaN reached the model, which refused it as
// not finite; it still does for a model without missing values, and one
// with them takes it.
func TestPredictMissingValuesAllowNonPositive(t *testing.T) {
	plain := newHarness(t, classify.IrisRules(), Options{AllowNonPositive: true})
	got := plain.post("/predict", nanPetal)
	assert.Equal(t, http.StatusUnprocessableEntity, got.status)
	assert.JSONEq(t, `{"detail":[{"loc":["body","petal_length"],"msg":"ensure this value is a finite number","type":"value_error.number.not_finite_number"}]}`, string(got.body))

	hs := newHarness(t, missingRules(6.0), Options{AllowNonPositive: true})
	got = hs.post("/predict", nanPetal)
	assert.Equal(t, http.StatusOK, got.status)
	assert.Equal(t, "virginica", got.json(t)["prediction"])
}

func TestModelsAndOpenAPISayMissingValues(t *testing.T) {
	hs := newHarness(t, missingRules(6.0), Options{})
	models := hs.get("/models").json(t)["models"].([]any)
	assert.Equal(t, true, models[0].(map[string]any)["missing_values"])
	schema := hs.doc.Components.Schemas["PredictRequest"].Value
	for _, f := range []string{"sepal_length", "petal_width"} {
		assert.True(t, schema.Properties[f].Value.Nullable, f)
		assert.Contains(t, schema.Properties[f].Value.Description, "missing value")
	}
	assert.Contains(t, hs.doc.Paths.Value("/predict").Post.Description, "missing values accepted")

	plain := newHarness(t, classify.IrisRules(), Options{})
	assert.Equal(t, false, plain.get("/models").json(t)["models"].([]any)[0].(map[string]any)["missing_values"])
	p := plain.doc.Components.Schemas["PredictRequest"].Value.Properties["sepal_length"].Value
	assert.False(t, p.Nullable)
	assert.Empty(t, p.Description)
	assert.Contains(t, plain.doc.Paths.Value("/predict").Post.Description, "missing values refused")
}

// abRouter splits half and half between variant "takes" (missing values
// accepted) and "refuses" (the plain rules).
func abRouter(t *testing.T) *rollout.Router {
	t.Helper()
	split, err := rollout.NewSplit([]rollout.Arm{{Name: "takes", Weight: 1}, {Name: "refuses", Weight: 1}})
	require.NoError(t, err)
	r, err := rollout.NewRouter(split, map[string]classify.Model{
		"takes": missingRules(6.0), "refuses": classify.IrisRules()})
	require.NoError(t, err)
	return r
}

// TestSplitMissingValues: when the variants differ, the variant that
// answers decides, so a sticky key gets the same answer every time; the
// document promises null to nobody, and says which variants take it.
func TestSplitMissingValues(t *testing.T) {
	hs := newRouterHarness(t, abRouter(t), Options{})
	takes, refuses := keyFor(t, hs.srv.router, "takes"), keyFor(t, hs.srv.router, "refuses")
	for range 3 {
		got := hs.do(http.MethodPost, "/predict", nullPetal, map[string]string{"X-Client-ID": takes}, false)
		assert.Equal(t, http.StatusOK, got.status)
		assert.Equal(t, "takes", got.header.Get("X-Model-Variant"))
		got = hs.do(http.MethodPost, "/predict", nullPetal, map[string]string{"X-Client-ID": refuses}, false)
		assert.Equal(t, http.StatusUnprocessableEntity, got.status)
		assert.Equal(t, "refuses", got.header.Get("X-Model-Variant"))
		assert.JSONEq(t, `{"detail":[{"loc":["body","petal_length"],"msg":"none is not an allowed value","type":"type_error.none.not_allowed"}]}`, string(got.body))
	}
	got := hs.do(http.MethodPost, "/predict/batch", `{"instances":[`+nullPetal+`]}`, map[string]string{"X-Client-ID": refuses}, false)
	assert.Equal(t, float64(1), got.json(t)["errors"])

	p := hs.doc.Components.Schemas["PredictRequest"].Value.Properties["petal_length"].Value
	assert.False(t, p.Nullable, "null is not valid for every variant")
	assert.Contains(t, p.Description, "the others answer 422")
	desc := hs.doc.Paths.Value("/predict").Post.Description
	assert.Contains(t, desc, "takes (heuristic, heuristic, version unversioned, missing values accepted)")
	assert.Contains(t, desc, "refuses (heuristic, heuristic, version unversioned, missing values refused)")
	var flags []any
	for _, m := range hs.get("/models").json(t)["models"].([]any) {
		flags = append(flags, m.(map[string]any)["missing_values"])
	}
	assert.Equal(t, []any{true, false}, flags)

	// Under /v2 each variant is addressed by name.
	body := `{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP64","data":[6.3,3.3,null,2.5]}]}`
	assert.Equal(t, http.StatusOK, hs.postValid("/v2/models/takes/infer", body).status)
	got = hs.postValid("/v2/models/refuses/infer", body)
	assert.Equal(t, http.StatusBadRequest, got.status)
	assert.Equal(t, `input "x": data[2] is null, a missing value, and model "heuristic" takes none`, got.json(t)["error"])
}

// TestRegistryMissingValues checks the real artifacts. In the production
// registry (scikit-learn 1.9.1, XGBoost 3.2.0) every model takes missing
// values but the heuristic: a split of the trees answers null from each
// variant and the document promises it, while a split beside the heuristic
// does not. In the compat registry (scikit-learn 1.2.1, XGBoost 1.7.4) the
// decision tree refuses null as the old service did, and xgboost takes it.
func TestRegistryMissingValues(t *testing.T) {
	nullable := func(hs *harness) bool {
		return hs.doc.Components.Schemas["PredictRequest"].Value.Properties["petal_length"].Value.Nullable
	}
	flags := func(hs *harness) map[string]any {
		got := map[string]any{}
		for _, m := range hs.get("/models").json(t)["models"].([]any) {
			got[m.(map[string]any)["name"].(string)] = m.(map[string]any)["missing_values"]
		}
		return got
	}
	predictNull := func(hs *harness, variant string, valid bool) exchange {
		got := hs.do(http.MethodPost, "/predict", nullPetal, map[string]string{"X-Client-ID": keyFor(t, hs.srv.router, variant)}, valid)
		assert.Equal(t, variant, got.header.Get("X-Model-Variant"))
		return got
	}

	trees := productionSplit(t, "decision_tree=50,random_forest=25,xgboost=25", Options{})
	assert.True(t, nullable(trees), "every variant takes null")
	assert.Equal(t, map[string]any{"decision_tree": true, "random_forest": true, "xgboost": true}, flags(trees))
	for _, v := range []string{"decision_tree", "random_forest", "xgboost"} {
		got := predictNull(trees, v, true)
		require.Equal(t, http.StatusOK, got.status, "%s: %s", v, got.body)
		assert.Contains(t, []any{"setosa", "versicolor", "virginica"}, got.json(t)["prediction"], v)
	}

	mixed := productionSplit(t, "heuristic=50,xgboost=50", Options{})
	assert.False(t, nullable(mixed), "the heuristic refuses null")
	assert.Equal(t, map[string]any{"heuristic": false, "xgboost": true}, flags(mixed))
	assert.Equal(t, http.StatusOK, predictNull(mixed, "xgboost", false).status)
	got := predictNull(mixed, "heuristic", false)
	assert.Equal(t, http.StatusUnprocessableEntity, got.status)
	assert.JSONEq(t, `{"detail":[{"loc":["body","petal_length"],"msg":"none is not an allowed value","type":"type_error.none.not_allowed"}]}`, string(got.body))

	compat := registryServer(t, "../testdata/compat/registry", "decision_tree=50,xgboost=50", Options{})
	assert.False(t, nullable(compat), "the old decision tree refuses null")
	assert.Equal(t, map[string]any{"decision_tree": false, "xgboost": true}, flags(compat))
	assert.Equal(t, http.StatusOK, predictNull(compat, "xgboost", false).status)
	got = predictNull(compat, "decision_tree", false)
	assert.Equal(t, http.StatusUnprocessableEntity, got.status)
	assert.JSONEq(t, `{"detail":[{"loc":["body","petal_length"],"msg":"none is not an allowed value","type":"type_error.none.not_allowed"}]}`, string(got.body))
}

// A challenger that takes no missing values refuses the rows that hold
// them: counted as errors, the primary's answer untouched.
func TestShadowMissingValues(t *testing.T) {
	hs := newHarness(t, missingRules(6.0), Options{Challenger: rollout.NewLive(classify.IrisRules()), ShadowModel: "heuristic", ShadowFraction: 1})
	assert.Equal(t, http.StatusOK, hs.postValid("/predict", nullPetal).status)
	assert.Equal(t, http.StatusOK, hs.postValid("/predict", seedRequest).status)
	hs.srv.shadow.Wait()
	metrics := string(hs.get("/metrics").body)
	assert.Contains(t, metrics, `mps_shadow_predictions_total{challenger="heuristic",primary="heuristic",result="error",variant="heuristic"} 1`)
	assert.Contains(t, metrics, `mps_shadow_predictions_total{challenger="heuristic",primary="heuristic",result="agree",variant="heuristic"} 1`)
	models := hs.get("/models").json(t)["models"].([]any)
	assert.Equal(t, false, models[1].(map[string]any)["missing_values"], "the shadow says so too")
}

func TestV2InferMissingValues(t *testing.T) {
	hs := newHarness(t, missingRules(6.0), Options{})
	for _, tc := range []struct{ name, body string }{
		{"null, flat", `{"inputs":[{"name":"x","shape":[2,4],"datatype":"FP64","data":[5.1,3.5,1.4,0.2,6.3,3.3,null,2.5]}]}`},
		{"null, nested FP32", `{"inputs":[{"name":"x","shape":[2,4],"datatype":"FP32","data":[[5.1,3.5,1.4,0.2],[6.3,3.3,null,2.5]]}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := hs.postValid("/v2/models/heuristic/infer", tc.body)
			require.Equal(t, http.StatusOK, got.status, "%s", got.body)
			assert.Equal(t, []any{"setosa", "virginica"}, got.json(t)["outputs"].([]any)[0].(map[string]any)["data"])
		})
	}
	// NaN, which JSON lacks and Python writes, too.
	got := hs.post("/v2/models/heuristic/infer", `{"id":"NaN","inputs":[{"name":"x","shape":[1,4],"datatype":"FP64","data":[6.3, 3.3, NaN, 2.5]}]}`)
	require.Equal(t, http.StatusOK, got.status, "%s", got.body)
	assert.Equal(t, "NaN", got.json(t)["id"])
	// An infinity is no missing value.
	got = hs.post("/v2/models/heuristic/infer", `{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP64","data":[6.3, 3.3, NaN, 1e999]}]}`)
	assert.Equal(t, http.StatusBadRequest, got.status)
	assert.Contains(t, got.json(t)["error"], "feature 3 is +Inf")

	plain := newHarness(t, classify.IrisRules(), Options{})
	for _, tc := range []struct{ name, body, want string }{
		{"null", `{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP64","data":[6.3,3.3,null,2.5]}]}`,
			`input "x": data[2] is null, a missing value, and model "heuristic" takes none`},
		{"NaN nested", `{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[[6.3,3.3,2,NaN]]}]}`,
			`input "x": data[0][3] is null, a missing value, and model "heuristic" takes none`},
		// NaN elsewhere than in data is not JSON, as before.
		{"NaN in parameters", `{"parameters":{"a":NaN},"inputs":[{"name":"x","shape":[1,4],"datatype":"FP64","data":[6.3,3.3,2,1]}]}`,
			`invalid JSON: invalid character 'N' looking for beginning of value`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := plain.post("/v2/models/heuristic/infer", tc.body)
			assert.Equal(t, http.StatusBadRequest, got.status)
			assert.Equal(t, tc.want, got.json(t)["error"])
		})
	}
}

func TestNaNDataToNull(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"inputs":[{"data":[1,NaN]}]}`, `{"inputs":[{"data":[1,null]}]}`},
		{`{"inputs":[{"data":[[NaN],[2, NaN]]},{"name":"NaN","data":NaN}]}`, `{"inputs":[{"data":[[null],[2, null]]},{"name":"NaN","data":null}]}`},
		{`{"inputs":[{"data":[1]}], "inputs":[{"data":[NaN]}]}`, `{"inputs":[{"data":[1]}], "inputs":[{"data":[null]}]}`},
		// Left alone: NaN outside data, in strings, or a body Python's rules
		// do not parse.
		{`{"parameters":{"x":NaN},"inputs":[{"data":[1]}]}`, ``},
		{`{"inputs":[{"data":["NaN"]}]}`, ``},
		{`{"inputs":[{"data":[NaN]}]`, ``},
		{`[{"inputs":[{"data":[NaN]}]}]`, ``},
		{`{"inputs":{"data":[NaN]}}`, ``},
		{`{"inputs":[[NaN]]}`, ``},
		{"{\"inputs\":[{\"data\":[NaN]}],\"x\":\"\xff\"}", ``},
	} {
		want := tc.want
		if want == "" {
			want = tc.in
		}
		assert.Equal(t, want, string(nanDataToNull([]byte(tc.in))), tc.in)
	}
	assert.False(t, strings.Contains(string(nanDataToNull([]byte(`{"inputs":[{"data":[NaN,NaN,NaN]}]}`))), "NaN"))
}

// FuzzNaNDataToNull: the rewrite never panics, leaves a body it does not
// change byte for byte, and otherwise only turns NaN numbers into nulls:
// the result parses to the same tree, node for node, and encoding/json
// accepts it whenever the only thing it refused was those NaNs.
func FuzzNaNDataToNull(f *testing.F) {
	for _, s := range []string{`{"inputs":[{"data":[1,NaN]}]}`, `{"inputs":[{"data":[[NaN],[2,NaN]]},{"name":"NaN","data":NaN}]}`,
		`{"parameters":{"x":NaN},"inputs":[{"data":[NaN]}]}`, `{"inputs":[{"data":["NaN",Infinity]}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		out := nanDataToNull(b)
		if string(out) == string(b) {
			return
		}
		var before, after jsonDoc
		if before.parse(b) != nil || after.parse(out) != nil {
			t.Fatalf("%q became %q: one does not parse", b, out)
		}
		if len(before.nodes) != len(after.nodes) {
			t.Fatalf("%q became %q: %d nodes, then %d", b, out, len(before.nodes), len(after.nodes))
		}
		for i, n := range before.nodes {
			m := after.nodes[i]
			nanToNull := n.kind == jNumber && string(before.raw(i)) == "NaN" && m.kind == jNull
			if n.kind != m.kind && !nanToNull || n.size != m.size || n.count != m.count {
				t.Fatalf("%q became %q: node %d changed", b, out, i)
			}
			if n.kind == jString && before.text(i) != after.text(i) {
				t.Fatalf("%q became %q: string %d changed", b, out, i)
			}
		}
	})
}
