package skboost

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ml-production-service/classify/internal/paritycase"
)

const suite = "../../testdata/boosting/sklearn-1.9.1_lightgbm-4.7.0"

// reference is what both models give the parity test.
type reference interface {
	Groups() int
	Raw(row, raw []float64)
	Proba(raw, p []float64) int
}

func suiteFiles(t testing.TB, pattern string, want int) []string {
	files, err := filepath.Glob(filepath.Join(suite, "*", pattern))
	require.NoError(t, err)
	var out []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".parity.json") {
			out = append(out, f)
		}
	}
	require.Len(t, out, want, "the boosting parity suite's %s (make parity-suite)", pattern)
	return out
}

// TestParity: the reference evaluators (Raw, Proba) give scikit-learn
// 1.9.1's own answers on every case of the suite, labels and
// probabilities, so the parsers keep every number the rules need.
func TestParity(t *testing.T) {
	parse := map[string]func([]byte) (reference, error){
		"hist_gradient_boosting*.json": func(b []byte) (reference, error) { return ParseHGB(b) },
		"gradient_boosting*.json":      func(b []byte) (reference, error) { return ParseGB(b) },
	}
	counts := map[string]int{"hist_gradient_boosting*.json": 5, "gradient_boosting*.json": 6}
	for pattern, p := range parse {
		for _, path := range suiteFiles(t, pattern, counts[pattern]) {
			t.Run(strings.TrimPrefix(path, suite+"/"), func(t *testing.T) {
				b, err := os.ReadFile(path)
				require.NoError(t, err)
				m, err := p(b)
				require.NoError(t, err)
				f, err := paritycase.Read(strings.TrimSuffix(path, ".json") + ".parity.json")
				require.NoError(t, err)
				raw := make([]float64, m.Groups())
				prob := make([]float64, len(f.Classes))
				for _, c := range f.Cases {
					m.Raw(c.Row(), raw)
					class := m.Proba(raw, prob)
					require.Equal(t, c.Label, f.Classes[class], c.Name)
					for k := range prob {
						require.InDelta(t, c.Proba[k], prob[k], 1e-9, "%s class %d", c.Name, k)
					}
				}
			})
		}
	}
}

func TestCode(t *testing.T) {
	cats := []float64{-1, 0, 2.5, 7}
	for _, c := range []struct{ v, want float64 }{{-1, 0}, {0, 1}, {2.5, 2}, {7, 3}, {1, math.NaN()}, {8, math.NaN()},
		{-2, math.NaN()}, {math.NaN(), math.NaN()}, {2.4999, math.NaN()}} {
		got := Code(cats, c.v)
		if math.IsNaN(c.want) {
			require.True(t, math.IsNaN(got), "%v", c.v)
		} else {
			require.Equal(t, c.want, got, "%v", c.v)
		}
	}
}

// hgbDoc is a small valid HGB document: binary, feature b categorical
// (categories 3, 5, 9), one iteration of one predictor that splits on b
// (codes {0, 2} left) and then on a.
func hgbDoc() map[string]any {
	return map[string]any{
		"format": "classify/sklearn-hgb", "format_version": 1, "estimator": "HistGradientBoostingClassifier",
		"kind": "hist_gradient_boosting", "library": "scikit-learn 1.9.1",
		"features": []string{"a", "b"}, "classes": []string{"no", "yes"}, "link": "logistic",
		"baseline": []float64{0.5}, "columns": []int{1, 0}, "categories": []any{nil, []float64{3, 5, 9}},
		"known_cat_bitsets": [][]uint32{{7, 0, 0, 0, 0, 0, 0, 0}}, "f_idx_map": []int{0, 0},
		"iterations": [][]map[string]any{{{
			"value":                []float64{0, 0, 1, 2, 3},
			"feature_idx":          []int{0, 1, 0, 0, 0},
			"num_threshold":        []float64{0, 1.5, 0, 0, 0},
			"missing_go_to_left":   []int{1, 0, 0, 0, 0},
			"left":                 []int{1, 2, 0, 0, 0},
			"right":                []int{4, 3, 0, 0, 0},
			"is_leaf":              []int{0, 0, 1, 1, 1},
			"is_categorical":       []int{1, 0, 0, 0, 0},
			"bitset_idx":           []int{0, 0, 0, 0, 0},
			"raw_left_cat_bitsets": [][]uint32{{5, 0, 0, 0, 0, 0, 0, 0}},
		}}},
	}
}

