package classifyhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ml-production-service/classify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestTracing: a traced request's span gets the model, variant and version
// that answered, and its log line the trace id; the in-memory exporter
// stands in for OTLP.
func TestTracing(t *testing.T) {
	var logs bytes.Buffer
	h := mustNew(singleRouter(weatherModel()), Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer func() { _ = tp.Shutdown(context.Background()) }()

	for _, tc := range []struct{ method, path, body string }{
		{http.MethodPost, "/predict", `{"temperature": 20, "humidity": 50, "wind": 3}`},
		{http.MethodPost, "/v2/models/weather/infer", `{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP64","data":[20,50,3]}]}`},
		{http.MethodGet, "/v2/models/weather", ""},
	} {
		t.Run(tc.path, func(t *testing.T) {
			exp.Reset()
			logs.Reset()
			ctx, span := tp.Tracer("test").Start(context.Background(), "request")
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body)).WithContext(ctx)
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			span.End()
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			spans := exp.GetSpans()
			require.Len(t, spans, 1)
			assert.ElementsMatch(t, []attribute.KeyValue{attrModel.String("weather"), attrVariant.String("weather"), attrVersion.String("2.1.0")},
				spans[0].Attributes)
			var line map[string]any
			require.NoError(t, json.Unmarshal(logs.Bytes(), &line))
			assert.Equal(t, span.SpanContext().TraceID().String(), line["trace_id"])
		})
	}

	t.Run("not traced", func(t *testing.T) {
		logs.Reset()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v2/models/weather", nil))
		var line map[string]any
		require.NoError(t, json.Unmarshal(logs.Bytes(), &line))
		assert.NotContains(t, line, "trace_id")
	})

	t.Run("Infer, ModelMetadata and ModelReady annotate the caller's span", func(t *testing.T) {
		exp.Reset()
		ctx, span := tp.Tracer("test").Start(context.Background(), "rpc")
		_, err := h.ModelReady(ctx, "weather", "")
		require.NoError(t, err)
		span.End()
		require.Len(t, exp.GetSpans(), 1)
		assert.Contains(t, exp.GetSpans()[0].Attributes, attrVariant.String("weather"))
	})
}

// TestTracingOffAllocations: with no span in the context, noting the model
// on it allocates nothing.
func TestTracingOffAllocations(t *testing.T) {
	h := mustNew(singleRouter(classify.IrisRules()), Options{})
	c := h.view().primary()
	ctx := context.Background()
	assert.Zero(t, testing.AllocsPerRun(100, func() { annotate(ctx, c) }))
}
