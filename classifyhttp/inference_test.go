package classifyhttp

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"net/http"
	"testing"

	"github.com/ml-production-service/classify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// leBytes returns vs as little-endian bytes of size 4 (float32) or 8.
func leBytes(size int, vs ...float64) []byte {
	b := make([]byte, 0, size*len(vs))
	for _, v := range vs {
		if size == 4 {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(v)))
		} else {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
	}
	return b
}

func TestInfer(t *testing.T) {
	hs := newHarness(t, classify.IrisRules(), Options{MaxBatch: 2})
	rows := []float64{5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3}
	input := func(datatype string) InferInput {
		return InferInput{Name: "input", Datatype: datatype, Shape: []int64{2, 4}}
	}
	fp32 := make([]float32, len(rows))
	for i, v := range rows {
		fp32[i] = float32(v)
	}
	for _, tc := range []struct {
		name string
		in   InferInput
	}{
		{"FP64 contents", func() InferInput { in := input("FP64"); in.FP64 = rows; return in }()},
		{"FP32 contents", func() InferInput { in := input("FP32"); in.FP32 = fp32; return in }()},
		{"FP64 datatype in FP32 contents", func() InferInput { in := input("FP64"); in.FP32 = fp32; return in }()},
		{"raw FP32", func() InferInput { in := input("FP32"); in.Raw = leBytes(4, rows...); return in }()},
		{"raw FP64", func() InferInput { in := input("FP64"); in.Raw = leBytes(8, rows...); return in }()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := hs.srv.Infer(context.Background(), &InferRequest{Model: "heuristic", ID: "r1",
				Inputs: []InferInput{tc.in}, Outputs: []string{"label", "probabilities"}})
			require.NoError(t, err)
			assert.Equal(t, &InferResponse{Model: "heuristic", Variant: "heuristic", ID: "r1", Rows: 2,
				Classes: []string{"setosa", "versicolor", "virginica"}, Labels: []string{"setosa", "virginica"},
				Probabilities: []float64{1, 0, 0, 0, 0, 1}}, res)
		})
	}
	res, err := hs.srv.Infer(context.Background(), &InferRequest{Model: "heuristic",
		Inputs: []InferInput{{Name: "x", Datatype: "FP64", Shape: []int64{1, 4}, FP64: rows[:4]}}})
	require.NoError(t, err)
	assert.Equal(t, []string{"setosa"}, res.Labels)
	assert.Nil(t, res.Probabilities, "labels alone by default")

	one := func(in InferInput) *InferRequest {
		return &InferRequest{Model: "heuristic", Inputs: []InferInput{in}}
	}
	for _, tc := range []struct {
		name   string
		req    *InferRequest
		status int
		want   string
	}{
		{"unknown model", &InferRequest{Model: "iris"}, http.StatusNotFound, `model "iris" is not served here; this server serves "heuristic"`},
		{"unknown version", &InferRequest{Model: "heuristic", Version: "3"}, http.StatusNotFound, `model "heuristic" has no version "3"; serving version ""`},
		{"no input", &InferRequest{Model: "heuristic"}, http.StatusBadRequest, `expected 1 input tensor of shape [N, 4], got 0 inputs`},
		{"datatype", one(InferInput{Name: "a", Datatype: "INT32", Shape: []int64{1, 4}}), http.StatusBadRequest, `input "a" has datatype "INT32"; FP32 and FP64 are accepted`},
		{"shape", one(InferInput{Name: "a", Datatype: "FP32", Shape: []int64{1, 3}}), http.StatusBadRequest, `input "a" has shape [1 3]; expected [N, 4] with N >= 1 (features: [sepal_length sepal_width petal_length petal_width])`},
		{"rows", one(InferInput{Name: "a", Datatype: "FP32", Shape: []int64{3, 4}}), http.StatusBadRequest, `input "a" has 3 rows; at most 2 are accepted per request`},
		{"no values", one(InferInput{Name: "a", Datatype: "FP32", Shape: []int64{1, 4}}), http.StatusBadRequest, `input "a" must carry its values in one form (fp64 or fp32 contents, or raw bytes), got 0`},
		{"two forms", one(InferInput{Name: "a", Datatype: "FP32", Shape: []int64{1, 4}, FP32: fp32[:4], Raw: leBytes(4, rows[:4]...)}), http.StatusBadRequest, `input "a" must carry its values in one form (fp64 or fp32 contents, or raw bytes), got 2`},
		{"FP64 count", one(InferInput{Name: "a", Datatype: "FP64", Shape: []int64{2, 4}, FP64: rows[:4]}), http.StatusBadRequest, `input "a": shape [2 4] needs 8 values, the contents hold 4`},
		{"FP32 count", one(InferInput{Name: "a", Datatype: "FP32", Shape: []int64{2, 4}, FP32: fp32[:4]}), http.StatusBadRequest, `input "a": shape [2 4] needs 8 values, the contents hold 4`},
		{"raw length", one(InferInput{Name: "a", Datatype: "FP32", Shape: []int64{1, 4}, Raw: leBytes(8, rows[:4]...)}), http.StatusBadRequest, `input "a": shape [1 4] needs 4 values of 4 bytes (16 bytes), the raw contents hold 32 bytes`},
		{"missing value", one(InferInput{Name: "a", Datatype: "FP64", Shape: []int64{1, 4}, FP64: []float64{1, math.NaN(), 1, 1}}), http.StatusBadRequest, `input "a": row 0, feature "sepal_width" is NaN, a missing value, and model "heuristic" takes none`},
		{"unknown output", &InferRequest{Model: "heuristic", Inputs: []InferInput{{Name: "a", Datatype: "FP64", Shape: []int64{1, 4}, FP64: rows[:4]}}, Outputs: []string{"logits"}},
			http.StatusBadRequest, `unknown output "logits" (outputs: "label", "probabilities")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := hs.srv.Infer(context.Background(), tc.req)
			var ie *InferError
			require.True(t, errors.As(err, &ie), "%v", err)
			assert.Equal(t, tc.status, ie.Status)
			assert.Equal(t, tc.want, ie.Message)
			assert.Equal(t, "classifyhttp: "+tc.want, err.Error())
		})
	}
}

func TestInferMetadata(t *testing.T) {
	hs := newHarness(t, weatherModel(), Options{Version: "v9"})
	ctx := context.Background()
	assert.Equal(t, ServerMetadata{Name: "classify", Version: "v9", Extensions: []string{}}, hs.srv.ServerMetadata())
	md, err := hs.srv.ModelMetadata(ctx, "weather", "2.1.0")
	require.NoError(t, err)
	assert.Equal(t, ModelMetadata{Name: "weather", Versions: []string{"2.1.0"}, Platform: "classify_decision_tree",
		Inputs: []TensorMetadata{{Name: "input", Datatype: "FP64", Shape: []int64{-1, 3}}},
		Outputs: []TensorMetadata{{Name: "label", Datatype: "BYTES", Shape: []int64{-1}},
			{Name: "probabilities", Datatype: "FP64", Shape: []int64{-1, 2}}}}, md)
	_, err = hs.srv.ModelMetadata(ctx, "iris", "")
	assert.EqualError(t, err, `classifyhttp: model "iris" is not served here; this server serves "weather"`)

	ready, err := hs.srv.ModelReady(ctx, "weather", "")
	require.NoError(t, err)
	assert.True(t, ready)
	assert.True(t, hs.srv.Ready())
	_, err = hs.srv.ModelReady(ctx, "weather", "1")
	assert.Error(t, err)
	hs.srv.Drain()
	ready, err = hs.srv.ModelReady(ctx, "weather", "")
	require.NoError(t, err)
	assert.False(t, ready)
	assert.False(t, hs.srv.Ready())

	empty := newHarness(t, nil, Options{})
	_, err = empty.srv.Infer(ctx, &InferRequest{Model: "weather"})
	var ie *InferError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, InferError{Status: http.StatusServiceUnavailable, Message: "no model is loaded"}, *ie)
}