func gbDoc() map[string]any {
	return map[string]any{
		"format": "classify/sklearn-gb", "format_version": 1, "estimator": "GradientBoostingClassifier",
		"kind": "gradient_boosting", "library": "scikit-learn 1.9.1",
		"features": []string{"a", "b"}, "classes": []string{"x", "y", "z"}, "link": "softmax",
		"init": "prior", "init_raw": []float64{0.1, -0.2, 0.1}, "learning_rate": 0.1,
		"stages": [][]map[string]any{{gbTree(), gbTree(), gbTree()}},
	}
}

func gbTree() map[string]any {
	return map[string]any{
		"children_left": []int{1, -1, -1}, "children_right": []int{2, -1, -1}, "feature": []int{1, -2, -2},
		"threshold": []float64{0.1, -2, -2}, "value": []float64{0, -1, 1},
	}
}

func encode(t *testing.T, doc map[string]any) []byte {
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	return b
}

// TestStats: version 2 documents carry node statistics, which the
// parsers keep; version 1 documents carry none.
func TestStats(t *testing.T) {
	h := hgbDoc()
	h["format_version"] = 2
	p := h["iterations"].([][]map[string]any)[0][0]
	p["count"], p["gain"] = []int{10, 6, 2, 4, 4}, []float64{1.5, 0.5, 0, 0, 0}
	m, err := ParseHGB(encode(t, h))
	require.NoError(t, err)
	require.True(t, m.HasStats())
	require.Equal(t, int32s{10, 6, 2, 4, 4}, m.Iterations[0][0].Count)
	m, err = ParseHGB(encode(t, hgbDoc()))
	require.NoError(t, err)
	require.False(t, m.HasStats())

	g := gbDoc()
	g["format_version"] = 2
	for _, tr := range g["stages"].([][]map[string]any)[0] {
		tr["n_node_samples"], tr["weighted_n_node_samples"], tr["impurity"] = []int{3, 1, 2}, []float64{3, 1, 2}, []float64{0.5, 0, 0.25}
	}
	gb, err := ParseGB(encode(t, g))
	require.NoError(t, err)
	require.True(t, gb.HasStats())
	require.Equal(t, floats{0.5, 0, 0.25}, gb.Stages[0][2].Impurity)
	gb, err = ParseGB(encode(t, gbDoc()))
	require.NoError(t, err)
	require.False(t, gb.HasStats())
}

func TestHGBRouting(t *testing.T) {
	m, err := ParseHGB(encode(t, hgbDoc()))
	require.NoError(t, err)
	raw := []float64{0}
	for _, c := range []struct {
		a, b, want float64
	}{
		{0, 3, 1.5},          // code 0: left, then a <= 1.5: leaf 2
		{2, 3, 2.5},          // code 0: left, then a > 1.5: leaf 3
		{0, 9, 1.5},          // code 2: left
		{0, 5, 3.5},          // code 1: known, not left: right
		{0, 4, 1.5},          // unknown: NaN, missing goes left
		{0, math.NaN(), 1.5}, // NaN: left
		{math.NaN(), 5, 3.5}, // code 1 right
		{math.NaN(), 3, 1.5}, // left, then NaN at a numerical split: missing_go_to_left 0, right... leaf 3
	} {
		m.Raw([]float64{c.a, c.b}, raw)
		if math.IsNaN(c.a) && c.b == 3 {
			c.want = 2.5
		}
		require.Equal(t, c.want, raw[0], "a=%v b=%v", c.a, c.b)
	}
}

func TestGB(t *testing.T) {
	m, err := ParseGB(encode(t, gbDoc()))
	require.NoError(t, err)
	raw := make([]float64, 3)
	// float32(0.1) > 0.1, so 0.1 goes right under scikit-learn's float32 cast.
	init, lr := []float64{0.1, -0.2, 0.1}, 0.1 // variables: constant arithmetic would be exact
	m.Raw([]float64{0, 0.1}, raw)
	require.Equal(t, []float64{init[0] + lr, init[1] + lr, init[2] + lr}, raw)
	m.Raw([]float64{0, 0.09}, raw)
	require.Equal(t, []float64{init[0] - lr, init[1] - lr, init[2] - lr}, raw)
}

