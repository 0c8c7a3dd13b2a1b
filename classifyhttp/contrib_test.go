package classifyhttp

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/rollout"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeTree is a classify.TreeModel for handler tests: the Iris rules'
// predictions, and contributions that are a known function of the row
// (feature f's contribution to output o is (o+1)*row[f]/10, the bias
// (o+1)/4), so a test can say what each answer must hold. err, when set,
// is what every Contributions call returns.
type fakeTree struct {
	classify.Model
	err error
}

func newFakeTree() *fakeTree { return &fakeTree{Model: classify.IrisRules()} }

func (m *fakeTree) Info() classify.Info {
	info := m.Model.Info()
	info.Kind, info.Name = classify.DecisionTree, "fake_tree"
	return info
}

func (m *fakeTree) Outputs() []string { return m.Info().Classes }

func (m *fakeTree) Contributions(row, out []float64) error {
	if m.err != nil {
		return m.err
	}
	nf, no := len(m.Info().Features), len(m.Outputs())
	if len(row) != nf || len(out) != no*(nf+1) {
		return classify.ErrInput
	}
	for _, v := range row {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: feature 0 is not finite", classify.ErrInput)
		}
		if v > 100 { // the rules predict it; contributions refuse it
			return fmt.Errorf("%w: a value is over 100", classify.ErrInput)
		}
	}
	for o := range no {
		for f, v := range row {
			out[o*(nf+1)+f] = float64(o+1) * v / 10
		}
		out[o*(nf+1)+nf] = float64(o+1) / 4
	}
	return nil
}

func (m *fakeTree) ContributionsBatch(rows, out []float64) error {
	nf, stride := len(m.Info().Features), len(m.Outputs())*(len(m.Info().Features)+1)
	for r := range len(rows) / nf {
		if err := m.Contributions(rows[r*nf:(r+1)*nf], out[r*stride:(r+1)*stride]); err != nil {
			return err
		}
	}
	return nil
}

func (m *fakeTree) Trees() int                       { return 1 }
func (m *fakeTree) TreeGraph(int) classify.TreeGraph { return classify.TreeGraph{} }
func (m *fakeTree) Importance() classify.Importance {
	return classify.Importance{Features: m.Info().Features, Splits: []int{0, 1, 2, 3},
		Gain: []float64{0, 0.1, 0.5, 0.4}, GainKind: "impurity"}
}

// wantContrib is fakeTree's answer for row: contributions, expected values
// and raw outputs by class.
func wantContrib(row []float64) (contrib map[string]any, bias, raw map[string]any) {
	features := []string{"sepal_length", "sepal_width", "petal_length", "petal_width"}
	contrib, bias, raw = map[string]any{}, map[string]any{}, map[string]any{}
	for o, class := range []string{"setosa", "versicolor", "virginica"} {
		per := map[string]any{}
		sum := float64(o+1) / 4
		for f, v := range row {
			per[features[f]] = float64(o+1) * v / 10
			sum += float64(o+1) * v / 10
		}
		contrib[class], bias[class], raw[class] = per, float64(o+1)/4, sum
	}
	return contrib, bias, raw
}

var seedRow = []float64{5.1, 3.5, 1.4, 0.2}

func TestPredictContributions(t *testing.T) {
	hs := newHarness(t, newFakeTree(), Options{})
	plain := hs.postValid("/predict", seedRequest)
	for _, target := range []string{"/predict?contributions=true", "/predict?contributions=1", "/predict?contributions=yes&contributions=True"} {
		got := hs.do(http.MethodPost, target, seedRequest, nil, target == "/predict?contributions=true")
		require.Equal(t, http.StatusOK, got.status, "%s", got.body)
		body := got.json(t)
		contrib, bias, raw := wantContrib(seedRow)
		assert.InDeltaMapValues(t, bias, body["expected_value"], 1e-15)
		assert.InDeltaMapValues(t, raw, body["raw_output"], 1e-12)
		for class, per := range contrib {
			assert.InDeltaMapValues(t, per, body["contributions"].(map[string]any)[class], 1e-15, class)
		}
		// The rest of the answer is the plain answer's, and the members
		// come in order: prediction, probabilities, contributions,
		// expected_value, raw_output, model.
		i := strings.Index(string(got.body), `,"contributions":`)
		j := strings.Index(string(got.body), `,"model":`)
		require.True(t, i > 0 && j > i, "%s", got.body)
		assert.Equal(t, string(plain.body), string(got.body[:i])+string(got.body[j:]))
	}
	for _, target := range []string{"/predict?contributions=false", "/predict?contributions=0", "/predict?other=1"} {
		assert.Equal(t, string(plain.body), string(hs.post(target, seedRequest).body), target)
	}
}

