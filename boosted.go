package classify

import (
	"math"
	"sync"

	"github.com/ml-production-service/classify/internal/flat"
)

// Boosted is a gradient-boosted tree classifier that sums its trees' leaf
// values in float64: a LightGBM model (LoadLightGBM), a scikit-learn
// HistGradientBoostingClassifier (LoadHistGradientBoosting) or
// GradientBoostingClassifier (LoadGradientBoosting). Each reproduces its
// library's predict and predict_proba: the same label, probabilities
// within 1e-9 (research/FORMATS.md states the rules, with their sources).
//
// A Boosted is immutable after loading and safe for concurrent use.
type Boosted struct {
	info Info
	e    *flat.Ensemble
	nf   int // features per row
	nc   int // classes
	// float32Input: values beyond float32's range are refused
	// (scikit-learn's GradientBoosting casts to float32; LightGBM is held
	// to the same, like the other loaders).
	float32Input bool
	link         boostLink
	sigmoid      float64 // LightGBM's sigmoid parameter (binary, multiclassova)
	divide       float64 // LightGBM average_output: the iteration count; 0 otherwise
	// pre, when not nil, rewrites a checked row into the engine's input
	// (HistGradientBoosting's categorical codes; LightGBM's zero as
	// missing). Models without one walk the caller's row itself.
	pre func(dst, row []float64)
	// scratch holds *[]float64: a block of rewritten rows (flat.Block*nf
	// values) then a block of probabilities (flat.Block*nc), one
	// allocation, for models with pre and batches without proba.
	scratch sync.Pool
}

// boostLink is how raw scores become probabilities and a label.
type boostLink uint8

const (
	lgbBinary   boostLink = iota + 1 // [1-p, p], p = 1/(1+exp(-sigmoid*raw)); label the arg max of the probabilities
	lgbSoftmax                       // softmax; label the arg max of the probabilities
	lgbOVA                           // per class 1/(1+exp(-sigmoid*raw)), not normalised; label the arg max
	hgbLogistic                      // [1-q, q], q = expit(raw); label 1 iff raw > 0
	gbLogistic                       // [1-q, q], q = expit(raw); label 1 iff raw >= 0
	skSoftmax                        // softmax; label the first arg max of raw
)

func (b *Boosted) init() {
	b.scratch.New = func() any {
		s := make([]float64, flat.Block*(b.nf+b.nc))
		return &s
	}
}

// Info describes the model.
func (b *Boosted) Info() Info { return b.info }

// Predict classifies one row; see Model.Predict. NaN is a missing value
// for LightGBM and HistGradientBoosting models (Info().Missing) and refused
// for GradientBoosting, whose scikit-learn refuses it; infinities are
// refused by all, and values beyond float32's range by LightGBM and
// GradientBoosting models, with an error wrapping ErrInput. With room in
// proba it allocates nothing.
func (b *Boosted) Predict(row, proba []float64) (Prediction, error) {
	// Checked as finite first, and again allowing NaN only when that
	// fails, so the check also says whether the row holds NaN.
	nan := false
	if !rowOK(row, b.nf, b.float32Input, false) {
		if !b.info.Missing || !rowOK(row, b.nf, b.float32Input, true) {
			return Prediction{}, rowError(row, b.nf, b.float32Input, b.info.Missing)
		}
		nan = true
	}
	p := probaBuffer(proba, b.nc)
	x := row
	var s *[]float64
	if b.pre != nil {
		s = b.scratch.Get().(*[]float64)
		x = (*s)[:b.nf]
		b.pre(x, row)
		nan = b.info.Missing && flat.HasNaN(x) // pre may write NaN (LightGBM's zero as missing)
	}
	b.e.Predict(x, p, nan)
	if s != nil {
		b.scratch.Put(s)
	}
	c := b.finish(p)
	return Prediction{Class: c, Label: b.info.Classes[c], Probabilities: p}, nil
}

