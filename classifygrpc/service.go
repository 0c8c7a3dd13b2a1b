package classifygrpc

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ml-production-service/classify/classifygrpc/inferencepb"
	"github.com/ml-production-service/classify/classifyhttp"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
)

// Defaults of the zero Options.
const (
	// defaultMaxRecvMsgBytes is REST's body limit: 1 MiB holds 1000 rows of
	// hundreds of FP64 features in raw_input_contents.
	defaultMaxRecvMsgBytes = 1 << 20
	// defaultHealthPoll is how often Watch looks at readiness.
	defaultHealthPoll = time.Second
)

// Options configure a Service. The zero value is sensible: no logs, no
// metrics, a 1 MiB limit on received messages.
type Options struct {
	// Logger receives one INFO line per call ("rpc": method, code,
	// duration, model, variant, request id, trace id when traced); nil
	// discards them.
	Logger *slog.Logger
	// Registerer, when not nil, gets the service's collectors
	// (mps_grpc_requests_total and mps_grpc_request_duration_seconds, by
	// method and code). New fails when they are already registered there.
	Registerer prometheus.Registerer
	// MaxRecvMsgBytes bounds a received message (default 1 MiB, the REST
	// side's body limit); a larger one fails with ResourceExhausted.
	MaxRecvMsgBytes int
	// HealthPoll is how often a grpc.health.v1 Watch looks at readiness
	// (default 1s).
	HealthPoll time.Duration
}

// Service serves a classifyhttp.Handler's models over gRPC: the Open
// Inference Protocol's GRPCInferenceService, grpc.health.v1 and server
// reflection. Make one with New; the zero Service is not usable. A Service
// is safe for concurrent use.
type Service struct {
	inferencepb.UnimplementedGRPCInferenceServiceServer
	h       *classifyhttp.Handler
	opts    Options
	log     *slog.Logger
	metrics *metrics
}

// New returns a Service answering with h's models. It returns an error for
// a nil handler or collectors the Registerer refuses.
func New(h *classifyhttp.Handler, opts Options) (*Service, error) {
	if h == nil {
		return nil, errors.New("classifygrpc: New needs a handler")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxRecvMsgBytes <= 0 {
		opts.MaxRecvMsgBytes = defaultMaxRecvMsgBytes
	}
	if opts.HealthPoll <= 0 {
		opts.HealthPoll = defaultHealthPoll
	}
	s := &Service{h: h, opts: opts, log: opts.Logger, metrics: newMetrics()}
	if opts.Registerer != nil {
		if err := s.metrics.register(opts.Registerer); err != nil {
			return nil, fmt.Errorf("classifygrpc: register metrics: %w", err)
		}
	}
	return s, nil
}

// ServerOptions returns the options a *grpc.Server needs to serve s: the
// interceptor that logs, measures and tags every call with a request id,
// and the message size limit. Pass them to grpc.NewServer with any of
// your own (a stats handler for tracing, credentials).
func (s *Service) ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.UnaryInterceptor(s.unary),
		grpc.StreamInterceptor(s.stream),
		grpc.MaxRecvMsgSize(s.opts.MaxRecvMsgBytes),
	}
}

// Register registers the inference service, grpc.health.v1 and server
// reflection on gs, which should have been made with ServerOptions.
func (s *Service) Register(gs *grpc.Server) {
	inferencepb.RegisterGRPCInferenceServiceServer(gs, s)
	healthpb.RegisterHealthServer(gs, &health{s: s})
	reflection.Register(gs)
}

// NewServer returns a *grpc.Server made with ServerOptions and extra, with
// s registered on it: what most callers want.
func (s *Service) NewServer(extra ...grpc.ServerOption) *grpc.Server {
	gs := grpc.NewServer(append(s.ServerOptions(), extra...)...)
	s.Register(gs)
	return gs
}
