// Command serve serves classify models over HTTP, as a drop-in replacement
// for the Python FastAPI service: the same paths, request and response
// shapes, status codes and MPS_* variables, so existing clients keep
// working unchanged. Run it with -h for the settings.
//
// The API itself, its endpoints, compatibility rules, missing values,
// batches and the Open Inference Protocol, is package classifyhttp's
// (github.com/ml-production-service/classify/classifyhttp), which Go
// services can mount themselves. This command is the process around it:
// configuration from flags and MPS_* variables, where the models come
// from, the reload triggers (SIGHUP, the registry watch), listening, and
// graceful shutdown. It serves /metrics (with the Go runtime and process
// collectors) and, with MPS_ADMIN_TOKEN, POST /admin/reload.
//
// On a second port, MPS_GRPC_PORT (default 8001, as KServe and Triton use;
// 0 for any free port, logged as grpc_addr; off for none), it serves the
// Open Inference Protocol over gRPC with package classifygrpc: the same
// models and answers as /v2, grpc.health.v1 and server reflection. Both
// servers drain and stop together on shutdown.
//
// OpenTelemetry tracing is off unless OTEL_TRACES_EXPORTER names an
// exporter (not "none") or OTEL_EXPORTER_OTLP_ENDPOINT (or its _TRACES_
// form) is set: then autoexport builds the exporter from the OTEL_*
// variables, otelhttp and otelgrpc give each request and call a span with
// the model, variant and version as attributes, and the log lines carry
// trace_id (see tracing.go).
//
// # Models
//
// With MPS_MODEL_PATH unset the model comes from the production registry
// embedded in the binary (package models). MPS_MODEL_PATH may name a
// registry directory (holding manifest.json), loaded with checksums
// verified, or a single artifact file loaded with classify.New. In a
// registry the model is the entry named MPS_MODEL_TYPE, or else the only
// entry of that kind.
//
// # A/B splits and canaries
//
// MPS_MODEL_TYPE may be a weighted split, "decision_tree=90,xgboost=10"
// (integer weights; a plain name is a split of one). Each name is a
// variant, loaded as a plain MPS_MODEL_TYPE is; all must take the same
// features. The server holds them in a rollout.Router. A request with the
// header X-Client-ID (MPS_SPLIT_HEADER names another) goes to the variant
// its key hashes to (FNV-1a, then splitmix64): the same key reaches the
// same variant on every request, in every replica and after restarts, as
// long as the weights are the same. A request without a key is split at
// random by weight. A batch goes whole to one variant. Every answer names
// its variant and model version in the headers X-Model-Variant and
// X-Model-Version, and /predict and /predict/batch also in the body's
// "model" object, {"kind", "name", "version", "variant"}. The Open
// Inference Protocol names its model, so under /v2 the split does not
// apply: /v2/models/{name} addresses each variant by its variant name (or
// its model's name), weight 0 included. /ready answers with "model" set to
// the model's name for one variant and to the split for several.
//
// # Shadow traffic
//
// MPS_SHADOW_MODEL names a challenger in the same source (it must take the
// same features). A share of the answered rows, MPS_SHADOW_FRACTION
// (default 0.1), is also given to it after the primary answer is ready, on
// a goroutine of its own, at most 64 at a time; a row that finds them all
// busy is dropped (mps_shadow_dropped_total), never queued, so the
// challenger cannot slow or fail an answer. Each result is counted in
// mps_shadow_predictions_total{variant, primary, challenger, result} with
// result agree, disagree or error (the agreement rate is agree over their
// sum), and logged at DEBUG as a "shadow" line with both labels.
//
// # Reloading models
//
// Three triggers reload without a restart: SIGHUP; POST /admin/reload; and,
// when MPS_RELOAD_INTERVAL is set (MPS_MODEL_PATH must then be a registry
// directory or a file), a watch that re-reads manifest.json at that
// interval and reloads when the entry of a served model (a variant or the
// shadow) changed its sha256 or version (a single file: when its bytes
// changed). A reload re-opens the source and loads every variant: read,
// checksum verified, parsed, checked to take the served features, one
// warm-up prediction. Only when every variant passes are they swapped in,
// together with the new split, if one was asked for; a request in flight
// finishes with the model it started with. On any failure nothing changes:
// the models serving before keep serving, /ready stays 200, the error is
// logged ("reload failed", at ERROR) and counted in
// mps_model_reloads_total{trigger, target, result="failure", reason} with
// reason registry, missing, checksum, format, not_found, features, warmup
// or other. The shadow model is loaded and proved (features, warm-up)
// before the variants and swapped in with them: when it fails, nothing
// changes either. A watch that meets a failure tries again at each
// interval.
//
// The admin endpoints exist only when MPS_ADMIN_TOKEN is set (otherwise
// 404, as any unknown path) and then need "Authorization: Bearer <token>"
// (compared in constant time; 401 without it or with another).
// POST /admin/reload takes no body, or {"model_type": "<split>"} to change
// the split as it reloads: {"model_type": "decision_tree=0,xgboost=100"}
// promotes a canary to all traffic, keeping decision_tree loaded. It
// answers 200 {"status": "reloaded", "trigger", "split", "variants":
// [{"variant", "weight", "name", "kind", "version"}], "shadow"}, 500 with
// "status": "failed" and "error" when the reload failed (and what still
// serves), 422 {"detail": "..."} for a body that is not such an object, a
// split that does not parse, or a split naming a model the source does not
// hold (nothing changes).
//
// # Operations
//
// Logs are JSON lines on stdout (log/slog), one per request at INFO with
// method, path, status, duration, model and request id; X-Request-ID is
// taken from the request when it holds up to 128 printable characters,
// generated otherwise, and echoed back. Log lines are written in batches at
// least every 100 ms. The server applies read-header, read, write and idle
// timeouts, a 16 KiB header limit and a 1 MiB body limit; a panic in a
// handler answers 500 in JSON and the server keeps serving. On SIGINT or
// SIGTERM it reports not ready, stops accepting connections, lets in-flight
// requests finish within -shutdown-timeout and exits 0 (1 if they did not
// finish). Bad configuration exits 2 after one line on stderr naming the
// setting, its value and what is allowed.
//
// serve -healthcheck does not serve: it GETs /health from the server the
// same settings describe (127.0.0.1:MPS_API_PORT, or MPS_API_HOST when that
// names one address) with a 2 s timeout and exits 0 when the answer is 200
// {"status": "healthy"}, 1 otherwise (never 2, which Docker reserves), for
// the image's HEALTHCHECK, which has no curl.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/ml-production-service/classify/classifygrpc"
	"github.com/ml-production-service/classify/classifyhttp"
	"github.com/ml-production-service/classify/cmd/internal/jsonlog"
	"github.com/ml-production-service/classify/rollout"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"google.golang.org/grpc"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode reports err on stderr and returns the process's exit status:
