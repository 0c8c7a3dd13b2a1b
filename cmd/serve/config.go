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
	"github.com/ml-production-service/classify/classifyhttp"
	"github.com/ml-production-service/classify/rollout"
)

// Limits the server applies to every request; the -h text states them.
const (
	maxBodyBytes       = 1 << 20 // 1 MiB
	maxBatchRows       = 1000    // rows per /predict/batch or /v2 infer request
	maxHeaderBytes     = 16 << 10
	readHeaderTimeout  = 5 * time.Second
	readTimeout        = 30 * time.Second
	writeTimeout       = 30 * time.Second
	idleTimeout        = 120 * time.Second
	defaultSplitHeader = "X-Client-ID"
)

// config is the server's configuration: each setting from its flag, else
// its environment variable, else its default.
type config struct {
	split            *rollout.Split // the variants MPS_MODEL_TYPE names, one for a plain name
	modelTypeRaw     string         // MPS_MODEL_TYPE as given, for messages
	modelPath        string         // "" means the embedded production registry
	logLevel         slog.Level
	host             string
	port             int
	grpcPort         int     // -1: no gRPC server
	payloadLog       string  // "" means no payload log
	payloadSample    float64 // share of predicted rows logged
	shutdownTimeout  time.Duration
	allowNonPositive bool
	splitHeader      string
	shadowModel      string // "" means no shadow
	shadowFraction   float64
	adminToken       string        // "" means the admin endpoints are off
	reloadInterval   time.Duration // 0 means no watch
	healthcheck      bool          // -healthcheck: probe a running server and exit

	source map[string]string // setting → the flag or variable that gave it
}

// setting is one configuration value: its flag, its variable, its default
// and what it means (for -h).
type setting struct {
	flag, env, def, usage string
}

var settings = []setting{
	{"model-type", "MPS_MODEL_TYPE", "heuristic", "model to serve: heuristic, decision_tree, random_forest or xgboost (or a registry entry's name),\nor an A/B split of them with integer weights, such as decision_tree=90,xgboost=10"},
	{"model-path", "MPS_MODEL_PATH", "", "a registry directory (holding manifest.json) to load the model from, or a single artifact file;\nempty: the production registry embedded in the binary"},
	{"log-level", "MPS_LOG_LEVEL", "INFO", "DEBUG, INFO, WARNING or ERROR (any case)"},
	{"host", "MPS_API_HOST", "0.0.0.0", "address to listen on"},
	{"port", "MPS_API_PORT", "8000", "port to listen on (0: any free port; the address is logged)"},
	{"grpc-port", "MPS_GRPC_PORT", "8001", "port for gRPC: the Open Inference Protocol (GRPCInferenceService, as KServe and Triton serve it\non 8001), grpc.health.v1 and reflection, on the same host; 0: any free port (logged); off: no gRPC"},
	{"payload-log", "MPS_PAYLOAD_LOG", "", "a file, or a directory (then payloads.jsonl in it), to write a sample of the predicted rows to\nas JSON Lines for drift analysis, off the response path; rotated at 64 MiB, 10 rotated files kept. Empty: off"},
	{"payload-sample", "MPS_PAYLOAD_SAMPLE", "1", "share of the predicted rows the payload log gets, greater than 0 and at most 1"},
	{"shutdown-timeout", "MPS_SHUTDOWN_TIMEOUT", "10s", "on SIGINT or SIGTERM, how long in-flight requests may take to finish"},
	{"allow-non-positive", "MPS_ALLOW_NON_POSITIVE", "false", "accept feature values <= 0 (the old service refused them with 422)"},
	{"split-header", "MPS_SPLIT_HEADER", defaultSplitHeader, "request header holding the sticky key of an A/B split (a client or user id)"},
	{"shadow-model", "MPS_SHADOW_MODEL", "", "a challenger (registry name or kind) that also answers a share of the requests,\noff the response path; its agreement with the served answer is counted. Empty: no shadow"},
	{"shadow-fraction", "MPS_SHADOW_FRACTION", "0.1", "share of the answered rows the shadow model also answers, 0 to 1"},
	{"admin-token", "MPS_ADMIN_TOKEN", "", "bearer token for the admin endpoints (POST /admin/reload); empty: they are off (404).\nPrefer the variable: a flag shows in the process list"},
	{"reload-interval", "MPS_RELOAD_INTERVAL", "0", "how often to re-read MPS_MODEL_PATH, a registry directory or a single artifact file, and reload\nwhen a served model's checksum or version changed (a single file: when its bytes did); 0: never"},
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
	healthcheck := fs.Bool("healthcheck", false, "")
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

	cfg := config{source: map[string]string{}, healthcheck: *healthcheck}
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
			split, err := classifyhttp.ParseModelType(v)
			if err != nil {
				return config{}, bad("use one of " + kindList() + ", or a split such as decision_tree=90,xgboost=10 (" + err.Error() + ")")
			}
			cfg.split, cfg.modelTypeRaw = split, v
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
		case "grpc-port":
			if t := strings.ToLower(strings.TrimSpace(v)); t == "off" {
				cfg.grpcPort = -1
				break
			}
			p, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || p < 0 || p > 65535 {
				return config{}, bad("use a port number from 0 to 65535, or off")
			}
			if p != 0 && p == cfg.port {
				return config{}, bad("use a port other than the HTTP port, or off")
			}
			cfg.grpcPort = p
		case "payload-log":
			cfg.payloadLog = strings.TrimSpace(v)
		case "payload-sample":
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || !(f > 0 && f <= 1) {
				return config{}, bad("use a number greater than 0 and at most 1, such as 0.05")
			}
			cfg.payloadSample = f
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
		case "split-header":
			if !validHeaderName(v) {
				return config{}, bad("use a header name such as X-Client-ID (letters, digits and -)")
			}
			cfg.splitHeader = v
		case "shadow-model":
			cfg.shadowModel = strings.TrimSpace(v)
		case "shadow-fraction":
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || !(f >= 0 && f <= 1) {
				return config{}, bad("use a number from 0 to 1, such as 0.1")
			}
			cfg.shadowFraction = f
		case "admin-token":
			cfg.adminToken = v
		case "reload-interval":
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if strings.TrimSpace(v) == "0" {
				d, err = 0, nil
			}
			if err != nil || d < 0 {
				return config{}, bad("use 0 (no watch) or a positive duration such as 30s")
			}
			cfg.reloadInterval = d
			if d > 0 && cfg.modelPath == "" {
				return config{}, bad("the embedded registry never changes; set MPS_MODEL_PATH to a registry directory to watch, or use 0")
			}
		}
	}
	return cfg, nil
}

