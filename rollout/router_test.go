package rollout

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// constRules returns a rule model over the Iris features that answers
// label for every row.
func constRules(t testing.TB, label string) classify.Model {
	t.Helper()
	m, err := classify.LoadRules(strings.NewReader(`{"format": "classify/rules", "format_version": 1,
 "features": ["sepal_length", "sepal_width", "petal_length", "petal_width"],
 "classes": ["setosa", "versicolor", "virginica"], "rules": [], "default": "` + label + `", "source": "test"}`))
	require.NoError(t, err)
	return m
}

func productionRouter(t testing.TB, split string) *Router {
	t.Helper()
	reg, err := classify.OpenRegistry(models.FS)
	require.NoError(t, err)
	s, err := ParseSplit(split)
	require.NoError(t, err)
	r, err := LoadRouter(s, reg.Load, nil)
	require.NoError(t, err)
	return r
}

func TestLoadRouter(t *testing.T) {
	r := productionRouter(t, "decision_tree=90,xgboost=10")
	assert.Equal(t, "decision_tree=90,xgboost=10", r.Split().String())
	vs := r.Variants()
	require.Len(t, vs, 2)
	for i, want := range []struct {
		name   string
		weight int
		kind   classify.Kind
	}{{"decision_tree", 90, classify.DecisionTree}, {"xgboost", 10, classify.XGBoost}} {
		assert.Equal(t, want.name, vs[i].Name)
		assert.Equal(t, want.weight, vs[i].Weight)
		assert.Equal(t, i, vs[i].Index)
		assert.Equal(t, want.kind, vs[i].Model().Info().Kind)
		assert.Equal(t, want.name, vs[i].Model().Info().Name)
	}
	v, ok := r.Variant("xgboost")
	assert.True(t, ok)
	assert.Equal(t, "xgboost", v.Name)
	_, ok = r.Variant("random_forest")
	assert.False(t, ok)

	reg, err := classify.OpenRegistry(models.FS)
	require.NoError(t, err)
	_, err = LoadRouter(mustSplit(t, "decision_tree=1,svm=1"), reg.Load, nil)
	var re *ReloadError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "svm", re.Variant)
	assert.Equal(t, PhaseLoad, re.Phase)
	assert.ErrorIs(t, err, classify.ErrNotFound)

	_, err = LoadRouter(nil, reg.Load, nil)
	assert.EqualError(t, err, "rollout: router: no split")
}

func mustSplit(t testing.TB, s string) *Split {
	t.Helper()
	split, err := ParseSplit(s)
	require.NoError(t, err)
	return split
}

func TestNewRouterErrors(t *testing.T) {
	split := mustSplit(t, "a=1,b=1")
	_, err := NewRouter(split, map[string]classify.Model{"a": nil})
	assert.EqualError(t, err, `rollout: router: variant "b" has no entry in models`)
	_, err = NewRouter(split, map[string]classify.Model{"a": nil, "b": nil, "c": nil})
	assert.EqualError(t, err, `rollout: router: "c" is not a variant of the split a=1,b=1`)
	_, err = NewRouter(nil, nil)
	assert.EqualError(t, err, "rollout: router: no split")

	// A nil model is a variant without a model for now.
	r, err := NewRouter(split, map[string]classify.Model{"a": nil, "b": nil})
	require.NoError(t, err)
	assert.Nil(t, r.Route("k", 0).Model())
}

// TestRouterShares routes 100,000 distinct keys through a 90/10 router and
// finds each variant's share within one percentage point of its weight;
// keyless requests, routed by an injected random source, too.
func TestRouterShares(t *testing.T) {
	r := productionRouter(t, "decision_tree=90,xgboost=10")
	const n = 100_000
	byKey := map[string]int{}
	byRandom := map[string]int{}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		byKey[r.Route("client-"+strconv.Itoa(i), 0.99).Name]++ // u is ignored when there is a key
		byRandom[r.Route("", rng.Float64()).Name]++
	}
	for _, got := range []map[string]int{byKey, byRandom} {
		assert.InDelta(t, 0.90, float64(got["decision_tree"])/n, 0.01, "%v", got)
		assert.InDelta(t, 0.10, float64(got["xgboost"])/n, 0.01, "%v", got)
	}
}

// TestRouterStickyAcrossRestarts builds two routers independently, as two
// processes would, and finds every key in the same variant; a reload that
// keeps the weights keeps the assignments too.
func TestRouterStickyAcrossRestarts(t *testing.T) {
	a := productionRouter(t, "decision_tree=90,xgboost=10")
	b := productionRouter(t, "decision_tree=90,xgboost=10")
	reg, err := classify.OpenRegistry(models.FS)
	require.NoError(t, err)
	before := map[string]string{}
	for i := range 10_000 {
		key := "user-" + strconv.Itoa(i)
		before[key] = a.Route(key, 0).Name
		require.Equal(t, before[key], b.Route(key, 0.5).Name, key)
	}
	_, err = a.Reload(mustSplit(t, "decision_tree=90,xgboost=10"), reg.Load, nil)
	require.NoError(t, err)
	for key, name := range before {
		require.Equal(t, name, a.Route(key, 0).Name, key)
	}
}

