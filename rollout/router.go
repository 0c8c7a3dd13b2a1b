package rollout

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/ml-production-service/classify"
)

// Router serves several variants of a model under a Split: one Live per
// arm, for A/B tests and canaries. Route picks the variant of a request (by
// its key when it has one, so a client stays in its arm across requests and
// restarts), and Reload replaces the models, and the split itself, as one
// step that either succeeds whole or changes nothing.
//
// The router's state is a Table, published through an atomic pointer and
// never changed by the router once published: Reload builds a new Table,
// with a new Live per variant, and swaps it in at once. A reader that takes
// the Table once (Router.Table) and reads its variants' models sees one
// generation of every variant, all old or all new, never a mix. Router's
// Split, Variants, Variant and Route each take the current Table once.
//
// LoadRouter and Reload check that every variant takes the same features,
// in the same order, so a request valid for one is valid for all; their
// classes may differ. NewRouter does not check its Lives' features.
//
// A Router is safe for concurrent use. Most programs build one with
// LoadRouter from a Registry:
//
//	split, _ := rollout.ParseSplit("decision_tree=90,xgboost=10")
//	router, err := rollout.LoadRouter(split, reg.Load, nil)
//	...
//	v := router.Route(clientID, rand.Float64())
//	p, err := v.Live.Model().Predict(row, proba)
type Router struct {
	table  atomic.Pointer[Table]
	reload sync.Mutex // one Reload at a time
}

// Table is one state of a Router: a split and the variant serving each of
// its arms. The router never changes a Table it has published, nor swaps a
// model in its Lives: every Reload that succeeds publishes a new Table, so
// comparing the pointers Router.Table returns tells whether a Reload
// happened. (A caller that swaps a variant's Live itself, with Live.Swap or
// Live.Reload, changes that variant alone, outside this guarantee.)
type Table struct {
	split    *Split
	variants []Variant
}

// Variant is one arm of a Router: its name and weight in the split, its
// position there, and the Live holding its model.
type Variant struct {
	Name   string
	Weight int
	Index  int
	Live   *Live
}

// NewRouter returns a Router over split whose arm called name is served
// by lives[name], until the first Reload replaces them. Every arm needs a
// Live; a Live may be empty for now (its Model is then nil, and callers
// answer as they do without a model).
func NewRouter(split *Split, lives map[string]*Live) (*Router, error) {
	if split == nil {
		return nil, errors.New("rollout: router: no split")
	}
	t := &Table{split: split}
	for i, a := range split.Arms() {
		l := lives[a.Name]
		if l == nil {
			return nil, fmt.Errorf("rollout: router: variant %q has no Live", a.Name)
		}
		t.variants = append(t.variants, Variant{Name: a.Name, Weight: a.Weight, Index: i, Live: l})
	}
	if len(lives) != len(t.variants) {
		for name := range lives {
			if _, ok := t.Variant(name); !ok {
				return nil, fmt.Errorf("rollout: router: %q is not a variant of the split %s", name, split)
			}
		}
	}
	r := &Router{}
	r.table.Store(t)
	return r, nil
}

// LoadRouter loads every arm of split by name through load (Registry.Load,
// say), proves each model with a warm-up prediction of warmup (a row of
// zeros when nil) and checks that all take the same features. It fails
// whole: the error, a *ReloadError, names the variant and the phase.
func LoadRouter(split *Split, load func(name string) (classify.Model, error), warmup []float64) (*Router, error) {
	if split == nil {
		return nil, errors.New("rollout: router: no split")
	}
	models, err := prepare(split, nil, load, warmup)
	if err != nil {
		return nil, err
	}
	lives := make(map[string]*Live, len(models))
	for i, a := range split.Arms() {
		lives[a.Name] = NewLive(models[i])
	}
	return NewRouter(split, lives)
}

// Table returns the router's current state.
func (r *Router) Table() *Table { return r.table.Load() }

// Split returns the split in force.
func (r *Router) Split() *Split { return r.Table().split }

// Variants returns the variants in split order, all of one Table. The
// slice must not be modified.
func (r *Router) Variants() []Variant { return r.Table().variants }

// Variant returns the variant called name, if the split has one.
func (r *Router) Variant(name string) (Variant, bool) { return r.Table().Variant(name) }

// Route returns the variant that serves a request: the one key is assigned
// to when key is not empty (Split.ForKey), else the one u, uniform in
// [0, 1), falls in (Split.ForRandom). It allocates nothing.
func (r *Router) Route(key string, u float64) Variant { return r.Table().Route(key, u) }

// Split returns the table's split.
func (t *Table) Split() *Split { return t.split }

// Variants returns the table's variants in split order. The slice must not
// be modified.
func (t *Table) Variants() []Variant { return t.variants }

// Variant returns the variant called name, if the table has one.
func (t *Table) Variant(name string) (Variant, bool) {
	for _, v := range t.variants {
		if v.Name == name {
			return v, true
		}
	}
	return Variant{}, false
}

// Route is Router.Route on this table.
func (t *Table) Route(key string, u float64) Variant {
	if key != "" {
		return t.variants[t.split.keyIndex(key)]
	}
	return t.variants[t.split.randomIndex(u)]
}

// Reload loads every arm of split (of the split in force when split is
// nil) through load and proves each model as Live.Reload does: it loaded,
// it takes the features the router's variants take, and it answered a
// warm-up prediction of warmup (a row of zeros when nil). Only when every
// one has proved itself are they swapped in, with the new split, in one
// atomic step: a new Table whose every variant has a new Live. The old
// Table and its Lives keep the old models, so a reader still holding it
// sees the old generation whole. On any failure nothing changes, the old
// models and split keep serving, and the error is a *ReloadError naming the
// variant and the phase. A variant the new split drops stops being routed
// to. It returns the models now serving, in split order. Reloads are
// serialised; routing and predictions go on throughout.
func (r *Router) Reload(split *Split, load func(name string) (classify.Model, error), warmup []float64) ([]classify.Model, error) {
	r.reload.Lock()
	defer r.reload.Unlock()
	old := r.Table()
	if split == nil {
		split = old.split
	}
	var features []string
	for _, v := range old.variants {
		if m := v.Live.Model(); m != nil {
			features = m.Info().Features
			break
		}
	}
	models, err := prepare(split, features, load, warmup)
	if err != nil {
		return nil, err
	}
	// New Lives in a new Table, published at once: swapping the old Lives
	// one by one would show a reader of the old Table some variants' new
	// models beside others' old ones.
	t := &Table{split: split}
	for i, a := range split.Arms() {
		t.variants = append(t.variants, Variant{Name: a.Name, Weight: a.Weight, Index: i, Live: NewLive(models[i])})
	}
	r.table.Store(t)
	return models, nil
}

// prepare loads and proves the model of every arm of split; features, when
// not nil, is what each must take, and otherwise the first one's features
// are.
func prepare(split *Split, features []string, load func(name string) (classify.Model, error), warmup []float64) ([]classify.Model, error) {
	models := make([]classify.Model, 0, len(split.Arms()))
	for _, a := range split.Arms() {
		m, e := loadAndProve(func() (classify.Model, error) { return load(a.Name) }, features, warmup)
		if e != nil {
			e.Variant = a.Name
			return nil, e
		}
		if features == nil {
			features = m.Info().Features
		}
		models = append(models, m)
	}
	return models, nil
}
