package classifyhttp

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/rollout"
)

// Admin endpoints. They exist only when the server has an admin token
// (MPS_ADMIN_TOKEN; otherwise they answer 404 like any unknown path), and
// then need "Authorization: Bearer <token>": a missing or wrong token
// answers 401. The token is compared in constant time (as SHA-256 digests,
// so neither its content nor its length leaks through timing).
//
//	POST /admin/reload                                   reload every model, keep the split
//	POST /admin/reload {"model_type": "decision_tree=0,xgboost=100"}   reload with a new split
//
// The answer (200 reloaded, 500 failed) says what serves afterwards:
// {"status", "trigger", "split", "variants": [{variant, weight, name, kind,
// version}], "shadow", "error"}. A body that is not a reload request, a
// model_type that is not a split, or a split naming a model the source does
// not hold answers 422 {"detail": "..."}, and nothing changes.

// admin wraps an admin handler in the token check.
func (h *Handler) admin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			w.Header().Set("WWW-Authenticate", `Bearer realm="admin"`)
			writeDetail(w, http.StatusUnauthorized, "Not authenticated")
			return
		}
		sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
		if subtle.ConstantTimeCompare(sum[:], h.adminSum[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="admin", error="invalid_token"`)
			writeDetail(w, http.StatusUnauthorized, "Invalid authentication credentials")
			return
		}
		next(w, r)
	}
}

// reloadRequest is POST /admin/reload's optional body.
type reloadRequest struct {
	// ModelType is a new split, written as MPS_MODEL_TYPE is.
	ModelType *string `json:"model_type"`
}

func (h *Handler) handleReload(w http.ResponseWriter, r *http.Request) {
	var body bytes.Buffer
	if _, err := body.ReadFrom(r.Body); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeStatusError(w, r.URL.Path, http.StatusRequestEntityTooLarge)
			return
		}
		writeDetail(w, http.StatusBadRequest, "There was an error reading the body")
		return
	}
	var split *rollout.Split
	if b := bytes.TrimSpace(body.Bytes()); len(b) > 0 {
		var req reloadRequest
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil || dec.More() {
			msg := "the body must be empty or {\"model_type\": \"name=weight,...\"}"
			if err != nil {
				msg += ": " + err.Error()
			}
			writeDetail(w, http.StatusUnprocessableEntity, msg)
			return
		}
		if req.ModelType != nil {
			var err error
			if split, err = ParseModelType(*req.ModelType); err != nil {
				writeDetail(w, http.StatusUnprocessableEntity, "model_type: "+err.Error())
				return
			}
		}
	}
	rep, err := h.reload(split, triggerAdmin)
	if msg, ok := h.unknownVariant(split, err); ok {
		writeDetail(w, http.StatusUnprocessableEntity, msg)
		return
	}
	status := http.StatusOK
	if err != nil {
		status = http.StatusInternalServerError
	}
	writeJSON(w, status, rep)
}

// unknownVariant tells whether err is the failure of a reload with split
// because a variant the split names is not in the model source: a client
// error, answered 422 as a malformed split is, with the message.
func (h *Handler) unknownVariant(split *rollout.Split, err error) (string, bool) {
	var re *rollout.ReloadError
	if split == nil || !errors.As(err, &re) || re.Variant == "" || !errors.Is(err, classify.ErrNotFound) {
		return "", false
	}
	msg := fmt.Sprintf("model_type: the model source has no model named %q or of that kind", re.Variant)
	if cat := h.catalog.Load(); cat != nil && cat.Registry != nil {
		reg := cat.Registry
		var names []string
		for _, e := range reg.Manifest().Models {
			names = append(names, e.Name)
		}
		msg += "; use one of " + strings.Join(names, ", ")
	}
	return msg, true
}

// ParseModelType reads the model_type of POST /admin/reload, and cmd/serve's
// MPS_MODEL_TYPE, the same way: one model's name, or a split such as
// "decision_tree=90,xgboost=10" (rollout.ParseSplit's syntax). Names that
// are kinds are matched as classify.ParseKind matches them (any case), so
// "XGBoost" names the model "xgboost". A service that takes the same
// setting from its own configuration can use it too.
func ParseModelType(v string) (*rollout.Split, error) {
	split, err := rollout.ParseSplit(v)
	if err != nil {
		return nil, err
	}
	arms := append([]rollout.Arm(nil), split.Arms()...)
	for i, a := range arms {
		if k, err := classify.ParseKind(a.Name); err == nil {
			arms[i].Name = string(k)
		}
	}
	return rollout.NewSplit(arms)
}