// 0 for success and -h, 2 for bad configuration or usage, 1 otherwise.
func exitCode(err error, stderr io.Writer) int {
	var ce *configError
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(*checkError)):
		fmt.Fprintln(stderr, "serve:", err)
		return 1
	case errors.As(err, &ce), errors.As(err, &ue):
		fmt.Fprintln(stderr, err)
		return 2
	default:
		fmt.Fprintln(stderr, "serve:", err)
		return 1
	}
}

// logFlushInterval bounds how long a log line waits in the batch.
const logFlushInterval = 100 * time.Millisecond

// run serves until ctx is done, then shuts down gracefully: it stops
// accepting connections, reports not ready, lets in-flight requests finish
// within the shutdown timeout and returns nil.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := parseConfig(args, getenv, stdout)
	if cfg.healthcheck || err != nil && isHealthcheck(args) {
		if err != nil {
			return &checkError{err}
		}
		return healthcheck(ctx, cfg, stdout)
	}
	if err != nil {
		return err
	}
	logs := jsonlog.NewWriter(stdout)
	defer logs.Flush()
	flushCtx, stopFlushing := context.WithCancel(context.Background())
	defer stopFlushing()
	go logs.FlushEvery(flushCtx, logFlushInterval)
	logger := slog.New(jsonlog.NewHandler(logs, cfg.logLevel))
	src, err := newSource(cfg)
	if err != nil {
		return err
	}
	router, challenger, cat, err := loadRouter(cfg, src)
	if err != nil {
		return err
	}
	tr, err := newTracing(ctx, getenv)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
		defer cancel()
		_ = tr.shutdown(sctx)
	}()
	var payloads *classifyhttp.PayloadLog
	if cfg.payloadLog != "" {
		if payloads, err = classifyhttp.OpenPayloadLog(cfg.payloadLog, classifyhttp.PayloadLogOptions{Sample: cfg.payloadSample}); err != nil {
			return err
		}
		defer func() {
			if err := payloads.Close(); err != nil {
				logger.Error("payload log", "error", err.Error())
			}
		}()
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	h, err := classifyhttp.New(router, classifyhttp.Options{
		Logger:           logger,
		Registerer:       reg,
		Gatherer:         reg,
		Catalog:          cat,
		Source:           src,
		AdminToken:       cfg.adminToken,
		SplitHeader:      cfg.splitHeader,
		Challenger:       challenger,
		ShadowModel:      cfg.shadowModel,
		ShadowFraction:   cfg.shadowFraction,
		MaxBodyBytes:     maxBodyBytes,
		MaxBatch:         maxBatchRows,
		AllowNonPositive: cfg.allowNonPositive,
		Version:          version(),
		PayloadLog:       payloads,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.host, strconv.Itoa(cfg.port)))
	if err != nil {
		return err
	}
	defer ln.Close()
	var gs *grpc.Server
	var gln net.Listener
	grpcAddr := "off"
	if cfg.grpcPort >= 0 {
		svc, err := classifygrpc.New(h, classifygrpc.Options{Logger: logger, Registerer: reg, MaxRecvMsgBytes: maxBodyBytes})
		if err != nil {
			return err
		}
		if gln, err = net.Listen("tcp", net.JoinHostPort(cfg.host, strconv.Itoa(cfg.grpcPort))); err != nil {
			return fmt.Errorf("grpc: %w", err)
		}
		defer gln.Close()
		gs = svc.NewServer(tr.grpcOptions()...)
		grpcAddr = gln.Addr().String()
	}
	hs := &http.Server{
		Handler:           tr.http(h),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	table := router.Table()
	info := table.Variants()[0].Model().Info()
	logger.Info("listening", "addr", ln.Addr().String(), "grpc_addr", grpcAddr, "model", servingName(table),
		"kind", string(info.Kind), "version", info.Version, "split", table.Split().String(),
		"shadow", cfg.shadowModel, "admin", cfg.adminToken != "", "reload_interval", cfg.reloadInterval.String(),
		"source", orDefault(cfg.modelPath, "embedded registry"), "tracing", tr.tp != nil)
	_ = logs.Flush() // tell whoever waits for the address now

	// Reload triggers: SIGHUP, and the watch when configured. They stop
	// when run returns.
	reloadCtx, stopReloads := context.WithCancel(ctx)
	defer stopReloads()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-reloadCtx.Done():
				return
			case <-hup:
				_ = h.Reload(nil, triggerSIGHUP)
				_ = logs.Flush()
			}
		}
	}()
	if cfg.reloadInterval > 0 {
		go watch(reloadCtx, h, cfg.reloadInterval)
	}

	served := make(chan error, 2)
	go func() { served <- hs.Serve(ln) }()
	if gs != nil {
		go func() {
			if err := gs.Serve(gln); err != nil {
				served <- fmt.Errorf("grpc: %w", err)
			}
		}()
	}
	select {
	case err := <-served:
		if gs != nil {
			gs.Stop()
		}
		_ = hs.Close()
		return err
	case <-ctx.Done():
	}
	h.Drain()
	logger.Info("shutting down", "timeout", cfg.shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	if err := shutdown(sctx, hs, gs); err != nil {
		return fmt.Errorf("shutdown: in-flight requests did not finish within %s: %w", cfg.shutdownTimeout, err)
	}
	logger.Info("stopped")
	return nil
}

