package classifyhttp

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/textproto"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/rollout"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
)

// The span attributes naming the model that answered a traced request.
const (
	attrModel   = attribute.Key("classify.model")
	attrVariant = attribute.Key("classify.variant")
	attrVersion = attribute.Key("classify.model_version")
)

// Defaults of the zero Options.
const (
	defaultMaxBodyBytes = 1 << 20 // 1 MiB
	defaultMaxBatch     = 1000    // rows per /predict/batch or /v2 infer request
	defaultSplitHeader  = "X-Client-ID"
	// shadowMaxInFlight bounds the challenger predictions running at once;
	// a sampled request that finds them all busy is not shadowed (and is
	// counted in mps_shadow_dropped_total).
	shadowMaxInFlight = 64
)

// Options configure a Handler. The zero value is sensible: no logs, no
// metrics, no reloads, no admin endpoints, the API at the root of the
// handler's paths.
type Options struct {
	// Logger receives one INFO line per request and the handler's events
	// (reloads, shadow results at DEBUG); nil discards them.
	Logger *slog.Logger
	// Registerer, when not nil, gets the handler's collectors (request
	// counts and latencies, predictions, the models serving, the split,
	// reloads, shadow agreement, requests in flight; all named mps_*).
	// Nil: nothing is registered. New fails when a collector is already
	// registered there (two handlers on one registry, say).
	Registerer prometheus.Registerer
	// Gatherer, when not nil, is served at GET /metrics in the Prometheus
	// text format (usually the registry given as Registerer, with
	// whatever else the caller registered on it). Nil: /metrics is not
	// served, as when the caller exposes its registry itself.
	Gatherer prometheus.Gatherer
	// Prefix is the path the handler is mounted under, such as
	// "/classify": the handler then answers Prefix+"/predict" and so on,
	// strips the prefix itself (do not wrap it in http.StripPrefix too),
	// and the links it generates (the docs pages, the OpenAPI document's
	// server) carry it. Request logs and metrics name paths as the API
	// sees them ("/predict"). Empty: the API is at the root.
	Prefix string
	// Catalog is where the router's models were loaded from, when they
	// came from a Source: its Registry supplies the manifest entries
	// (metrics, checksum, creation time) that /models reports, and its
	// Fingerprint is what ReloadIfChanged compares against. A reload
	// replaces it with the catalog it loaded from.
	Catalog *Catalog
	// Source re-opens where the models come from, for Reload and
	// ReloadIfChanged; nil means the handler cannot reload.
	Source Source
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
	// ShadowFraction (in [0, 1]) of the requests off the response path,
	// and its agreement with the primary answer is counted. ShadowModel
	// is its name in the Source, for reloads.
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
	// Version is the server's version, reported by GET /v2 (default "dev").
	Version string
	// PayloadLog, when not nil, receives a sample of the predicted rows
	// (every endpoint that predicts: /predict, /predict/batch, /v2 infer,
	// and Infer's callers such as classifygrpc) off the response path, for
	// drift analysis. Its counts are registered as
	// mps_payload_records_total{result="written"|"dropped"|"failed"}. The
	// caller closes it after the server stops.
	PayloadLog *PayloadLog
}

// Handler answers the HTTP API over the variants of a rollout.Router. Make
// one with New; the zero Handler is not usable. Reload replaces models
// atomically: a request is answered whole by the model its variant held
// when it started. A Handler is safe for concurrent use.
type Handler struct {
	router      *rollout.Router
	opts        Options
	log         *slog.Logger
	metrics     *metrics
	rand        func() float64
	splitHeader string // canonical form of opts.SplitHeader
	adminSum    [32]byte
	shadow      *rollout.Shadow
	h           http.Handler // the routes, instrumented (and under the prefix)
	catalog     atomic.Pointer[Catalog]
	cur         atomic.Pointer[view]
	deriving    sync.Mutex // serialises rebuilding cur after a change
	draining    atomic.Bool
	reloading   sync.Mutex  // one Reload at a time
	watched     string      // the source's fingerprint at the last successful reload (under reloading)
	published   []published // what mps_model_info holds now (under deriving)
}

