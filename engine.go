package classify

import (
	"fmt"
	"sync"

	"github.com/ml-production-service/classify/internal/flat"
)

// engine is a tree model's ensemble in the flat engine (internal/flat),
// with what prediction needs around it: the row checks, and buffers for
// batches that want no probabilities.
type engine struct {
	ens     *flat.Ensemble
	nf, k   int  // features per row, probabilities per row
	missing bool // the model takes NaN
	tags    bool // a row's class is its leaf's tag in the first tree (a Tree)

	// scratch holds *[]float64 of flat.Block*k values: a block's
	// probabilities when the caller wants none. Pooled, so PredictBatch
	// allocates nothing and concurrent calls do not share one.
	scratch *sync.Pool
}

// newEngine wraps ens, whose predictions have k probabilities. The pool
// has no New function, so two engines loaded from the same file are
// reflect.DeepEqual until used: buffers are made on first need.
func newEngine(ens *flat.Ensemble, k int) engine {
	return engine{ens: ens, nf: ens.Features(), k: k, missing: ens.Missing(), scratch: &sync.Pool{}}
}

// row checks row and reports whether it holds NaN: a row is checked as
// finite first, as for a model that refuses NaN, and looked at again only
// when that fails, so a finite row pays nothing for missing values.
func (e *engine) row(row []float64) (nan, ok bool) {
	if rowOK(row, e.nf, true, false) {
		return false, true
	}
	return true, e.missing && rowOK(row, e.nf, true, true)
}

// batch is PredictBatch for an engine model: blocks of flat.Block rows are
// checked, predicted through the engine into the caller's proba (or a
// pooled buffer), and given their class row by row: a Tree's leaf tag
// (tags set), or finish's answer when finish is not nil (it turns the
// engine's outputs for a row, its k values, into probabilities in place
// and returns the class), else the arg max. An invalid row stops the batch
// with an error naming it, prefixed with prefix; the rows before it are
// predicted.
func (e *engine) batch(rows []float64, classes []int, proba []float64, prefix string, finish func(p []float64) int) error {
	nf, k := e.nf, e.k
	if err := checkBatch(rows, classes, proba, nf, k); err != nil {
		return err
	}
	var s *[]float64
	if proba == nil {
		var ok bool
		if s, ok = e.scratch.Get().(*[]float64); !ok {
			b := make([]float64, flat.Block*k)
			s = &b
		}
		defer e.scratch.Put(s)
	}
	var tags [flat.Block]int32
	n := len(classes)
	for lo := 0; lo < n; lo += flat.Block {
		hi := min(lo+flat.Block, n)
		bad := hi
		nan := false
		for i := lo; i < hi; i++ {
			row := rows[i*nf : (i+1)*nf]
			if rowOK(row, nf, true, false) { // e.row's fast path, inlined
				continue
			}
			if _, ok := e.row(row); !ok {
				bad = i
				break
			}
			nan = true
		}
		var p []float64
		if proba != nil {
			p = proba[lo*k : bad*k]
		} else {
			p = (*s)[:(bad-lo)*k]
		}
		var tg []int32
		if e.tags {
			tg = tags[:bad-lo]
		}
		e.ens.PredictBatch(rows[lo*nf:bad*nf], bad-lo, p, k, tg, nan)
		cl := classes[lo:bad]
		switch {
		case e.tags:
			for i, t := range tg {
				cl[i] = int(t)
			}
		case finish != nil:
			for i := range cl {
				cl[i] = finish(p[i*k:][:k])
			}
		default:
			for i := range cl {
				cl[i] = argmax(p[i*k:][:k])
			}
		}
		if bad < hi {
			return fmt.Errorf("%srow %d: %w", prefix, bad, rowError(rows[bad*nf:(bad+1)*nf], nf, true, e.missing))
		}
	}
	return nil
}