// TestContributionsAbsentByDefault: without asking, every answer is byte
// for byte what it was before contributions existed, for a model that can
// explain as for one that cannot.
func TestContributionsAbsentByDefault(t *testing.T) {
	batch := `{"instances":[` + seedRequest + `,{"sepal_length":"x"}]}`
	rules := newHarness(t, classify.IrisRules(), Options{})
	fake := newHarness(t, newFakeTree(), Options{})
	for _, tc := range []struct{ path, body string }{{"/predict", seedRequest}, {"/predict/batch", batch}} {
		a, b := rules.post(tc.path, tc.body), fake.post(tc.path, tc.body)
		assert.NotContains(t, string(b.body), "contributions")
		id := func(s string) string {
			return strings.Replace(s, `"kind":"heuristic","name":"heuristic"`, `"kind":"decision_tree","name":"fake_tree"`, 1)
		}
		assert.Equal(t, id(strings.ReplaceAll(string(a.body), `"variant":"heuristic"`, `"variant":"fake_tree"`)), string(b.body))
	}
	assert.Equal(t, `{"prediction":"setosa","probabilities":{"setosa":1,"versicolor":0,"virginica":0},"model":{"kind":"heuristic","name":"heuristic","version":"","variant":"heuristic"}}`,
		string(rules.post("/predict", seedRequest).body))
}

func TestBatchContributions(t *testing.T) {
	hs := newHarness(t, newFakeTree(), Options{})
	other := `{"sepal_length": 6.7, "sepal_width": 3.0, "petal_length": 5.2, "petal_width": 2.3}`
	batch := `{"instances":[` + seedRequest + `,{"sepal_length":"x"},` + other + `]`
	for _, tc := range []struct{ target, body string }{
		{"/predict/batch?contributions=true", batch + `}`},
		{"/predict/batch", batch + `,"contributions":true}`},
		{"/predict/batch?contributions=false", batch + `,"contributions":true}`}, // either asks
	} {
		got := hs.post(tc.target, tc.body)
		require.Equal(t, http.StatusOK, got.status, "%s", got.body)
		preds := got.json(t)["predictions"].([]any)
		require.Len(t, preds, 3)
		assert.Contains(t, preds[1], "detail")
		assert.NotContains(t, preds[1], "contributions")
		for i, row := range map[int][]float64{0: seedRow, 2: {6.7, 3.0, 5.2, 2.3}} {
			p := preds[i].(map[string]any)
			contrib, bias, raw := wantContrib(row)
			assert.InDeltaMapValues(t, bias, p["expected_value"], 1e-15)
			assert.InDeltaMapValues(t, raw, p["raw_output"], 1e-12)
			for class, per := range contrib {
				assert.InDeltaMapValues(t, per, p["contributions"].(map[string]any)[class], 1e-15)
			}
		}
	}
	plain := hs.post("/predict/batch", batch+`}`)
	for _, body := range []string{batch + `,"contributions":false}`, batch + `,"contributions":null}`} {
		assert.Equal(t, string(plain.body), string(hs.post("/predict/batch", body).body))
	}
}