// New returns a Handler answering with the variants router holds (whose
// models may be nil: /ready then answers 503 until a reload loads them).
// It returns an error, and never panics, for a nil router, a shadow
// fraction outside [0, 1], a prefix that is not a path, or collectors the
// Registerer refuses.
func New(router *rollout.Router, opts Options) (*Handler, error) {
	if router == nil {
		return nil, errors.New("classifyhttp: New needs a router")
	}
	if opts.Prefix != "" && (!strings.HasPrefix(opts.Prefix, "/") || strings.HasSuffix(opts.Prefix, "/")) {
		return nil, fmt.Errorf("classifyhttp: prefix %q must start with / and not end with one", opts.Prefix)
	}
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
	s := &Handler{router: router, opts: opts, log: opts.Logger, metrics: newMetrics(), rand: opts.Rand,
		splitHeader: textproto.CanonicalMIMEHeaderKey(opts.SplitHeader)}
	if opts.Registerer != nil {
		if err := s.metrics.register(opts.Registerer); err != nil {
			return nil, fmt.Errorf("classifyhttp: register metrics: %w", err)
		}
		if p := opts.PayloadLog; p != nil {
			for result, count := range map[string]func() uint64{"written": p.Written, "dropped": p.Dropped, "failed": p.Failed} {
				if err := opts.Registerer.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{
					Name:        "mps_payload_records_total",
					Help:        "Predicted rows offered to the payload log (after sampling), by result: written, dropped (the queue was full) or failed (a write error).",
					ConstLabels: prometheus.Labels{"result": result},
				}, func() float64 { return float64(count()) })); err != nil {
					return nil, fmt.Errorf("classifyhttp: register metrics: %w", err)
				}
			}
		}
	}
	s.catalog.Store(opts.Catalog)
	if opts.Catalog != nil && opts.Catalog.Fingerprint != nil {
		s.watched = opts.Catalog.Fingerprint(s.names())
	}
	if opts.AdminToken != "" {
		s.adminSum = sha256.Sum256([]byte(opts.AdminToken))
	}
	if opts.Challenger != nil {
		shadow, err := rollout.NewShadow(opts.Challenger, opts.ShadowFraction, shadowMaxInFlight, s.reportShadow)
		if err != nil {
			return nil, fmt.Errorf("classifyhttp: %w", err)
		}
		s.shadow = shadow
	}
	h, err := s.routes()
	if err != nil {
		return nil, err
	}
	s.h = h
	s.view() // publish the models' identities in the metrics now
	return s, nil
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
	// traceAttrs name the model on a traced request's span:
	// classify.model, classify.variant, classify.model_version.
	traceAttrs []attribute.KeyValue
	// explain is what contributions need, nil when the model is not a
	// classify.Contributor (contrib.go).
	explain *explainer
	// last is the request series this model's requests were last
	// counted under (metrics.observe).
	last atomic.Pointer[requestSeries]
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
func (h *Handler) current(v *view) bool {
	if v == nil || v.table != h.router.Table() {
		return false
	}
	for i, variant := range v.table.Variants() {
		m := variant.Model()
		if c := v.served[i]; c == nil && m != nil || c != nil && c.model != m {
			return false
		}
	}
	return h.opts.Challenger == nil || h.opts.Challenger.Model() == v.challenger
}

