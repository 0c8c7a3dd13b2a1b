package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"testing"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/classifyhttp"
	"github.com/ml-production-service/classify/rollout"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHealthcheck(t *testing.T) {
	split, err := rollout.NewSplit([]rollout.Arm{{Name: "heuristic", Weight: 1}})
	require.NoError(t, err)
	router, err := rollout.NewRouter(split, map[string]classify.Model{"heuristic": classify.IrisRules()})
	require.NoError(t, err)
	h, err := classifyhttp.New(router, classifyhttp.Options{})
	require.NoError(t, err)
	listen := func(h http.Handler) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		srv := &http.Server{Handler: h}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		return port
	}
	healthy := listen(h)
	check := func(args []string, vars map[string]string) (int, string) {
		var out, stderr bytes.Buffer
		err := run(context.Background(), args, env(vars), &out)
		return exitCode(err, &stderr), out.String() + stderr.String()
	}
	code, out := check([]string{"-healthcheck"}, map[string]string{"MPS_API_PORT": healthy})
	assert.Equal(t, 0, code, out)
	assert.Equal(t, "healthy: GET http://127.0.0.1:"+healthy+"/health answered 200\n", out)
	code, _ = check([]string{"-healthcheck", "-port", healthy, "-host", "127.0.0.1"}, nil)
	assert.Equal(t, 0, code)

	sick := listen(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"starting"}`))
	}))
	code, out = check([]string{"-healthcheck"}, map[string]string{"MPS_API_PORT": sick})
	assert.Equal(t, 1, code)
	assert.Contains(t, out, `answered 200 "starting"`)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	_, closed, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	code, out = check([]string{"-healthcheck"}, map[string]string{"MPS_API_PORT": closed})
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "connection refused")

	code, out = check([]string{"-healthcheck"}, map[string]string{"MPS_API_PORT": "0"})
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "the port is 0")
	code, _ = check([]string{"-healthcheck"}, map[string]string{"MPS_API_PORT": "x"})
	assert.Equal(t, 1, code, "bad configuration fails the check with 1, never Docker's reserved 2")
}
