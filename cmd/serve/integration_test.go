package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Integration tests: build the real binary, start it on a free loopback
// port with configuration from the environment, talk to it over TCP and
// stop it with SIGTERM.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	binDir    string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binary builds cmd/serve once per test run.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: builds and runs the binary")
	}
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "serve-test-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "serve")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return binPath
}

// process is a running server binary.
type process struct {
	cmd    *exec.Cmd
	addr   string
	mu     sync.Mutex
	stdout bytes.Buffer
	stderr bytes.Buffer
	done   chan struct{}
	err    error
}

// start runs the binary with the given variables (and nothing else from
// the test's environment but PATH and HOME) and waits for it to listen.
func start(t *testing.T, vars ...string) *process {
	t.Helper()
	cmd := exec.Command(binary(t))
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"MPS_API_HOST=127.0.0.1", "MPS_API_PORT=0", "MPS_GRPC_PORT=0"}, vars...)
	p := &process{cmd: cmd, done: make(chan struct{})}
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = &lockedWriter{mu: &p.mu, w: &p.stderr}
	require.NoError(t, cmd.Start())
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Bytes()
			p.mu.Lock()
			p.stdout.Write(line)
			p.stdout.WriteByte('\n')
			p.mu.Unlock()
			var m struct{ Msg, Addr string }
			if json.Unmarshal(line, &m) == nil && m.Msg == "listening" {
				addr <- m.Addr
			}
		}
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	select {
	case p.addr = <-addr:
	case <-p.done:
		t.Fatalf("server exited before listening: %v\nstdout: %s\nstderr: %s", p.err, p.logs(), p.errors())
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not listen within 30s\nstdout: %s", p.logs())
	}
	return p
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (p *process) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stdout.String()
}

func (p *process) errors() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// stop sends SIGTERM and returns the exit code.
func (p *process) stop(t *testing.T) int {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	return p.wait(t)
}

func (p *process) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not exit within 30s\nstdout: %s", p.logs())
	}
	var exit *exec.ExitError
	if errors.As(p.err, &exit) {
		return exit.ExitCode()
	}
	require.NoError(t, p.err)
	return 0
}

func (p *process) url(path string) string { return "http://" + p.addr + path }

// TestBinaryServesSeedExampleForEveryModelType starts the binary on each
// model of the embedded registry (one per kind it holds: research promoted
// no boosting model; TestLoadModel serves those from files).
func TestBinaryServesSeedExampleForEveryModelType(t *testing.T) {
	embedded, err := classify.OpenRegistry(models.FS)
	require.NoError(t, err)
	for _, e := range embedded.Manifest().Models {
		k := e.Kind
		t.Run(string(k), func(t *testing.T) {
			p := start(t, "MPS_MODEL_TYPE="+string(k))
			// The seed's documented curl example, byte for byte.
			res, err := http.Post(p.url("/predict"), "application/json",
				strings.NewReader(`{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}`))
			require.NoError(t, err)
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			require.Equal(t, http.StatusOK, res.StatusCode, "%s", body)
			assert.True(t, strings.HasPrefix(string(body), `{"prediction":"setosa"`), "%s", body)
			var v struct {
				Prediction string
				Model      struct{ Kind, Name string }
			}
			require.NoError(t, json.Unmarshal(body, &v))
			assert.Equal(t, "setosa", v.Prediction)
			assert.Equal(t, string(k), v.Model.Kind)
			assert.Equal(t, string(k), v.Model.Name)

			assert.Equal(t, 0, p.stop(t), "exit status after SIGTERM\nstderr: %s", p.errors())
			logs := p.logs()
			assert.Contains(t, logs, `"msg":"request","method":"POST","path":"/predict","status":200`)
			assert.Contains(t, logs, `"msg":"stopped"`)
		})
	}
}

func TestBinaryOverTCP(t *testing.T) {
	p := start(t, "MPS_MODEL_TYPE=decision_tree", "MPS_LOG_LEVEL=debug")
	get := func(path string) (int, string, http.Header) {
		res, err := http.Get(p.url(path))
		require.NoError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), res.Header
	}
	code, body, _ := get("/health")
	assert.Equal(t, 200, code)
	assert.JSONEq(t, `{"status":"healthy"}`, body)
	code, _, _ = get("/ready")
	assert.Equal(t, 200, code)
	code, body, _ = get("/v2/models/decision_tree/ready")
	assert.Equal(t, 200, code)
	assert.JSONEq(t, `{"name":"decision_tree","ready":true}`, body)
	_, body, _ = get("/models")
	assert.Contains(t, body, `"source":"registry"`)
	_, body, _ = get("/metrics")
	assert.Contains(t, body, `mps_model_info{kind="decision_tree",name="decision_tree"`)
	code, body, h := get("/nope")
	assert.Equal(t, 404, code)
	assert.JSONEq(t, `{"detail":"Not Found"}`, body)
	assert.Len(t, h.Get("X-Request-ID"), 32)

	req, _ := http.NewRequest(http.MethodPost, p.url("/v2/models/decision_tree/infer"), strings.NewReader(
		`{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[5.1,3.5,1.4,0.2]}]}`))
	req.Header.Set("X-Request-ID", "tcp-1")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, "tcp-1", res.Header.Get("X-Request-ID"))
	assert.Contains(t, string(b), `"data":["setosa"]`)

	// A body over the limit is refused before it is read.
	res, err = http.Post(p.url("/predict"), "application/json", bytes.NewReader(make([]byte, maxBodyBytes+1)))
	require.NoError(t, err)
	b, _ = io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode)
	assert.JSONEq(t, `{"detail":"Request body too large"}`, string(b))

	assert.Equal(t, 0, p.stop(t))
	assert.Contains(t, p.logs(), `"request_id":"tcp-1"`)
}

