package main

import (
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ml-production-service/classify"
	"github.com/prometheus/client_golang/prometheus"
)

// Limits the server applies to every request; the -h text and the API
// description state them.
const (
	defaultMaxBodyBytes = 1 << 20 // 1 MiB
	defaultMaxBatch     = 1000    // rows per /predict/batch or /v2 infer request
	maxHeaderBytes      = 16 << 10
	readHeaderTimeout   = 5 * time.Second
	readTimeout         = 30 * time.Second
	writeTimeout        = 30 * time.Second
	idleTimeout         = 120 * time.Second
)

// Options configure a Server. The zero value of each field is sensible.
type Options struct {
	// Logger receives one INFO line per request and the server's events;
	// nil discards them.
	Logger *slog.Logger
	// Registry, when the model came from one, supplies the manifest entry
	// (metrics, checksum, creation time) that /models reports.
	Registry *classify.Registry
	// MaxBodyBytes bounds request bodies (default 1 MiB); larger ones are
	// answered 413.
	MaxBodyBytes int64
	// MaxBatch bounds the rows of one batch request (default 1000).
	MaxBatch int
	// AllowNonPositive turns off the old service's rule that every feature
	// value must be greater than 0.
	AllowNonPositive bool
	// Version is the server's version, reported by GET /v2.
	Version string
}

// Server answers the HTTP API over the model held in a classify.Live. Swap
// replaces the serving model atomically, so a reload can be wired in
// without touching the handlers. A Server is safe for concurrent use.
type Server struct {
	live     *classify.Live
	opts     Options
	log      *slog.Logger
	metrics  *metrics
	cur      atomic.Pointer[served]
	deriving sync.Mutex // serialises rebuilding cur after a swap
	draining atomic.Bool
}

// NewServer returns a Server answering with the model live holds (which may
// be empty: /ready then answers 503 until a model is swapped in).
func NewServer(live *classify.Live, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = defaultMaxBodyBytes
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = defaultMaxBatch
	}
	s := &Server{live: live, opts: opts, log: opts.Logger, metrics: newMetrics()}
	s.serving() // publish the model's identity in /metrics now
	return s
}

// served is the serving model with everything the handlers derive from its
// Info, computed once per model rather than per request.
type served struct {
	model    classify.Model
	info     classify.Info
	name     string         // Info().Name, or the kind for a model loaded from a file
	index    map[string]int // feature name → position in a row
	classes  [][]byte       // class labels as JSON strings
	identity []byte         // {"kind":...,"name":...,"version":...}
	counters []prometheus.Counter
	entry    *classify.Entry // the manifest entry, when the model came from a registry
	openapi  []byte          // the API description for this model
}

// serving returns the model serving now, or nil when there is none.
func (s *Server) serving() *served {
	m := s.live.Model()
	if m == nil {
		return nil
	}
	if c := s.cur.Load(); c != nil && c.model == m {
		return c
	}
	// The model changed: derive the live model's view once, whoever gets
	// here first, and publish it.
	s.deriving.Lock()
	defer s.deriving.Unlock()
	c := s.cur.Load()
	if live := s.live.Model(); live != nil && (c == nil || c.model != live) {
		c = s.derive(live)
		s.cur.Store(c)
		s.metrics.setModel(c.name, c.info)
	}
	if c != nil && c.model == m {
		return c
	}
	return s.derive(m) // m was swapped out meanwhile: answer with it, publish nothing
}

// Swap makes m the serving model and returns the one it replaces. The
// next issue's reload (SIGHUP, /admin/reload) calls this.
func (s *Server) Swap(m classify.Model) classify.Model {
	old := s.live.Swap(m)
	s.serving()
	return old
}

func (s *Server) derive(m classify.Model) *served {
	info := m.Info()
	c := &served{model: m, info: info, name: info.Name}
	if c.name == "" {
		c.name = string(info.Kind)
	}
	c.index = make(map[string]int, len(info.Features))
	for i, f := range info.Features {
		c.index[f] = i
	}
	for _, l := range info.Classes {
		c.classes = append(c.classes, appendString(nil, l))
	}
	id := append([]byte(`{"kind":`), appendString(nil, string(info.Kind))...)
	id = append(append(id, `,"name":`...), appendString(nil, c.name)...)
	id = append(append(id, `,"version":`...), appendString(nil, info.Version)...)
	c.identity = append(id, '}')
	c.counters = s.metrics.classCounters(c.name, info.Classes)
	if s.opts.Registry != nil && info.Name != "" {
		if e, err := s.opts.Registry.Entry(info.Name); err == nil && e.Version == info.Version {
			c.entry = &e
		}
	}
	c.openapi = s.openAPI(c)
	return c
}

// Handler returns the whole HTTP API: routes wrapped in request logging,
// metrics, request ids, body limits and panic recovery.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /predict", s.handlePredict)
	mux.HandleFunc("POST /predict/batch", s.handlePredictBatch)
	mux.HandleFunc("GET /health", s.handleHealth)
	mux.HandleFunc("GET /ready", s.handleReady)
	mux.HandleFunc("GET /models", s.handleModels)
	mux.Handle("GET /metrics", s.metrics.handler())
	s.routeV2(mux)
	routeDocs(mux, s)
	return s.instrument(mux)
}

// Drain marks the server as shutting down: /ready and /v2/health/ready
// answer 503 from now on, so load balancers stop sending requests while
// in-flight ones finish.
func (s *Server) Drain() { s.draining.Store(true) }

func (s *Server) ready() bool { return !s.draining.Load() && s.live.Model() != nil }

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeBody(w, http.StatusOK, []byte(`{"status":"healthy"}`))
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	c := s.serving()
	if !s.ready() || c == nil {
		writeBody(w, http.StatusServiceUnavailable, []byte(`{"status":"unavailable"}`))
		return
	}
	noteModel(w, c.name)
	writeJSON(w, http.StatusOK, struct {
		Status string `json:"status"`
		Model  string `json:"model"`
	}{"ready", c.name})
}

// modelView is one model in GET /models.
type modelView struct {
	Name     string            `json:"name"`
	Kind     classify.Kind     `json:"kind"`
	Version  string            `json:"version"`
	Features []string          `json:"features"`
	Classes  []string          `json:"classes"`
	Metrics  []classify.Metric `json:"metrics"`
	SHA256   string            `json:"sha256,omitempty"`
	Created  *time.Time        `json:"created,omitempty"`
	Source   string            `json:"source"` // "registry" or "file"
}

func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) {
	views := []modelView{}
	if c := s.serving(); c != nil {
		noteModel(w, c.name)
		v := modelView{Name: c.name, Kind: c.info.Kind, Version: c.info.Version,
			Features: c.info.Features, Classes: c.info.Classes, Metrics: []classify.Metric{}, Source: "file"}
		if e := c.entry; e != nil {
			v.Source, v.SHA256, v.Created = "registry", e.SHA256, &e.Created
			if e.Metrics != nil {
				v.Metrics = e.Metrics
			}
		}
		views = append(views, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"models": views})
}
