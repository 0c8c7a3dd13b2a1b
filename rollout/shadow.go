package rollout

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/ml-production-service/classify"
)

// Shadow sends a fraction of requests to a challenger model off the
// response path and reports whether it agreed with the primary answer.
// Observe never blocks and never fails the caller: the challenger runs on
// its own goroutine, at most maxInFlight at a time, and a request that finds
// them all busy is not shadowed: ObserveFrom says so (ShadowDropped), for
// the caller to count.
//
// A Shadow is safe for concurrent use. The zero value is not usable: build
// one with NewShadow.
type Shadow struct {
	challenger *Live
	fraction   float64
	slots      chan struct{}
	report     func(ShadowResult)
	wg         sync.WaitGroup
}

// ShadowResult is one shadowed request: the primary's class, the
// challenger's answer or error, and whether they agree.
type ShadowResult struct {
	Primary      classify.Prediction // Class and Label only: the caller's buffers are not kept
	PrimaryModel classify.Info       // the model that gave the primary answer, as ObserveFrom was told
	Tag          string              // the caller's tag, as ObserveFrom was told (a variant name, say)
	Challenger   classify.Prediction
	Model        classify.Info // the challenger that answered
	Agree        bool
	Err          error
}

// NewShadow returns a Shadow that sends fraction (0 to 1) of the requests
// it observes to the model in challenger, with at most maxInFlight
// challenger predictions at once, and calls report with each result, from
// the challenger's goroutine.
func NewShadow(challenger *Live, fraction float64, maxInFlight int, report func(ShadowResult)) (*Shadow, error) {
	switch {
	case challenger == nil || report == nil:
		return nil, errors.New("rollout: shadow: needs a challenger and a report function")
	case !(fraction >= 0 && fraction <= 1):
		return nil, fmt.Errorf("rollout: shadow: fraction %v is not between 0 and 1", fraction)
	case maxInFlight < 1:
		return nil, fmt.Errorf("rollout: shadow: maxInFlight %d is not positive", maxInFlight)
	}
	return &Shadow{challenger: challenger, fraction: fraction, slots: make(chan struct{}, maxInFlight), report: report}, nil
}

// Fraction returns the share of observed requests that are shadowed.
func (s *Shadow) Fraction() float64 { return s.fraction }

// ShadowOutcome is what became of one observed request.
type ShadowOutcome uint8

// The outcomes of ObserveFrom.
const (
	ShadowSkipped ShadowOutcome = iota // not sampled
	ShadowStarted                      // the challenger is predicting; report will be called
	ShadowDropped                      // sampled, but every slot was busy
)

// Observe offers one answered request to the shadow. u, uniform in [0, 1)
// (rand.Float64), decides whether it is sampled. It returns whether the
// challenger was started; false means not sampled or no free slot.
func (s *Shadow) Observe(row []float64, primary classify.Prediction, u float64) bool {
	return s.ObserveFrom(classify.Info{}, "", row, primary, u) == ShadowStarted
}

// ObserveFrom is Observe for a caller serving several models (a Router's
// variants): the report's PrimaryModel is model and its Tag is tag, so
// agreement can be counted per primary; the outcome tells a sampled request
// dropped for want of a slot from one not sampled.
func (s *Shadow) ObserveFrom(model classify.Info, tag string, row []float64, primary classify.Prediction, u float64) ShadowOutcome {
	if !(u < s.fraction) {
		return ShadowSkipped
	}
	select {
	case s.slots <- struct{}{}:
	default:
		return ShadowDropped
	}
	row = slices.Clone(row)
	primary.Probabilities = nil
	s.wg.Add(1)
	go func() {
		defer func() {
			<-s.slots
			s.wg.Done()
		}()
		r := ShadowResult{Primary: primary, PrimaryModel: model, Tag: tag}
		m := s.challenger.Model()
		if m == nil {
			r.Err = errors.New("rollout: shadow: no challenger model")
		} else {
			r.Model = m.Info()
			r.Challenger, r.Err = m.Predict(row, nil)
			r.Agree = r.Err == nil && r.Challenger.Label == primary.Label
		}
		s.report(r)
	}()
	return ShadowStarted
}

// Wait blocks until every started challenger prediction has reported.
func (s *Shadow) Wait() { s.wg.Wait() }
