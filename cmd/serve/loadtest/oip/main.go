// Command oip is the Open Inference Protocol load benchmark: it starts the
// serve binary on free loopback ports and drives the same model with the
// same rows over REST (POST /v2/models/{name}/infer, JSON) and gRPC
// (ModelInfer, fp64_contents), for 1 and 64 rows per request, from
// -c concurrent clients (each with its own connection) for -d each, alternating which protocol goes
// first in each round. It prints requests/s, rows/s and latency
// percentiles per protocol and batch size, and the gRPC/REST rows/s ratio.
//
//	go build -o bin/serve ./cmd/serve
//	go run ./cmd/serve/loadtest/oip -serve bin/serve -d 5s -c 8 -rounds 2
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ml-production-service/classify/classifygrpc/inferencepb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// iris rows, cycled to fill a batch.
var iris = [][]float64{{5.1, 3.5, 1.4, 0.2}, {6.7, 3.0, 5.2, 2.3}, {5.9, 3.0, 4.2, 1.5}, {6.3, 3.3, 6.0, 2.5}}

func main() {
	serve := flag.String("serve", "bin/serve", "the serve binary")
	model := flag.String("model", "random_forest", "model to serve and drive")
	dur := flag.Duration("d", 5*time.Second, "duration of each measurement")
	conc := flag.Int("c", 8, "concurrent clients")
	rounds := flag.Int("rounds", 2, "rounds (each protocol and size once per round)")
	sizes := flag.String("rows", "1,64", "rows per request")
	flag.Parse()
	if err := run(*serve, *model, *dur, *conc, *rounds, *sizes); err != nil {
		fmt.Fprintln(os.Stderr, "oip:", err)
		os.Exit(1)
	}
}

type result struct {
	cpu       time.Duration // the server's CPU time during the measurement
	reqs      int
	lat       []time.Duration
	elapsed   time.Duration
	errs      int
	firstErr  error
	rowsPerRq int
}

func (r result) reqPerSec() float64  { return float64(r.reqs) / r.elapsed.Seconds() }
func (r result) rowsPerSec() float64 { return r.reqPerSec() * float64(r.rowsPerRq) }
func (r result) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[min(len(r.lat)-1, int(p*float64(len(r.lat))))]
}

