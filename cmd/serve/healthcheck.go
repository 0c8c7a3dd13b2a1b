package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// healthcheckTimeout bounds serve -healthcheck's whole exchange.
const healthcheckTimeout = 2 * time.Second

// checkError is a failed -healthcheck: exit status 1 whatever the cause,
// bad configuration included (Docker reserves status 2).
type checkError struct{ err error }

func (e *checkError) Error() string { return "healthcheck: " + e.err.Error() }
func (e *checkError) Unwrap() error { return e.err }

// healthURL is where -healthcheck finds the server the configuration
// describes: the loopback address when it listens on every address.
func healthURL(cfg config) (string, error) {
	if cfg.port == 0 {
		return "", fmt.Errorf("the port is 0 (any free port); set MPS_API_PORT to the server's port")
	}
	host := cfg.host
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(cfg.port)) + "/health", nil
}

// healthcheck asks a running server for GET /health and succeeds when it
// answers 200 {"status": "healthy"} within healthcheckTimeout.
func healthcheck(ctx context.Context, cfg config, stdout io.Writer) error {
	url, err := healthURL(cfg)
	if err != nil {
		return &checkError{err}
	}
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return &checkError{err}
	}
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	res, err := client.Do(req)
	if err != nil {
		return &checkError{err}
	}
	defer res.Body.Close()
	var body struct{ Status string }
	err = json.NewDecoder(io.LimitReader(res.Body, 4096)).Decode(&body)
	if res.StatusCode != http.StatusOK || err != nil || body.Status != "healthy" {
		return &checkError{fmt.Errorf("GET %s answered %d %q", url, res.StatusCode, body.Status)}
	}
	fmt.Fprintf(stdout, "healthy: GET %s answered 200\n", url)
	return nil
}