func TestRefusals(t *testing.T) {
	type edit func(d map[string]any)
	set := func(k string, v any) edit { return func(d map[string]any) { d[k] = v } }
	pred := func(k string, v any) edit {
		return func(d map[string]any) { d["iterations"].([][]map[string]any)[0][0][k] = v }
	}
	tree := func(k string, v any) edit {
		return func(d map[string]any) { d["stages"].([][]map[string]any)[0][1][k] = v }
	}
	for _, c := range []struct {
		name string
		gb   bool
		edit edit
		want string
	}{
		{"format", false, set("format", "classify/sklearn-trees"), "format is"},
		{"version 3", false, set("format_version", 3), "version 3 is not supported (this package reads 1 and 2)"},
		{"stats in version 1", false, pred("count", []int{1, 1, 1, 1, 1}), "count and gain are version 2 fields"},
		{"no stats in version 2", false, set("format_version", 2), "count has 0 and gain 0 entries for 5 nodes"},
		{"negative count", false, func(d map[string]any) {
			d["format_version"] = 2
			pred("count", []int{5, -1, 1, 1, 1})(d)
			pred("gain", []float64{1, 1, 0, 0, 0})(d)
		}, "node 1: count -1"},
		{"estimator", false, set("estimator", "HistGradientBoostingRegressor"), "estimator is"},
		{"kind", false, set("kind", "gradient_boosting"), "kind is"},
		{"no library", false, set("library", ""), "no library"},
		{"unknown field", false, set("extra", 1), "unknown field"},
		{"duplicate feature", false, set("features", []string{"a", "a"}), `"a" appears twice`},
		{"empty class", false, set("classes", []string{"", "x"}), "empty name"},
		{"one class", false, set("classes", []string{"x"}), "at least 2"},
		{"link softmax for 2", false, set("link", "softmax"), `link "softmax" for 2 classes`},
		{"link other", false, set("link", "identity"), `link "identity"`},
		{"baseline length", false, set("baseline", []float64{0, 1}), "baseline has 2 values"},
		{"columns length", false, set("columns", []int{0}), "columns has 1"},
		{"columns permutation", false, set("columns", []int{1, 1}), "not a permutation"},
		{"categories length", false, set("categories", []any{nil}), "categories has 1"},
		{"categories empty", false, set("categories", []any{nil, []float64{}}), "has 0 categories"},
		{"categories unsorted", false, set("categories", []any{nil, []float64{3, 3}}), "not sorted"},
		{"f_idx_map length", false, set("f_idx_map", []int{0}), "f_idx_map has 1"},
		{"f_idx_map range", false, set("f_idx_map", []int{1, 0}), "f_idx_map[0] is 1"},
		{"bitset words", false, set("known_cat_bitsets", [][]uint32{{7}}), "bitset of 1 words"},
		{"bitset word range", false, set("known_cat_bitsets", [][]int64{{-1, 0, 0, 0, 0, 0, 0, 0}}), `element 0 "-1"`},
		{"no iterations", false, set("iterations", [][]any{}), "no iterations"},
		{"absent iterations", false, func(d map[string]any) { delete(d, "iterations") }, "no iterations"},
		{"iterations not arrays", false, set("iterations", []int{1}), "where [ comes"},
		{"two predictors", false, func(d map[string]any) {
			it := d["iterations"].([][]map[string]any)
			d["iterations"] = [][]map[string]any{{it[0][0], it[0][0]}}
		}, "more than 1"},
		{"empty iteration", false, set("iterations", [][]any{{}}), "iteration 0 has 0 trees, want 1"},
		{"no nodes", false, pred("value", []float64{}), "no nodes"},
		{"value not an array", false, pred("value", 5), "not an array"},
		{"value nested", false, pred("value", [][]int{{1}}), `element 0 "[1]"`},
		{"value string", false, pred("value", []string{"1"}), `element 0 "\"1\""`},
		{"int fraction", false, pred("left", []float64{1.5, 2, 0, 0, 0}), `element 0 "1.5"`},
		{"too many names", false, set("features", make([]string, MaxFeatures+1)), "more than 65536 names"},
		{"length", false, pred("left", []int{1, 2}), "left has 2 entries"},
		{"flag", false, pred("is_leaf", []int{0, 0, 2, 1, 1}), "not 0 or 1"},
		{"feature range", false, pred("feature_idx", []int{2, 1, 0, 0, 0}), "feature_idx 2"},
		{"categorical on numerical", false, pred("is_categorical", []int{0, 1, 0, 0, 0}), "feature 0 is numerical"},
		{"bitset_idx", false, pred("bitset_idx", []int{1, 0, 0, 0, 0}), "bitset_idx 1"},
		{"child range", false, pred("right", []int{5, 3, 0, 0, 0}), "child 5 outside"},
		{"cycle", false, pred("right", []int{0, 3, 0, 0, 0}), "reached twice"},
		{"unreached", false, pred("right", []int{1, 3, 0, 0, 0}), "reached twice"},
		{"gb estimator", true, set("estimator", "HistGradientBoostingClassifier"), "estimator is"},
		{"gb init", true, set("init", "DummyClassifier"), `init "DummyClassifier"`},
		{"gb init_raw length", true, set("init_raw", []float64{0}), "init_raw has 1"},
		{"gb zero init", true, set("init", "zero"), "init_raw 0 is 0.1 for init zero"},
		{"gb learning rate", true, set("learning_rate", 0), "learning_rate"},
		{"gb learning rate absent", true, func(d map[string]any) { delete(d, "learning_rate") }, "learning_rate"},
		{"gb no stages", true, set("stages", [][]any{}), "no stages"},
		{"gb absent stages", true, func(d map[string]any) { delete(d, "stages") }, "no stages"},
		{"gb stage short", true, func(d map[string]any) {
			d["stages"] = [][]map[string]any{{gbTree()}}
		}, "stage 0 has 1 trees"},
		{"gb lengths", true, tree("feature", []int{1}), "arrays differ"},
		{"gb half leaf", true, tree("children_right", []int{2, 0, -1}), "node 1: children -1 and 0"},
		{"gb feature", true, tree("feature", []int{2, -2, -2}), "feature 2 outside"},
		{"gb overflow", true, func(d map[string]any) {
			d["learning_rate"] = 10.0
			tree("value", []float64{0, 1e308, 1})(d)
		}, "learning_rate * value"},
		{"gb shape", true, tree("children_left", []int{2, -1, -1}), "reached twice"},
		{"gb unknown tree field", true, tree("impurities", []float64{0, 0, 0}), "unknown field"},
		{"gb stats in version 1", true, tree("impurity", []float64{0, 0, 0}), "are version 2 fields"},
		{"gb no stats in version 2", true, set("format_version", 2), "n_node_samples has 0 entries for 3 nodes"},
		{"gb negative weight", true, func(d map[string]any) {
			d["format_version"] = 2
			for _, tr := range d["stages"].([][]map[string]any)[0] {
				tr["n_node_samples"], tr["weighted_n_node_samples"], tr["impurity"] = []int{2, 1, 1}, []float64{2, 1, 1}, []float64{0.5, 0, 0}
			}
			tree("weighted_n_node_samples", []float64{2, -1, 1})(d)
		}, "node 1: weighted_n_node_samples -1 is negative"},
		{"trailing", true, nil, "trailing data"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var err error
			if c.gb {
				d := gbDoc()
				b := append(encode(t, d), "{}"...)
				if c.edit != nil {
					c.edit(d)
					b = encode(t, d)
				}
				_, err = ParseGB(b)
			} else {
				d := hgbDoc()
				c.edit(d)
				_, err = ParseHGB(encode(t, d))
			}
			require.Error(t, err)
			require.True(t, errors.Is(err, ErrFormat), "%v", err)
			require.ErrorContains(t, err, c.want)
		})
	}
}