// validHeaderName accepts the header names a client can be asked to send.
func validHeaderName(h string) bool {
	if h == "" || len(h) > 64 {
		return false
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func kindList() string { return strings.Join(kindNames(), ", ") }

// kindNames lists the model kinds the library loads, for messages and the
// OpenAPI document.
func kindNames() []string {
	var names []string
	for _, k := range classify.Kinds() {
		names = append(names, string(k))
	}
	return names
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
(/v2/...), Prometheus metrics (/metrics), interactive docs (/docs, /redoc,
/openapi.json) and, with an admin token, POST /admin/reload; and over gRPC on a
port of its own: the Open Inference Protocol's GRPCInferenceService, the same
models, grpc.health.v1 and server reflection. Logs are JSON lines on stdout.

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
  -healthcheck
        do not serve: GET /health from the server running with these settings
        (http://127.0.0.1:<port>, or <host>:<port> when -host names one address)
        and exit 0 if it answers 200 {"status":"healthy"} within %s, else 1.
        For the Docker image's HEALTHCHECK, which has no curl:
        HEALTHCHECK CMD ["/serve", "-healthcheck"]

MPS_MODEL_TYPE names the model: in a registry (the embedded one or a directory),
the entry of that name, or else the only entry of that kind; with a file path,
the kind of the artifact (xgboost takes feature and class names from
<file>.meta.json beside it when there is one, else from the model file).

A/B split: MPS_MODEL_TYPE=decision_tree=90,xgboost=10 serves both (they must take
the same features). A request carrying the split header (X-Client-ID unless
MPS_SPLIT_HEADER says otherwise) goes to the variant its key hashes to: always
the same one, in every process and after restarts, while the weights stay the
same. A request without it is split at random by weight; a batch goes whole to
one variant. Answers name the variant and version that answered (headers
X-Model-Variant and X-Model-Version, and "variant" in the body's "model"). The
/v2 endpoints address each variant by its name instead; the split does not apply.

Reload without a restart: SIGHUP, POST /admin/reload (with MPS_ADMIN_TOKEN), or a
watch (MPS_RELOAD_INTERVAL). Every model is read again, its checksum verified, and
parsed and given a warm-up prediction before any is swapped in; if anything
fails, the models serving before keep serving, the error is logged and counted
(mps_model_reloads_total{result="failure"}) and /ready stays 200. To promote a
canary: POST /admin/reload with {"model_type": "decision_tree=0,xgboost=100"}.

Limits: request bodies up to %d bytes (413 beyond), headers up to %d bytes,
batches up to %d rows; read-header timeout %s, read and write timeouts %s,
idle timeout %s.

Exit status: 0 after a clean shutdown on SIGINT or SIGTERM (in-flight requests
finish first), 2 for bad configuration (one line on stderr names the setting,
its value and what is allowed), 1 for any other failure (a model that does not
load, a port that is taken) and for a failed -healthcheck.
`, healthcheckTimeout, maxBodyBytes, maxHeaderBytes, maxBatchRows, readHeaderTimeout, readTimeout, idleTimeout)
}
