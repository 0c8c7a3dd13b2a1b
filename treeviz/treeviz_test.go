package treeviz_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/treeviz"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata from the current output (review the diff before committing)")

// golden compares got with testdata/name, or writes it there with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "golden file missing: run go test ./treeviz -update and review it")
	assert.Equal(t, string(want), string(got), "output differs from %s (go test ./treeviz -update rewrites it)", path)
}

func render(t *testing.T, f func(io.Writer) error) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, f(&b))
	return b.Bytes()
}

func TestGolden(t *testing.T) {
	iris, xgb := irisTree(), xgbTree()
	for _, tc := range []struct {
		name string
		f    func(io.Writer) error
	}{
		{"iris_tree.dot", func(w io.Writer) error { return treeviz.DOT(w, iris, 0) }},
		{"iris_tree.svg", func(w io.Writer) error { return treeviz.SVG(w, iris, 0) }},
		{"iris_tree.html", func(w io.Writer) error { return treeviz.Page(w, iris, "decision_tree") }},
		{"xgb_tree0.dot", func(w io.Writer) error { return treeviz.DOT(w, xgb, 0) }},
		{"xgb_tree0.svg", func(w io.Writer) error { return treeviz.SVG(w, xgb, 0) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := render(t, tc.f)
			golden(t, tc.name, got)
			assert.Equal(t, got, render(t, tc.f), "a second rendering differs: output must be deterministic")
		})
	}
}

// TestConditions checks what a split says, rule by rule: the float32
// rules print the float32 that decides the same, exactly.
func TestConditions(t *testing.T) {
	for _, tc := range []struct {
		name      string
		kind      classify.Kind
		rule      string
		threshold float64
		cats      []int
		want      string
	}{
		{"sklearn float32 midpoint", classify.DecisionTree, "float32(x) <= t", 0.800000011920929, nil, "x <= 0.8"},
		// 2.45 as a double lies between two float32s: float32(x) <= 2.45
		// holds for float32(x) up to the float32 just below 2.45.
		{"sklearn double between float32s", classify.DecisionTree, "float32(x) <= t", 2.45, nil, "x <= 2.4499998"},
		{"xgboost float32", classify.XGBoost, "float32(x) < t", float64(float32(2.45)), nil, "x < 2.45"},
		{"xgboost double above a float32", classify.XGBoost, "float32(x) < t", 2.45, nil, "x < 2.45"},
		{"lightgbm double", classify.LightGBM, "x <= t", 2.4500000000000006, nil, "x <= 2.4500000000000006"},
		{"hgb +inf stand-in", classify.HistGradientBoosting, "x <= t", 1.7976931348623157e308, nil, "x <= 1.7976931348623157e+308"},
		{"sklearn beyond float32", classify.DecisionTree, "float32(x) <= t", 1e39, nil, "x <= 3.4028235e+38"},
		{"categorical", classify.LightGBM, "x <= t", 0, []int{1, 3}, "x in {1, 3}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &fakeModel{info: classify.Info{Kind: tc.kind, Features: []string{"x"}, Classes: []string{"a", "b"}}, outputs: []string{"b"},
				trees: []classify.TreeGraph{{Rule: tc.rule, Nodes: []classify.TreeNode{
					{Feature: 0, Threshold: tc.threshold, Categories: tc.cats, Left: 1, Right: 2},
					{Feature: -1, Left: -1, Right: -1, Value: []float64{1}},
					{Feature: -1, Left: -1, Right: -1, Value: []float64{2}},
				}}}}
			dot := string(render(t, func(w io.Writer) error { return treeviz.DOT(w, m, 0) }))
			assert.Contains(t, dot, `n0 [label="`+tc.want+`"`)
			assert.NotContains(t, dot, "missing", "a model without missing values has no missing edge")
		})
	}
}

func TestMissingEdges(t *testing.T) {
	dot := string(render(t, func(w io.Writer) error { return treeviz.DOT(w, irisTree(), 0) }))
	assert.Contains(t, dot, `n0 -> n1 [label="yes, missing"]`)
	assert.Contains(t, dot, `n0 -> n2 [label="no"]`)
	assert.Contains(t, dot, `n2 -> n3 [label="yes"]`)
	assert.Contains(t, dot, `n2 -> n4 [label="no, missing"]`)
	assert.Contains(t, dot, `samples = 150`)
	x := string(render(t, func(w io.Writer) error { return treeviz.DOT(w, xgbTree(), 0) }))
	assert.Contains(t, x, `cover = 37.5`)
	assert.Contains(t, x, `output 0 (yes)`)
	assert.NotContains(t, x, "samples")
}

