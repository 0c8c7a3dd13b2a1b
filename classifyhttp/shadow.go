package classifyhttp

import (
	"context"
	"log/slog"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/rollout"
)

// Shadow traffic: with a challenger configured (MPS_SHADOW_MODEL), a
// fraction of the answered rows (MPS_SHADOW_FRACTION) is also given to the
// challenger on a goroutine of its own, after the primary answer is
// ready, at most shadowMaxInFlight at a time; a row that finds every slot
// busy is dropped, never queued. The challenger's answer never reaches the
// client: it is compared with the primary's, counted in
// mps_shadow_predictions_total and logged at DEBUG.

// observeShadow offers one answered row to the shadow.
func (h *Handler) observeShadow(c *served, row []float64, p classify.Prediction) {
	if h.shadow == nil {
		return
	}
	if h.shadow.ObserveFrom(c.info, c.variant, row, p, h.rand()) == rollout.ShadowDropped {
		h.metrics.shadowDropped.Inc()
	}
}

// reportShadow records one challenger answer; it runs on the challenger's
// goroutine.
func (h *Handler) reportShadow(r rollout.ShadowResult) {
	result := "disagree"
	switch {
	case r.Err != nil:
		result = "error"
	case r.Agree:
		result = "agree"
	}
	variant, primary := r.Tag, modelName(r.PrimaryModel)
	challenger := modelName(r.Model)
	if r.Model.Kind == "" {
		challenger = h.opts.ShadowModel
	}
	h.metrics.shadow.WithLabelValues(variant, primary, challenger, result).Inc()
	if !h.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("variant", variant), slog.String("primary", primary),
		slog.String("primary_version", r.PrimaryModel.Version), slog.String("primary_label", r.Primary.Label),
		slog.String("challenger", challenger), slog.String("challenger_version", r.Model.Version),
		slog.String("challenger_label", r.Challenger.Label), slog.String("result", result),
	}
	if r.Err != nil {
		attrs = append(attrs, slog.String("error", r.Err.Error()))
	}
	h.log.LogAttrs(context.Background(), slog.LevelDebug, "shadow", attrs...)
}