func run(serve, model string, dur time.Duration, conc, rounds int, sizes string) error {
	cmd := exec.Command(serve)
	cmd.Env = append(os.Environ(), "MPS_API_HOST=127.0.0.1", "MPS_API_PORT=0", "MPS_GRPC_PORT=0", "MPS_MODEL_TYPE="+model)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }()
	sc := bufio.NewScanner(out)
	var addr, grpcAddr string
	for sc.Scan() {
		var m struct{ Msg, Addr, Grpc_addr string }
		if json.Unmarshal(sc.Bytes(), &m) == nil && m.Msg == "listening" {
			addr, grpcAddr = m.Addr, m.Grpc_addr
			break
		}
	}
	if addr == "" {
		return fmt.Errorf("the server did not start")
	}
	go func() { _, _ = io.Copy(io.Discard, out) }() // request logs: written, as in production, and discarded

	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}}
	// A connection per client, as REST's keep-alive pool has: one HTTP/2
	// connection shared by all would serialise them on its one reader.
	gcs := make([]inferencepb.GRPCInferenceServiceClient, conc)
	for i := range gcs {
		conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return err
		}
		defer conn.Close()
		gcs[i] = inferencepb.NewGRPCInferenceServiceClient(conn)
	}

	fmt.Printf("Open Inference Protocol on loopback: model %s, %d clients, %s per measurement, %d rounds; %d CPUs, %s\n",
		model, conc, dur, rounds, runtime.NumCPU(), runtime.Version())
	results := map[string][]result{}
	var keys []string
	for round := range rounds {
		for _, s := range strings.Split(sizes, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n < 1 {
				return fmt.Errorf("rows %q", s)
			}
			flat := make([]float64, 0, 4*n)
			for i := range n {
				flat = append(flat, iris[i%len(iris)]...)
			}
			body, _ := json.Marshal(map[string]any{"inputs": []any{map[string]any{"name": "input", "shape": []int{n, 4}, "datatype": "FP64", "data": flat}},
				"outputs": []any{map[string]string{"name": "label"}, map[string]string{"name": "probabilities"}}})
			url := "http://" + addr + "/v2/models/" + model + "/infer"
			rest := func(int) error {
				res, err := hc.Post(url, "application/json", bytes.NewReader(body))
				if err != nil {
					return err
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					return fmt.Errorf("status %d", res.StatusCode)
				}
				return nil
			}
			req := &inferencepb.ModelInferRequest{ModelName: model,
				Inputs:  []*inferencepb.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "FP64", Shape: []int64{int64(n), 4}, Contents: &inferencepb.InferTensorContents{Fp64Contents: flat}}},
				Outputs: []*inferencepb.ModelInferRequest_InferRequestedOutputTensor{{Name: "label"}, {Name: "probabilities"}}}
			grpcCall := func(i int) error {
				_, err := gcs[i].ModelInfer(context.Background(), req)
				return err
			}
			order := []string{"rest", "grpc"}
			if round%2 == 1 {
				order = []string{"grpc", "rest"}
			}
			for _, proto := range order {
				call := rest
				if proto == "grpc" {
					call = grpcCall
				}
				before := procCPU(cmd.Process.Pid)
				r := measure(call, conc, dur)
				r.cpu = procCPU(cmd.Process.Pid) - before
				r.rowsPerRq = n
				if r.firstErr != nil {
					return fmt.Errorf("%s, %d rows: %d errors, first: %v", proto, n, r.errs, r.firstErr)
				}
				key := fmt.Sprintf("%-4s %3d rows", proto, n)
				if _, ok := results[key]; !ok {
					keys = append(keys, key)
				}
				results[key] = append(results[key], r)
				fmt.Printf("round %d %s: %9.0f req/s %10.0f rows/s  p50 %8s  p99 %8s  server CPU %6.1f us/req\n", round+1, key, r.reqPerSec(), r.rowsPerSec(), r.pct(0.50), r.pct(0.99),
					float64(r.cpu.Microseconds())/float64(r.reqs))
			}
		}
	}
	fmt.Println("== summary (means of the rounds' rates; medians of their p99s)")
	fmt.Println("| protocol | rows/request | requests/s | rows/s | p50 | p99 | server CPU per request | server CPU per row |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	mean, cpuRow := map[string]float64{}, map[string]float64{}
	for _, k := range keys {
		rs := results[k]
		var rps, rows float64
		var p50s, p99s []time.Duration
		var cpu time.Duration
		reqs := 0
		for _, r := range rs {
			cpu += r.cpu
			reqs += r.reqs
			rps += r.reqPerSec() / float64(len(rs))
			rows += r.rowsPerSec() / float64(len(rs))
			p50s, p99s = append(p50s, r.pct(0.5)), append(p99s, r.pct(0.99))
		}
		slices.Sort(p50s)
		slices.Sort(p99s)
		mean[k] = rows
		perReq := float64(cpu.Microseconds()) / float64(reqs)
		cpuRow[k] = perReq / float64(rs[0].rowsPerRq)
		f := strings.Fields(k)
		proto := map[string]string{"rest": "REST /v2 infer (JSON)", "grpc": "gRPC ModelInfer"}[f[0]]
		fmt.Printf("| %s | %s | %.0f | %.0f | %s | %s | %.1f µs | %.2f µs |\n", proto, f[1], rps, rows, p50s[len(p50s)/2].Round(time.Microsecond), p99s[len(p99s)/2].Round(time.Microsecond), perReq, cpuRow[k])
	}
	for _, s := range strings.Split(sizes, ",") {
		n, _ := strconv.Atoi(strings.TrimSpace(s))
		g, r := mean[fmt.Sprintf("%-4s %3d rows", "grpc", n)], mean[fmt.Sprintf("%-4s %3d rows", "rest", n)]
		gk, rk := fmt.Sprintf("%-4s %3d rows", "grpc", n), fmt.Sprintf("%-4s %3d rows", "rest", n)
		fmt.Printf("gRPC/REST at %d rows per request: rows/s %.2fx; rows per server CPU second %.2fx\n", n, g/r, cpuRow[rk]/cpuRow[gk])
	}
	return nil
}

// measure runs call from conc goroutines for d and collects latencies.
func measure(call func(client int) error, conc int, d time.Duration) result {
	var mu sync.Mutex
	var res result
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for client := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			errs := 0
			var first error
			for time.Now().Before(deadline) {
				t := time.Now()
				if err := call(client); err != nil {
					errs++
					if first == nil {
						first = err
					}
					continue
				}
				lat = append(lat, time.Since(t))
			}
			mu.Lock()
			res.lat = append(res.lat, lat...)
			res.errs += errs
			if res.firstErr == nil {
				res.firstErr = first
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.reqs = len(res.lat)
	slices.Sort(res.lat)
	return res
}

// procCPU is the user and system CPU time process pid has used (Linux
// /proc; 0 elsewhere): the server's own cost, whatever else runs.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * (time.Second / 100) // USER_HZ is 100 on Linux
}
