package main

import "github.com/ml-production-service/classify"

// batch is a chunk's records parsed and scored with the model's batch path:
// the rows that parse go to one PredictBatch call, back to back, and each
// record ends with either its prediction or the message that makes it a bad
// row. Its buffers live with the chunk and are reused, so scoring allocates
// nothing once the chunks in flight have grown to their size.
type batch struct {
	rows    []float64 // the parsed rows, back to back (parse leaves no more)
	classes []int     // per parsed row
	proba   []float64 // per parsed row, its probabilities
	labels  []string  // per record: the label column (eval), "" when none
	errs    []string  // per record: why it is a bad row, or ""
	row     []int     // per record: its index among the parsed rows, or -1
	// explain and importance: per parsed row, its contributions
	// (contribute), and the chunk's sums of them.
	contrib []float64
	sums    []float64
}

// score parses c's records with parse and predicts them with m.
func (b *batch) score(c *chunk, m classify.Model, parse rowParser, info classify.Info) {
	nf, nc := len(info.Features), len(info.Classes)
	k := b.parse(c, parse, info)
	b.classes, b.proba = resize(b.classes, k), resize(b.proba, k*nc)
	rows := b.rows
	if m.PredictBatch(rows, b.classes, b.proba) == nil {
		return
	}
	// A row the model refuses (the batch stops at the first): score them
	// one by one, so each refused row gets its own message.
	for i, j := range b.row {
		if j < 0 {
			continue
		}
		p, err := m.Predict(rows[j*nf:(j+1)*nf], b.proba[j*nc:(j+1)*nc])
		if err != nil {
			b.errs[i], b.row[i] = predictError(err, info.Features), -1
			continue
		}
		b.classes[j] = p.Class
	}
}

// parse parses c's records with parse into b.rows, which it leaves
// holding the parsed rows alone (what importance needs, without
// predicting them), and returns how many it parsed.
func (b *batch) parse(c *chunk, parse rowParser, info classify.Info) int {
	nf, n := len(info.Features), len(c.recs)
	b.rows = resize(b.rows, n*nf)
	b.labels, b.errs, b.row = resize(b.labels, n), resize(b.errs, n), resize(b.row, n)
	k := 0
	for i := range c.recs {
		label, err := parse.parse(&c.recs[i], b.rows[k*nf:(k+1)*nf])
		if err == errUnsplit {
			c.split()
			label, err = parse.parse(&c.recs[i], b.rows[k*nf:(k+1)*nf])
		}
		b.labels[i] = label
		if err != nil {
			b.errs[i], b.row[i] = err.Error(), -1
			continue
		}
		b.errs[i], b.row[i] = "", k
		k++
	}
	b.rows = b.rows[:k*nf]
	return k
}

// prediction is record i's prediction; ok is false for a bad row.
func (b *batch) prediction(i int, info classify.Info) (classify.Prediction, bool) {
	j := b.row[i]
	if j < 0 {
		return classify.Prediction{}, false
	}
	nc := len(info.Classes)
	c := b.classes[j]
	return classify.Prediction{Class: c, Label: info.Classes[c], Probabilities: b.proba[j*nc : (j+1)*nc]}, true
}

// resize returns s with length n, reusing its array when it is large
// enough.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/4)
	}
	return s[:n]
}