func TestRouterReload(t *testing.T) {
	setosa, virginica := constRules(t, "setosa"), constRules(t, "virginica")
	models := map[string]classify.Model{"a": setosa, "b": virginica}
	load := func(name string) (classify.Model, error) {
		if m, ok := models[name]; ok {
			return m, nil
		}
		return nil, fmt.Errorf("%w: %q", classify.ErrNotFound, name)
	}
	r, err := LoadRouter(mustSplit(t, "a=90,b=10"), load, nil)
	require.NoError(t, err)
	table := r.Table()

	// Same split: a new table, serving the new models, is published whole;
	// the old table keeps the old models.
	models["a"] = constRules(t, "versicolor")
	got, err := r.Reload(nil, load, nil)
	require.NoError(t, err)
	assert.Equal(t, []classify.Model{models["a"], virginica}, got)
	assert.NotSame(t, table, r.Table())
	assert.Same(t, table.Split(), r.Split(), "the split stays")
	assert.Same(t, setosa, table.Variants()[0].Model(), "the old table keeps the old model")
	assert.Same(t, models["a"], r.Variants()[0].Model())
	table = r.Table()

	// A new split: b promoted, a kept at weight 0 (still loaded), c added.
	models["c"] = setosa
	_, err = r.Reload(mustSplit(t, "a=0,b=100,c=0"), load, nil)
	require.NoError(t, err)
	assert.NotSame(t, table, r.Table())
	assert.Equal(t, "a=0,b=100,c=0", r.Split().String())
	v, ok := r.Variant("a")
	require.True(t, ok)
	assert.Same(t, models["a"], v.Model(), "a kept variant keeps its (reloaded) model")
	assert.Same(t, models["a"], table.Variants()[0].Model(), "the old table keeps its model")
	assert.Len(t, table.Variants(), 2, "the old table keeps its split")
	assert.Equal(t, 0, v.Weight)
	for i := range 1000 {
		assert.Equal(t, "b", r.Route(strconv.Itoa(i), 0).Name)
	}

	// Failures change nothing: not the models, not the split.
	other := twoFeatureRules(t)
	before := r.Table()
	beforeModels := []classify.Model{}
	for _, v := range before.Variants() {
		beforeModels = append(beforeModels, v.Model())
	}
	for _, tc := range []struct {
		name   string
		split  string
		load   func(string) (classify.Model, error)
		warmup []float64
		phase  string
		msg    string
	}{
		{"unknown variant", "a=1,zzz=1", load, nil, PhaseLoad, `rollout: reload "zzz": load: classify: model not found: "zzz"`},
		{"corrupt", "", func(name string) (classify.Model, error) {
			if name == "c" {
				return nil, classify.ErrChecksum
			}
			return load(name)
		}, nil, PhaseLoad, `rollout: reload "c": load: classify: checksum mismatch`},
		{"missing file", "", func(string) (classify.Model, error) { return nil, fs.ErrNotExist }, nil, PhaseLoad, "file does not exist"},
		{"other features", "", func(name string) (classify.Model, error) {
			if name == "b" {
				return other, nil
			}
			return load(name)
		}, nil, PhaseFeatures, "new model takes features [a b]"},
		{"warm-up fails", "", load, []float64{1}, PhaseWarmup, "invalid input"},
		{"no model", "", func(string) (classify.Model, error) { return nil, nil }, nil, PhaseLoad, "load returned no model"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var split *Split
			if tc.split != "" {
				split = mustSplit(t, tc.split)
			}
			_, err := r.Reload(split, tc.load, tc.warmup)
			var re *ReloadError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tc.phase, re.Phase)
			assert.Contains(t, err.Error(), tc.msg)
			assert.Same(t, before, r.Table())
			for i, v := range r.Variants() {
				assert.Same(t, beforeModels[i], v.Model())
			}
		})
	}
	assert.True(t, errors.Is(&ReloadError{Err: classify.ErrChecksum}, classify.ErrChecksum))
	assert.Equal(t, "rollout: reload: load: x", (&ReloadError{Phase: PhaseLoad, Err: errors.New("x")}).Error())
}

