package classifyhttp

import (
	"errors"
	"net/http"
	"testing"

	"github.com/ml-production-service/classify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestV2Health(t *testing.T) {
	hs := newHarness(t, classify.IrisRules(), Options{Version: "v1.2.3"})
	assert.JSONEq(t, `{"live":true}`, string(hs.get("/v2/health/live").body))
	got := hs.get("/v2/health/ready")
	assert.Equal(t, http.StatusOK, got.status)
	assert.JSONEq(t, `{"ready":true}`, string(got.body))
	assert.JSONEq(t, `{"name":"classify","version":"v1.2.3","extensions":["binary_tensor_data"]}`, string(hs.get("/v2").body))
	got = hs.get("/v2/models/heuristic/ready")
	assert.JSONEq(t, `{"name":"heuristic","ready":true}`, string(got.body))

	hs.srv.Drain()
	got = hs.get("/v2/health/ready")
	assert.Equal(t, http.StatusServiceUnavailable, got.status)
	assert.JSONEq(t, `{"ready":false}`, string(got.body))
	got = hs.get("/v2/models/heuristic/ready")
	assert.Equal(t, http.StatusServiceUnavailable, got.status)
	assert.JSONEq(t, `{"name":"heuristic","ready":false}`, string(got.body))
	// Liveness does not depend on readiness.
	assert.Equal(t, http.StatusOK, hs.get("/v2/health/live").status)
}

func TestV2ServerVersionDefault(t *testing.T) {
	hs := newHarness(t, classify.IrisRules(), Options{})
	assert.JSONEq(t, `{"name":"classify","version":"dev","extensions":["binary_tensor_data"]}`, string(hs.get("/v2").body))
}

func TestV2Metadata(t *testing.T) {
	hs := newHarness(t, weatherModel(), Options{})
	want := `{"name":"weather","versions":["2.1.0"],"platform":"classify_decision_tree",
		"inputs":[{"name":"input","datatype":"FP64","shape":[-1,3]}],
		"outputs":[{"name":"label","datatype":"BYTES","shape":[-1]},{"name":"probabilities","datatype":"FP64","shape":[-1,2]}]}`
	assert.JSONEq(t, want, string(hs.get("/v2/models/weather").body))
	assert.JSONEq(t, want, string(hs.get("/v2/models/weather/versions/2.1.0").body))

	got := hs.get("/v2/models/iris")
	assert.Equal(t, http.StatusNotFound, got.status)
	assert.JSONEq(t, `{"error":"model \"iris\" is not served here; this server serves \"weather\""}`, string(got.body))
	got = hs.get("/v2/models/weather/versions/9")
	assert.Equal(t, http.StatusNotFound, got.status)
	assert.JSONEq(t, `{"error":"model \"weather\" has no version \"9\"; serving version \"2.1.0\""}`, string(got.body))
	got = hs.get("/v2/models/iris/ready")
	assert.Equal(t, http.StatusNotFound, got.status)

	unversioned := newHarness(t, classify.IrisRules(), Options{})
	assert.Equal(t, []any{}, unversioned.get("/v2/models/heuristic").json(t)["versions"])
}

