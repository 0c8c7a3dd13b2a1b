package classify

import (
	"runtime"
	"sync"
)

// parallelShare is the fewest rows PredictBatchParallel gives a goroutine:
// below it, starting one costs more than it saves.
const parallelShare = 256

// PredictBatchParallel is m.PredictBatch on up to workers goroutines, each
// taking a contiguous share of the rows (at least 256 of them; a smaller
// batch runs on the calling goroutine). workers <= 0 means
// runtime.GOMAXPROCS(0), every core. It writes what PredictBatch writes
// and returns what PredictBatch returns on the whole batch: on an invalid
// row, the error naming the first one (the rows of the shares before it
// are predicted; later shares may be too). It allocates per call (the
// goroutines), nothing per row, and works for every Model, since every
// Model is safe for concurrent use.
func PredictBatchParallel(m Model, rows []float64, classes []int, proba []float64, workers int) error {
	info := m.Info()
	nf, nc := len(info.Features), len(info.Classes)
	n := len(classes)
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, n/parallelShare)
	if workers <= 1 || checkBatch(rows, classes, proba, nf, nc) != nil {
		return m.PredictBatch(rows, classes, proba)
	}
	per := (n + workers - 1) / workers
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*per, min((w+1)*per, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var p []float64
			if proba != nil {
				p = proba[lo*nc : hi*nc]
			}
			errs[w] = m.PredictBatch(rows[lo*nf:hi*nf], classes[lo:hi], p)
		}()
	}
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			// The first failing share holds the first invalid row; run
			// the batch up to its end on this goroutine, so that the
			// error names the row by its index in the whole batch.
			hi := min((w+1)*per, n)
			var p []float64
			if proba != nil {
				p = proba[:hi*nc]
			}
			return m.PredictBatch(rows[:hi*nf], classes[:hi], p)
		}
	}
	return nil
}
