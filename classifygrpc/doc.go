// Package classifygrpc serves classify models over gRPC: the Open Inference
// Protocol's GRPCInferenceService (ServerLive, ServerReady, ModelReady,
// ServerMetadata, ModelMetadata, ModelInfer), the protocol Triton's and
// KServe's clients speak, beside grpc.health.v1 and server reflection.
//
// It is the gRPC side of package classifyhttp's Open Inference Protocol,
// in a module of its own so that programs serving HTTP alone do not pull
// gRPC: a Service answers with a classifyhttp.Handler's models, variants,
// limits and errors (classifyhttp.Handler.Infer and friends), so both
// transports say the same thing about the same models, count predictions
// in the same metrics and feed the same shadow and payload log.
//
// Most callers want:
//
//	h, _ := classifyhttp.New(router, classifyhttp.Options{...})
//	svc, err := classifygrpc.New(h, classifygrpc.Options{Logger: logger, Registerer: reg})
//	gs := svc.NewServer()            // or grpc.NewServer(svc.ServerOptions()...) and svc.Register(gs)
//	go gs.Serve(ln)
//	...
//	h.Drain()                         // ServerReady and grpc.health.v1 answer not serving
//	gs.GracefulStop()
//
// # Models and requests
//
// A model is addressed by its variant's name or its model's name; a
// version, when given, must be the one served (NotFound otherwise). An
// infer request carries one input tensor, FP32 or FP64, of shape
// [N, features] with 1 <= N <= the handler's MaxBatch, its values in
// fp32_contents or fp64_contents, or in raw_input_contents (IEEE 754,
// little-endian, row-major: what Triton's clients send). NaN is a missing
// value, refused unless the model takes them. The outputs are "label"
// (BYTES, [N]) and "probabilities" (FP64, [N, classes], columns in the
// order of the model's classes); a request naming no output gets "label".
// The answer uses the form the request used: raw_output_contents for a
// raw request (a BYTES tensor there is each label's 4-byte little-endian
// length and bytes), typed contents otherwise.
//
// # Errors
//
// Errors are gRPC statuses mapped from the REST side's HTTP statuses as
// the protocol's KServe and Triton servers do: a request the model cannot
// take is InvalidArgument (400 over REST), a model or version not served
// here NotFound (404), no model loaded Unavailable (503), a failed
// prediction Internal (500), a message over Options.MaxRecvMsgBytes
// ResourceExhausted. The message is the REST side's "error" text.
//
// # Operations
//
// Each call is logged at INFO as an "rpc" line (method, code, duration_us,
// model, variant, request_id, trace_id when the call is traced, remote,
// error) and counted in mps_grpc_requests_total and
// mps_grpc_request_duration_seconds by method and code. The request id is
// the x-request-id metadata when the client sends up to 128 printable
// characters, generated otherwise, and sent back in the response header.
// Tracing is the caller's: pass otelgrpc's stats handler to NewServer, and
// the span of each model call gets the model's name, variant and version
// as attributes (classifyhttp sets them).
package classifygrpc
