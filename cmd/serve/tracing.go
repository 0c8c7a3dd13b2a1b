package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"
)

// OpenTelemetry tracing is off unless the standard variables ask for an
// exporter: OTEL_TRACES_EXPORTER (otlp, console; "none" is off), or an OTLP
// endpoint (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT),
// which means otlp. Then the exporter is what
// go.opentelemetry.io/contrib/exporters/autoexport makes of the OTEL_*
// variables (protocol, headers, sampler...), every HTTP request and gRPC call
// gets a span (otelhttp, otelgrpc; W3C trace context and baggage are read
// from the request), the span names the model, variant and version that
// answered, and the request's log line carries its trace_id. Off, nothing is
// wrapped: the request path is the same as without tracing.

// tracingOn reports whether the OTEL_* variables ask for traces.
func tracingOn(getenv func(string) string) bool {
	if e := strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")); e != "" {
		return e != "none"
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// tracing is the process's tracer provider; the zero tracing is off.
type tracing struct {
	tp *sdktrace.TracerProvider
}

// newTracing returns the tracing the variables ask for: off, or a provider
// exporting through autoexport (which reads the process's environment).
func newTracing(ctx context.Context, getenv func(string) string) (tracing, error) {
	if !tracingOn(getenv) {
		return tracing{}, nil
	}
	exp, err := autoexport.NewSpanExporter(ctx)
	if err != nil {
		return tracing{}, fmt.Errorf("tracing: %w", err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName("classify")))
	if err != nil {
		res = resource.Default()
	}
	return tracing{tp: sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))}, nil
}

var propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// http wraps h in otelhttp when tracing is on, and returns h as it is
// otherwise.
func (t tracing) http(h http.Handler) http.Handler {
	if t.tp == nil {
		return h
	}
	return otelhttp.NewHandler(h, "http", otelhttp.WithTracerProvider(t.tp), otelhttp.WithPropagators(propagator),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + r.URL.Path }))
}

// grpcOptions returns otelgrpc's stats handler when tracing is on.
func (t tracing) grpcOptions() []grpc.ServerOption {
	if t.tp == nil {
		return nil
	}
	var h stats.Handler = otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(t.tp), otelgrpc.WithPropagators(propagator))
	return []grpc.ServerOption{grpc.StatsHandler(h)}
}

// shutdown flushes the spans still batched.
func (t tracing) shutdown(ctx context.Context) error {
	if t.tp == nil {
		return nil
	}
	return t.tp.Shutdown(ctx)
}