// TestContributionsRefuseARow: a row Predict takes but Contributions
// refuses gets its own detail, in place, and the rest are answered.
func TestContributionsRefuseARow(t *testing.T) {
	hs := newHarness(t, newFakeTree(), Options{})
	big := `{"sepal_length": 500, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}`
	got := hs.post("/predict/batch?contributions=true", `{"instances":[`+seedRequest+`,`+big+`,`+seedRequest+`]}`)
	require.Equal(t, http.StatusOK, got.status)
	body := got.json(t)
	assert.Equal(t, 1.0, body["errors"])
	preds := body["predictions"].([]any)
	assert.Contains(t, preds[0], "contributions")
	assert.Equal(t, map[string]any{"detail": []any{map[string]any{"loc": []any{"body", "instances", 1.0},
		"msg": "classify: invalid input: a value is over 100", "type": "value_error"}}}, preds[1])
	assert.Contains(t, preds[2], "contributions")
	got = hs.post("/predict?contributions=true", big)
	assert.Equal(t, http.StatusUnprocessableEntity, got.status)
	assert.JSONEq(t, `{"detail":[{"loc":["body"],"msg":"classify: invalid input: a value is over 100","type":"value_error"}]}`, string(got.body))
	got = hs.post("/models/fake_tree/importance", `{"instances":[`+seedRequest+`,`+big+`]}`)
	assert.Equal(t, http.StatusUnprocessableEntity, got.status)
	assert.JSONEq(t, `{"detail":[{"loc":["body","instances",1],"msg":"classify: invalid input: a value is over 100","type":"value_error"}]}`, string(got.body))
}

func TestContributionsRefused(t *testing.T) {
	rules := newHarness(t, classify.IrisRules(), Options{})
	fake := newHarness(t, newFakeTree(), Options{})
	batch := `{"instances":[` + seedRequest + `]`
	for _, tc := range []struct {
		name   string
		hs     *harness
		target string
		body   string
		want   string
	}{
		{"rules, /predict", rules, "/predict?contributions=true", seedRequest,
			`{"detail":[{"loc":["query","contributions"],"msg":"model \"heuristic\" (heuristic) cannot explain contributions: only tree models can (decision_tree, random_forest, xgboost, lightgbm, hist_gradient_boosting, gradient_boosting)","type":"value_error.contributions.unsupported"}]}`},
		{"rules, batch query", rules, "/predict/batch?contributions=on", batch + `}`, `"loc":["query","contributions"]`},
		{"rules, batch body", rules, "/predict/batch", batch + `,"contributions":true}`, `"loc":["body","contributions"]`},
		{"not a boolean", fake, "/predict?contributions=maybe", seedRequest,
			`{"detail":[{"loc":["query","contributions"],"msg":"value could not be parsed to a boolean","type":"type_error.bool"}]}`},
		{"empty", fake, "/predict/batch?contributions=", batch + `}`, `"type":"type_error.bool"`},
		{"body not a boolean", fake, "/predict/batch", batch + `,"contributions":"yes"}`,
			`{"detail":[{"loc":["body","contributions"],"msg":"value could not be parsed to a boolean","type":"type_error.bool"}]}`},
		{"rules, importance", rules, "/models/heuristic/importance", batch + `}`, `"loc":["body"],"msg":"model \"heuristic\" (heuristic) cannot explain`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.hs.post(tc.target, tc.body)
			assert.Equal(t, http.StatusUnprocessableEntity, got.status)
			assert.Contains(t, string(got.body), tc.want)
		})
	}
}

