package main

import (
	"crypto/sha256"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/textproto"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/rollout"
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

	defaultSplitHeader = "X-Client-ID"
	// shadowMaxInFlight bounds the challenger predictions running at once;
	// a sampled request that finds them all busy is not shadowed (and is
	// counted in mps_shadow_dropped_total).
	shadowMaxInFlight = 64
)

// Options configure a Server. The zero value of each field is sensible.
type Options struct {
	// Logger receives one INFO line per request and the server's events;
	// nil discards them.
	Logger *slog.Logger
	// Registry, when the models came from one, supplies the manifest
	// entries (metrics, checksum, creation time) that /models reports. A
	// reload replaces it with the registry it re-opened.
	Registry *classify.Registry
	// Source re-opens where the models come from, for Reload; nil means
	// the server cannot reload.
	Source source
	// AdminToken turns on the admin endpoints (POST /admin/reload), which
	// then need "Authorization: Bearer <AdminToken>". Empty: they answer 404.
	AdminToken string
	// SplitHeader names the request header holding the sticky key of the
	// A/B split (default X-Client-ID).
	SplitHeader string
	// Rand returns numbers uniform in [0, 1): it splits requests without a
	// key and samples shadowed requests. Default: math/rand/v2's Float64.
	// Tests inject a seeded source.
	Rand func() float64
	// Challenger, when not nil, holds the shadow model: it answers
	// ShadowFraction of the requests off the response path, and its
	// agreement with the primary answer is counted. ShadowModel is its
	// name in the source, for reloads.
	Challenger     *rollout.Live
	ShadowModel    string
	ShadowFraction float64
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

// Server answers the HTTP API over the variants of a rollout.Router.
// Reload replaces models atomically: a
// request is answered whole by the model its variant held when it started.
// A Server is safe for concurrent use.
type Server struct {
	router      *rollout.Router
	opts        Options
	log         *slog.Logger
	metrics     *metrics
	rand        func() float64
	splitHeader string // canonical form of opts.SplitHeader
	adminSum    [32]byte
	shadow      *rollout.Shadow
	registry    atomic.Pointer[classify.Registry]
	cur         atomic.Pointer[view]
	deriving    sync.Mutex // serialises rebuilding cur after a change
	draining    atomic.Bool
	reloading   sync.Mutex  // one Reload at a time
	watched     string      // the source's fingerprint at the last successful reload (under reloading)
	published   []published // what mps_model_info holds now (under deriving)
}

// NewServer returns a Server answering with the variants router holds
// (whose models may be nil: /ready then answers 503 until models are
// swapped in).
func NewServer(router *rollout.Router, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = defaultMaxBodyBytes
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = defaultMaxBatch
	}
	if opts.SplitHeader == "" {
		opts.SplitHeader = defaultSplitHeader
	}
	if opts.Rand == nil {
		opts.Rand = rand.Float64
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	s := &Server{router: router, opts: opts, log: opts.Logger, metrics: newMetrics(), rand: opts.Rand,
		splitHeader: textproto.CanonicalMIMEHeaderKey(opts.SplitHeader)}
	s.registry.Store(opts.Registry)
	if opts.AdminToken != "" {
		s.adminSum = sha256.Sum256([]byte(opts.AdminToken))
	}
	if opts.Challenger != nil {
		shadow, err := rollout.NewShadow(opts.Challenger, opts.ShadowFraction, shadowMaxInFlight, s.reportShadow)
		if err != nil {
			panic("serve: " + err.Error()) // parseConfig bounds the fraction
		}
		s.shadow = shadow
	}
	s.view() // publish the models' identities in /metrics now
	return s
}

// served is one variant's model with everything the handlers derive from
// its Info, computed once per model rather than per request. A request
// predicts with model and describes the answer with the rest, so what it
// claims is always what answered.
type served struct {
	model    classify.Model
	info     classify.Info
	variant  string
	name     string         // Info().Name, or the kind for a model loaded from a file
	index    map[string]int // feature name → position in a row
	classes  [][]byte       // class labels as JSON strings
	identity []byte         // {"kind":...,"name":...,"version":...,"variant":...}
	variantH []string       // X-Model-Variant
	versionH []string       // X-Model-Version (nil when unversioned)
	counters []prometheus.Counter
	entry    *classify.Entry // the manifest entry, when the model came from a registry
}

// view is what the server serves now: the router's table, each variant's
// model (nil when it has none) and the API description built from
// them, rebuilt whenever one of them changes.
type view struct {
	table      *rollout.Table
	served     []*served // by variant index
	challenger classify.Model
	openapi    []byte
}

// primary returns the first variant that has a model, or nil.
func (v *view) primary() *served {
	for _, c := range v.served {
		if c != nil {
			return c
		}
	}
	return nil
}

// current reports whether v still matches the router and the challenger.
func (s *Server) current(v *view) bool {
	if v == nil || v.table != s.router.Table() {
		return false
	}
	for i, variant := range v.table.Variants() {
		m := variant.Model()
		if c := v.served[i]; c == nil && m != nil || c != nil && c.model != m {
			return false
		}
	}
	return s.opts.Challenger == nil || s.opts.Challenger.Model() == v.challenger
}

// view returns what the server serves now.
func (s *Server) view() *view {
	if v := s.cur.Load(); s.current(v) {
		return v
	}
	// Something changed: rebuild the view once, whoever gets here first,
	// from the state at this moment, and publish it.
	s.deriving.Lock()
	defer s.deriving.Unlock()
	old := s.cur.Load()
	if s.current(old) {
		return old
	}
	known := map[classify.Model]*served{}
	if old != nil {
		for _, c := range old.served {
			if c != nil {
				known[c.model] = c
			}
		}
	}
	v := &view{table: s.router.Table()}
	for _, variant := range v.table.Variants() {
		m := variant.Model()
		c := known[m]
		if m != nil && (c == nil || c.variant != variant.Name) {
			c = s.derive(variant.Name, m)
		}
		v.served = append(v.served, c)
	}
	if s.opts.Challenger != nil {
		v.challenger = s.opts.Challenger.Model()
	}
	if p := v.primary(); p != nil {
		v.openapi = s.openAPI(v)
	}
	s.cur.Store(v)
	s.publishModels(v)
	return v
}

func (s *Server) derive(variant string, m classify.Model) *served {
	info := m.Info()
	c := &served{model: m, info: info, variant: variant, name: modelName(info)}
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
	id = append(append(id, `,"variant":`...), appendString(nil, variant)...)
	c.identity = append(id, '}')
	c.variantH = []string{variant}
	if info.Version != "" {
		c.versionH = []string{info.Version}
	}
	c.counters = s.metrics.classCounters(variant, c.name, info.Classes)
	c.entry = s.entry(info)
	return c
}

// modelName is a model's registry name, or its kind for a model loaded
// from a file.
func modelName(info classify.Info) string {
	if info.Name == "" {
		return string(info.Kind)
	}
	return info.Name
}

// entry returns the manifest entry of a model loaded from the registry.
func (s *Server) entry(info classify.Info) *classify.Entry {
	if reg := s.registry.Load(); reg != nil && info.Name != "" {
		if e, err := reg.Entry(info.Name); err == nil && e.Version == info.Version {
			return &e
		}
	}
	return nil
}

// route picks the variant that answers r: by the sticky key in the split
// header when there is one, else at random by weight. It notes the
// variant for the response headers, logs and metrics, and returns nil
// when that variant has no model.
func (s *Server) route(w http.ResponseWriter, r *http.Request, v *view) *served {
	key := ""
	if h := r.Header[s.splitHeader]; len(h) > 0 {
		key = h[0]
	}
	u := 0.0
	if key == "" && len(v.served) > 1 {
		u = s.rand()
	}
	c := v.served[v.table.Route(key, u).Index]
	if c != nil {
		noteServed(w, c)
	}
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
	if s.opts.AdminToken != "" {
		mux.HandleFunc("POST /admin/reload", s.admin(s.handleReload))
	}
	s.routeV2(mux)
	routeDocs(mux, s)
	return s.instrument(mux)
}

// Drain marks the server as shutting down: /ready and /v2/health/ready
// answer 503 from now on, so load balancers stop sending requests while
// in-flight ones finish.
func (s *Server) Drain() { s.draining.Store(true) }

// ready reports whether the server takes traffic: not draining, and every
// variant has a model. A failed reload does not change it.
func (s *Server) ready() bool {
	if s.draining.Load() {
		return false
	}
	for _, v := range s.router.Variants() {
		if v.Model() == nil {
			return false
		}
	}
	return true
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeBody(w, http.StatusOK, []byte(`{"status":"healthy"}`))
}

// servingName is what /ready and the start-up log call the serving models:
// the model's name with one variant, the split with several.
func servingName(v *view) string {
	if len(v.served) == 1 && v.served[0] != nil {
		return v.served[0].name
	}
	return v.table.Split().String()
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	v := s.view()
	if !s.ready() || v.primary() == nil {
		writeBody(w, http.StatusServiceUnavailable, []byte(`{"status":"unavailable"}`))
		return
	}
	noteModel(w, servingName(v))
	writeJSON(w, http.StatusOK, struct {
		Status string `json:"status"`
		Model  string `json:"model"`
	}{"ready", servingName(v)})
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
	Source   string            `json:"source"`            // "registry" or "file"
	Role     string            `json:"role"`              // "primary" or "shadow"
	Variant  string            `json:"variant,omitempty"` // primaries: the variant it serves
	Weight   *int              `json:"weight,omitempty"`  // primaries: the variant's weight in the split
	// Missing: the model takes missing values (null or NaN for a feature).
	Missing bool `json:"missing_values"`
}

func modelViewOf(name string, info classify.Info, entry *classify.Entry) modelView {
	v := modelView{Name: name, Kind: info.Kind, Version: info.Version,
		Features: info.Features, Classes: info.Classes, Metrics: []classify.Metric{}, Source: "file", Missing: info.Missing}
	if e := entry; e != nil {
		v.Source, v.SHA256, v.Created = "registry", e.SHA256, &e.Created
		if e.Metrics != nil {
			v.Metrics = e.Metrics
		}
	}
	return v
}

func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) {
	v := s.view()
	views := []modelView{}
	for i, c := range v.served {
		if c == nil {
			continue
		}
		mv := modelViewOf(c.name, c.info, c.entry)
		weight := v.table.Variants()[i].Weight
		mv.Role, mv.Variant, mv.Weight = "primary", c.variant, &weight
		views = append(views, mv)
	}
	if v.challenger != nil {
		info := v.challenger.Info()
		mv := modelViewOf(modelName(info), info, s.entry(info))
		mv.Role = "shadow"
		views = append(views, mv)
	}
	if len(v.served) == 1 && v.served[0] != nil {
		noteModel(w, v.served[0].name)
	}
	body := map[string]any{"models": views, "split": v.table.Split().String(), "split_header": s.opts.SplitHeader}
	if s.shadow != nil {
		body["shadow_fraction"] = s.shadow.Fraction()
	}
	writeJSON(w, http.StatusOK, body)
}
