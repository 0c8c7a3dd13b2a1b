package classify

import (
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/ml-production-service/classify/internal/flat"
)

// contribution is what Contributor needs of a tree model, built by each
// model's contribution method on every call (a value: nothing escapes),
// so that Tree, Forest, Booster and Boosted share one implementation.
// The engine computes TreeSHAP (internal/flat, shap.go); this checks
// rows as Predict does, rewrites them as Predict does (pre), and scales
// the result as the model's raw output is scaled (divide).
type contribution struct {
	ens  *flat.Ensemble
	info *Info
	// float32Input: values beyond float32's range are refused, as
	// Predict refuses them.
	float32Input bool
	// pre, when not nil, rewrites a checked row into the engine's input
	// (Boosted.pre); scratch then holds *[]float64 of at least
	// flat.Block*Features values.
	pre     func(dst, row []float64)
	scratch *sync.Pool
	// divide, when not 0, divides the raw output (LightGBM's
	// average_output): contributions and bias are divided by it too.
	divide float64
	// prefix starts a batch's row error, as the model's PredictBatch
	// starts it ("classify: <kind>: " with kindPrefix, built only then).
	prefix     string
	kindPrefix bool
	// remedy says what carries node covers and how to get it, for the
	// error of a model loaded from an artifact without them.
	remedy string
}

// outputs returns the names of the raw outputs: the classes, or the
// positive class of a model with one margin for two classes.
func (c contribution) outputs() []string {
	cl := c.info.Classes
	if c.ens.Outputs() < len(cl) {
		return []string{cl[len(cl)-1]}
	}
	return append([]string(nil), cl...)
}

// explainable returns nil, or an error wrapping ErrFormat saying why the
// model cannot be explained: its artifact carries no node covers, or a
// tree is deeper than flat.MaxExplainDepth.
func (c contribution) explainable() error {
	err := c.ens.Explainable()
	if err == nil {
		return nil
	}
	name := string(c.info.Kind)
	if c.info.Name != "" {
		name += " " + strconv.Quote(c.info.Name)
	}
	if errors.Is(err, flat.ErrNoCovers) {
		return fmt.Errorf("%w: %s: the artifact carries no node covers %s", ErrFormat, name, c.remedy)
	}
	return fmt.Errorf("%w: %s: %v", ErrFormat, name, err)
}

// one is Contributor.Contributions.
func (c contribution) one(row, out []float64) error {
	if err := c.explainable(); err != nil {
		return err
	}
	nf := c.ens.Features()
	if !rowOK(row, nf, c.float32Input, c.info.Missing) {
		return rowError(row, nf, c.float32Input, c.info.Missing)
	}
	if size := c.ens.Outputs() * (nf + 1); len(out) != size {
		return fmt.Errorf("%w: contributions of a row need %d values, got %d", ErrInput, size, len(out))
	}
	x := row
	if c.pre != nil {
		s := c.scratch.Get().(*[]float64)
		defer c.scratch.Put(s)
		x = (*s)[:nf]
		c.pre(x, row)
	}
	c.ens.Contributions(x, out)
	c.scale(out)
	return nil
}

// batch is Contributor.ContributionsBatch: blocks of flat.Block rows are
// checked (and rewritten by pre) and explained. An invalid row stops the
// batch with an error naming it; the rows before it are explained.
func (c contribution) batch(rows, out []float64) error {
	if err := c.explainable(); err != nil {
		return err
	}
	nf := c.ens.Features()
	size := c.ens.Outputs() * (nf + 1)
	if len(rows)%nf != 0 {
		return fmt.Errorf("%w: a batch of rows of %d values holds %d values", ErrInput, nf, len(rows))
	}
	n := len(rows) / nf
	if len(out) != n*size {
		return fmt.Errorf("%w: contributions of %d rows need %d values, got %d", ErrInput, n, n*size, len(out))
	}
	var buf []float64
	if c.pre != nil {
		s := c.scratch.Get().(*[]float64)
		defer c.scratch.Put(s)
		buf = (*s)[:flat.Block*nf]
	}
	for lo := 0; lo < n; lo += flat.Block {
		hi := min(lo+flat.Block, n)
		bad := firstBadRow(rows, lo, hi, nf, c.float32Input, c.info.Missing)
		blk := rows[lo*nf : bad*nf]
		if c.pre != nil {
			for r := range bad - lo {
				c.pre(buf[r*nf:(r+1)*nf], blk[r*nf:(r+1)*nf])
			}
			blk = buf[:len(blk)]
		}
		o := out[lo*size : bad*size]
		c.ens.ContributionsBatch(blk, bad-lo, o)
		c.scale(o)
		if bad < hi {
			prefix := c.prefix
			if c.kindPrefix {
				prefix = "classify: " + string(c.info.Kind) + ": "
			}
			return batchRowError(prefix, rows, bad, nf, c.float32Input, c.info.Missing)
		}
	}
	return nil
}