// TestContributionsUnavailable: a tree model whose artifact cannot explain
// (the library's error wraps ErrFormat: no node covers) answers 422 with
// the library's message and keeps serving; any other failure is a 500.
func TestContributionsUnavailable(t *testing.T) {
	m := newFakeTree()
	m.err = fmt.Errorf("%w: decision tree dump has no node covers (n_node_samples): export it again with classify-export 1.3 or later", classify.ErrFormat)
	var logs syncBuffer
	hs := newHarness(t, m, Options{Logger: jsonLogger(&logs, 0)})
	batch := `{"instances":[` + seedRequest + `]}`
	for _, target := range []string{"/predict?contributions=true", "/predict/batch?contributions=true"} {
		got := hs.post(target, map[bool]string{true: seedRequest, false: batch}[target == "/predict?contributions=true"])
		assert.Equal(t, http.StatusUnprocessableEntity, got.status)
		assert.Contains(t, string(got.body), `"msg":"model \"fake_tree\" cannot explain contributions: invalid model artifact: decision tree dump has no node covers`)
		assert.Contains(t, string(got.body), `"type":"value_error.contributions.unavailable"`)
	}
	got := hs.post("/v2/models/fake_tree/infer", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":[5.1,3.5,1.4,0.2]}],"outputs":[{"name":"contributions"}]}`)
	assert.Equal(t, http.StatusBadRequest, got.status)
	assert.Contains(t, string(got.body), `cannot explain contributions: invalid model artifact: decision tree dump has no node covers`)
	assert.Equal(t, http.StatusOK, hs.post("/predict", seedRequest).status, "still serving")
	assert.Contains(t, logs.String(), "contributions unavailable")

	m.err = errors.New("boom")
	assert.Equal(t, http.StatusInternalServerError, hs.post("/predict?contributions=true", seedRequest).status)
	assert.Equal(t, http.StatusInternalServerError, hs.post("/predict/batch?contributions=true", batch).status)
	assert.Equal(t, http.StatusOK, hs.post("/predict", seedRequest).status)
}

func TestV2InferContributions(t *testing.T) {
	hs := newHarness(t, newFakeTree(), Options{})
	input := `"inputs":[{"name":"input","shape":[2,4],"datatype":"FP64","data":[5.1,3.5,1.4,0.2,6.7,3.0,5.2,2.3]}]`
	want := []float64{}
	for _, row := range [][]float64{seedRow, {6.7, 3.0, 5.2, 2.3}} {
		for o := range 3 {
			for _, v := range row {
				want = append(want, float64(o+1)*v/10)
			}
			want = append(want, float64(o+1)/4)
		}
	}
	for _, tc := range []struct{ name, body, outputs string }{
		{"output", `{` + input + `,"outputs":[{"name":"label"},{"name":"contributions"}]}`, "label contributions"},
		{"parameter", `{` + input + `,"parameters":{"contributions":true}}`, "label contributions"},
		{"parameter and outputs", `{` + input + `,"parameters":{"contributions":true},"outputs":[{"name":"probabilities"}]}`, "probabilities contributions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := hs.postValid("/v2/models/fake_tree/infer", tc.body)
			require.Equal(t, http.StatusOK, got.status, "%s", got.body)
			var res struct {
				Outputs []struct {
					Name       string
					Shape      []int
					Datatype   string
					Parameters map[string]any
					Data       json.RawMessage
				}
			}
			require.NoError(t, json.Unmarshal(got.body, &res))
			var names []string
			for _, o := range res.Outputs {
				names = append(names, o.Name)
			}
			assert.Equal(t, tc.outputs, strings.Join(names, " "))
			o := res.Outputs[1]
			assert.Equal(t, []int{2, 3, 5}, o.Shape)
			assert.Equal(t, "FP64", o.Datatype)
			assert.Equal(t, map[string]any{"outputs": `["setosa","versicolor","virginica"]`,
				"features": `["sepal_length","sepal_width","petal_length","petal_width","bias"]`, "raw_output": "probability"}, o.Parameters)
			var data []float64
			require.NoError(t, json.Unmarshal(o.Data, &data))
			assert.InDeltaSlice(t, want, data, 1e-15)
		})
	}
	// Not asked: as before.
	got := hs.postValid("/v2/models/fake_tree/infer", `{`+input+`,"parameters":{"contributions":false}}`)
	assert.NotContains(t, string(got.body), "contributions")
	got = hs.post("/v2/models/fake_tree/infer", `{`+input+`,"parameters":{"contributions":"yes"}}`)
	assert.Equal(t, http.StatusBadRequest, got.status)
	assert.JSONEq(t, `{"error":"parameter contributions is \"yes\"; true or false is expected"}`, string(got.body))

	rules := newHarness(t, classify.IrisRules(), Options{})
	got = rules.post("/v2/models/heuristic/infer", `{`+input+`,"outputs":[{"name":"contributions"}]}`)
	assert.Equal(t, http.StatusBadRequest, got.status)
	assert.Contains(t, string(got.body), `cannot explain contributions`)
	// The metadata lists the output for a model that has it.
	md := hs.get("/v2/models/fake_tree").json(t)
	assert.Contains(t, fmt.Sprint(md["outputs"]), "contributions")
	assert.NotContains(t, fmt.Sprint(rules.get("/v2/models/heuristic").json(t)["outputs"]), "contributions")
}

