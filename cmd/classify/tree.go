package main

import (
	"path/filepath"
	"slices"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/treeviz"
)

// treeFormats are what -format takes.
var treeFormats = []string{"svg", "dot", "html"}

// treeCmd draws a tree model on stdout:
// `classify tree [-model NAME | -artifact PATH -kind KIND] [-tree I] [-format svg|dot|html]`.
func treeCmd(args []string, e env) error {
	fs := newFlagSet("tree", "tree [flags]\n\n"+
		"Draws a tree model (decision tree, forest, XGBoost, LightGBM, gradient boosting) on stdout:\n"+
		"one tree as SVG or Graphviz DOT, or the model's page (HTML: its importances and its first trees).\n"+
		"Split conditions are written as the model's library decides them (package treeviz).", e.stdout)
	var mf modelFlags
	mf.register(fs)
	index := fs.Int("tree", 0, "the tree `I` to draw with -format svg or dot, from 0")
	format := fs.String("format", "svg", "`FORMAT`: svg, dot, or html (the model's page)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("tree takes no arguments, got %q", pos[0])
	}
	set := given(fs)
	if !slices.Contains(treeFormats, *format) {
		return usagef("-format %q: want svg, dot or html", *format)
	}
	if *format == "html" && set["tree"] {
		return usagef("-tree goes with -format svg or dot: the page draws the first trees")
	}
	m, err := mf.load("tree", set, e.newModel)
	if err != nil {
		return err
	}
	name := mf.name
	if mf.artifact != "" {
		name = filepath.Base(mf.artifact)
	}
	tm, ok := m.(classify.TreeModel)
	if !ok {
		return usagef("model %s (%s) has no trees to draw", name, m.Info().Kind)
	}
	if n := tm.Trees(); *index < 0 || *index >= n {
		return usagef("-tree %d: the model's trees are 0 to %d", *index, n-1)
	}
	switch *format {
	case "dot":
		err = treeviz.DOT(e.stdout, tm, *index)
	case "html":
		// A page on its own has no server to link the other trees to.
		err = treeviz.PageOptions{TreeURL: func(int, string) string { return "" }}.Write(e.stdout, tm, name)
	default:
		err = treeviz.SVG(e.stdout, tm, *index)
	}
	if err != nil {
		return libraryErr("tree", "model "+name, err, "treeviz: ")
	}
	return nil
}