// TestRouterSwap: Swap replaces one variant's model, unchecked, in a new
// Table; the old Table keeps its model, the other variants keep theirs, and
// a name the split lacks changes nothing.
func TestRouterSwap(t *testing.T) {
	setosa, virginica := constRules(t, "setosa"), constRules(t, "virginica")
	r, err := NewRouter(mustSplit(t, "a=1,b=1"), map[string]classify.Model{"a": setosa, "b": nil})
	require.NoError(t, err)
	before := r.Table()

	other := twoFeatureRules(t) // other features: Swap does not check them
	old, err := r.Swap("b", other)
	require.NoError(t, err)
	assert.Nil(t, old)
	assert.NotSame(t, before, r.Table())
	assert.Nil(t, before.Variants()[1].Model(), "the old table keeps its model")
	v, ok := r.Variant("b")
	require.True(t, ok)
	assert.Same(t, other, v.Model())
	assert.Same(t, setosa, r.Variants()[0].Model(), "the other variant keeps its model")
	assert.Same(t, before.Split(), r.Split())

	old, err = r.Swap("a", virginica)
	require.NoError(t, err)
	assert.Same(t, setosa, old)
	old, err = r.Swap("b", nil)
	require.NoError(t, err)
	assert.Same(t, other, old)
	assert.Nil(t, r.Variants()[1].Model())

	current := r.Table()
	_, err = r.Swap("c", setosa)
	assert.EqualError(t, err, `rollout: router: "c" is not a variant of the split a=1,b=1`)
	assert.Same(t, current, r.Table(), "a failed Swap publishes nothing")
}

// TestRouterSwapDuringReload runs Swaps and Reloads side by side (run with
// -race): each publishes a whole Table, and the last word is one of theirs.
func TestRouterSwapDuringReload(t *testing.T) {
	setosa, virginica := constRules(t, "setosa"), constRules(t, "virginica")
	load := func(string) (classify.Model, error) { return setosa, nil }
	r, err := LoadRouter(mustSplit(t, "a=1,b=1"), load, nil)
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 200 {
			if _, err := r.Reload(nil, load, nil); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for range 200 {
		_, err := r.Swap("b", virginica)
		require.NoError(t, err)
	}
	wg.Wait()
	assert.Same(t, setosa, r.Variants()[0].Model())
	assert.Contains(t, []classify.Model{setosa, virginica}, r.Variants()[1].Model())
}

// generations is a load function whose models are numbered: gen.Store(g)
// makes load return generation g's model of each variant, and of tells
// which generation a model belongs to.
type generations struct {
	gen    atomic.Int64
	models map[string][]classify.Model // by variant, by generation
	of     map[classify.Model]int
}

func newGenerations(t testing.TB, names []string, n int) *generations {
	g := &generations{models: map[string][]classify.Model{}, of: map[classify.Model]int{}}
	for _, name := range names {
		for i := range n {
			m := constRules(t, "setosa")
			g.models[name] = append(g.models[name], m)
			g.of[m] = i
		}
	}
	return g
}

func (g *generations) load(name string) (classify.Model, error) {
	return g.models[name][g.gen.Load()], nil
}

// tableGenerations returns the generation of each variant's model in t.
func (g *generations) tableGenerations(t *Table) []int {
	var gens []int
	for _, v := range t.Variants() {
		gens = append(gens, g.of[v.Model()])
	}
	return gens
}

// TestRouterReloadAtomic: a reader that took the router's table before a
// Reload and reads its variants' models while the Reload runs sees the old
// generation whole, never the old model of one variant beside the new model
// of another; a reader that takes the table afterwards sees the new
// generation whole. The interleaving is fixed by channels: the reader reads
// the first variant, the whole Reload runs, then the reader reads the rest.
func TestRouterReloadAtomic(t *testing.T) {
	for _, tc := range []struct{ name, split string }{
		{"same split", ""},
		{"same split given again", "a=50,b=30,c=20"},
		{"new weights", "a=20,b=30,c=50"},
		{"variant added", "a=50,b=30,c=10,d=10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGenerations(t, []string{"a", "b", "c", "d"}, 2)
			r, err := LoadRouter(mustSplit(t, "a=50,b=30,c=20"), g.load, nil)
			require.NoError(t, err)
			readFirst, reloaded := make(chan []classify.Model), make(chan struct{})
			read := make(chan []classify.Model)
			go func() {
				table := r.Table()
				vs := table.Variants()
				seen := []classify.Model{vs[0].Model()}
				readFirst <- seen
				<-reloaded
				for _, v := range vs[1:] {
					seen = append(seen, v.Model())
				}
				read <- seen
			}()
			<-readFirst
			g.gen.Store(1)
			var split *Split
			if tc.split != "" {
				split = mustSplit(t, tc.split)
			}
			_, err = r.Reload(split, g.load, nil)
			require.NoError(t, err)
			close(reloaded)
			var gens []int
			for _, m := range <-read {
				gens = append(gens, g.of[m])
			}
			assert.Equal(t, []int{0, 0, 0}, gens, "a reader of the table taken before the reload sees the old generation whole")
			want := []int{1, 1, 1}
			if len(r.Variants()) == 4 {
				want = append(want, 1)
			}
			assert.Equal(t, want, g.tableGenerations(r.Table()), "a reader after the reload sees the new generation whole")
		})
	}
}