func TestModelsImportance(t *testing.T) {
	hs := newHarness(t, newFakeTree(), Options{Challenger: rollout.NewLive(newFakeTree()), ShadowModel: "fake", ShadowFraction: 0})
	models := hs.get("/models").json(t)["models"].([]any)
	require.Len(t, models, 2)
	for _, m := range models {
		mv := m.(map[string]any)
		assert.Equal(t, map[string]any{"outputs": []any{"setosa", "versicolor", "virginica"}, "raw_output": "probability"}, mv["contributions"])
		assert.Equal(t, map[string]any{"gain_kind": "impurity",
			"splits": map[string]any{"sepal_length": 0.0, "sepal_width": 1.0, "petal_length": 2.0, "petal_width": 3.0},
			"gain":   map[string]any{"sepal_length": 0.0, "sepal_width": 0.1, "petal_length": 0.5, "petal_width": 0.4}}, mv["importance"])
	}
	// Keys in feature order.
	assert.Contains(t, string(hs.get("/models").body), `"splits":{"sepal_length":0,"sepal_width":1,"petal_length":2,"petal_width":3}`)
	// A model that cannot explain has neither member.
	rules := newHarness(t, classify.IrisRules(), Options{}).get("/models").json(t)["models"].([]any)[0].(map[string]any)
	assert.NotContains(t, rules, "contributions")
	assert.NotContains(t, rules, "importance")
}

func TestImportanceEndpoint(t *testing.T) {
	reg := prometheus.NewRegistry()
	hs := newHarness(t, newFakeTree(), Options{Registerer: reg, Gatherer: reg})
	other := `{"sepal_length": 6.7, "sepal_width": 3.0, "petal_length": 5.2, "petal_width": 2.3}`
	got := hs.postValid("/models/fake_tree/importance", `{"instances":[`+seedRequest+`,`+other+`]}`)
	require.Equal(t, http.StatusOK, got.status, "%s", got.body)
	body := got.json(t)
	assert.Equal(t, 2.0, body["rows"])
	assert.Equal(t, "probability", body["raw_output"])
	mean := body["mean_abs_contributions"].(map[string]any)
	for o, class := range []string{"setosa", "versicolor", "virginica"} {
		per := mean[class].(map[string]any)
		for f, name := range []string{"sepal_length", "sepal_width", "petal_length", "petal_width"} {
			assert.InDelta(t, float64(o+1)*(seedRow[f]+[]float64{6.7, 3.0, 5.2, 2.3}[f])/20, per[name], 1e-15)
		}
		assert.InDelta(t, float64(o+1)/4, body["expected_value"].(map[string]any)[class], 1e-15)
	}
	assert.Equal(t, "impurity", body["importance"].(map[string]any)["gain_kind"])
	assert.Equal(t, "fake_tree", body["model"].(map[string]any)["name"])
	assert.Equal(t, 2.0, testutil.ToFloat64(hs.srv.metrics.contributions.WithLabelValues("fake_tree", "fake_tree")))

	// Every row must be valid; the model must be served.
	got = hs.post("/models/fake_tree/importance", `{"instances":[`+seedRequest+`,{"sepal_length":"x"}]}`)
	assert.Equal(t, http.StatusUnprocessableEntity, got.status)
	assert.Contains(t, string(got.body), `"loc":["body","instances",1,"sepal_length"]`)
	got = hs.post("/models/nope/importance", `{"instances":[`+seedRequest+`]}`)
	assert.Equal(t, http.StatusNotFound, got.status)
	assert.Contains(t, string(got.body), `{"detail":"model \"nope\" is not served here; this server serves \"fake_tree\""}`)
	assert.Equal(t, http.StatusUnprocessableEntity, hs.post("/models/fake_tree/importance", `[]`).status)
	assert.Equal(t, http.StatusMethodNotAllowed, hs.get("/models/fake_tree/importance").status)
}

