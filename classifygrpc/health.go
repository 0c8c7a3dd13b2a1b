package classifygrpc

import (
	"context"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// inferenceService is the inference service's name for grpc.health.v1.
const inferenceService = "inference.GRPCInferenceService"

// health answers grpc.health.v1 for the server ("") and the inference
// service alike: SERVING when the handler is ready (its models are loaded
// and it is not draining), NOT_SERVING otherwise; any other service name
// is NotFound (Check) or SERVICE_UNKNOWN (Watch). Watch looks at
// readiness every Options.HealthPoll and sends each change.
type health struct {
	healthpb.UnimplementedHealthServer
	s *Service
}

func (h *health) status() healthpb.HealthCheckResponse_ServingStatus {
	if h.s.h.Ready() {
		return healthpb.HealthCheckResponse_SERVING
	}
	return healthpb.HealthCheckResponse_NOT_SERVING
}

func known(service string) bool { return service == "" || service == inferenceService }

func (h *health) Check(_ context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	if !known(req.GetService()) {
		return nil, status.Errorf(codes.NotFound, "unknown service %q", req.GetService())
	}
	return &healthpb.HealthCheckResponse{Status: h.status()}, nil
}

func (h *health) List(context.Context, *healthpb.HealthListRequest) (*healthpb.HealthListResponse, error) {
	st := &healthpb.HealthCheckResponse{Status: h.status()}
	return &healthpb.HealthListResponse{Statuses: map[string]*healthpb.HealthCheckResponse{"": st, inferenceService: st}}, nil
}

func (h *health) Watch(req *healthpb.HealthCheckRequest, stream healthpb.Health_WatchServer) error {
	last := healthpb.HealthCheckResponse_SERVICE_UNKNOWN
	if !known(req.GetService()) {
		if err := stream.Send(&healthpb.HealthCheckResponse{Status: last}); err != nil {
			return err
		}
		<-stream.Context().Done()
		return status.FromContextError(stream.Context().Err()).Err()
	}
	t := time.NewTicker(h.s.opts.HealthPoll)
	defer t.Stop()
	for {
		if now := h.status(); now != last {
			if err := stream.Send(&healthpb.HealthCheckResponse{Status: now}); err != nil {
				return err
			}
			last = now
		}
		select {
		case <-stream.Context().Done():
			return status.FromContextError(stream.Context().Err()).Err()
		case <-t.C:
		}
	}
}
