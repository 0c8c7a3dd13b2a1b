package classifyhttp

import (
	"errors"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/ml-production-service/classify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPredictSeedExample(t *testing.T) {
	hs := newHarness(t, classify.IrisRules(), Options{})
	got := hs.postValid("/predict", seedRequest)
	require.Equal(t, http.StatusOK, got.status)
	assert.True(t, strings.HasPrefix(string(got.body), `{"prediction":"setosa",`), "prediction must come first: %s", got.body)
	assert.JSONEq(t, `{"prediction":"setosa","probabilities":{"setosa":1,"versicolor":0,"virginica":0},
		"model":{"kind":"heuristic","name":"heuristic","version":"","variant":"heuristic"}}`, string(got.body))
}

func TestPredictValidation(t *testing.T) {
	hs := newHarness(t, classify.IrisRules(), Options{})
	for _, tc := range []struct {
		name, body string
		status     int
		want       string // the whole body, JSON
	}{
		{"missing field", `{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4}`, 422,
			`{"detail":[{"loc":["body","petal_width"],"msg":"field required","type":"value_error.missing"}]}`},
		{"not a number", `{"sepal_length": "abc", "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}`, 422,
			`{"detail":[{"loc":["body","sepal_length"],"msg":"value is not a valid float","type":"type_error.float"}]}`},
		{"a list", `{"sepal_length": [5.1], "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}`, 422,
			`{"detail":[{"loc":["body","sepal_length"],"msg":"value is not a valid float","type":"type_error.float"}]}`},
		{"zero", `{"sepal_length": 5.1, "sepal_width": 0, "petal_length": 1.4, "petal_width": 0.2}`, 422,
			`{"detail":[{"loc":["body","sepal_width"],"msg":"ensure this value is greater than 0","type":"value_error.number.not_gt","ctx":{"limit_value":0}}]}`},
		{"negative", `{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": -1.4, "petal_width": 0.2}`, 422,
			`{"detail":[{"loc":["body","petal_length"],"msg":"ensure this value is greater than 0","type":"value_error.number.not_gt","ctx":{"limit_value":0}}]}`},
		{"NaN", `{"sepal_length": NaN, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}`, 422,
			`{"detail":[{"loc":["body","sepal_length"],"msg":"ensure this value is greater than 0","type":"value_error.number.not_gt","ctx":{"limit_value":0}}]}`},
		{"null", `{"sepal_length": null, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}`, 422,
			`{"detail":[{"loc":["body","sepal_length"],"msg":"none is not an allowed value","type":"type_error.none.not_allowed"}]}`},
		{"false is 0", `{"sepal_length": false, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}`, 422,
			`{"detail":[{"loc":["body","sepal_length"],"msg":"ensure this value is greater than 0","type":"value_error.number.not_gt","ctx":{"limit_value":0}}]}`},
		{"infinity", `{"sepal_length": Infinity, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 1e999}`, 422,
			`{"detail":[{"loc":["body","sepal_length"],"msg":"ensure this value is a finite number","type":"value_error.number.not_finite_number"},
			{"loc":["body","petal_width"],"msg":"ensure this value is a finite number","type":"value_error.number.not_finite_number"}]}`},
		{"every error, in field order", `{"petal_width": "x", "sepal_length": -1}`, 422,
			`{"detail":[{"loc":["body","sepal_length"],"msg":"ensure this value is greater than 0","type":"value_error.number.not_gt","ctx":{"limit_value":0}},
			{"loc":["body","sepal_width"],"msg":"field required","type":"value_error.missing"},
			{"loc":["body","petal_length"],"msg":"field required","type":"value_error.missing"},
			{"loc":["body","petal_width"],"msg":"value is not a valid float","type":"type_error.float"}]}`},
		{"malformed JSON", `{"sepal_length": 5.1,`, 422,
			`{"detail":[{"loc":["body",21],"msg":"Expecting property name enclosed in double quotes: line 1 column 22 (char 21)","type":"value_error.jsondecode",
			"ctx":{"msg":"Expecting property name enclosed in double quotes","doc":"{\"sepal_length\": 5.1,","pos":21,"lineno":1,"colno":22}}]}`},
		{"not JSON at all", `hello`, 422,
			`{"detail":[{"loc":["body",0],"msg":"Expecting value: line 1 column 1 (char 0)","type":"value_error.jsondecode",
			"ctx":{"msg":"Expecting value","doc":"hello","pos":0,"lineno":1,"colno":1}}]}`},
		{"an array", `[1, 2, 3, 4]`, 422, `{"detail":[{"loc":["body"],"msg":"value is not a valid dict","type":"type_error.dict"}]}`},
		{"empty body", ``, 422, `{"detail":[{"loc":["body"],"msg":"field required","type":"value_error.missing"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := hs.post("/predict", tc.body)
			assert.Equal(t, tc.status, got.status)
			assert.JSONEq(t, tc.want, string(got.body))
		})
	}
}

func TestPredictCoercesLikePydantic(t *testing.T) {
	hs := newHarness(t, classify.IrisRules(), Options{})
	for _, tc := range []struct{ name, body, want string }{
		{"numeric strings", `{"sepal_length": "5.1", "sepal_width": " 3.5 ", "petal_length": "1_4e-1", "petal_width": "+0.2"}`, "setosa"},
		{"true is 1", `{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": true, "petal_width": 0.2}`, "setosa"},
		{"integers", `{"sepal_length": 7, "sepal_width": 3, "petal_length": 6, "petal_width": 2}`, "virginica"},
		{"extra fields are ignored", `{"id": 7, "sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2, "note": {"a": [1]}}`, "setosa"},
		{"a repeated key keeps its last value", `{"petal_length": 9, "sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}`, "setosa"},
		{"escaped key", `{"sepal\u005flength": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}`, "setosa"},
		{"whitespace and newlines", "\n { \"sepal_length\" : 5.1 ,\r\n\t\"sepal_width\":3.5,\"petal_length\":1.4,\"petal_width\":0.2 } \n", "setosa"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := hs.post("/predict", tc.body)
			require.Equal(t, http.StatusOK, got.status, "%s", got.body)
			assert.Equal(t, tc.want, got.json(t)["prediction"])
		})
	}
}

func TestPredictContentType(t *testing.T) {
	hs := newHarness(t, classify.IrisRules(), Options{})
	for _, tc := range []struct {
		ct     string
		status int
	}{
		{"application/json", 200},
		{"application/json; charset=utf-8", 200},
		{"application/vnd.api+json", 200},
		{"", 200}, // FastAPI parses a body without a content type as JSON
		{"text/plain", 422},
		{"application/x-www-form-urlencoded", 422}, // curl -d without -H
		{"nonsense;;", 422},
	} {
		t.Run(tc.ct, func(t *testing.T) {
			got := hs.do(http.MethodPost, "/predict", seedRequest, map[string]string{"Content-Type": tc.ct}, false)
			assert.Equal(t, tc.status, got.status, "%s", got.body)
			if tc.status == 422 {
				assert.JSONEq(t, `{"detail":[{"loc":["body"],"msg":"value is not a valid dict","type":"type_error.dict"}]}`, string(got.body))
			}
		})
	}
}

func TestPredictInvalidUTF8(t *testing.T) {
	hs := newHarness(t, classify.IrisRules(), Options{})
	got := hs.post("/predict", "{\"sepal_length\": \"\xff\"}")
	assert.Equal(t, http.StatusBadRequest, got.status)
	assert.JSONEq(t, `{"detail":"There was an error parsing the body"}`, string(got.body))
}

func TestPredictAllowNonPositive(t *testing.T) {
	hs := newHarness(t, classify.IrisRules(), Options{AllowNonPositive: true})
	got := hs.postValid("/predict", `{"sepal_length": 0, "sepal_width": -3.5, "petal_length": 1.4, "petal_width": 0.2}`)
	assert.Equal(t, http.StatusOK, got.status, "%s", got.body)
	spec := hs.doc.Components.Schemas["PredictRequest"].Value.Properties["sepal_length"].Value
	assert.Nil(t, spec.Min, "the document must not promise a minimum the server does not apply")
}

func TestPredictOtherSchema(t *testing.T) {
	hs := newHarness(t, weatherModel(), Options{})
	got := hs.postValid("/predict", `{"temperature": 12, "humidity": 0.5, "wind": 3}`)
	require.Equal(t, http.StatusOK, got.status, "%s", got.body)
	assert.JSONEq(t, `{"prediction":"rain","probabilities":{"dry":0,"rain":1},"model":{"kind":"decision_tree","name":"weather","version":"2.1.0","variant":"weather"}}`, string(got.body))
	got = hs.post("/predict", seedRequest)
	assert.Equal(t, http.StatusUnprocessableEntity, got.status)
	assert.Contains(t, string(got.body), `"loc":["body","temperature"]`)
	// The document describes this model's features.
	props := hs.doc.Components.Schemas["PredictRequest"].Value.Properties
	assert.Contains(t, props, "humidity")
	assert.NotContains(t, props, "sepal_length")
}

func TestPredictFloat32Overflow(t *testing.T) {
	m := weatherModel()
	m.predict = func(row, proba []float64) (classify.Prediction, error) {
		if math.Abs(row[0]) > math.MaxFloat32 {
			return classify.Prediction{}, &classify.InputError{Feature: 0, Value: row[0], Limit: math.MaxFloat32, Got: 3, Want: 3}
		}
		return classify.Prediction{}, errors.Join(classify.ErrInput, errors.New("refused"))
	}
	hs := newHarness(t, m, Options{})
	got := hs.post("/predict", `{"temperature": 1e39, "humidity": 0.5, "wind": 3}`)
	assert.Equal(t, http.StatusUnprocessableEntity, got.status)
	assert.JSONEq(t, `{"detail":[{"loc":["body","temperature"],"msg":"ensure this value is less than or equal to 3.4028234663852886e+38",
		"type":"value_error.number.not_le","ctx":{"limit_value":3.4028234663852886e+38}}]}`, string(got.body))
	// An input error the server cannot place is reported on the body.
	got = hs.post("/predict", `{"temperature": 1, "humidity": 0.5, "wind": 3}`)
	assert.Equal(t, http.StatusUnprocessableEntity, got.status)
	assert.Contains(t, string(got.body), `"loc":["body"],"msg":"classify: invalid input`)
}

// TestPredictLimitIsTheModels: 1e39 is too large for the tree models'
// float32 arithmetic but a valid value for the rules, which compare
// float64s; the answer must not depend on another field being bad.
func TestPredictLimitIsTheModels(t *testing.T) {
	hs := newHarness(t, classify.IrisRules(), Options{})
	got := hs.post("/predict", `{"sepal_length": "inf", "sepal_width": 1e39, "petal_length": 1.4, "petal_width": 0.2}`)
	assert.Equal(t, http.StatusUnprocessableEntity, got.status)
	assert.NotContains(t, string(got.body), "sepal_width", "1e39 is valid for rules: %s", got.body)
	assert.Contains(t, string(got.body), `"loc":["body","sepal_length"]`)
	got = hs.post("/predict", `{"sepal_length": 5.1, "sepal_width": 1e39, "petal_length": 1.4, "petal_width": 0.2}`)
	assert.Equal(t, http.StatusOK, got.status, "%s", got.body)
}

func TestPredictModelFailure(t *testing.T) {
	m := weatherModel()
	m.predict = func(row, proba []float64) (classify.Prediction, error) {
		return classify.Prediction{}, errors.New("disk on fire")
	}
	hs := newHarness(t, m, Options{})
	got := hs.post("/predict", `{"temperature": 1, "humidity": 0.5, "wind": 3}`)
	assert.Equal(t, http.StatusInternalServerError, got.status)
	assert.JSONEq(t, `{"detail":"Internal Server Error"}`, string(got.body))
	got = hs.post("/predict/batch", `{"instances":[{"temperature": 1, "humidity": 0.5, "wind": 3}]}`)
	assert.Equal(t, http.StatusInternalServerError, got.status)
}

func TestPredictBatch(t *testing.T) {
	hs := newHarness(t, classify.IrisRules(), Options{MaxBatch: 3})
	got := hs.postValid("/predict/batch", `{"instances":[`+seedRequest+`,{"sepal_length": 7, "sepal_width": 3, "petal_length": 6, "petal_width": 2}]}`)
	require.Equal(t, http.StatusOK, got.status, "%s", got.body)
	assert.JSONEq(t, `{"predictions":[
		{"prediction":"setosa","probabilities":{"setosa":1,"versicolor":0,"virginica":0}},
		{"prediction":"virginica","probabilities":{"setosa":0,"versicolor":0,"virginica":1}}],
		"errors":0,"model":{"kind":"heuristic","name":"heuristic","version":"","variant":"heuristic"}}`, string(got.body))

	got = hs.post("/predict/batch", `{"instances":[`+seedRequest+`,{"sepal_length": 5.1}, 7]}`)
	require.Equal(t, http.StatusOK, got.status, "%s", got.body)
	assert.JSONEq(t, `{"predictions":[
		{"prediction":"setosa","probabilities":{"setosa":1,"versicolor":0,"virginica":0}},
		{"detail":[{"loc":["body","instances",1,"sepal_width"],"msg":"field required","type":"value_error.missing"},
		           {"loc":["body","instances",1,"petal_length"],"msg":"field required","type":"value_error.missing"},
		           {"loc":["body","instances",1,"petal_width"],"msg":"field required","type":"value_error.missing"}]},
		{"detail":[{"loc":["body","instances",2],"msg":"value is not a valid dict","type":"type_error.dict"}]}],
		"errors":2,"model":{"kind":"heuristic","name":"heuristic","version":"","variant":"heuristic"}}`, string(got.body))

	for _, tc := range []struct{ name, body, want string }{
		{"no instances", `{"rows": []}`, `{"detail":[{"loc":["body","instances"],"msg":"field required","type":"value_error.missing"}]}`},
		{"not a list", `{"instances": {}}`, `{"detail":[{"loc":["body","instances"],"msg":"value is not a valid list","type":"type_error.list"}]}`},
		{"empty", `{"instances": []}`, `{"detail":[{"loc":["body","instances"],"msg":"ensure this value has at least 1 items","type":"value_error.list.min_items","ctx":{"limit_value":1}}]}`},
		{"too many", `{"instances": [{},{},{},{}]}`, `{"detail":[{"loc":["body","instances"],"msg":"ensure this value has at most 3 items","type":"value_error.list.max_items","ctx":{"limit_value":3}}]}`},
		{"bare array", `[{}]`, `{"detail":[{"loc":["body"],"msg":"value is not a valid dict","type":"type_error.dict"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := hs.post("/predict/batch", tc.body)
			assert.Equal(t, http.StatusUnprocessableEntity, got.status)
			assert.JSONEq(t, tc.want, string(got.body))
		})
	}
	t.Run("non-finite row", func(t *testing.T) {
		got := hs.post("/predict/batch", `{"instances":[{"sepal_length": Infinity, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}]}`)
		require.Equal(t, http.StatusOK, got.status)
		assert.Contains(t, string(got.body), `"loc":["body","instances",0,"sepal_length"],"msg":"ensure this value is a finite number"`)
	})
}

func TestNoModelLoaded(t *testing.T) {
	hs := newHarness(t, nil, Options{})
	for _, path := range []string{"/predict", "/predict/batch"} {
		got := hs.post(path, seedRequest)
		assert.Equal(t, http.StatusServiceUnavailable, got.status)
		assert.JSONEq(t, `{"detail":"Service Unavailable"}`, string(got.body))
	}
	got := hs.get("/openapi.json")
	assert.Equal(t, http.StatusServiceUnavailable, got.status)
	got = hs.post("/v2/models/heuristic/infer", `{}`)
	assert.Equal(t, http.StatusServiceUnavailable, got.status)
	assert.JSONEq(t, `{"error":"no model is loaded"}`, string(got.body))
}
