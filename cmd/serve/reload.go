package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/rollout"
)

// Hot reload. Three triggers (SIGHUP, POST /admin/reload, and a watch of
// the registry every MPS_RELOAD_INTERVAL) call Server.Reload, which
// re-opens the source and hands it to rollout.Router.Reload: every
// variant's artifact is read, its checksum verified, parsed, checked to
// take the served features and given a warm-up prediction, and only then
// are they all swapped in (with a new split, when the admin request sets
// one). On any failure nothing changes: the old models keep serving,
// /ready stays 200, the error is logged and mps_model_reloads_total counts
// it with its reason. The shadow model is loaded and proved before the
// variants, and swapped in with them: when it fails, nothing changes
// either.

// Triggers, as the reload counter and log lines name them.
const (
	triggerSIGHUP = "sighup"
	triggerAdmin  = "admin"
	triggerWatch  = "watch"
)

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

// Reload re-opens the source and reloads every variant, with split when it
// is not nil, and then the shadow model. It returns what serves afterwards
// and the error that stopped it, if any; trigger names the cause in logs
// and metrics.
func (s *Server) Reload(split *rollout.Split, trigger string) (reloadReport, error) {
	s.reloading.Lock()
	defer s.reloading.Unlock()
	return s.reloadAndReport(nil, split, trigger)
}

// reloadAndReport reloads from cat (the source opened anew when nil) and
// reports; s.reloading must be held.
func (s *Server) reloadAndReport(cat *catalog, split *rollout.Split, trigger string) (reloadReport, error) {
	start := time.Now()
	err := s.reloadLocked(cat, split, trigger)
	v := s.view()
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
		s.log.Error("reload failed", "trigger", trigger, "reason", reloadReason(err), "error", err.Error(),
			"split", rep.Split, "serving", strings.Join(versions, ","))
		return rep, err
	}
	s.log.Info("reloaded", "trigger", trigger, "split", rep.Split, "serving", strings.Join(versions, ","),
		"duration_us", time.Since(start).Microseconds())
	return rep, nil
}

func (s *Server) reloadLocked(cat *catalog, split *rollout.Split, trigger string) error {
	if cat == nil {
		if s.opts.Source == nil {
			err := errors.New("this server has no model source to reload from")
			s.metrics.reloaded(trigger, targetPrimary, err)
			return err
		}
		var err error
		if cat, err = s.opts.Source(); err != nil {
			s.metrics.reloaded(trigger, targetPrimary, err)
			return err
		}
	}
	var err error
	// The challenger is loaded and proved (features, warm-up) first, on a
	// Live of its own, so that its failure leaves everything as it was:
	// nothing is half applied, and the watch tries again.
	var challenger classify.Model
	if s.opts.Challenger != nil {
		trial := rollout.NewLive(s.opts.Challenger.Model())
		challenger, err = trial.Reload(func() (classify.Model, error) { return cat.load(s.opts.ShadowModel) }, nil)
		if err != nil {
			s.metrics.reloaded(trigger, targetShadow, err)
			return fmt.Errorf("the shadow model %q did not load, so nothing reloaded: %w", s.opts.ShadowModel, err)
		}
	}
	_, err = s.router.Reload(split, cat.load, nil)
	s.metrics.reloaded(trigger, targetPrimary, err)
	if err != nil {
		return err
	}
	if challenger != nil {
		s.opts.Challenger.Swap(challenger)
		s.metrics.reloaded(trigger, targetShadow, nil)
	}
	s.registry.Store(cat.reg)
	s.watched = cat.fingerprint(s.names())
	s.refresh() // describe the new models with the new registry's entries
	return nil
}

// refresh rebuilds the view from scratch.
func (s *Server) refresh() {
	s.deriving.Lock()
	s.cur.Store(nil)
	s.deriving.Unlock()
	s.view()
}

// names are the models the server loads from its source: the split's
// variants and the shadow model.
func (s *Server) names() []string {
	var names []string
	for _, v := range s.router.Variants() {
		names = append(names, v.Name)
	}
	if s.opts.Challenger != nil {
		names = append(names, s.opts.ShadowModel)
	}
	return names
}

// loaded records the catalog the server's models came from at start-up,
// so the watch reloads only when the source changes.
func (s *Server) loaded(cat *catalog) {
	s.reloading.Lock()
	defer s.reloading.Unlock()
	s.watched = cat.fingerprint(s.names())
}

// checkSource re-opens the source and reloads from what it opened when an
// artifact of a served model changed (its entry's checksum or version, or a
// file's bytes) since the last successful load; the check and the reload
// hold one lock, so no other reload comes between them. A reload that fails
// is tried again at the next check (and counted again). It reports whether
// it reloaded.
func (s *Server) checkSource(trigger string) bool {
	if s.opts.Source == nil {
		return false
	}
	s.reloading.Lock()
	defer s.reloading.Unlock()
	cat, err := s.opts.Source()
	if err != nil {
		s.log.Warn("watch: cannot open the model source", "error", err.Error())
		return false
	}
	if cat.fingerprint(s.names()) == s.watched {
		return false
	}
	_, _ = s.reloadAndReport(cat, nil, trigger)
	return true
}

// watch checks the source every interval until ctx is done.
func (s *Server) watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.checkSource(triggerWatch)
		}
	}
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
	var rge *registryError
	switch {
	case errors.As(err, &rge):
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
