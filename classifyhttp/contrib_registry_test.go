package classifyhttp

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// irisInstances returns the 150 Iris rows as a /predict/batch envelope's
// instances, the first with a missing petal_width (null).
func irisInstances(t *testing.T) string {
	f, err := os.Open("../research/data/iris.csv")
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	var rows []string
	for i, r := range recs[1:] {
		width := r[3]
		if i == 0 {
			width = "null"
		}
		rows = append(rows, fmt.Sprintf(`{"sepal_length":%s,"sepal_width":%s,"petal_length":%s,"petal_width":%s}`, r[0], r[1], r[2], width))
	}
	return strings.Join(rows, ",")
}

// TestRegistryContributions asks every production model for the
// contributions of every Iris row (one with a missing value). A model that
// explains answers finite contributions that add up to its raw output: the
// probabilities of a tree or forest, the margins of XGBoost, whose softmax
// is its probabilities; the /v2 tensor holds the same values, and the
// importance endpoint answers. Every tree model in the registry must
// explain (its artifact carries node covers: classify/sklearn-trees v3);
// one that cannot fails the test. The heuristic answers 422: rules have no
// contributions. (TestContributionsWithoutCovers covers an artifact
// without covers, which the registry no longer holds.)
func TestRegistryContributions(t *testing.T) {
	reg, err := classify.OpenRegistry(models.FS)
	require.NoError(t, err)
	instances := irisInstances(t)
	for _, e := range reg.Manifest().Models {
		t.Run(e.Name, func(t *testing.T) {
			m, err := reg.Load(e.Name)
			require.NoError(t, err)
			hs := newHarness(t, m, Options{Catalog: &Catalog{Registry: reg}})
			batch := hs.post("/predict/batch?contributions=true", `{"instances":[`+instances+`]}`)
			cm, ok := m.(classify.Contributor)
			if !ok {
				assert.Equal(t, http.StatusUnprocessableEntity, batch.status)
				assert.Contains(t, string(batch.body), "cannot explain contributions: only tree models can")
				return
			}
			info := m.Info()
			probe := make([]float64, len(cm.Outputs())*(len(info.Features)+1))
			require.NoError(t, cm.Contributions([]float64{5.1, 3.5, 1.4, 0.2}, probe),
				"the registry's %s cannot explain: export it again with node covers", e.Name)
			require.Equal(t, http.StatusOK, batch.status, "%s", batch.body)
			var answer struct {
				Errors      int
				Predictions []struct {
					Probabilities map[string]float64
					Contributions map[string]map[string]float64
					Expected      map[string]float64 `json:"expected_value"`
					Raw           map[string]float64 `json:"raw_output"`
				}
			}
			require.NoError(t, json.Unmarshal(batch.body, &answer))
			require.Zero(t, answer.Errors)
			require.Len(t, answer.Predictions, 150)
			outputs := cm.Outputs()
			margin := rawOutputOf(info.Kind) == rawMargin
			var flat []float64 // the answers, in the /v2 tensor's order
			for i, p := range answer.Predictions {
				raws := make([]float64, len(outputs))
				for o, out := range outputs {
					sum := p.Expected[out]
					for _, f := range info.Features {
						v, ok := p.Contributions[out][f]
						require.True(t, ok, "row %d: no %s:%s", i, out, f)
						require.False(t, math.IsNaN(v) || math.IsInf(v, 0), "row %d: %s:%s = %v", i, out, f, v)
						sum += v
						flat = append(flat, v)
					}
					flat = append(flat, p.Expected[out])
					assert.InDelta(t, sum, p.Raw[out], 1e-12)
					raws[o] = p.Raw[out]
					if !margin {
						assert.InDelta(t, p.Probabilities[out], p.Raw[out], 1e-9, "row %d, %s", i, out)
					}
				}
				if margin && len(outputs) == len(info.Classes) {
					total := 0.0
					for _, r := range raws {
						total += math.Exp(r)
					}
					for o, out := range outputs {
						assert.InDelta(t, p.Probabilities[out], math.Exp(raws[o])/total, 1e-6, "row %d, %s", i, out)
					}
				}
			}

			// /v2: the same values, as a tensor.
			var data []string
			for _, inst := range strings.Split(instances, "},{") {
				inst = strings.Trim(inst, "{}")
				var vals []string
				for _, kv := range strings.Split(inst, ",") {
					vals = append(vals, kv[strings.IndexByte(kv, ':')+1:])
				}
				data = append(data, "["+strings.Join(vals, ",")+"]")
			}
			v2 := hs.postValid("/v2/models/"+e.Name+"/infer", `{"inputs":[{"name":"input","shape":[150,4],"datatype":"FP64","data":[`+
				strings.Join(data, ",")+`]}],"outputs":[{"name":"contributions"}]}`)
			require.Equal(t, http.StatusOK, v2.status, "%s", v2.body)
			var res struct{ Outputs []struct{ Data []float64 } }
			require.NoError(t, json.Unmarshal(v2.body, &res))
			assert.Equal(t, flat, res.Outputs[0].Data)

			imp := hs.postValid("/models/"+e.Name+"/importance", `{"instances":[`+instances+`]}`)
			require.Equal(t, http.StatusOK, imp.status, "%s", imp.body)
			assert.Equal(t, 150.0, imp.json(t)["rows"])
		})
	}
}

