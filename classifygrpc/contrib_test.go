package classifygrpc

import (
	"context"
	"encoding/binary"
	"math"
	"testing"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/classifygrpc/inferencepb"
	"github.com/ml-production-service/classify/rollout"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// fakeTree is a classify.Contributor for these tests: the Iris rules'
// predictions, and feature f's contribution to output o (o+1)*row[f]/10,
// the bias (o+1)/4.
type fakeTree struct{ classify.Model }

func (m fakeTree) Info() classify.Info {
	info := m.Model.Info()
	info.Kind, info.Name = classify.DecisionTree, "fake_tree"
	return info
}

func (m fakeTree) Outputs() []string { return m.Info().Classes }

func (m fakeTree) Contributions(row, out []float64) error {
	nf := len(row)
	for o := range len(out) / (nf + 1) {
		for f, v := range row {
			out[o*(nf+1)+f] = float64(o+1) * v / 10
		}
		out[o*(nf+1)+nf] = float64(o+1) / 4
	}
	return nil
}

func (m fakeTree) ContributionsBatch(rows, out []float64) error {
	for r := range len(rows) / 4 {
		_ = m.Contributions(rows[r*4:(r+1)*4], out[r*15:(r+1)*15])
	}
	return nil
}

func contribFixture(t *testing.T) *fixture {
	split, err := rollout.NewSplit([]rollout.Arm{{Name: "fake_tree", Weight: 1}, {Name: "heuristic", Weight: 0}})
	require.NoError(t, err)
	router, err := rollout.NewRouter(split, map[string]classify.Model{"fake_tree": fakeTree{classify.IrisRules()}, "heuristic": classify.IrisRules()})
	require.NoError(t, err)
	return newRouterFixture(t, router, Options{})
}

func TestModelInferContributions(t *testing.T) {
	f := contribFixture(t)
	ctx := context.Background()
	var want []float64
	for r := range 2 {
		for o := range 3 {
			for _, v := range rows[r*4 : (r+1)*4] {
				want = append(want, float64(o+1)*v/10)
			}
			want = append(want, float64(o+1)/4)
		}
	}
	input := []*inferencepb.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "FP64", Shape: []int64{2, 4}}}
	boolParam := func(b bool) map[string]*inferencepb.InferParameter {
		return map[string]*inferencepb.InferParameter{"contributions": {ParameterChoice: &inferencepb.InferParameter_BoolParam{BoolParam: b}}}
	}
	for _, tc := range []struct {
		name string
		req  *inferencepb.ModelInferRequest
		raw  bool
	}{
		{"output", &inferencepb.ModelInferRequest{Inputs: input, Outputs: []*inferencepb.ModelInferRequest_InferRequestedOutputTensor{{Name: "label"}, {Name: "contributions"}}}, false},
		{"parameter", &inferencepb.ModelInferRequest{Inputs: input, Parameters: boolParam(true)}, false},
		{"raw", &inferencepb.ModelInferRequest{Inputs: input, Parameters: boolParam(true)}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.ModelName = "fake_tree"
			if tc.raw {
				tc.req.RawInputContents = [][]byte{le64(rows)}
			} else {
				tc.req.Inputs[0].Contents = &inferencepb.InferTensorContents{Fp64Contents: rows}
			}
			res, err := f.client.ModelInfer(ctx, tc.req)
			tc.req.Inputs[0].Contents = nil
			require.NoError(t, err)
			require.Len(t, res.GetOutputs(), 2)
			o := res.GetOutputs()[1]
			assert.Equal(t, "contributions", o.GetName())
			assert.Equal(t, "FP64", o.GetDatatype())
			assert.Equal(t, []int64{2, 3, 5}, o.GetShape())
			assert.Equal(t, `["setosa","versicolor","virginica"]`, o.GetParameters()["outputs"].GetStringParam())
			assert.Equal(t, `["sepal_length","sepal_width","petal_length","petal_width","bias"]`, o.GetParameters()["features"].GetStringParam())
			assert.Equal(t, "probability", o.GetParameters()["raw_output"].GetStringParam())
			got := o.GetContents().GetFp64Contents()
			if tc.raw {
				require.Len(t, res.GetRawOutputContents(), 2)
				got = nil
				for b := res.GetRawOutputContents()[1]; len(b) > 0; b = b[8:] {
					got = append(got, math.Float64frombits(binary.LittleEndian.Uint64(b)))
				}
			}
			assert.InDeltaSlice(t, want, got, 1e-15)
		})
	}
	// Not asked, or asked of the heuristic, or asked wrongly.
	req := &inferencepb.ModelInferRequest{ModelName: "fake_tree", Inputs: []*inferencepb.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "FP64", Shape: []int64{2, 4},
		Contents: &inferencepb.InferTensorContents{Fp64Contents: rows}}}, Parameters: boolParam(false)}
	res, err := f.client.ModelInfer(ctx, req)
	require.NoError(t, err)
	assert.Len(t, res.GetOutputs(), 1)
	req.ModelName, req.Parameters = "heuristic", boolParam(true)
	_, err = f.client.ModelInfer(ctx, req)
	assert.Equal(t, codes.InvalidArgument, status.Code(err))
	assert.Contains(t, status.Convert(err).Message(), `model "heuristic" (heuristic) cannot explain contributions`)
	req.Parameters = map[string]*inferencepb.InferParameter{"contributions": {ParameterChoice: &inferencepb.InferParameter_StringParam{StringParam: "yes"}}}
	_, err = f.client.ModelInfer(ctx, req)
	assert.Equal(t, codes.InvalidArgument, status.Code(err))
	assert.Equal(t, "parameter contributions must be a bool_param", status.Convert(err).Message())
	md, err := f.client.ModelMetadata(ctx, &inferencepb.ModelMetadataRequest{Name: "fake_tree"})
	require.NoError(t, err)
	assert.Equal(t, "contributions", md.GetOutputs()[2].GetName())
	assert.Equal(t, []int64{-1, 3, 5}, md.GetOutputs()[2].GetShape())
}
