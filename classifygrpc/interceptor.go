package classifygrpc

import (
	"context"
	"log/slog"
	"time"

	"github.com/ml-production-service/classify/classifyhttp"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// Every call gets a request id (the x-request-id metadata when the client
// sends a sane one, generated otherwise, and sent back in the header), one
// INFO log line, and its count and duration in the metrics by method and
// code.

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics() *metrics {
	labels := []string{"method", "code"}
	return &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mps_grpc_requests_total",
			Help: "gRPC calls answered, by full method name and status code.",
		}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mps_grpc_request_duration_seconds",
			Help: "Time from receiving a gRPC call to its handler's return, by full method name and status code.",
			// The HTTP side's buckets: a prediction takes well under a millisecond.
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, labels),
	}
}

// register registers every collector with r, or none.
func (m *metrics) register(r prometheus.Registerer) error {
	if err := r.Register(m.requests); err != nil {
		return err
	}
	if err := r.Register(m.duration); err != nil {
		r.Unregister(m.requests)
		return err
	}
	return nil
}

// call is what a handler tells the interceptor about its call, and the
// interceptor the handler (the request id).
type call struct{ model, variant, requestID string }

type callKey struct{}

// noteModel records which model (and variant) answers the call.
func noteModel(ctx context.Context, model, variant string) {
	if c, ok := ctx.Value(callKey{}).(*call); ok {
		c.model, c.variant = model, variant
	}
}

func (s *Service) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	start := time.Now()
	id := s.requestID(ctx)
	c := &call{requestID: id}
	ctx = context.WithValue(ctx, callKey{}, c)
	resp, err := handler(ctx, req)
	s.done(ctx, info.FullMethod, start, c, id, err)
	return resp, err
}

func (s *Service) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	start := time.Now()
	id := s.requestID(ss.Context())
	err := handler(srv, ss)
	s.done(ss.Context(), info.FullMethod, start, &call{}, id, err)
	return err
}

// requestID returns the call's request id and sends it back in the header.
func (s *Service) requestID(ctx context.Context) string {
	given := ""
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get("x-request-id"); len(v) > 0 {
			given = v[0]
		}
	}
	id := classifyhttp.RequestID(given)
	_ = grpc.SetHeader(ctx, metadata.Pairs("x-request-id", id))
	return id
}

func (s *Service) done(ctx context.Context, method string, start time.Time, c *call, id string, err error) {
	elapsed := time.Since(start)
	code := status.Code(err)
	s.metrics.requests.WithLabelValues(method, code.String()).Inc()
	s.metrics.duration.WithLabelValues(method, code.String()).Observe(elapsed.Seconds())
	h := s.log.Handler()
	if !h.Enabled(ctx, slog.LevelInfo) {
		return
	}
	line := slog.NewRecord(time.Now(), slog.LevelInfo, "rpc", 0)
	line.AddAttrs(
		slog.String("method", method),
		slog.String("code", code.String()),
		slog.Int64("duration_us", elapsed.Microseconds()),
		slog.String("model", c.model),
		slog.String("variant", c.variant),
		slog.String("request_id", id))
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		line.AddAttrs(slog.String("trace_id", sc.TraceID().String()))
	}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		line.AddAttrs(slog.String("remote", p.Addr.String()))
	}
	if err != nil {
		line.AddAttrs(slog.String("error", status.Convert(err).Message()))
	}
	_ = h.Handle(ctx, line)
}

// callRequestID is the call's request id.
func callRequestID(ctx context.Context) string {
	if c, ok := ctx.Value(callKey{}).(*call); ok {
		return c.requestID
	}
	return ""
}
