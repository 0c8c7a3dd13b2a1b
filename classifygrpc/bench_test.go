package classifygrpc

import (
	"context"
	"testing"

	"github.com/ml-production-service/classify/classifygrpc/inferencepb"
	"google.golang.org/protobuf/proto"
)

// BenchmarkModelInfer is one ModelInfer call through the whole gRPC stack
// (an in-memory connection, the interceptor with metrics and a JSON log
// line) for 1 and 64 rows, with and without contributions.
func BenchmarkModelInfer(b *testing.B) {
	f := newFixture(b, false, Options{})
	for _, n := range []int{1, 64} {
		flat := make([]float64, 0, 4*n)
		for i := range n {
			flat = append(flat, rows[4*(i%2):4*(i%2)+4]...)
		}
		req := &inferencepb.ModelInferRequest{ModelName: "decision_tree",
			Inputs: []*inferencepb.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "FP64", Shape: []int64{int64(n), 4},
				Contents: &inferencepb.InferTensorContents{Fp64Contents: flat}}},
			Outputs: []*inferencepb.ModelInferRequest_InferRequestedOutputTensor{{Name: "label"}, {Name: "probabilities"}}}
		name := map[int]string{1: "rows=1", 64: "rows=64"}[n]
		b.Run(name, func(b *testing.B) { benchInfer(b, f, req) })
		// The same rows asking for contributions as well.
		explain := proto.Clone(req).(*inferencepb.ModelInferRequest)
		explain.Outputs = append(explain.Outputs, &inferencepb.ModelInferRequest_InferRequestedOutputTensor{Name: "contributions"})
		b.Run(name+"/contributions", func(b *testing.B) { benchInfer(b, f, explain) })
	}
}

func benchInfer(b *testing.B, f *fixture, req *inferencepb.ModelInferRequest) {
	b.ReportAllocs()
	for b.Loop() {
		f.logs.Reset()
		if _, err := f.client.ModelInfer(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}