// slowRequest sends a /predict request's headers and half its body, and
// returns the connection and the rest of the body.
func slowRequest(t *testing.T, addr string) (net.Conn, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	body := `{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}`
	_, err = fmt.Fprintf(conn, "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		len(body), body[:20])
	require.NoError(t, err)
	return conn, body[20:]
}

func TestBinaryGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	p := start(t)
	conn, rest := slowRequest(t, p.addr)
	defer conn.Close()
	time.Sleep(200 * time.Millisecond) // let the server start reading the body

	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	// The listener closes: new connections are refused...
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", p.addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	}, 10*time.Second, 20*time.Millisecond)
	select {
	case <-p.done:
		t.Fatal("the server exited with a request in flight")
	default:
	}
	// ...while the request in flight completes.
	_, err := io.WriteString(conn, rest)
	require.NoError(t, err)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, string(b), `"prediction":"setosa"`)

	assert.Equal(t, 0, p.wait(t), "stderr: %s", p.errors())
	logs := p.logs()
	assert.Contains(t, logs, `"msg":"shutting down"`)
	assert.Contains(t, logs, `"msg":"stopped"`)
}

func TestBinaryShutdownDeadline(t *testing.T) {
	p := start(t, "MPS_SHUTDOWN_TIMEOUT=300ms")
	conn, _ := slowRequest(t, p.addr) // never finished
	defer conn.Close()
	time.Sleep(200 * time.Millisecond)
	assert.Equal(t, 1, p.stop(t))
	assert.Contains(t, p.errors(), "in-flight requests did not finish within 300ms")
}

func TestBinaryBadConfiguration(t *testing.T) {
	for _, tc := range []struct {
		name string
		vars []string
		args []string
		want string
		code int
	}{
		{"log level", []string{"MPS_LOG_LEVEL=loud"}, nil,
			`serve: MPS_LOG_LEVEL="loud" is not allowed: use DEBUG, INFO, WARNING or ERROR (any case)`, 2},
		{"model type", []string{"MPS_MODEL_TYPE=svm"}, nil,
			`serve: MPS_MODEL_TYPE="svm" is not allowed: the embedded registry has no model named "svm" or of that kind; use one of heuristic, decision_tree, random_forest, xgboost, or a split of them such as decision_tree=90,xgboost=10`, 2},
		{"model path", []string{"MPS_MODEL_PATH=/nonexistent"}, nil,
			`serve: MPS_MODEL_PATH="/nonexistent" is not allowed: no such file or directory; use a registry directory holding manifest.json, or a model file`, 2},
		{"port flag", nil, []string{"-port", "99999"},
			`serve: -port="99999" is not allowed: use a port number from 0 to 65535`, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(binary(t), tc.args...)
			cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, tc.vars...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			require.ErrorAs(t, err, &exit)
			assert.Equal(t, tc.code, exit.ExitCode())
			assert.Equal(t, tc.want+"\n", stderr.String())
		})
	}
	t.Run("port taken", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		cmd := exec.Command(binary(t))
		cmd.Env = []string{"MPS_API_HOST=127.0.0.1", "MPS_API_PORT=" + port, "MPS_GRPC_PORT=off"}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		var exit *exec.ExitError
		require.ErrorAs(t, cmd.Run(), &exit)
		assert.Equal(t, 1, exit.ExitCode())
		assert.Contains(t, stderr.String(), "address already in use")
	})
	t.Run("help", func(t *testing.T) {
		out, err := exec.Command(binary(t), "-h").Output()
		require.NoError(t, err)
		assert.Contains(t, string(out), "-model-type, MPS_MODEL_TYPE (default heuristic)")
	})
}

func TestBinaryModelPath(t *testing.T) {
	models, err := filepath.Abs("../../models")
	require.NoError(t, err)
	for _, tc := range []struct{ name, typ, path, wantName string }{
		{"registry directory", "random_forest", models, "random_forest"},
		{"single artifact", "decision_tree", filepath.Join(models, "decision_tree.json"), "decision_tree"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := start(t, "MPS_MODEL_TYPE="+tc.typ, "MPS_MODEL_PATH="+tc.path)
			res, err := http.Post(p.url("/predict"), "application/json", strings.NewReader(seedRequest))
			require.NoError(t, err)
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			assert.Equal(t, http.StatusOK, res.StatusCode)
			assert.Contains(t, string(body), `{"prediction":"setosa"`)
			assert.Contains(t, string(body), `"name":"`+tc.wantName+`"`)
			assert.Equal(t, 0, p.stop(t))
		})
	}
}

