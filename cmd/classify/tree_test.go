package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTreeCommand(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		starts string
		has    []string
	}{
		{"svg by default", []string{"tree", "-model", "decision_tree"}, `<svg xmlns="http://www.w3.org/2000/svg"`,
			[]string{"decision_tree, tree 0 of 1", "petal_"}},
		{"dot of an xgboost tree", []string{"tree", "--model", "xgboost", "--tree", "7", "--format", "dot"}, "digraph tree {",
			[]string{"xgboost, tree 7 of 300, output 1 (versicolor)", "float32(x) < t", "cover = "}},
		{"page", []string{"tree", "-model", "random_forest", "-format", "html"}, "<!DOCTYPE html>",
			[]string{"<h1>random_forest</h1>", "gain (feature_importances_)", `<section class="tree" id="tree-0">`}},
		{"an artifact, LightGBM", []string{"tree", "-artifact", "../../testdata/boosting/sklearn-1.9.1_lightgbm-4.7.0/categorical/lightgbm.txt",
			"-kind", "lightgbm", "-format", "dot", "-tree", "3"}, "digraph tree {", []string{"lightgbm, tree 3 of", "x <= t"}},
		{"page of an artifact", []string{"tree", "-artifact", "../../models/decision_tree.json", "-kind", "decision_tree", "-format", "html"},
			"<!DOCTYPE html>", []string{"<h1>decision_tree.json</h1>"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := inProcess(t, "", tc.args...)
			require.Equal(t, 0, r.code, r.stderr)
			assert.Empty(t, r.stderr)
			assert.True(t, strings.HasPrefix(r.stdout, tc.starts), "%.100s", r.stdout)
			for _, h := range tc.has {
				assert.Contains(t, r.stdout, h)
			}
		})
	}
	page := inProcess(t, "", "tree", "-model", "xgboost", "-format", "html").stdout
	assert.Contains(t, page, "290 more trees, not drawn here")
	assert.NotContains(t, page, "<a ", "a page on its own links nowhere")
	svg := inProcess(t, "", "tree", "-model", "xgboost", "-tree", "299").stdout
	d := xml.NewDecoder(bytes.NewReader([]byte(svg)))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "the SVG is well-formed XML")
	}
}

func TestTreeCommandErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"tree"}, 2, "model heuristic (heuristic) has no trees to draw"},
		{[]string{"tree", "-model", "decision_tree", "-tree", "1"}, 2, "-tree 1: the model's trees are 0 to 0"},
		{[]string{"tree", "-model", "xgboost", "-tree", "-1"}, 2, "-tree -1: the model's trees are 0 to 299"},
		{[]string{"tree", "-model", "xgboost", "-format", "png"}, 2, `-format "png": want svg, dot or html`},
		{[]string{"tree", "-model", "xgboost", "-format", "html", "-tree", "2"}, 2, "-tree goes with -format svg or dot"},
		{[]string{"tree", "-model", "nope"}, 2, "-model: "},
		{[]string{"tree", "-model", "xgboost", "extra"}, 2, `tree takes no arguments, got "extra"`},
		{[]string{"tree", "-bogus"}, 2, "flag provided but not defined: -bogus"},
		{[]string{"tree", "-artifact", "nope.json", "-kind", "decision_tree"}, 1, "tree: -artifact nope.json"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := inProcess(t, "", tc.args...)
			assert.Equal(t, tc.code, r.code, r.stderr)
			assert.Contains(t, r.stderr, tc.msg)
			assert.Empty(t, r.stdout)
		})
	}
	r := inProcess(t, "", "tree", "-h")
	assert.Equal(t, 0, r.code)
	assert.Contains(t, r.stdout, "Usage: classify tree [flags]")
	assert.Contains(t, r.stdout, "-format FORMAT")
	assert.Contains(t, inProcess(t, "", "-h").stdout, "  tree      draw a tree model")
}
