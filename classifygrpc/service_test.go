package classifygrpc

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"log/slog"
	"math"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/classifygrpc/inferencepb"
	"github.com/ml-production-service/classify/classifyhttp"
	"github.com/ml-production-service/classify/models"
	"github.com/ml-production-service/classify/rollout"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
)

// rows are two Iris rows every served model classifies alike.
var rows = []float64{5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3}

// fixture is a gRPC server on an in-memory listener, and a client of it.
type fixture struct {
	h      *classifyhttp.Handler
	svc    *Service
	client inferencepb.GRPCInferenceServiceClient
	conn   *grpc.ClientConn
	reg    *prometheus.Registry
	logs   *bytes.Buffer
}

// newRouter serves the embedded registry's heuristic (weight 1) and
// decision_tree (weight 0), or one variant with no model when empty.
func newRouter(t testing.TB, empty bool) *rollout.Router {
	t.Helper()
	if empty {
		split, err := rollout.NewSplit([]rollout.Arm{{Name: "heuristic", Weight: 1}})
		require.NoError(t, err)
		r, err := rollout.NewRouter(split, map[string]classify.Model{"heuristic": nil})
		require.NoError(t, err)
		return r
	}
	reg, err := classify.OpenRegistry(models.FS)
	require.NoError(t, err)
	ms := map[string]classify.Model{}
	for _, name := range []string{"heuristic", "decision_tree"} {
		ms[name], err = reg.Load(name)
		require.NoError(t, err)
	}
	split, err := rollout.NewSplit([]rollout.Arm{{Name: "heuristic", Weight: 1}, {Name: "decision_tree", Weight: 0}})
	require.NoError(t, err)
	r, err := rollout.NewRouter(split, ms)
	require.NoError(t, err)
	return r
}

func newFixture(t testing.TB, empty bool, opts Options) *fixture {
	t.Helper()
	return newRouterFixture(t, newRouter(t, empty), opts)
}

// newRouterFixture is a fixture serving the variants of router.
func newRouterFixture(t testing.TB, router *rollout.Router, opts Options) *fixture {
	t.Helper()
	h, err := classifyhttp.New(router, classifyhttp.Options{MaxBatch: 64, Version: "v1.2.3"})
	require.NoError(t, err)
	f := &fixture{h: h, reg: prometheus.NewRegistry(), logs: &bytes.Buffer{}}
	opts.Registerer = f.reg
	opts.Logger = slog.New(slog.NewJSONHandler(f.logs, nil))
	f.svc, err = New(h, opts)
	require.NoError(t, err)
	ln := bufconn.Listen(1 << 20)
	gs := f.svc.NewServer()
	go func() { _ = gs.Serve(ln) }()
	t.Cleanup(gs.Stop)
	f.conn, err = grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return ln.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.conn.Close() })
	f.client = inferencepb.NewGRPCInferenceServiceClient(f.conn)
	return f
}

func le32(vs []float64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(v)))
	}
	return b
}