func TestV2Infer(t *testing.T) {
	hs := newHarness(t, classify.IrisRules(), Options{MaxBatch: 2})
	for _, tc := range []struct{ name, body, want string }{
		{"flat, the same rows",
			`{"id":"r1","inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[5.1,3.5,1.4,0.2,6.7,3.0,5.2,2.3]}]}`,
			`{"model_name":"heuristic","id":"r1","outputs":[{"name":"label","shape":[2],"datatype":"BYTES","parameters":{"content_type":"str"},"data":["setosa","virginica"]}]}`},
		{"nested FP32, labels by default",
			`{"id":"r1","inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[[5.1,3.5,1.4,0.2],[6.7,3.0,5.2,2.3]]}]}`,
			`{"model_name":"heuristic","id":"r1","outputs":[{"name":"label","shape":[2],"datatype":"BYTES","parameters":{"content_type":"str"},"data":["setosa","virginica"]}]}`},
		{"flat FP64 with probabilities",
			`{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP64","data":[5.1,3.5,1.4,0.2]}],"outputs":[{"name":"label"},{"name":"probabilities"}]}`,
			`{"model_name":"heuristic","outputs":[{"name":"label","shape":[1],"datatype":"BYTES","parameters":{"content_type":"str"},"data":["setosa"]},
			{"name":"probabilities","shape":[1,3],"datatype":"FP64","data":[1,0,0]}]}`},
		{"probabilities only",
			`{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP64","data":[5.1,3.5,1.4,0.2]}],"outputs":[{"name":"probabilities"}]}`,
			`{"model_name":"heuristic","outputs":[{"name":"probabilities","shape":[1,3],"datatype":"FP64","data":[1,0,0]}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := hs.postValid("/v2/models/heuristic/infer", tc.body)
			require.Equal(t, http.StatusOK, got.status, "%s", got.body)
			assert.JSONEq(t, tc.want, string(got.body))
		})
	}
	for _, tc := range []struct{ name, body, want string }{
		{"bad JSON", `{"inputs":`, `invalid JSON: unexpected end of JSON input`},
		{"two inputs", `{"inputs":[{"name":"a","shape":[1,4],"datatype":"FP64","data":[1,2,3,4]},{"name":"b","shape":[1,4],"datatype":"FP64","data":[1,2,3,4]}]}`,
			`expected 1 input tensor of shape [N, 4], got 2 inputs`},
		{"no inputs", `{"inputs":[]}`, `expected 1 input tensor of shape [N, 4], got 0 inputs`},
		{"datatype", `{"inputs":[{"name":"a","shape":[1,4],"datatype":"INT64","data":[1,2,3,4]}]}`,
			`input "a" has datatype "INT64"; FP32 and FP64 are accepted`},
		{"shape", `{"inputs":[{"name":"a","shape":[4],"datatype":"FP64","data":[1,2,3,4]}]}`,
			`input "a" has shape [4]; expected [N, 4] with N >= 1 (features: [sepal_length sepal_width petal_length petal_width])`},
		{"too many rows", `{"inputs":[{"name":"a","shape":[3,4],"datatype":"FP64","data":[1,2,3,4,1,2,3,4,1,2,3,4]}]}`,
			`input "a" has 3 rows; at most 2 are accepted per request`},
		{"data count", `{"inputs":[{"name":"a","shape":[2,4],"datatype":"FP64","data":[1,2,3,4]}]}`,
			`input "a": shape [2 4] needs 8 values, data holds 4`},
		{"nested row too long", `{"inputs":[{"name":"a","shape":[2,4],"datatype":"FP64","data":[[5.1,3.5,1.4,0.2,6.7,3.0,5.2],[2.3]]}]}`,
			`input "a": data[0] holds 7 values; shape [2 4] needs 4 per row`},
		{"nested row too short", `{"inputs":[{"name":"a","shape":[2,4],"datatype":"FP64","data":[[5.1,3.5,1.4,0.2],[6.7,3.0,5.2]]}]}`,
			`input "a": data[1] holds 3 values; shape [2 4] needs 4 per row`},
		{"nested row count", `{"inputs":[{"name":"a","shape":[2,4],"datatype":"FP64","data":[[1,2,3,4]]}]}`,
			`input "a": shape [2 4] needs 2 rows, nested data holds 1`},
		{"nested then flat", `{"inputs":[{"name":"a","shape":[2,4],"datatype":"FP64","data":[[1,2,3,4],5]}]}`,
			`input "a": data[1] is 5 but data[0] is an array; nested data must be 2 arrays of 4 numbers`},
		{"flat then nested", `{"inputs":[{"name":"a","shape":[1,4],"datatype":"FP64","data":[1,2,3,[4]]}]}`,
			`input "a": data[3] is an array but data[0] is a number; data must be flat (4 numbers) or nested as shape [1 4] (1 arrays of 4 numbers)`},
		{"nested too deep", `{"inputs":[{"name":"a","shape":[1,4],"datatype":"FP64","data":[[1,2,3,[4]]]}]}`,
			`input "a": data[0][3] is an array; shape [1 4] nests data two levels deep at most`},
		{"nested not numbers", `{"inputs":[{"name":"a","shape":[1,4],"datatype":"FP64","data":[[1,2,3,"x"]]}]}`,
			`input "a": data holds x; numbers are expected`},
		{"no data", `{"inputs":[{"name":"a","shape":[1,4],"datatype":"FP64"}]}`, `input "a" has no data`},
		{"data not numbers", `{"inputs":[{"name":"a","shape":[1,4],"datatype":"FP64","data":[1,2,3,"x"]}]}`,
			`input "a": data holds x; numbers are expected`},
		{"data not an array", `{"inputs":[{"name":"a","shape":[1,4],"datatype":"FP64","data":5}]}`,
			`input "a": data must be an array`},
		{"unknown output", `{"inputs":[{"name":"a","shape":[1,4],"datatype":"FP64","data":[1,2,3,4]}],"outputs":[{"name":"logits"}]}`,
			`unknown output "logits" (outputs: "label", "probabilities")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := hs.post("/v2/models/heuristic/infer", tc.body)
			assert.Equal(t, http.StatusBadRequest, got.status)
			assert.Equal(t, tc.want, got.json(t)["error"])
		})
	}
	got := hs.post("/v2/models/other/infer", `{}`)
	assert.Equal(t, http.StatusNotFound, got.status)
	got = hs.post("/v2/models/heuristic/versions/7/infer", `{}`)
	assert.Equal(t, http.StatusNotFound, got.status)
}

