package deploy_test

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// root is the repository root, relative to this package.
const root = ".."

// serveBin is cmd/serve, built once by TestMain.
var serveBin string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	flag.Parse()
	if testing.Short() {
		return m.Run() // every test here needs the binary, and skips under -short
	}
	dir, err := os.MkdirTemp("", "deploy-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	serveBin = filepath.Join(dir, "serve")
	build := exec.Command("go", "build", "-o", serveBin, "./cmd/serve")
	build.Dir = root
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building cmd/serve:", err)
		return 1
	}
	return m.Run()
}

// needBinary skips t under -short, the quick loop: building cmd/serve (and
// the Dockerfile's build) is left to the full run CI does.
func needBinary(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds cmd/serve: runs without -short")
	}
}

// setting is one of the server's settings as `serve -h` documents it.
type setting struct{ flag, env, def string }

var settingLine = regexp.MustCompile(`(?m)^\s+-([a-z-]+), (MPS_[A-Z0-9_]+) \(default (.*)\)$`)

// serverSettings runs `bin -h` and returns the settings it documents, by
// variable name, and the whole help text.
func serverSettings(t *testing.T, bin string) (map[string]setting, string) {
	t.Helper()
	out, err := exec.Command(bin, "-h").CombinedOutput()
	if err != nil {
		t.Fatalf("%s -h: %v\n%s", bin, err, out)
	}
	settings := map[string]setting{}
	for _, m := range settingLine.FindAllStringSubmatch(string(out), -1) {
		settings[m[2]] = setting{flag: m[1], env: m[2], def: strings.Trim(m[3], `"`)}
	}
	if _, ok := settings["MPS_API_PORT"]; !ok {
		t.Fatalf("%s -h documents no MPS_API_PORT:\n%s", bin, out)
	}
	return settings, string(out)
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// server is a running server process.
type server struct {
	url      string
	grpcAddr string // host:off when gRPC is off
	cmd      *exec.Cmd
	exit     chan error
	logs     *syncBuffer
}

// syncBuffer is a buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) WriteString(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b.WriteString(s)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// errConfig is a server that refused its configuration (exit status 2).
var errConfig = errors.New("the server refused its configuration")

// startServer starts bin with exactly the environment env (plus PATH), on
// 127.0.0.1 and a free port, and waits until it answers /health. It returns
// an error wrapping errConfig when the server exits with status 2.
func startServer(t *testing.T, bin string, env map[string]string) (*server, error) {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		if k != "MPS_API_PORT" && k != "MPS_API_HOST" && k != "MPS_GRPC_PORT" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	// The ports the manifests declare are the defaults: a test takes free
	// ones instead (gRPC too, unless the manifest turns it off).
	grpcPort := "off"
	if env["MPS_GRPC_PORT"] != "off" {
		grpcPort = strconv.Itoa(freePort(t))
	}
	cmd.Env = append(cmd.Env, "MPS_API_HOST=127.0.0.1", fmt.Sprintf("MPS_API_PORT=%d", port), "MPS_GRPC_PORT="+grpcPort)
	s := &server{url: fmt.Sprintf("http://127.0.0.1:%d", port), grpcAddr: "127.0.0.1:" + grpcPort, cmd: cmd, exit: make(chan error, 1), logs: &syncBuffer{}}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			s.logs.WriteString(sc.Text() + "\n")
		}
	}()
	go func() { <-copied; s.exit <- cmd.Wait() }()
	t.Cleanup(func() { s.stop(t) })

	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.exit:
			s.exit <- err
			var ee *exec.ExitError
			if errors.As(err, &ee) && ee.ExitCode() == 2 {
				return nil, fmt.Errorf("%w: %s", errConfig, strings.TrimSpace(s.logs.String()))
			}
			return nil, fmt.Errorf("the server exited: %v: %s", err, s.logs.String())
		default:
		}
		if resp, err := http.Get(s.url + "/health"); err == nil {
			resp.Body.Close()
			return s, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil, fmt.Errorf("the server did not answer on %s within 15s: %s", s.url, s.logs.String())
}

// stop sends SIGINT and waits for the process to exit.
func (s *server) stop(t *testing.T) {
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	select {
	case err := <-s.exit:
		s.exit <- err
	case <-ctx.Done():
		_ = s.cmd.Process.Kill()
		t.Errorf("the server did not stop within 15s of SIGINT")
	}
}

// get GETs path and returns the status and body.
func (s *server) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(s.url + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, string(b)
}
