package classifyhttp

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/rollout"
)

// Hot reload. The process's triggers (SIGHUP, a watch of the registry)
// call Handler.Reload and Handler.ReloadIfChanged, POST /admin/reload calls
// the same: the Source is re-opened and handed to rollout.Router.Reload:
// every variant's artifact is read, its checksum verified, parsed, checked
// to take the served features and given a warm-up prediction, and only
// then are they all swapped in (with a new split, when the admin request
// sets one). On any failure nothing changes: the old models keep serving,
// /ready stays 200, the error is logged and mps_model_reloads_total counts
// it with its reason. The shadow model is loaded and proved before the
// variants, and swapped in with them: when it fails, nothing changes
// either.

// A Catalog is a model source as it is at one moment: it loads models by
// name. Its functions are called from the goroutine reloading, one reload
// at a time.
type Catalog struct {
	// Registry is the registry the models come from, or nil (a model file,
	// say): its entries describe the models in GET /models.
	Registry *classify.Registry
	// Load returns the model called name, a variant's or the shadow's
	// name in the split.
	Load func(name string) (classify.Model, error)
	// Fingerprint identifies the artifacts of the named models, so that
	// ReloadIfChanged sees when one changed (a registry's checksums and
	// versions, a file's digest). Nil: ReloadIfChanged never reloads.
	Fingerprint func(names []string) string
	// Where names the source in messages: a directory, a file, "the
	// embedded registry". Names are the models it holds. Both are for
	// errors that tell the caller what it could have asked for.
	Where string
	Names []string
}

// A Source opens where the models come from, anew at each reload: the
// registry or file as it is now. RegistrySource and FileSource make the
// usual ones. An error it returns fails the reload,
// counted with reason "registry".
type Source func() (*Catalog, error)

// sourceError is a Source that could not be opened.
type sourceError struct{ err error }

func (e *sourceError) Error() string { return e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }

// Trigger names the admin endpoint gives its reloads.
const triggerAdmin = "admin"

// servingModel is one model in a reload's answer.
type servingModel struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Version string `json:"version"`
}

type servingVariant struct {
	Variant string `json:"variant"`
	Weight  int    `json:"weight"`
	servingModel
}

// reloadReport is the answer of POST /admin/reload: the outcome and what
// serves now.
type reloadReport struct {
	Status   string           `json:"status"` // "reloaded" or "failed"
	Trigger  string           `json:"trigger"`
	Split    string           `json:"split"`
	Variants []servingVariant `json:"variants"`
	Shadow   *servingModel    `json:"shadow,omitempty"`
	Error    string           `json:"error,omitempty"`
}

func modelOf(info classify.Info) servingModel {
	return servingModel{Name: modelName(info), Kind: string(info.Kind), Version: info.Version}
}

// Reload re-opens the Source and reloads every variant, with split when it
// is not nil (nil keeps the split in force), and the shadow model, all at
// once or not at all: on an error the models serving before keep serving.
// trigger names the cause in the log line and in the trigger label of
// mps_model_reloads_total ("sighup", say). Reloads are serialised; a
// handler without a Source fails every reload.
func (h *Handler) Reload(split *rollout.Split, trigger string) error {
	_, err := h.reload(split, trigger)
	return err
}

// reload is Reload, reporting what serves afterwards.
func (h *Handler) reload(split *rollout.Split, trigger string) (reloadReport, error) {
	h.reloading.Lock()
	defer h.reloading.Unlock()
	return h.reloadAndReport(nil, split, trigger)
}

// reloadAndReport reloads from cat (the source opened anew when nil) and
// reports; s.reloading must be held.
func (h *Handler) reloadAndReport(cat *Catalog, split *rollout.Split, trigger string) (reloadReport, error) {
	start := time.Now()
	err := h.reloadLocked(cat, split, trigger)
	v := h.view()
	rep := reloadReport{Status: "reloaded", Trigger: trigger, Split: v.table.Split().String(), Variants: []servingVariant{}}
	var versions []string
	for i, c := range v.served {
		if c == nil {
			continue
		}
		rep.Variants = append(rep.Variants, servingVariant{c.variant, v.table.Variants()[i].Weight, modelOf(c.info)})
		versions = append(versions, c.variant+"="+c.name+"@"+c.info.Version)
	}
	if v.challenger != nil {
		m := modelOf(v.challenger.Info())
		rep.Shadow = &m
	}
	if err != nil {
		rep.Status, rep.Error = "failed", err.Error()
		h.log.Error("reload failed", "trigger", trigger, "reason", reloadReason(err), "error", err.Error(),
			"split", rep.Split, "serving", strings.Join(versions, ","))
		return rep, err
	}
	h.log.Info("reloaded", "trigger", trigger, "split", rep.Split, "serving", strings.Join(versions, ","),
		"duration_us", time.Since(start).Microseconds())
	return rep, nil
}