func TestV2InferModelErrors(t *testing.T) {
	m := weatherModel()
	hs := newHarness(t, m, Options{})
	body := `{"inputs":[{"name":"a","shape":[1,3],"datatype":"FP64","data":[1,2,3]}]}`
	m.predict = func(row, proba []float64) (classify.Prediction, error) {
		return classify.Prediction{}, errors.Join(classify.ErrInput, errors.New("feature 0 is +Inf"))
	}
	got := hs.post("/v2/models/weather/infer", body)
	assert.Equal(t, http.StatusBadRequest, got.status)
	assert.Contains(t, got.json(t)["error"], "feature 0 is +Inf")

	m.predict = func(row, proba []float64) (classify.Prediction, error) {
		return classify.Prediction{}, errors.New("broken")
	}
	got = hs.post("/v2/models/weather/infer", body)
	assert.Equal(t, http.StatusInternalServerError, got.status)
	assert.JSONEq(t, `{"error":"prediction failed"}`, string(got.body))
}

func TestV2InferFP32Rounds(t *testing.T) {
	var seen []float64
	m := weatherModel()
	m.predict = func(row, proba []float64) (classify.Prediction, error) {
		seen = append(seen, row...)
		return classify.Prediction{Class: 0, Label: "dry", Probabilities: []float64{1, 0}}, nil
	}
	hs := newHarness(t, m, Options{})
	hs.postValid("/v2/models/weather/infer", `{"inputs":[{"name":"a","shape":[1,3],"datatype":"FP32","data":[0.1,2,3]}]}`)
	hs.postValid("/v2/models/weather/infer", `{"inputs":[{"name":"a","shape":[1,3],"datatype":"FP64","data":[0.1,2,3]}]}`)
	require.Len(t, seen, 6)
	assert.Equal(t, float64(float32(0.1)), seen[0], "FP32 data is float32")
	assert.Equal(t, 0.1, seen[3])
}
