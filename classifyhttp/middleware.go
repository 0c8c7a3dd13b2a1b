package classifyhttp

import (
	"context"
	"encoding/hex"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// instrument wraps the routes in what every request gets: a request id
// (X-Request-ID, taken from the request when it carries a sane one,
// generated otherwise, and echoed back), a body size limit, recovery from
// panics (answered 500 in JSON; the server keeps serving), JSON bodies for
// the router's own 404 and 405 answers, one INFO log line and the request
// metrics, counted under the route the request was sent to even when the
// route's handler did not run (405, or a declared body over the limit).
func (h *Handler) instrument(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h.metrics.inflight.Inc()
		defer h.metrics.inflight.Dec()
		id := RequestID(firstValue(r.Header["X-Request-Id"])) // the canonical key: no canonicalisation per request
		w.Header()["X-Request-Id"] = []string{id}             // canonical form of X-Request-ID

		rec := recorders.Get().(*recorder)
		*rec = recorder{ResponseWriter: w, path: r.URL.Path}
		if r.ContentLength > h.opts.MaxBodyBytes {
			writeStatusError(rec, r.URL.Path, http.StatusRequestEntityTooLarge)
		} else {
			r.Body = http.MaxBytesReader(rec, r.Body, h.opts.MaxBodyBytes)
			h.serveRecovering(rec, r, mux, id)
		}

		end := time.Now() // one clock read for the duration and the log line's time
		elapsed := end.Sub(start)
		route := r.Pattern
		if route == "" {
			route = routeOf(mux, r)
		}
		if route == "" {
			route = "unmatched"
		} else if i := strings.IndexByte(route, ' '); i >= 0 {
			route = route[i+1:] // "POST /predict" → "/predict"; the method is a label of its own
		}
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		var last *atomic.Pointer[requestSeries]
		if rec.served != nil {
			last = &rec.served.last
		}
		h.metrics.observe(last, route, r.Method, status, rec.model, rec.variant, elapsed.Seconds())
		// One walk up the request's context chain for the span, shared by
		// its attributes and the log line's trace id.
		span := trace.SpanFromContext(r.Context())
		if rec.served != nil {
			annotateSpan(span, rec.served)
		}
		if h := h.log.Handler(); h.Enabled(r.Context(), slog.LevelInfo) {
			// A record without a caller's PC: slog.Logger would walk the
			// stack for one on every request.
			line := slog.NewRecord(end, slog.LevelInfo, "request", 0)
			line.AddAttrs(
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.Int64("duration_us", elapsed.Microseconds()),
				slog.String("model", rec.model),
				slog.String("variant", rec.variant),
				slog.String("request_id", id),
				slog.Int("bytes", rec.bytes),
				slog.String("remote", r.RemoteAddr))
			if sc := span.SpanContext(); sc.HasTraceID() {
				line.AddAttrs(slog.String("trace_id", sc.TraceID().String()))
			}
			_ = h.Handle(r.Context(), line)
		}
		rec.ResponseWriter = nil
		recorders.Put(rec)
	})
}

// routeOf returns the pattern of the route r was sent to when the router
// did not pick one: its method is not the route's (405), or the route was
// never looked up (413 on the declared length). It is the pattern that
// matches r's path for r's method, or else for GET or POST (every route
// takes one of them); "" when none does. Only these refused requests pay
// for the look-ups.
func routeOf(mux *http.ServeMux, r *http.Request) string {
	for _, method := range []string{r.Method, http.MethodGet, http.MethodPost} {
		_, pattern := mux.Handler(&http.Request{Method: method, URL: r.URL, Host: r.Host})
		if pattern != "" {
			return pattern
		}
	}
	return ""
}

// serveRecovering runs the routes, turning a panic into a logged 500.
func (h *Handler) serveRecovering(rec *recorder, r *http.Request, next http.Handler, id string) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler { //nolint:errorlint // the sentinel is compared, as net/http does
			panic(v)
		}
		h.log.LogAttrs(context.Background(), slog.LevelError, "panic",
			slog.Any("panic", v), slog.String("request_id", id), slog.String("stack", string(debug.Stack())))
		if rec.status == 0 {
			writeStatusError(rec, r.URL.Path, http.StatusInternalServerError)
		}
	}()
	next.ServeHTTP(rec, r)
}

// RequestID is the id a request is known by in logs, metrics and the
// X-Request-ID answer header: given, the client's own, when it holds 1 to
// 128 printable ASCII characters (so it can go into logs and headers
// unchanged), else 32 new random hex digits. A transport beside the
// handler (classifygrpc) names its calls the same way.
func RequestID(given string) string {
	if validRequestID(given) {
		return given
	}
	return newRequestID()
}

// validRequestID accepts up to 128 printable ASCII characters, so a client's
// id can go into logs and headers unchanged.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

// newRequestID returns 32 random hex digits.
func newRequestID() string {
	var b [16]byte
	a, c := rand.Uint64(), rand.Uint64()
	for i := range 8 {
		b[i], b[8+i] = byte(a>>(8*i)), byte(c>>(8*i))
	}
	return hex.EncodeToString(b[:])
}

// recorder remembers what a handler answered, for the log line and the
// metrics, and gives the router's plain-text 404 and 405 answers JSON
// bodies.
type recorder struct {
	http.ResponseWriter
	path      string
	status    int
	bytes     int
	model     string
	variant   string
	served    *served // the model that answered, when one did
	swallowed bool    // the router's own body is being replaced
}

var recorders = sync.Pool{New: func() any { return new(recorder) }}

// noteModel records which model answered the request, for logs and metrics.
func noteModel(w http.ResponseWriter, name string) {
	if rec, ok := w.(*recorder); ok {
		rec.model = name
	}
}

// noteServed records which variant and model answer the request, for logs
// and metrics, and says so in the X-Model-Variant and X-Model-Version
// headers.
func noteServed(w http.ResponseWriter, c *served) {
	if rec, ok := w.(*recorder); ok {
		rec.model, rec.variant, rec.served = c.name, c.variant, c
	}
	h := w.Header()
	h["X-Model-Variant"] = c.variantH
	if c.versionH != nil {
		h["X-Model-Version"] = c.versionH
	}
}

func (rec *recorder) WriteHeader(code int) {
	if rec.status != 0 {
		return
	}
	h := rec.Header()
	if (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) &&
		strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		// http.ServeMux's answer (http.Error): replace it with JSON.
		h.Del("X-Content-Type-Options")
		writeStatusError(rec, rec.path, code)
		rec.swallowed = true
		return
	}
	rec.status = code
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(b []byte) (int, error) {
	if rec.swallowed {
		return len(b), nil
	}
	if rec.status == 0 {
		rec.WriteHeader(http.StatusOK)
	}
	n, err := rec.ResponseWriter.Write(b)
	rec.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

// responseRequestID is the request id instrument put in the answer's
// headers.
func responseRequestID(w http.ResponseWriter) string {
	if v := w.Header()["X-Request-Id"]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// firstValue is a header's first value, as Header.Get returns it for a key
// given in canonical form (which the server stores keys in).
func firstValue(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
