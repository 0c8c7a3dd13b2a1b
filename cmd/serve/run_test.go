package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ml-production-service/classify/classifygrpc/inferencepb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// rulesFile is a rule model that answers label for every row.
func rulesFile(label string) []byte {
	return []byte(`{"format": "classify/rules", "format_version": 1,
 "features": ["sepal_length", "sepal_width", "petal_length", "petal_width"],
 "classes": ["setosa", "versicolor", "virginica"], "rules": [], "default": "` + label + `", "source": "test"}`)
}

// TestRunServesWatchesAndShutsDown runs the process in this one: it
// listens, serves the API and /metrics, reloads a single artifact file
// when the watch sees it change, and on cancellation shuts down and
// returns nil.
func TestRunServesWatchesAndShutsDown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules.json")
	payloads := t.TempDir()
	require.NoError(t, os.WriteFile(path, rulesFile("setosa"), 0o644))
	var out syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-port", "0", "-grpc-port", "0", "-host", "127.0.0.1"}, env(map[string]string{
			"MPS_MODEL_PATH": path, "MPS_MODEL_TYPE": "heuristic", "MPS_RELOAD_INTERVAL": "20ms",
			"MPS_PAYLOAD_LOG": payloads,
		}), &out)
	}()
	logged := func(msg string) map[string]any {
		out.mu.Lock()
		defer out.mu.Unlock()
		for _, line := range strings.Split(out.b.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == msg {
				return m
			}
		}
		return nil
	}
	var addr, grpcAddr string
	require.Eventually(t, func() bool {
		if m := logged("listening"); m != nil {
			addr = m["addr"].(string)
			grpcAddr = m["grpc_addr"].(string)
			assert.Equal(t, "heuristic", m["model"])
			assert.Equal(t, path, m["source"])
			return true
		}
		return false
	}, 10*time.Second, 5*time.Millisecond)

	predict := func() string {
		res, err := http.Post("http://"+addr+"/predict", "application/json", strings.NewReader(seedRequest))
		require.NoError(t, err)
		defer res.Body.Close()
		var body struct{ Prediction string }
		require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
		return body.Prediction
	}
	assert.Equal(t, "setosa", predict())
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	infer, err := inferencepb.NewGRPCInferenceServiceClient(conn).ModelInfer(ctx, &inferencepb.ModelInferRequest{ModelName: "heuristic",
		Inputs: []*inferencepb.ModelInferRequest_InferInputTensor{{Name: "x", Datatype: "FP64", Shape: []int64{1, 4},
			Contents: &inferencepb.InferTensorContents{Fp64Contents: []float64{5.1, 3.5, 1.4, 0.2}}}}})
	require.NoError(t, err)
	assert.Equal(t, "setosa", string(infer.GetOutputs()[0].GetContents().GetBytesContents()[0]))
	res, err := http.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	metrics, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	assert.Contains(t, string(metrics), "go_goroutines ")
	assert.Contains(t, string(metrics), "process_cpu_seconds_total ")
	assert.Contains(t, string(metrics), `mps_predictions_total{class="setosa",model="heuristic",variant="heuristic"} 2`)
	assert.Contains(t, string(metrics), `mps_grpc_requests_total{code="OK",method="/inference.GRPCInferenceService/ModelInfer"} 1`)

	require.NoError(t, os.WriteFile(path, rulesFile("virginica"), 0o644))
	require.Eventually(t, func() bool { return logged("reloaded") != nil }, 10*time.Second, 5*time.Millisecond)
	assert.Equal(t, "watch", logged("reloaded")["trigger"])
	assert.Equal(t, "virginica", predict())

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancellation")
	}
	assert.NotNil(t, logged("shutting down"))
	assert.NotNil(t, logged("stopped"))
	// Every predicted row, over HTTP and gRPC, went to the payload log,
	// written out by the time run returned.
	lines, err := os.ReadFile(filepath.Join(payloads, "payloads.jsonl"))
	require.NoError(t, err)
	assert.Equal(t, 3, strings.Count(string(lines), "\n"), "%s", lines)
	assert.Contains(t, string(lines), `"prediction":"virginica"`)
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
