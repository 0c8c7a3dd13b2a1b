package classify

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
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

type box struct{ m Model }

// NewLive returns a Live serving m.
func NewLive(m Model) *Live {
	l := &Live{}
	l.Swap(m)
	return l
}

// Model returns the model serving now, or nil if there is none.
func (l *Live) Model() Model {
	if b := l.p.Load(); b != nil {
		return b.m
	}
	return nil
}

// Swap makes m the serving model and returns the one it replaces.
func (l *Live) Swap(m Model) Model {
	if old := l.p.Swap(&box{m}); old != nil {
		return old.m
	}
	return nil
}

// Reload replaces the serving model with the one load returns, once it has
// proved itself: load succeeded (Registry.Load verifies the checksum before
// parsing), the new model takes the same features, in the same order, as
// the serving one (so clients keep working), and a warm-up prediction of
// warmup succeeded (a row of zeros when warmup is nil). On any failure the
// serving model stays and the error says which step failed. Reloads are
// serialised; predictions go on throughout.
func (l *Live) Reload(load func() (Model, error), warmup []float64) (Model, error) {
	l.reload.Lock()
	defer l.reload.Unlock()
	m, err := load()
	if err != nil {
		return nil, fmt.Errorf("classify: reload: load: %w", err)
	}
	if m == nil {
		return nil, fmt.Errorf("classify: reload: load returned no model")
	}
	info := m.Info()
	if old := l.Model(); old != nil && !slices.Equal(old.Info().Features, info.Features) {
		return nil, fmt.Errorf("%w: reload: new model takes features %v, the serving one %v", ErrFeature, info.Features, old.Info().Features)
	}
	if warmup == nil {
		warmup = make([]float64, len(info.Features))
	}
	if _, err := m.Predict(warmup, nil); err != nil {
		return nil, fmt.Errorf("classify: reload: warm-up prediction: %w", err)
	}
	l.Swap(m)
	return m, nil
}