// scale divides out by divide, when the model divides its raw output.
func (c contribution) scale(out []float64) {
	if c.divide == 0 {
		return
	}
	for i := range out {
		out[i] /= c.divide
	}
}

// Contributor, on each tree model: a contribution and three one-line
// methods.

const sklearnTreesRemedy = "(classify/sklearn-trees v3 carries them): re-export it with classify-export"

func (m *Tree) contribution() contribution {
	return contribution{ens: m.e.ens, info: &m.info, float32Input: true, remedy: sklearnTreesRemedy}
}

// Outputs implements Contributor: the classes.
func (m *Tree) Outputs() []string { return m.contribution().outputs() }

// Contributions implements Contributor.
func (m *Tree) Contributions(row, out []float64) error { return m.contribution().one(row, out) }

// ContributionsBatch implements Contributor.
func (m *Tree) ContributionsBatch(rows, out []float64) error {
	return m.contribution().batch(rows, out)
}

func (m *Forest) contribution() contribution {
	return contribution{ens: m.e.ens, info: &m.info, float32Input: true, remedy: sklearnTreesRemedy}
}

// Outputs implements Contributor: the classes.
func (m *Forest) Outputs() []string { return m.contribution().outputs() }

// Contributions implements Contributor.
func (m *Forest) Contributions(row, out []float64) error { return m.contribution().one(row, out) }

// ContributionsBatch implements Contributor.
func (m *Forest) ContributionsBatch(rows, out []float64) error {
	return m.contribution().batch(rows, out)
}

func (b *Booster) contribution() contribution {
	return contribution{ens: b.e.ens, info: &b.info, float32Input: true, prefix: "classify: xgboost: ",
		remedy: "(sum_hessian): save it again with XGBoost's save_model"}
}

// Outputs implements Contributor: the classes, or the positive class of
// a binary model.
func (b *Booster) Outputs() []string { return b.contribution().outputs() }

// Contributions implements Contributor.
func (b *Booster) Contributions(row, out []float64) error { return b.contribution().one(row, out) }

// ContributionsBatch implements Contributor.
func (b *Booster) ContributionsBatch(rows, out []float64) error {
	return b.contribution().batch(rows, out)
}

func (b *Boosted) contribution() contribution {
	c := contribution{ens: b.e, info: &b.info, float32Input: b.float32Input, pre: b.pre, scratch: &b.scratch,
		divide: b.divide, kindPrefix: true}
	switch b.info.Kind {
	case LightGBM:
		c.remedy = "(internal_count and leaf_count): save it again with LightGBM's save_model"
	case HistGradientBoosting:
		c.remedy = "(classify/sklearn-hgb v2 carries them): re-export it with classify-export"
	default:
		c.remedy = "(classify/sklearn-gb v2 carries them): re-export it with classify-export"
	}
	return c
}

// Outputs implements Contributor: the classes, or the positive class of
// a binary model.
func (b *Boosted) Outputs() []string { return b.contribution().outputs() }

// Contributions implements Contributor.
func (b *Boosted) Contributions(row, out []float64) error { return b.contribution().one(row, out) }

// ContributionsBatch implements Contributor.
func (b *Boosted) ContributionsBatch(rows, out []float64) error {
	return b.contribution().batch(rows, out)
}

var (
	_ Contributor = (*Tree)(nil)
	_ Contributor = (*Forest)(nil)
	_ Contributor = (*Booster)(nil)
	_ Contributor = (*Boosted)(nil)
)