// shutdown stops the HTTP and the gRPC server (nil: none) together: both
// stop accepting connections at once and let their in-flight requests and
// calls finish until ctx is done; then whatever is left is cut off and the
// context's error returned.
func shutdown(ctx context.Context, hs *http.Server, gs *grpc.Server) error {
	grpcDone := make(chan struct{})
	go func() {
		if gs != nil {
			gs.GracefulStop()
		}
		close(grpcDone)
	}()
	err := hs.Shutdown(ctx)
	if err != nil {
		_ = hs.Close()
	}
	select {
	case <-grpcDone:
	case <-ctx.Done():
		if gs != nil {
			gs.Stop()
		}
		<-grpcDone
		if err == nil {
			err = ctx.Err()
		}
	}
	return err
}

// Triggers, as the reload counter and log lines name them (POST
// /admin/reload's is "admin").
const (
	triggerSIGHUP = "sighup"
	triggerWatch  = "watch"
)

// watch reloads h when its source changed, checking every interval until
// ctx is done.
func watch(ctx context.Context, h *classifyhttp.Handler, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			h.ReloadIfChanged(triggerWatch)
		}
	}
}

// servingName is what the start-up log calls the serving models: the
// model's name with one variant, the split with several.
func servingName(t *rollout.Table) string {
	if vs := t.Variants(); len(vs) == 1 && vs[0].Model() != nil {
		if info := vs[0].Model().Info(); info.Name != "" {
			return info.Name
		}
		return string(vs[0].Model().Info().Kind)
	}
	return t.Split().String()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// isHealthcheck reports whether the command line asks for -healthcheck.
func isHealthcheck(args []string) bool {
	for _, a := range args {
		switch a {
		case "-healthcheck", "--healthcheck", "-healthcheck=true", "--healthcheck=true":
			return true
		}
	}
	return false
}

// version is the module version the binary was built from, or "dev".
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