func fuzzSeeds(f *testing.F, pattern string, n int, docs ...[]byte) {
	for _, d := range docs {
		f.Add(d)
	}
	for _, path := range suiteFiles(f, pattern, n) {
		b, err := os.ReadFile(path)
		require.NoError(f, err)
		if len(b) < 60000 {
			f.Add(b)
		}
	}
}

func FuzzParseHGB(f *testing.F) {
	b, _ := json.Marshal(hgbDoc())
	fuzzSeeds(f, "hist_gradient_boosting*.json", 5, b)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseHGB(b)
		if err != nil {
			require.ErrorIs(t, err, ErrFormat)
			return
		}
		walk(t, m, len(m.Features), len(m.Classes))
	})
}

func FuzzParseGB(f *testing.F) {
	b, _ := json.Marshal(gbDoc())
	fuzzSeeds(f, "gradient_boosting*.json", 6, b)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseGB(b)
		if err != nil {
			require.ErrorIs(t, err, ErrFormat)
			return
		}
		walk(t, m, len(m.Features), len(m.Classes))
	})
}

// walk predicts a few rows: whatever a parser accepts, the reference
// evaluates without panicking.
func walk(t *testing.T, m reference, nf, nc int) {
	raw := make([]float64, m.Groups())
	p := make([]float64, nc)
	for _, v := range []float64{0, math.NaN(), -1, 1e30, 2} {
		row := make([]float64, nf)
		for i := range row {
			row[i] = v
		}
		m.Raw(row, raw)
		require.Less(t, m.Proba(raw, p), nc)
	}
}