// hostile names every text a model file supplies with characters that
// break markup and DOT.
func hostile() *fakeModel {
	m := irisTree()
	evil := []string{`<script>alert(1)</script>`, `a & b "quoted" 'single'`, `back\slash\N\l`, "sepal\u00a0width"}
	m.info.Features = evil
	m.info.Classes = []string{`</svg><script>x</script>`, "line\nbreak\x00\x1b]0;", "\xff\xfe bad utf-8"}
	m.outputs = m.info.Classes
	m.info.Name, m.info.Version = `<b>name</b>`, `"><img src=x>`
	m.trees[0].Nodes[0].Feature = 0
	m.trees[0].Nodes[2].Feature = 2
	m.imp.Features = evil
	m.imp.GainKind = `<i>gain</i>`
	return m
}

// TestHostileNamesSVG parses the SVG and the page as XML: a name that
// broke the markup would fail to parse or add an element; and the texts
// read back as the names.
func TestHostileNamesSVG(t *testing.T) {
	m := hostile()
	svg := render(t, func(w io.Writer) error { return treeviz.SVG(w, m, 0) })
	texts := parseXML(t, svg)
	assert.Contains(t, texts, `<script>alert(1)</script> <= 0.8`)
	assert.Contains(t, texts, `class = </svg><script>x</script>`)
	assert.NotContains(t, string(svg), "<script")
	page := render(t, func(w io.Writer) error { return treeviz.Page(w, m, `<model & "name">`) })
	assert.NotContains(t, string(page), "<script")
	assert.NotContains(t, string(page), "<img")
	assert.NotContains(t, string(page), "<b>")
	assert.Contains(t, string(page), "&lt;model &amp; &#34;name&#34;&gt;")
	// The page is XHTML-clean apart from its doctype: parse it too.
	texts = parseXML(t, bytes.TrimPrefix(page, []byte("<!DOCTYPE html>\n")))
	assert.Contains(t, texts, `a & b "quoted" 'single'`)
}

// parseXML parses b strictly and returns its character data.
func parseXML(t *testing.T, b []byte) string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	var texts strings.Builder
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return texts.String()
		}
		require.NoError(t, err, "not well-formed XML")
		if cd, ok := tok.(xml.CharData); ok {
			texts.Write(cd)
			texts.WriteByte('\n')
		}
		if se, ok := tok.(xml.StartElement); ok {
			require.NotEqual(t, "script", se.Name.Local)
		}
	}
}

func TestHostileNamesDOT(t *testing.T) {
	m := hostile()
	dot := render(t, func(w io.Writer) error { return treeviz.DOT(w, m, 0) })
	g := parseDOT(t, string(dot))
	assert.Equal(t, `<script>alert(1)</script> <= 0.8`+"\n"+`samples = 150`+"\n"+`gain = 50`, g.labels["n0"])
	assert.Equal(t, `back\slash\N\l <= 1.75`+"\nsamples = 100\ngain = 38.969", g.labels["n2"])
	assert.Equal(t, "samples = 54\nvalue = [0, 0.907407, 0.0925926]\nclass = line\nbreak]0;", g.labels["n3"], "a newline in a name is a line break, control characters are dropped")
	assert.Equal(t, "samples = 46\nvalue = [0, 0.0217391, 0.978261]\nclass = \ufffd\ufffd bad utf-8", g.labels["n4"])
	assert.Contains(t, g.labels["n1"], "class = </svg><script>x</script>")
}

func TestDOTStructure(t *testing.T) {
	for _, m := range []*fakeModel{irisTree(), xgbTree(), hostile()} {
		for i := range m.Trees() {
			g := parseDOT(t, string(render(t, func(w io.Writer) error { return treeviz.DOT(w, m, i) })))
			assert.Len(t, g.labels, len(m.trees[i].Nodes))
			assert.Len(t, g.edges, len(m.trees[i].Nodes)-1, "a tree has one edge fewer than nodes")
		}
	}
}

