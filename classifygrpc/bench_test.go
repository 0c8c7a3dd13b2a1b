package classifygrpc

import (
	"context"
	"testing"

	"github.com/ml-production-service/classify/classifygrpc/inferencepb"
)

// BenchmarkModelInfer is one ModelInfer call through the whole gRPC stack
// (an in-memory connection, the interceptor with metrics and a JSON log
// line) for 1 and 64 rows.
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
		b.Run(map[int]string{1: "rows=1", 64: "rows=64"}[n], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				f.logs.Reset()
				if _, err := f.client.ModelInfer(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
