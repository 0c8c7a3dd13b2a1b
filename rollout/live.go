package rollout

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/ml-production-service/classify"
)

// Live holds the model that is serving now. Swap replaces it atomically:
// a goroutine calling Model sees either the old or the new model, whole,
// never a mix. Reload swaps only a model that loaded and answered a warm-up
// prediction. The zero value holds no model.
//
// A Live is safe for concurrent use.
type Live struct {
	p      atomic.Pointer[box]
	reload sync.Mutex // one Reload at a time
}

type box struct{ m classify.Model }

// NewLive returns a Live serving m.
func NewLive(m classify.Model) *Live {
	l := &Live{}
	l.Swap(m)
	return l
}

// Model returns the model serving now, or nil if there is none.
func (l *Live) Model() classify.Model {
	if b := l.p.Load(); b != nil {
		return b.m
	}
	return nil
}

// Swap makes m the serving model and returns the one it replaces.
func (l *Live) Swap(m classify.Model) classify.Model {
	if old := l.p.Swap(&box{m}); old != nil {
		return old.m
	}
	return nil
}

// Reload replaces the serving model with the one load returns, once it has
// proved itself: load succeeded (classify.Registry.Load verifies the
// checksum before parsing), the new model takes the same features, in the
// same order, as the serving one (so clients keep working), and a warm-up
// prediction of warmup succeeded (a row of zeros when warmup is nil). On
// any failure the serving model stays and the error, a *ReloadError, says
// which phase failed. Reloads are serialised; predictions go on
// throughout. Swap does not wait for a Reload: a model swapped in while
// one runs may be replaced when it ends.
func (l *Live) Reload(load func() (classify.Model, error), warmup []float64) (classify.Model, error) {
	l.reload.Lock()
	defer l.reload.Unlock()
	var features []string
	if old := l.Model(); old != nil {
		features = old.Info().Features
	}
	m, e := loadAndProve(load, features, warmup)
	if e != nil {
		return nil, e
	}
	l.Swap(m)
	return m, nil
}

// loadAndProve loads a model and proves it (see prove).
func loadAndProve(load func() (classify.Model, error), features []string, warmup []float64) (classify.Model, *ReloadError) {
	m, err := load()
	if err != nil {
		return nil, &ReloadError{Phase: PhaseLoad, Err: err}
	}
	if e := prove(m, features, warmup); e != nil {
		return nil, e
	}
	return m, nil
}

// prove checks a freshly loaded model before it may serve: it exists, takes
// features (when not nil) and answers a warm-up prediction.
func prove(m classify.Model, features []string, warmup []float64) *ReloadError {
	if m == nil {
		return &ReloadError{Phase: PhaseLoad, Err: errors.New("load returned no model")}
	}
	info := m.Info()
	if features != nil && !slices.Equal(features, info.Features) {
		return &ReloadError{Phase: PhaseFeatures,
			Err: fmt.Errorf("%w: new model takes features %v, the serving one %v", classify.ErrFeature, info.Features, features)}
	}
	if warmup == nil {
		warmup = make([]float64, len(info.Features))
	}
	if _, err := m.Predict(warmup, nil); err != nil {
		return &ReloadError{Phase: PhaseWarmup, Err: err}
	}
	return nil
}

// The phases of a reload, in order, as ReloadError.Phase names them.
const (
	PhaseLoad     = "load"               // reading, verifying and parsing the artifact
	PhaseFeatures = "features"           // the new model's features against the serving ones
	PhaseWarmup   = "warm-up prediction" // one prediction before serving
)

// ReloadError is a failed reload: which variant (empty for a lone Live),
// the phase that failed and why. Callers that count failures by cause look
// at Phase and, for PhaseLoad, at the wrapped error (classify.ErrChecksum,
// classify.ErrFormat, classify.ErrNotFound, fs.ErrNotExist).
type ReloadError struct {
	Variant string
	Phase   string
	Err     error
}

func (e *ReloadError) Error() string {
	if e.Variant == "" {
		return fmt.Sprintf("rollout: reload: %s: %v", e.Phase, e.Err)
	}
	return fmt.Sprintf("rollout: reload %q: %s: %v", e.Variant, e.Phase, e.Err)
}

func (e *ReloadError) Unwrap() error { return e.Err }