func TestErrors(t *testing.T) {
	m := irisTree()
	for _, i := range []int{-1, 1} {
		assert.ErrorIs(t, treeviz.DOT(io.Discard, m, i), treeviz.ErrTree)
		assert.ErrorIs(t, treeviz.SVG(io.Discard, m, i), treeviz.ErrTree)
	}
	leaf := classify.TreeNode{Feature: -1, Left: -1, Right: -1}
	for name, nodes := range map[string][]classify.TreeNode{
		"no nodes":         nil,
		"child beyond":     {{Feature: 0, Left: 1, Right: 5}, leaf},
		"cycle":            {{Feature: 0, Left: 1, Right: 0}, leaf},
		"feature beyond":   {{Feature: 9, Left: 1, Right: 2}, leaf, leaf},
		"negative feature": {{Feature: -1, Left: 1, Right: 2}, leaf, leaf},
	} {
		t.Run(name, func(t *testing.T) {
			bad := irisTree()
			bad.trees[0].Nodes = nodes
			assert.ErrorIs(t, treeviz.DOT(io.Discard, bad, 0), treeviz.ErrTree)
			assert.ErrorIs(t, treeviz.SVG(io.Discard, bad, 0), treeviz.ErrTree)
			assert.ErrorIs(t, treeviz.Page(io.Discard, bad, "bad"), treeviz.ErrTree)
		})
	}
	w := failWriter{}
	assert.Error(t, treeviz.DOT(w, m, 0))
	assert.Error(t, treeviz.SVG(w, m, 0))
	assert.Error(t, treeviz.Page(w, m, "x"))
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("write failed") }

// manyTrees is a model of n copies of the iris tree.
func manyTrees(n int) *fakeModel {
	m := irisTree()
	m.info.Kind = classify.RandomForest
	for len(m.trees) < n {
		m.trees = append(m.trees, m.trees[0])
	}
	return m
}

// TestPageBounded: a page draws at most Trees trees and Nodes nodes, and
// links the rest.
func TestPageBounded(t *testing.T) {
	page := string(render(t, func(w io.Writer) error { return treeviz.Page(w, manyTrees(2500), "forest") }))
	assert.Equal(t, 10, strings.Count(page, `<section class="tree"`))
	assert.Contains(t, page, `id="tree-9"`)
	assert.NotContains(t, page, `id="tree-10"`)
	assert.Contains(t, page, `<a href="trees/10.svg">10</a>`)
	assert.Contains(t, page, `<a href="trees/1009.svg">1009</a>`)
	assert.NotContains(t, page, `trees/1010.svg`)
	assert.Contains(t, page, "2490 more trees")
	assert.Contains(t, page, "… and trees 1010 to 2499.")
	assert.Less(t, len(page), 100_000)

	small := string(render(t, func(w io.Writer) error {
		return treeviz.PageOptions{Nodes: 12, Trees: 5, TreeURL: func(i int, f string) string {
			return fmt.Sprintf("/x/%d/%s", i, f)
		}}.Write(w, manyTrees(4), "forest")
	}))
	assert.Equal(t, 2, strings.Count(small, `<section class="tree"`), "two trees of 5 nodes fit in 12")
	assert.Contains(t, small, `<a href="/x/0/dot">dot</a>`)
	assert.Contains(t, small, `<a href="/x/3/svg">3</a>`)

	none := string(render(t, func(w io.Writer) error {
		return treeviz.PageOptions{Nodes: 3, TreeURL: func(int, string) string { return "" }}.Write(w, manyTrees(2), "forest")
	}))
	assert.Contains(t, none, "the first is larger than the page draws")
	assert.NotContains(t, none, "<a ")
}

func TestPageImportances(t *testing.T) {
	m := irisTree()
	m.imp.Features = make([]string, 60)
	m.imp.Splits = make([]int, 60)
	m.imp.Gain = make([]float64, 60)
	for f := range m.imp.Features {
		m.imp.Features[f] = fmt.Sprintf("feature_%02d_%s", f, strings.Repeat("x", f))
		m.imp.Splits[f] = f % 7
		m.imp.Gain[f] = float64(f)
	}
	page := string(render(t, func(w io.Writer) error { return treeviz.Page(w, m, "wide") }))
	assert.Equal(t, 50, strings.Count(page, `<g class="feature">`))
	assert.Contains(t, page, "10 more features with less gain are not shown.")
	assert.Contains(t, page, ">59</text>", "the largest gain is shown")
	assert.NotContains(t, page, "feature_09_", "the smallest gains are not")
	assert.Contains(t, page, "…</text>", "long names are cut")
}