// view returns what the server serves now.
func (h *Handler) view() *view {
	if v := h.cur.Load(); h.current(v) {
		return v
	}
	// Something changed: rebuild the view once, whoever gets here first,
	// from the state at this moment, and publish it.
	h.deriving.Lock()
	defer h.deriving.Unlock()
	old := h.cur.Load()
	if h.current(old) {
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
	v := &view{table: h.router.Table()}
	for _, variant := range v.table.Variants() {
		m := variant.Model()
		c := known[m]
		if m != nil && (c == nil || c.variant != variant.Name) {
			c = h.derive(variant.Name, m)
		}
		v.served = append(v.served, c)
	}
	if h.opts.Challenger != nil {
		v.challenger = h.opts.Challenger.Model()
	}
	if p := v.primary(); p != nil {
		v.openapi = h.openAPI(v)
	}
	h.cur.Store(v)
	h.publishModels(v)
	return v
}

func (h *Handler) derive(variant string, m classify.Model) *served {
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
	c.counters = h.metrics.classCounters(variant, c.name, info.Classes)
	c.traceAttrs = []attribute.KeyValue{attrModel.String(c.name), attrVariant.String(variant), attrVersion.String(info.Version)}
	c.entry = h.entry(info)
	c.explain = h.newExplainer(c)
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
func (h *Handler) entry(info classify.Info) *classify.Entry {
	if cat := h.catalog.Load(); cat != nil && cat.Registry != nil && info.Name != "" {
		reg := cat.Registry
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
func (h *Handler) route(w http.ResponseWriter, r *http.Request, v *view) *served {
	key := ""
	if h := r.Header[h.splitHeader]; len(h) > 0 {
		key = h[0]
	}
	u := 0.0
	if key == "" && len(v.served) > 1 {
		u = h.rand()
	}
	c := v.served[v.table.Route(key, u).Index]
	if c != nil {
		noteServed(w, c)
	}
	return c
}

// routes returns the whole HTTP API: routes wrapped in request logging,
// metrics, request ids, body limits and panic recovery, under the prefix.
func (h *Handler) routes() (http.Handler, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /predict", h.handlePredict)
	mux.HandleFunc("POST /predict/batch", h.handlePredictBatch)
	mux.HandleFunc("GET /health", h.handleHealth)
	mux.HandleFunc("GET /ready", h.handleReady)
	mux.HandleFunc("GET /models", h.handleModels)
	mux.HandleFunc("POST /models/{name}/importance", h.handleImportance)
	if h.opts.Gatherer != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(h.opts.Gatherer, promhttp.HandlerOpts{Registry: h.opts.Registerer}))
	}
	if h.opts.AdminToken != "" {
		mux.HandleFunc("POST /admin/reload", h.admin(h.handleReload))
	}
	h.routeV2(mux)
	h.routeTrees(mux) // trees.go: GET /models/{name}/page, /models/{name}/trees/{i}.svg|.dot
	if err := h.routeDocs(mux); err != nil {
		return nil, err
	}
	handler := h.instrument(mux)
	if h.opts.Prefix != "" {
		handler = http.StripPrefix(h.opts.Prefix, handler)
	}
	return handler, nil
}

// ServeHTTP answers one request of the API.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.h.ServeHTTP(w, r) }

// Drain marks the handler as shutting down: /ready and /v2/health/ready
// answer 503 from now on, so load balancers stop sending requests while
// in-flight ones finish. Call it before http.Server.Shutdown; it cannot be
// undone.
func (h *Handler) Drain() { h.draining.Store(true) }

// ready reports whether the server takes traffic: not draining, and every
// variant has a model. A failed reload does not change it.
func (h *Handler) ready() bool {
	if h.draining.Load() {
		return false
	}
	for _, v := range h.router.Variants() {
		if v.Model() == nil {
			return false
		}
	}
	return true
}

func (h *Handler) handleHealth(w http.ResponseWriter, r *http.Request) {
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

func (h *Handler) handleReady(w http.ResponseWriter, r *http.Request) {
	v := h.view()
	if !h.ready() || v.primary() == nil {
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
	// Contributions and Importance: for a model that explains its
	// predictions (a classify.Contributor, a classify.TreeModel), what its
	// contributions are of, and its library's importances (contrib.go).
	Contributions *contributionsInfo `json:"contributions,omitempty"`
	Importance    *importanceView    `json:"importance,omitempty"`
	// Page: a tree model's page, /models/{name}/page (trees.go).
	Page string `json:"page,omitempty"`
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

func (h *Handler) handleModels(w http.ResponseWriter, r *http.Request) {
	v := h.view()
	views := []modelView{}
	for i, c := range v.served {
		if c == nil {
			continue
		}
		mv := modelViewOf(c.name, c.info, c.entry)
		mv.Contributions, mv.Importance = c.explain.describe()
		weight := v.table.Variants()[i].Weight
		mv.Role, mv.Variant, mv.Weight = "primary", c.variant, &weight
		mv.Page = h.treePage(c.variant, c.model)
		views = append(views, mv)
	}
	if v.challenger != nil {
		info := v.challenger.Info()
		mv := modelViewOf(modelName(info), info, h.entry(info))
		mv.Contributions, mv.Importance = newExplainer(v.challenger).describe()
		mv.Role = "shadow"
		mv.Page = h.treePage(mv.Name, v.challenger)
		views = append(views, mv)
	}
	if len(v.served) == 1 && v.served[0] != nil {
		noteModel(w, v.served[0].name)
	}
	body := map[string]any{"models": views, "split": v.table.Split().String(), "split_header": h.opts.SplitHeader}
	if h.shadow != nil {
		body["shadow_fraction"] = h.shadow.Fraction()
	}
	writeJSON(w, http.StatusOK, body)
}