// PredictBatch classifies rows stored back to back; see Model.PredictBatch.
// It walks blocks of rows through each tree and allocates nothing.
func (b *Boosted) PredictBatch(rows []float64, classes []int, proba []float64) error {
	if err := checkBatch(rows, classes, proba, b.nf, b.nc); err != nil {
		return err
	}
	nf, nc := b.nf, b.nc
	var rowBuf, probaBuf []float64
	if b.pre != nil || proba == nil {
		s := b.scratch.Get().(*[]float64)
		defer b.scratch.Put(s)
		rowBuf, probaBuf = (*s)[:flat.Block*nf], (*s)[flat.Block*nf:]
	}
	for lo := 0; lo < len(classes); lo += flat.Block {
		hi := min(lo+flat.Block, len(classes))
		blk := rows[lo*nf : hi*nf]
		nan := false
		if bad := firstBadRow(rows, lo, hi, nf, b.float32Input, b.info.Missing); bad < hi {
			return batchRowError("classify: "+string(b.info.Kind)+": ", rows, bad, nf, b.float32Input, b.info.Missing)
		}
		if b.pre != nil {
			x := rowBuf[:len(blk)]
			for r := range hi - lo {
				b.pre(x[r*nf:(r+1)*nf], blk[r*nf:(r+1)*nf])
			}
			blk = x
		}
		if b.info.Missing {
			nan = flat.HasNaN(blk)
		}
		var out []float64
		if proba != nil {
			out = proba[lo*nc : hi*nc]
		} else {
			out = probaBuf[:(hi-lo)*nc]
		}
		b.e.PredictBatch(blk, hi-lo, out, nc, nil, nan)
		for r := range hi - lo {
			classes[lo+r] = b.finish(out[r*nc : (r+1)*nc])
		}
	}
	return nil
}

// finish turns the raw scores in p[:groups] into probabilities in place
// and returns the label's class.
func (b *Boosted) finish(p []float64) int {
	switch b.link {
	case lgbBinary, hgbLogistic, gbLogistic:
		raw := p[0]
		if b.divide != 0 {
			raw /= b.divide
		}
		var q float64
		if b.link == lgbBinary {
			q = 1 / (1 + math.Exp(-b.sigmoid*raw))
		} else {
			q = 1 / (1 + math.Exp(-raw)) // scipy.special.expit
		}
		p[0], p[1] = 1-q, q
		switch b.link {
		case hgbLogistic:
			return b2i(raw > 0)
		case gbLogistic:
			return b2i(raw >= 0)
		}
		return argmax(p)
	case lgbOVA:
		for k, raw := range p {
			if b.divide != 0 {
				raw /= b.divide
			}
			p[k] = 1 / (1 + math.Exp(-b.sigmoid*raw))
		}
		return argmax(p)
	}
	if b.divide != 0 {
		for k := range p {
			p[k] /= b.divide
		}
	}
	c := 0
	if b.link == skSoftmax {
		c = argmax(p) // predict: the arg max of the raw scores
	}
	softmax(p)
	if b.link == lgbSoftmax {
		c = argmax(p)
	}
	return c
}

func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}

// softmax turns raw scores into probabilities in place as scikit-learn's
// and LightGBM's softmax do: subtract the largest, exp, sum in class
// order, divide.
func softmax(p []float64) {
	hi := p[0]
	for _, v := range p[1:] {
		hi = max(hi, v)
	}
	sum := 0.0
	for i, v := range p {
		p[i] = math.Exp(v - hi)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
}

// preorder lays out one tree for the engine: its nodes from root in
// depth-first preorder, left subtree first, each split's Right set to
// where its right child lands. children returns a node's children (split
// false for a leaf); node returns the engine's node for an id, without
// Right. The parsers have checked that every node is reached once.
func preorder(root int, children func(id int) (l, r int, split bool), node func(id int) flat.Node) []flat.Node {
	type item struct{ id, parent int }
	var out []flat.Node
	stack := []item{{root, -1}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if it.parent >= 0 {
			out[it.parent].Right = len(out)
		}
		out = append(out, node(it.id))
		if l, r, split := children(it.id); split {
			stack = append(stack, item{r, len(out) - 1}, item{l, -1})
		}
	}
	return out
}