// TestRegistryModelsListImportance: GET /models describes what every
// production tree model explains, beside the fields it always had.
func TestRegistryModelsListImportance(t *testing.T) {
	reg, err := classify.OpenRegistry(models.FS)
	require.NoError(t, err)
	for _, e := range reg.Manifest().Models {
		m, err := reg.Load(e.Name)
		require.NoError(t, err)
		mv := newHarness(t, m, Options{Catalog: &Catalog{Registry: reg}}).get("/models").json(t)["models"].([]any)[0].(map[string]any)
		for _, k := range []string{"name", "kind", "version", "features", "classes", "metrics", "sha256", "created", "source", "role", "variant", "weight", "missing_values"} {
			assert.Contains(t, mv, k, e.Name)
		}
		_, explains := m.(classify.Contributor)
		assert.Equal(t, explains, mv["contributions"] != nil, e.Name)
		_, tree := m.(classify.TreeModel)
		assert.Equal(t, tree, mv["importance"] != nil, e.Name)
	}
}

// TestREADMEContributionsExample: the README's contributions example is
// what the production XGBoost model answers.
func TestREADMEContributionsExample(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	example := regexp.MustCompile("(?s)curl -s -X POST 'localhost:8000/predict\\?contributions=true'[^\\n]*\\\\\\n\\s+-d '([^']*)'\\n```\\n\\n```\\n(\\{[^\\n]*\\})\\n```")
	found := example.FindSubmatch(readme)
	require.NotNil(t, found, "README.md's contributions example was not found")
	hs := newHarness(t, registryModel("xgboost"), Options{})
	got := hs.postValid("/predict?contributions=true", string(found[1]))
	// The text is the answer's, except that a contribution may differ in
	// its last bits (TreeSHAP's order of additions is the engine's to
	// choose): numbers agree within 1e-12, everything else exactly.
	var want, have any
	require.NoError(t, json.Unmarshal(found[2], &want))
	require.NoError(t, json.Unmarshal(got.body, &have))
	assertJSONClose(t, want, have, "")
}

// assertJSONClose compares two decoded JSON values: numbers within 1e-12
// (relative to max(1, |want|)), everything else, keys included, exactly.
func assertJSONClose(t *testing.T, want, have any, at string) {
	t.Helper()
	switch w := want.(type) {
	case float64:
		h, ok := have.(float64)
		if !ok || math.Abs(h-w) > 1e-12*math.Max(1, math.Abs(w)) {
			t.Errorf("%s: README says %v, the server answers %v", at, w, have)
		}
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok || len(h) != len(w) {
			t.Errorf("%s: README says %v, the server answers %v", at, w, have)
			return
		}
		for k, v := range w {
			assertJSONClose(t, v, h[k], at+"."+k)
		}
	default:
		assert.Equal(t, want, have, at)
	}
}

// TestContributionsWithoutCovers: a scikit-learn dump exported before
// classify/sklearn-trees v3 (the compatibility registry's, scikit-learn
// 1.2.1) loads and predicts but cannot explain: 422 (400 under /v2) with
// the library's message, and the server keeps serving.
func TestContributionsWithoutCovers(t *testing.T) {
	m, err := classify.New(classify.DecisionTree, "../testdata/compat/registry/decision_tree.json")
	require.NoError(t, err)
	hs := newHarness(t, m, Options{})
	for _, target := range []string{"/predict?contributions=true", "/predict/batch?contributions=true"} {
		body := seedRequest
		if strings.Contains(target, "batch") {
			body = `{"instances":[` + seedRequest + `]}`
		}
		got := hs.post(target, body)
		assert.Equal(t, http.StatusUnprocessableEntity, got.status)
		assert.Contains(t, string(got.body), `"type":"value_error.contributions.unavailable"`)
		assert.Contains(t, string(got.body), `cannot explain contributions: invalid model artifact: decision_tree`)
		assert.Contains(t, string(got.body), "node covers")
	}
	got := hs.post("/v2/models/decision_tree/infer", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":[5.1,3.5,1.4,0.2]}],"outputs":[{"name":"contributions"}]}`)
	assert.Equal(t, http.StatusBadRequest, got.status)
	assert.Contains(t, string(got.body), "node covers")
	assert.Equal(t, http.StatusUnprocessableEntity, hs.post("/models/decision_tree/importance", `{"instances":[`+seedRequest+`]}`).status)
	assert.Equal(t, http.StatusOK, hs.post("/predict", seedRequest).status, "still serving")
}
