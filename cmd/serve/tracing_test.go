package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ml-production-service/classify/classifygrpc"
	"github.com/ml-production-service/classify/classifygrpc/inferencepb"
	"github.com/ml-production-service/classify/classifyhttp"
	"github.com/ml-production-service/classify/rollout"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

func TestTracingOn(t *testing.T) {
	for _, tc := range []struct {
		vars map[string]string
		on   bool
	}{
		{nil, false},
		{map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, false},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, true},
		{map[string]string{"OTEL_SERVICE_NAME": "classify"}, false},
	} {
		assert.Equal(t, tc.on, tracingOn(env(tc.vars)), "%v", tc.vars)
	}
}

func TestNewTracing(t *testing.T) {
	off, err := newTracing(context.Background(), env(nil))
	require.NoError(t, err)
	assert.Nil(t, off.tp)
	h := http.NewServeMux()
	assert.Same(t, h, off.http(h), "tracing off wraps nothing")
	assert.Empty(t, off.grpcOptions())
	require.NoError(t, off.shutdown(context.Background()))

	t.Setenv("OTEL_TRACES_EXPORTER", "console")
	on, err := newTracing(context.Background(), env(map[string]string{"OTEL_TRACES_EXPORTER": "console"}))
	require.NoError(t, err)
	require.NotNil(t, on.tp)
	require.NoError(t, on.shutdown(context.Background()))

	t.Setenv("OTEL_TRACES_EXPORTER", "carrier-pigeon")
	_, err = newTracing(context.Background(), env(map[string]string{"OTEL_TRACES_EXPORTER": "carrier-pigeon"}))
	assert.ErrorContains(t, err, "tracing:")
}

// TestTracingSpans: with tracing on, an HTTP request and a gRPC call each
// get a span naming the model, variant and version that answered; the
// in-memory exporter stands in for OTLP.
func TestTracingSpans(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tr := tracing{tp: sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))}
	defer func() { _ = tr.shutdown(context.Background()) }()
	split, err := rollout.NewSplit([]rollout.Arm{{Name: "heuristic", Weight: 1}})
	require.NoError(t, err)
	cfg := config{split: split}
	src, err := newSource(cfg)
	require.NoError(t, err)
	router, _, _, err := loadRouter(cfg, src)
	require.NoError(t, err)
	h, err := classifyhttp.New(router, classifyhttp.Options{})
	require.NoError(t, err)
	want := []attribute.KeyValue{attribute.String("classify.model", "heuristic"), attribute.String("classify.variant", "heuristic"),
		attribute.String("classify.model_version", router.Variants()[0].Model().Info().Version)}
	has := func(span sdktrace.ReadOnlySpan) {
		t.Helper()
		for _, kv := range want {
			assert.Contains(t, span.Attributes(), kv, span.Name())
		}
	}

	rec := httptest.NewRecorder()
	tr.http(h).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v2/models/heuristic", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	spans := exp.GetSpans().Snapshots()
	require.Len(t, spans, 1)
	assert.Equal(t, "GET /v2/models/heuristic", spans[0].Name())
	has(spans[0])

	exp.Reset()
	svc, err := classifygrpc.New(h, classifygrpc.Options{})
	require.NoError(t, err)
	gs := svc.NewServer(tr.grpcOptions()...)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = gs.Serve(ln) }()
	defer gs.Stop()
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	_, err = inferencepb.NewGRPCInferenceServiceClient(conn).ModelInfer(context.Background(), &inferencepb.ModelInferRequest{ModelName: "heuristic",
		Inputs: []*inferencepb.ModelInferRequest_InferInputTensor{{Name: "x", Datatype: "FP64", Shape: []int64{1, 4},
			Contents: &inferencepb.InferTensorContents{Fp64Contents: []float64{5.1, 3.5, 1.4, 0.2}}}}})
	require.NoError(t, err)
	// The server ends its span after the reply is sent, so the client can
	// hold the reply before the span is recorded: wait for it (bounded).
	require.Eventually(t, func() bool { return len(exp.GetSpans()) > 0 }, 10*time.Second, 5*time.Millisecond,
		"the gRPC call recorded no span")
	spans = exp.GetSpans().Snapshots()
	require.Len(t, spans, 1)
	assert.Equal(t, "inference.GRPCInferenceService/ModelInfer", spans[0].Name())
	has(spans[0])
}