func le64(vs []float64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

func TestServerCalls(t *testing.T) {
	f := newFixture(t, false, Options{})
	ctx := context.Background()
	live, err := f.client.ServerLive(ctx, &inferencepb.ServerLiveRequest{})
	require.NoError(t, err)
	assert.True(t, live.GetLive())
	ready, err := f.client.ServerReady(ctx, &inferencepb.ServerReadyRequest{})
	require.NoError(t, err)
	assert.True(t, ready.GetReady())
	md, err := f.client.ServerMetadata(ctx, &inferencepb.ServerMetadataRequest{})
	require.NoError(t, err)
	assert.Equal(t, "classify", md.GetName())
	assert.Equal(t, "v1.2.3", md.GetVersion())

	mr, err := f.client.ModelReady(ctx, &inferencepb.ModelReadyRequest{Name: "decision_tree"})
	require.NoError(t, err)
	assert.True(t, mr.GetReady(), "a weight-0 variant is addressed directly")
	mm, err := f.client.ModelMetadata(ctx, &inferencepb.ModelMetadataRequest{Name: "heuristic"})
	require.NoError(t, err)
	assert.Equal(t, "heuristic", mm.GetName())
	assert.Equal(t, "classify_heuristic", mm.GetPlatform())
	assert.Equal(t, []int64{-1, 4}, mm.GetInputs()[0].GetShape())
	assert.Equal(t, "BYTES", mm.GetOutputs()[0].GetDatatype())
	assert.Equal(t, []int64{-1, 3}, mm.GetOutputs()[1].GetShape())

	_, err = f.client.ModelMetadata(ctx, &inferencepb.ModelMetadataRequest{Name: "iris"})
	assert.Equal(t, codes.NotFound, status.Code(err))
	assert.Equal(t, `model "iris" is not served here; this server serves "heuristic", "decision_tree"`, status.Convert(err).Message())
	_, err = f.client.ModelReady(ctx, &inferencepb.ModelReadyRequest{Name: "heuristic", Version: "0.0.1"})
	assert.Equal(t, codes.NotFound, status.Code(err))

	f.h.Drain()
	ready, err = f.client.ServerReady(ctx, &inferencepb.ServerReadyRequest{})
	require.NoError(t, err)
	assert.False(t, ready.GetReady())
	mr, err = f.client.ModelReady(ctx, &inferencepb.ModelReadyRequest{Name: "heuristic"})
	require.NoError(t, err)
	assert.False(t, mr.GetReady())
}

func TestModelInfer(t *testing.T) {
	f := newFixture(t, false, Options{})
	ctx := context.Background()
	input := func(datatype string, c *inferencepb.InferTensorContents) []*inferencepb.ModelInferRequest_InferInputTensor {
		return []*inferencepb.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: datatype, Shape: []int64{2, 4}, Contents: c}}
	}
	fp32 := make([]float32, len(rows))
	for i, v := range rows {
		fp32[i] = float32(v)
	}
	both := []*inferencepb.ModelInferRequest_InferRequestedOutputTensor{{Name: "label"}, {Name: "probabilities"}}
	for _, tc := range []struct {
		name string
		req  *inferencepb.ModelInferRequest
		raw  bool
	}{
		{"fp64_contents", &inferencepb.ModelInferRequest{Inputs: input("FP64", &inferencepb.InferTensorContents{Fp64Contents: rows})}, false},
		{"fp32_contents", &inferencepb.ModelInferRequest{Inputs: input("FP32", &inferencepb.InferTensorContents{Fp32Contents: fp32})}, false},
		{"raw FP32", &inferencepb.ModelInferRequest{Inputs: input("FP32", nil), RawInputContents: [][]byte{le32(rows)}}, true},
		{"raw FP64", &inferencepb.ModelInferRequest{Inputs: input("FP64", nil), RawInputContents: [][]byte{le64(rows)}}, true},
	} {
		for _, model := range []string{"heuristic", "decision_tree"} {
			t.Run(tc.name+"/"+model, func(t *testing.T) {
				tc.req.ModelName, tc.req.Id, tc.req.Outputs = model, "r-1", both
				res, err := f.client.ModelInfer(ctx, tc.req)
				require.NoError(t, err)
				assert.Equal(t, model, res.GetModelName())
				assert.Equal(t, "r-1", res.GetId())
				assert.NotEmpty(t, res.GetModelVersion())
				require.Len(t, res.GetOutputs(), 2)
				label, proba := res.GetOutputs()[0], res.GetOutputs()[1]
				assert.Equal(t, "label", label.GetName())
				assert.Equal(t, "BYTES", label.GetDatatype())
				assert.Equal(t, []int64{2}, label.GetShape())
				assert.Equal(t, "probabilities", proba.GetName())
				assert.Equal(t, []int64{2, 3}, proba.GetShape())
				var labels []string
				var probs []float64
				if tc.raw {
					require.Len(t, res.GetRawOutputContents(), 2)
					b := res.GetRawOutputContents()[0]
					for len(b) > 0 {
						n := binary.LittleEndian.Uint32(b)
						labels = append(labels, string(b[4:4+n]))
						b = b[4+n:]
					}
					b = res.GetRawOutputContents()[1]
					for ; len(b) > 0; b = b[8:] {
						probs = append(probs, math.Float64frombits(binary.LittleEndian.Uint64(b)))
					}
				} else {
					assert.Empty(t, res.GetRawOutputContents())
					for _, l := range label.GetContents().GetBytesContents() {
						labels = append(labels, string(l))
					}
					probs = proba.GetContents().GetFp64Contents()
				}
				assert.Equal(t, []string{"setosa", "virginica"}, labels)
				require.Len(t, probs, 6)
				assert.InDelta(t, 1, probs[0], 1e-9)
				assert.InDelta(t, 1, probs[5], 1e-9)
			})
		}
	}

	res, err := f.client.ModelInfer(ctx, &inferencepb.ModelInferRequest{ModelName: "heuristic",
		Inputs: input("FP64", &inferencepb.InferTensorContents{Fp64Contents: rows})})
	require.NoError(t, err)
	require.Len(t, res.GetOutputs(), 1, "label alone by default")
	assert.Equal(t, "label", res.GetOutputs()[0].GetName())
}