func (h *Handler) reloadLocked(cat *Catalog, split *rollout.Split, trigger string) error {
	if cat == nil {
		if h.opts.Source == nil {
			err := errors.New("this server has no model source to reload from")
			h.metrics.reloaded(trigger, targetPrimary, err)
			return err
		}
		var err error
		if cat, err = h.open(); err != nil {
			h.metrics.reloaded(trigger, targetPrimary, err)
			return err
		}
	}
	var err error
	// The challenger is loaded and proved (features, warm-up) first, on a
	// Live of its own, so that its failure leaves everything as it was:
	// nothing is half applied, and the watch tries again.
	var challenger classify.Model
	if h.opts.Challenger != nil {
		trial := rollout.NewLive(h.opts.Challenger.Model())
		challenger, err = trial.Reload(func() (classify.Model, error) { return cat.Load(h.opts.ShadowModel) }, nil)
		if err != nil {
			h.metrics.reloaded(trigger, targetShadow, err)
			return fmt.Errorf("the shadow model %q did not load, so nothing reloaded: %w", h.opts.ShadowModel, err)
		}
	}
	_, err = h.router.Reload(split, cat.Load, nil)
	h.metrics.reloaded(trigger, targetPrimary, err)
	if err != nil {
		return err
	}
	if challenger != nil {
		h.opts.Challenger.Swap(challenger)
		h.metrics.reloaded(trigger, targetShadow, nil)
	}
	h.catalog.Store(cat)
	h.watched = ""
	if cat.Fingerprint != nil {
		h.watched = cat.Fingerprint(h.names())
	}
	h.refresh() // describe the new models with the new registry's entries
	return nil
}

// refresh rebuilds the view from scratch.
func (h *Handler) refresh() {
	h.deriving.Lock()
	h.cur.Store(nil)
	h.deriving.Unlock()
	h.view()
}

// names are the models the server loads from its source: the split's
// variants and the shadow model.
func (h *Handler) names() []string {
	var names []string
	for _, v := range h.router.Variants() {
		names = append(names, v.Name)
	}
	if h.opts.Challenger != nil {
		names = append(names, h.opts.ShadowModel)
	}
	return names
}

// open opens the Source; its errors are sourceErrors.
func (h *Handler) open() (*Catalog, error) {
	cat, err := h.opts.Source()
	if err != nil {
		return nil, &sourceError{err}
	}
	if cat == nil || cat.Load == nil {
		return nil, &sourceError{errors.New("classifyhttp: the model source gave no catalog to load from")}
	}
	return cat, nil
}

// ReloadIfChanged re-opens the Source and reloads from what it opened when
// an artifact of a served model changed since the last successful load
// (its Catalog's Fingerprint differs), as a watch of the registry wants; the
// check and the reload hold one lock, so no other reload comes between
// them. A reload that fails is tried again at the next call (and counted
// again). It reports whether it reloaded; trigger is as for Reload.
func (h *Handler) ReloadIfChanged(trigger string) bool {
	if h.opts.Source == nil {
		return false
	}
	h.reloading.Lock()
	defer h.reloading.Unlock()
	cat, err := h.open()
	if err != nil {
		h.log.Warn("watch: cannot open the model source", "error", err.Error())
		return false
	}
	if cat.Fingerprint == nil || cat.Fingerprint(h.names()) == h.watched {
		return false
	}
	_, _ = h.reloadAndReport(cat, nil, trigger)
	return true
}

// reloadReason names why a reload failed, for the reload counter's reason
// label.
func reloadReason(err error) string {
	var re *rollout.ReloadError
	if errors.As(err, &re) {
		switch re.Phase {
		case rollout.PhaseFeatures:
			return "features"
		case rollout.PhaseWarmup:
			return "warmup"
		}
	}
	var se *sourceError
	switch {
	case errors.As(err, &se):
		return "registry"
	case errors.Is(err, classify.ErrChecksum):
		return "checksum"
	case errors.Is(err, fs.ErrNotExist):
		return "missing"
	case errors.Is(err, classify.ErrNotFound):
		return "not_found"
	case errors.Is(err, classify.ErrFormat):
		return "format"
	}
	return "other"
}
