// Command serve serves a classify model over HTTP, as a drop-in replacement
// for the Python FastAPI service: POST /predict answers {"prediction":
// "setosa"} to the same requests, errors come in the same shapes, and the
// same MPS_* variables configure it. Run it with -h for the settings.
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

	"github.com/ml-production-service/classify"
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
	if err != nil {
		return err
	}
	logs := newLogWriter(stdout)
	defer logs.Flush()
	flushCtx, stopFlushing := context.WithCancel(context.Background())
	defer stopFlushing()
	go logs.flushEvery(flushCtx, logFlushInterval)
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: cfg.logLevel}))
	model, reg, err := loadModel(cfg)
	if err != nil {
		return err
	}
	srv := NewServer(classify.NewLive(model), Options{
		Logger:           logger,
		Registry:         reg,
		AllowNonPositive: cfg.allowNonPositive,
		Version:          version(),
	})
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.host, strconv.Itoa(cfg.port)))
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	info := model.Info()
	logger.Info("listening", "addr", ln.Addr().String(), "model", srv.serving().name,
		"kind", string(info.Kind), "version", info.Version, "source", orDefault(cfg.modelPath, "embedded registry"))
	_ = logs.Flush() // tell whoever waits for the address now

	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	srv.Drain()
	logger.Info("shutting down", "timeout", cfg.shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
		return fmt.Errorf("shutdown: in-flight requests did not finish within %s: %w", cfg.shutdownTimeout, err)
	}
	logger.Info("stopped")
	return nil
}

// version is the module version the binary was built from, or "dev".
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
