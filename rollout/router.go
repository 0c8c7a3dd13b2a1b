package rollout

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/ml-production-service/classify"
)

// Router serves several variants of a model under a Split, for A/B tests
// and canaries. Route picks the variant of a request (by its key when it
// has one, so a client stays in its arm across requests and restarts), and
// Reload replaces the models, and the split itself, all together: the
// change succeeds whole or changes nothing.
//
// The router's state is a Table, published through an atomic pointer and
// never changed once published: Reload (and Swap) build a new Table and
// publish it at once. A reader that takes the Table once (Router.Table) and
// reads its variants' models sees one generation of every variant, all old
// or all new, never a mix. Router's Split, Variants, Variant and Route each
// take the current Table once.
//
// The router owns its variants' models: a Variant reads its model but
// cannot replace it, so every change goes through Reload or Swap, under
// the router's lock, and publishes a new Table.
//
// LoadRouter and Reload check that every variant takes the same features,
// in the same order, so a request valid for one is valid for all; their
// classes may differ. NewRouter and Swap do not check features.
//
// A Router is safe for concurrent use. The zero value is not usable: build
// one with NewRouter or LoadRouter. Most programs use LoadRouter with a
// Registry:
//
//	split, _ := rollout.ParseSplit("decision_tree=90,xgboost=10")
//	router, err := rollout.LoadRouter(split, reg.Load, nil)
//	...
//	v := router.Route(clientID, rand.Float64())
//	p, err := v.Model().Predict(row, proba)
type Router struct {
	table  atomic.Pointer[Table]
	reload sync.Mutex // one Reload or Swap at a time
}

// Table is one state of a Router: a split and the variant serving each of
// its arms. Nothing changes a Table once the router has published it:
// every Reload that succeeds, and every Swap, publishes a new one, so
// comparing the pointers Router.Table returns tells whether the router's
// models or split changed.
type Table struct {
	split    *Split
	variants []Variant
}

// Variant is one arm of a Router's Table: its name and weight in the
// split, its position there, and the model serving it. A Variant is a
// value read from one Table; its model does not change under it.
type Variant struct {
	Name   string
	Weight int
	Index  int
	model  classify.Model
}

// Model returns the model serving the variant, or nil if it has none (a
// NewRouter variant given none).
func (v Variant) Model() classify.Model { return v.model }

// NewRouter returns a Router over split whose arm called name is served by
// models[name], until a Reload or Swap replaces it. Every arm needs an
// entry; its model may be nil for now (callers then answer as they do
// without a model). The features of the models are not checked.
func NewRouter(split *Split, models map[string]classify.Model) (*Router, error) {
	if split == nil {
		return nil, errors.New("rollout: router: no split")
	}
	t := &Table{split: split}
	for i, a := range split.Arms() {
		m, ok := models[a.Name]
		if !ok {
			return nil, fmt.Errorf("rollout: router: variant %q has no entry in models", a.Name)
		}
		t.variants = append(t.variants, Variant{Name: a.Name, Weight: a.Weight, Index: i, model: m})
	}
	if len(models) != len(t.variants) {
		for name := range models {
			if _, ok := t.Variant(name); !ok {
				return nil, fmt.Errorf("rollout: router: %q is not a variant of the split %s", name, split)
			}
		}
	}
	r := &Router{}
	r.table.Store(t)
	return r, nil
}

// LoadRouter loads every arm of split by name through load
// (classify.Registry.Load, say), proves each model with a warm-up
// prediction of warmup (a row of zeros when nil) and checks that all take
// the same features. It fails
// whole: the error, a *ReloadError, names the variant and the phase.
func LoadRouter(split *Split, load func(name string) (classify.Model, error), warmup []float64) (*Router, error) {
	if split == nil {
		return nil, errors.New("rollout: router: no split")
	}
	models, err := prepare(split, nil, load, warmup)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]classify.Model, len(models))
	for i, a := range split.Arms() {
		byName[a.Name] = models[i]
	}
	return NewRouter(split, byName)
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
// one has proved itself are they published, with the new split, at once: a
// new Table. The old Table keeps the old models, so a reader still holding
// it sees the old generation whole. On any failure nothing changes, the
// old models and split keep serving, and the error is a *ReloadError
// naming the variant and the phase. A variant the new split drops stops
// being routed to. It returns the models now serving, in split order.
// Reloads are serialised; routing and predictions go on throughout.
func (r *Router) Reload(split *Split, load func(name string) (classify.Model, error), warmup []float64) ([]classify.Model, error) {
	r.reload.Lock()
	defer r.reload.Unlock()
	old := r.Table()
	if split == nil {
		split = old.split
	}
	var features []string
	for _, v := range old.variants {
		if v.model != nil {
			features = v.model.Info().Features
			break
		}
	}
	models, err := prepare(split, features, load, warmup)
	if err != nil {
		return nil, err
	}
	t := &Table{split: split}
	for i, a := range split.Arms() {
		t.variants = append(t.variants, Variant{Name: a.Name, Weight: a.Weight, Index: i, model: models[i]})
	}
	r.table.Store(t)
	return models, nil
}

// Swap makes m the model of the variant called name, unchecked, and
// returns the model it replaces: unlike Reload it neither compares
// features nor makes a warm-up prediction, so it can install a model that
// takes other features (or nil, for none). It publishes a new Table in
// which every other variant keeps its model, and it waits for a Reload in
// progress (as a Reload waits for it). The error says the split has no
// variant called name; then nothing changes.
func (r *Router) Swap(name string, m classify.Model) (classify.Model, error) {
	r.reload.Lock()
	defer r.reload.Unlock()
	old := r.Table()
	v, ok := old.Variant(name)
	if !ok {
		return nil, fmt.Errorf("rollout: router: %q is not a variant of the split %s", name, old.split)
	}
	t := &Table{split: old.split, variants: append([]Variant(nil), old.variants...)}
	t.variants[v.Index].model = m
	r.table.Store(t)
	return v.model, nil
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