// TestV2InferContributionsBinary: the binary tensor data extension carries
// the contributions tensor as little-endian FP64, after the label's bytes.
func TestV2InferContributionsBinary(t *testing.T) {
	hs := newHarness(t, newFakeTree(), Options{})
	header := `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","parameters":{"binary_data_size":32}}],"parameters":{"binary_data_output":true,"contributions":true}}`
	req := httptest.NewRequest(http.MethodPost, "/v2/models/fake_tree/infer", strings.NewReader(header+string(leBytes(8, seedRow...))))
	req.Header.Set(headerLengthHeader, strconv.Itoa(len(header)))
	rec := httptest.NewRecorder()
	hs.h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	n, err := strconv.Atoi(rec.Header().Get(headerLengthHeader))
	require.NoError(t, err)
	var resp struct {
		Outputs []struct {
			Name       string
			Parameters map[string]any
		}
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes()[:n], &resp))
	require.Len(t, resp.Outputs, 2)
	assert.Equal(t, "contributions", resp.Outputs[1].Name)
	assert.Equal(t, 120.0, resp.Outputs[1].Parameters["binary_data_size"])
	assert.Equal(t, "probability", resp.Outputs[1].Parameters["raw_output"])
	tail := rec.Body.Bytes()[n:]
	labelSize := int(resp.Outputs[0].Parameters["binary_data_size"].(float64))
	require.Len(t, tail, labelSize+120)
	var got []float64
	for b := tail[labelSize:]; len(b) > 0; b = b[8:] {
		got = append(got, math.Float64frombits(binary.LittleEndian.Uint64(b)))
	}
	contrib, _, _ := wantContrib(seedRow)
	assert.InDelta(t, contrib["versicolor"].(map[string]any)["petal_length"], got[5+2], 1e-15)
	assert.InDelta(t, 0.75, got[14], 1e-15)
}

func TestQueryValue(t *testing.T) {
	for _, tc := range []struct {
		raw, value string
		found      bool
	}{
		{"", "", false},
		{"contributions=true", "true", true},
		{"a=1&contributions=no&contributions=yes", "yes", true},
		{"contributions", "", true},
		{"contrib%75tions=%74rue", "true", true},
		{"x=contributions", "", false},
	} {
		v, found := queryValue(tc.raw, "contributions")
		assert.Equal(t, tc.value, v, tc.raw)
		assert.Equal(t, tc.found, found, tc.raw)
	}
}

// TestContributionsComeFromTheArm: under a split, the variant that answers
// explains (or refuses to); the shadow is never asked.
func TestContributionsComeFromTheArm(t *testing.T) {
	split, err := rollout.NewSplit([]rollout.Arm{{Name: "tree", Weight: 1}, {Name: "rules", Weight: 1}})
	require.NoError(t, err)
	router, err := rollout.NewRouter(split, map[string]classify.Model{"tree": newFakeTree(), "rules": classify.IrisRules()})
	require.NoError(t, err)
	shadow := &fakeTree{Model: classify.IrisRules(), err: errors.New("the shadow was asked")}
	hs := newRouterHarness(t, router, Options{Challenger: rollout.NewLive(shadow), ShadowModel: "shadow", ShadowFraction: 1})
	seen := map[string]bool{}
	for i := 0; i < 64 && len(seen) < 2; i++ {
		key := map[string]string{"X-Client-ID": fmt.Sprint("client-", i)}
		got := hs.do(http.MethodPost, "/predict?contributions=true", seedRequest, key, true)
		variant := got.header.Get("X-Model-Variant")
		seen[variant] = true
		switch variant {
		case "tree":
			assert.Equal(t, http.StatusOK, got.status)
			assert.Contains(t, string(got.body), `"contributions":{"setosa":{"sepal_length":0.51`)
			assert.Contains(t, string(got.body), `"variant":"tree"`)
		case "rules":
			assert.Equal(t, http.StatusUnprocessableEntity, got.status)
			assert.Contains(t, string(got.body), `model \"heuristic\" (heuristic) cannot explain contributions`)
		default:
			t.Fatalf("variant %q", variant)
		}
	}
	assert.Len(t, seen, 2)
}

func TestOpenAPIDocumentsContributions(t *testing.T) {
	doc := newHarness(t, newFakeTree(), Options{}).doc
	assert.NotNil(t, doc.Paths.Find("/models/{name}/importance"))
	for _, p := range []string{"/predict", "/predict/batch"} {
		assert.NotNil(t, doc.Paths.Find(p).Post.Parameters.GetByInAndName("query", "contributions"), p)
	}
	result := doc.Components.Schemas["PredictResult"].Value.Properties
	for _, m := range []string{"contributions", "expected_value", "raw_output"} {
		assert.Contains(t, result, m)
	}
	assert.Contains(t, doc.Components.Schemas["BatchRequest"].Value.Properties, "contributions")
	assert.Contains(t, doc.Components.Schemas["ModelInfo"].Value.Properties, "importance")
}