// TestRouterReloadConcurrentReaders reloads generation after generation,
// with and without a change of split, while readers take the table and read
// every variant's model: no reader ever sees two generations in one table
// (run with -race).
func TestRouterReloadConcurrentReaders(t *testing.T) {
	const n = 300
	g := newGenerations(t, []string{"a", "b", "c"}, n)
	splits := []*Split{mustSplit(t, "a=50,b=30,c=20"), mustSplit(t, "a=20,b=30,c=50")}
	r, err := LoadRouter(splits[0], g.load, nil)
	require.NoError(t, err)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var reads atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				gens := g.tableGenerations(r.Table())
				for _, x := range gens[1:] {
					if x != gens[0] {
						t.Errorf("a reader saw generations %v in one table", gens)
						return
					}
				}
				reads.Add(1)
			}
		}()
	}
	for i := 1; i < n; i++ {
		g.gen.Store(int64(i))
		var split *Split // every other reload keeps the split
		if i%2 == 0 {
			split = splits[i/2%2]
		}
		_, err := r.Reload(split, g.load, nil)
		require.NoError(t, err)
	}
	close(stop)
	wg.Wait()
	assert.Equal(t, []int{n - 1, n - 1, n - 1}, g.tableGenerations(r.Table()))
}

// TestRouterReloadUnderLoad routes and predicts from several goroutines
// while the models and the split change as fast as Reload goes: every
// answer comes from one whole model of its variant.
func TestRouterReloadUnderLoad(t *testing.T) {
	labels := []string{"setosa", "versicolor", "virginica"}
	byLabel := map[string]classify.Model{}
	for _, l := range labels {
		byLabel[l] = constRules(t, l)
	}
	// Variant x answers setosa or versicolor, variant y virginica.
	var flip atomic.Bool
	load := func(name string) (classify.Model, error) {
		if name == "y" {
			return byLabel["virginica"], nil
		}
		if flip.Load() {
			return byLabel["versicolor"], nil
		}
		return byLabel["setosa"], nil
	}
	r, err := LoadRouter(mustSplit(t, "x=50,y=50"), load, nil)
	require.NoError(t, err)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var answers atomic.Int64
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 0))
			row := []float64{5.1, 3.5, 1.4, 0.2}
			proba := make([]float64, 3)
			for {
				select {
				case <-stop:
					return
				default:
				}
				v := r.Route("", rng.Float64())
				m := v.Model()
				p, err := m.Predict(row, proba)
				if err != nil {
					t.Error(err)
					return
				}
				if ok := (v.Name == "y") == (p.Label == "virginica"); !ok {
					t.Errorf("variant %s answered %s", v.Name, p.Label)
					return
				}
				answers.Add(1)
			}
		}()
	}
	splits := []*Split{mustSplit(t, "x=50,y=50"), mustSplit(t, "x=10,y=90")}
	// Reload at least 500 times, and on until the readers have answered
	// enough to have met many swaps (on a loaded machine the reloads can
	// finish before the readers are scheduled at all).
	const minAnswers = 2000
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; i < 500 || answers.Load() < minAnswers && time.Now().Before(deadline); i++ {
		flip.Store(i%2 == 0)
		if _, err := r.Reload(splits[i%2], load, nil); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	assert.GreaterOrEqual(t, answers.Load(), int64(minAnswers))
}

func TestRouteAllocatesNothing(t *testing.T) {
	r := productionRouter(t, "decision_tree=90,xgboost=10")
	key := "client-12345"
	allocs := testing.AllocsPerRun(1000, func() {
		_ = r.Route(key, 0.5)
		_ = r.Route("", 0.5)
	})
	assert.Zero(t, allocs)
}

// productionModel loads the model called name from the production
// registry.
func productionModel(t testing.TB, name string) classify.Model {
	t.Helper()
	reg, err := classify.OpenRegistry(models.FS)
	require.NoError(t, err)
	m, err := reg.Load(name)
	require.NoError(t, err)
	return m
}

// twoFeatureRules returns a rule model over features a and b: not the Iris
// features, so a reload that would serve it fails.
func twoFeatureRules(t testing.TB) classify.Model {
	t.Helper()
	m, err := classify.LoadRules(strings.NewReader(`{"format": "classify/rules", "format_version": 1,
 "features": ["a", "b"], "classes": ["x", "y"], "rules": [], "default": "x", "source": "test"}`))
	require.NoError(t, err)
	return m
}