func TestModelInferErrors(t *testing.T) {
	f := newFixture(t, false, Options{MaxRecvMsgBytes: 4096})
	ctx := context.Background()
	in := func(datatype string, shape []int64, c *inferencepb.InferTensorContents) []*inferencepb.ModelInferRequest_InferInputTensor {
		return []*inferencepb.ModelInferRequest_InferInputTensor{{Name: "x", Datatype: datatype, Shape: shape, Contents: c}}
	}
	fp64 := &inferencepb.InferTensorContents{Fp64Contents: rows}
	for _, tc := range []struct {
		name string
		req  *inferencepb.ModelInferRequest
		code codes.Code
		msg  string
	}{
		{"unknown model", &inferencepb.ModelInferRequest{ModelName: "iris"}, codes.NotFound, `model "iris" is not served here; this server serves "heuristic", "decision_tree"`},
		{"unknown version", &inferencepb.ModelInferRequest{ModelName: "heuristic", ModelVersion: "9"}, codes.NotFound, `model "heuristic" has no version "9"; serving version "1.0.1"`},
		{"no input", &inferencepb.ModelInferRequest{ModelName: "heuristic"}, codes.InvalidArgument, `expected 1 input tensor of shape [N, 4], got 0 inputs`},
		{"datatype", &inferencepb.ModelInferRequest{ModelName: "heuristic", Inputs: in("INT64", []int64{2, 4}, fp64)}, codes.InvalidArgument, `input "x" has datatype "INT64"; FP32 and FP64 are accepted`},
		{"shape", &inferencepb.ModelInferRequest{ModelName: "heuristic", Inputs: in("FP64", []int64{8}, fp64)}, codes.InvalidArgument,
			`input "x" has shape [8]; expected [N, 4] with N >= 1 (features: [sepal_length sepal_width petal_length petal_width])`},
		{"too many rows", &inferencepb.ModelInferRequest{ModelName: "heuristic", Inputs: in("FP64", []int64{65, 4}, fp64)}, codes.InvalidArgument, `input "x" has 65 rows; at most 64 are accepted per request`},
		{"count", &inferencepb.ModelInferRequest{ModelName: "heuristic", Inputs: in("FP64", []int64{1, 4}, fp64)}, codes.InvalidArgument, `input "x": shape [1 4] needs 4 values, the contents hold 8`},
		{"no values", &inferencepb.ModelInferRequest{ModelName: "heuristic", Inputs: in("FP64", []int64{1, 4}, nil)}, codes.InvalidArgument,
			`input "x" must carry its values in one form (fp64 or fp32 contents, or raw bytes), got 0`},
		{"raw count", &inferencepb.ModelInferRequest{ModelName: "heuristic", Inputs: in("FP64", []int64{2, 4}, nil), RawInputContents: [][]byte{le64(rows), le64(rows)}}, codes.InvalidArgument,
			`raw_input_contents holds 2 tensors for 1 inputs; give every input's values there, or none`},
		{"raw and contents", &inferencepb.ModelInferRequest{ModelName: "heuristic", Inputs: in("FP64", []int64{2, 4}, fp64), RawInputContents: [][]byte{le64(rows)}}, codes.InvalidArgument,
			`input "x" has both contents and raw_input_contents`},
		{"raw length", &inferencepb.ModelInferRequest{ModelName: "heuristic", Inputs: in("FP64", []int64{2, 4}, nil), RawInputContents: [][]byte{le32(rows)}}, codes.InvalidArgument,
			`input "x": shape [2 4] needs 8 values of 8 bytes (64 bytes), the raw contents hold 32 bytes`},
		{"missing value", &inferencepb.ModelInferRequest{ModelName: "heuristic", Inputs: in("FP64", []int64{1, 4}, &inferencepb.InferTensorContents{Fp64Contents: []float64{1, 1, math.NaN(), 1}})}, codes.InvalidArgument,
			`input "x": row 0, feature "petal_length" is NaN, a missing value, and model "heuristic" takes none`},
		{"unknown output", &inferencepb.ModelInferRequest{ModelName: "heuristic", Inputs: in("FP64", []int64{2, 4}, fp64),
			Outputs: []*inferencepb.ModelInferRequest_InferRequestedOutputTensor{{Name: "logits"}}}, codes.InvalidArgument, `unknown output "logits" (outputs: "label", "probabilities")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.client.ModelInfer(ctx, tc.req)
			assert.Equal(t, tc.code, status.Code(err), "%v", err)
			assert.Equal(t, tc.msg, status.Convert(err).Message())
		})
	}
	t.Run("message too large", func(t *testing.T) {
		big := make([]float64, 1000)
		_, err := f.client.ModelInfer(ctx, &inferencepb.ModelInferRequest{ModelName: "heuristic", Inputs: in("FP64", []int64{250, 4}, &inferencepb.InferTensorContents{Fp64Contents: big})})
		assert.Equal(t, codes.ResourceExhausted, status.Code(err), "%v", err)
	})
	t.Run("no model loaded", func(t *testing.T) {
		empty := newFixture(t, true, Options{})
		_, err := empty.client.ModelInfer(ctx, &inferencepb.ModelInferRequest{ModelName: "heuristic"})
		assert.Equal(t, codes.Unavailable, status.Code(err))
		assert.Equal(t, "no model is loaded", status.Convert(err).Message())
		r, err := empty.client.ServerReady(ctx, &inferencepb.ServerReadyRequest{})
		require.NoError(t, err)
		assert.False(t, r.GetReady())
	})
}

func TestStatusOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code codes.Code
	}{
		{&classifyhttp.InferError{Status: 400}, codes.InvalidArgument},
		{&classifyhttp.InferError{Status: 404}, codes.NotFound},
		{&classifyhttp.InferError{Status: 413}, codes.ResourceExhausted},
		{&classifyhttp.InferError{Status: 500}, codes.Internal},
		{&classifyhttp.InferError{Status: 503}, codes.Unavailable},
		{assert.AnError, codes.Internal},
	} {
		assert.Equal(t, tc.code, status.Code(statusOf(tc.err)), "%v", tc.err)
	}
}

func TestHealthAndReflection(t *testing.T) {
	f := newFixture(t, false, Options{HealthPoll: 10 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hc := healthpb.NewHealthClient(f.conn)
	for _, service := range []string{"", "inference.GRPCInferenceService"} {
		r, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: service})
		require.NoError(t, err)
		assert.Equal(t, healthpb.HealthCheckResponse_SERVING, r.GetStatus())
	}
	_, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: "other"})
	assert.Equal(t, codes.NotFound, status.Code(err))
	list, err := hc.List(ctx, &healthpb.HealthListRequest{})
	require.NoError(t, err)
	assert.Len(t, list.GetStatuses(), 2)

	w, err := hc.Watch(ctx, &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	got, err := w.Recv()
	require.NoError(t, err)
	assert.Equal(t, healthpb.HealthCheckResponse_SERVING, got.GetStatus())
	f.h.Drain()
	got, err = w.Recv()
	require.NoError(t, err)
	assert.Equal(t, healthpb.HealthCheckResponse_NOT_SERVING, got.GetStatus())
	r, err := hc.Check(ctx, &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	assert.Equal(t, healthpb.HealthCheckResponse_NOT_SERVING, r.GetStatus())
	unknown, err := hc.Watch(ctx, &healthpb.HealthCheckRequest{Service: "other"})
	require.NoError(t, err)
	got, err = unknown.Recv()
	require.NoError(t, err)
	assert.Equal(t, healthpb.HealthCheckResponse_SERVICE_UNKNOWN, got.GetStatus())

	rc, err := reflectionpb.NewServerReflectionClient(f.conn).ServerReflectionInfo(ctx)
	require.NoError(t, err)
	require.NoError(t, rc.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}))
	resp, err := rc.Recv()
	require.NoError(t, err)
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	assert.Contains(t, names, "inference.GRPCInferenceService")
	assert.Contains(t, names, "grpc.health.v1.Health")
}

func TestLogsMetricsRequestID(t *testing.T) {
	f := newFixture(t, false, Options{})
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-request-id", "abc-123")
	var header metadata.MD
	_, err := f.client.ModelInfer(ctx, &inferencepb.ModelInferRequest{ModelName: "decision_tree",
		Inputs: []*inferencepb.ModelInferRequest_InferInputTensor{{Name: "x", Datatype: "FP64", Shape: []int64{2, 4},
			Contents: &inferencepb.InferTensorContents{Fp64Contents: rows}}}}, grpc.Header(&header))
	require.NoError(t, err)
	assert.Equal(t, []string{"abc-123"}, header.Get("x-request-id"))
	_, err = f.client.ModelMetadata(context.Background(), &inferencepb.ModelMetadataRequest{Name: "nope"}, grpc.Header(&header))
	require.Error(t, err)
	assert.Len(t, header.Get("x-request-id")[0], 32, "a generated id")

	const infer = "/inference.GRPCInferenceService/ModelInfer"
	assert.Equal(t, 1.0, testutil.ToFloat64(f.svc.metrics.requests.WithLabelValues(infer, "OK")))
	assert.Equal(t, 1.0, testutil.ToFloat64(f.svc.metrics.requests.WithLabelValues("/inference.GRPCInferenceService/ModelMetadata", "NotFound")))
	n, err := testutil.GatherAndCount(f.reg, "mps_grpc_request_duration_seconds")
	require.NoError(t, err)
	assert.Equal(t, 2, n)

	lines := strings.Split(strings.TrimSpace(f.logs.String()), "\n")
	require.Len(t, lines, 2)
	var first, second map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &first))
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &second))
	assert.Equal(t, "rpc", first["msg"])
	assert.Equal(t, infer, first["method"])
	assert.Equal(t, "OK", first["code"])
	assert.Equal(t, "decision_tree", first["model"])
	assert.Equal(t, "decision_tree", first["variant"])
	assert.Equal(t, "abc-123", first["request_id"])
	assert.Equal(t, "NotFound", second["code"])
	assert.Equal(t, "nope", second["model"])
	assert.Contains(t, second["error"], "not served here")
}

func TestNew(t *testing.T) {
	_, err := New(nil, Options{})
	assert.EqualError(t, err, "classifygrpc: New needs a handler")
	h, err := classifyhttp.New(newRouter(t, false), classifyhttp.Options{})
	require.NoError(t, err)
	svc, err := New(h, Options{})
	require.NoError(t, err, "the zero Options work")
	assert.Len(t, svc.ServerOptions(), 3)
	reg := prometheus.NewRegistry()
	_, err = New(h, Options{Registerer: reg})
	require.NoError(t, err)
	_, err = New(h, Options{Registerer: reg})
	assert.ErrorContains(t, err, "classifygrpc: register metrics")
}
