package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/ml-production-service/classify"
)

// config is the server's configuration: each setting from its flag, else
// its environment variable, else its default.
type config struct {
	modelType        classify.Kind
	modelPath        string // "" means the embedded production registry
	logLevel         slog.Level
	host             string
	port             int
	shutdownTimeout  time.Duration
	allowNonPositive bool

	source map[string]string // setting → the flag or variable that gave it
}

// setting is one configuration value: its flag, its variable, its default
// and what it means (for -h).
type setting struct {
	flag, env, def, usage string
}

var settings = []setting{
	{"model-type", "MPS_MODEL_TYPE", "heuristic", "model to serve: heuristic, decision_tree, random_forest or xgboost"},
	{"model-path", "MPS_MODEL_PATH", "", "a registry directory (holding manifest.json) to load the model from, or a single artifact file;\nempty: the production registry embedded in the binary"},
	{"log-level", "MPS_LOG_LEVEL", "INFO", "DEBUG, INFO, WARNING or ERROR (any case)"},
	{"host", "MPS_API_HOST", "0.0.0.0", "address to listen on"},
	{"port", "MPS_API_PORT", "8000", "port to listen on (0: any free port; the address is logged)"},
	{"shutdown-timeout", "MPS_SHUTDOWN_TIMEOUT", "10s", "on SIGINT or SIGTERM, how long in-flight requests may take to finish"},
	{"allow-non-positive", "MPS_ALLOW_NON_POSITIVE", "false", "accept feature values <= 0 (the old service refused them with 422)"},
}

// configError is a setting whose value is not allowed. Its message is the
// one line the process prints before exiting with status 2.
type configError struct {
	name, value, allowed string
}

func (e *configError) Error() string {
	return fmt.Sprintf("serve: %s=%q is not allowed: %s", e.name, e.value, e.allowed)
}

// usageError is a command line that does not parse (exit status 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return "serve: " + e.err.Error() }

// parseConfig reads args and the environment. -h writes the usage to out
// and returns flag.ErrHelp.
func parseConfig(args []string, getenv func(string) string, out io.Writer) (config, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(out)
	vals := map[string]*string{}
	for _, s := range settings {
		vals[s.flag] = fs.String(s.flag, "", "")
	}
	fs.Usage = func() { usage(out) }
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return config{}, err
		}
		return config{}, &usageError{err}
	}
	if fs.NArg() > 0 {
		return config{}, &usageError{fmt.Errorf("unexpected argument %q (settings are flags or environment variables; see -h)", fs.Arg(0))}
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })

	cfg := config{source: map[string]string{}}
	get := func(s setting) (name, value string) {
		switch {
		case given[s.flag]:
			name, value = "-"+s.flag, *vals[s.flag]
		case getenv(s.env) != "":
			name, value = s.env, getenv(s.env)
		default:
			name, value = s.env, s.def
		}
		cfg.source[s.flag] = name
		return name, value
	}
	for _, s := range settings {
		name, v := get(s)
		bad := func(allowed string) error { return &configError{name, v, allowed} }
		switch s.flag {
		case "model-type":
			k, err := classify.ParseKind(v)
			if err != nil {
				return config{}, bad("use one of " + kindList())
			}
			cfg.modelType = k
		case "model-path":
			cfg.modelPath = v
		case "log-level":
			l, ok := parseLevel(v)
			if !ok {
				return config{}, bad("use DEBUG, INFO, WARNING or ERROR (any case)")
			}
			cfg.logLevel = l
		case "host":
			if !validHost(v) {
				return config{}, bad("use an IP address or a host name, such as 0.0.0.0 or 127.0.0.1")
			}
			cfg.host = v
		case "port":
			p, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || p < 0 || p > 65535 {
				return config{}, bad("use a port number from 0 to 65535")
			}
			cfg.port = p
		case "shutdown-timeout":
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil || d <= 0 {
				return config{}, bad("use a positive duration such as 10s or 500ms")
			}
			cfg.shutdownTimeout = d
		case "allow-non-positive":
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return config{}, bad("use true or false")
			}
			cfg.allowNonPositive = b
		}
	}
	return cfg, nil
}

func kindList() string {
	var names []string
	for _, k := range classify.Kinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// parseLevel maps the Python service's level names to slog's.
func parseLevel(s string) (slog.Level, bool) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "DEBUG":
		return slog.LevelDebug, true
	case "INFO":
		return slog.LevelInfo, true
	case "WARNING":
		return slog.LevelWarn, true
	case "ERROR":
		return slog.LevelError, true
	}
	return 0, false
}

// validHost accepts IP literals and syntactically valid host names.
func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: serve [flags]

Serves a classify model over HTTP: the old Python service's API (POST /predict,
POST /predict/batch, GET /health, /ready, /models), the Open Inference Protocol
(/v2/...), Prometheus metrics (/metrics) and interactive docs (/docs, /redoc,
/openapi.json). Logs are JSON lines on stdout.

Each setting comes from its flag, else its environment variable, else its default:

`)
	for _, s := range settings {
		def := s.def
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(w, "  -%s, %s (default %s)\n", s.flag, s.env, def)
		for _, line := range strings.Split(s.usage, "\n") {
			fmt.Fprintf(w, "        %s\n", line)
		}
	}
	fmt.Fprintf(w, `
MPS_MODEL_TYPE names the model: in a registry (the embedded one or a directory),
the entry of that name, or else the only entry of that kind; with a file path,
the kind of the artifact (xgboost reads feature and class names from
<file>.meta.json beside it).

Limits: request bodies up to %d bytes (413 beyond), headers up to %d bytes,
batches up to %d rows; read-header timeout %s, read and write timeouts %s,
idle timeout %s.

Exit status: 0 after a clean shutdown on SIGINT or SIGTERM (in-flight requests
finish first), 2 for bad configuration (one line on stderr names the setting,
its value and what is allowed), 1 for any other failure (a model that does not
load, a port that is taken).
`, defaultMaxBodyBytes, maxHeaderBytes, defaultMaxBatch, readHeaderTimeout, readTimeout, idleTimeout)
}