// TestBinaryCanaryReloads starts the binary with a 90/10 canary, keeps a
// client sending keyed requests throughout, reloads by SIGHUP and then
// promotes the canary to all traffic by POST /admin/reload: not one
// request fails, and afterwards every key reaches xgboost. A second
// process, as after a restart, sends every key to the variant the first
// one did.
func TestBinaryCanaryReloads(t *testing.T) {
	vars := []string{"MPS_MODEL_TYPE=decision_tree=90,xgboost=10", "MPS_ADMIN_TOKEN=s3cret", "MPS_SHADOW_MODEL=random_forest"}
	p := start(t, vars...)
	client := &http.Client{Timeout: 5 * time.Second}
	predict := func(p *process, key string) (string, error) {
		req, _ := http.NewRequest(http.MethodPost, p.url("/predict"), strings.NewReader(seedRequest))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Client-ID", key)
		res, err := client.Do(req)
		if err != nil {
			return "", err
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		var v struct {
			Prediction string
			Model      struct{ Variant string }
		}
		if res.StatusCode != http.StatusOK || json.Unmarshal(b, &v) != nil || v.Prediction != "setosa" ||
			v.Model.Variant != res.Header.Get("X-Model-Variant") {
			return "", fmt.Errorf("%d %s", res.StatusCode, b)
		}
		return v.Model.Variant, nil
	}
	before := map[string]string{}
	for i := range 300 {
		key := "client-" + strconv.Itoa(i)
		v, err := predict(p, key)
		require.NoError(t, err)
		before[key] = v
	}
	counts := map[string]int{}
	for _, v := range before {
		counts[v]++
	}
	assert.Greater(t, counts["xgboost"], 10)
	assert.Greater(t, counts["decision_tree"], 200)

	// The same keys, a new process: the same variants.
	q := start(t, vars...)
	for key, v := range before {
		got, err := predict(q, key)
		require.NoError(t, err)
		require.Equal(t, v, got, key)
	}
	assert.Equal(t, 0, q.stop(t))

	var sent, failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				sent.Add(1)
				if _, err := predict(p, "load-"+strconv.Itoa(g)+"-"+strconv.Itoa(i)); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGHUP))
	require.Eventually(t, func() bool { return strings.Contains(p.logs(), `"msg":"reloaded","trigger":"sighup"`) }, 10*time.Second, 20*time.Millisecond)
	time.Sleep(200 * time.Millisecond)

	req, _ := http.NewRequest(http.MethodPost, p.url("/admin/reload"), strings.NewReader(`{"model_type":"decision_tree=0,xgboost=100"}`))
	req.Header.Set("Authorization", "Bearer s3cret")
	res, err := client.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode, "%s", b)
	assert.Contains(t, string(b), `"split":"decision_tree=0,xgboost=100"`)
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("%d requests during the reloads, %d failed", sent.Load(), failed.Load())
	assert.Zero(t, failed.Load(), "first failure: %v", firstErr.Load())
	assert.Greater(t, sent.Load(), int64(100))

	for key := range before {
		v, err := predict(p, key)
		require.NoError(t, err)
		require.Equal(t, "xgboost", v, key)
	}
	res, err = http.Get(p.url("/metrics"))
	require.NoError(t, err)
	b, _ = io.ReadAll(res.Body)
	res.Body.Close()
	metrics := string(b)
	assert.Contains(t, metrics, `mps_model_reloads_total{reason="",result="success",target="primary",trigger="sighup"} 1`)
	assert.Contains(t, metrics, `mps_model_reloads_total{reason="",result="success",target="primary",trigger="admin"} 1`)
	assert.Contains(t, metrics, `mps_split_weight{variant="xgboost"} 100`)
	assert.Equal(t, 0, p.stop(t))
}

// TestBinaryHealthcheck runs serve -healthcheck against a running binary,
// as the image's HEALTHCHECK does.
func TestBinaryHealthcheck(t *testing.T) {
	p := start(t)
	_, port, _ := net.SplitHostPort(p.addr)
	cmd := exec.Command(binary(t), "-healthcheck")
	cmd.Env = []string{"MPS_API_PORT=" + port}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "healthy")
	assert.Equal(t, 0, p.stop(t))

	cmd = exec.Command(binary(t), "-healthcheck")
	cmd.Env = []string{"MPS_API_PORT=" + port}
	out, err = cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "%s", out)
	assert.Equal(t, 1, exit.ExitCode())
}

// seedRequest is the Python service's example row.
const seedRequest = `{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}`
