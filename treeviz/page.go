package treeviz

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ml-production-service/classify"
)

// PageOptions bound and link a model's page. The zero value draws up to 10
// trees (and 4,000 nodes) and links every tree to the server's per-tree
// URLs, relative to the page (classifyhttp serves the page at
// /models/{name}/page and the trees at /models/{name}/trees/{i}.svg).
type PageOptions struct {
	// Trees is the most trees drawn in the page (default 10): the first
	// ones, as long as they fit in Nodes.
	Trees int
	// Nodes is the most nodes drawn in the page over all its trees
	// (default 4,000): a tree that would exceed it is linked, not drawn,
	// so the page's size stays bounded whatever the model.
	Nodes int
	// Features is the most features the importance chart shows (default
	// 50), those of largest gain.
	Features int
	// Links is the most links to trees not drawn (default 1,000); the page
	// says how many more there are.
	Links int
	// TreeURL returns the address of tree i in format "svg" or "dot", or
	// "" for no link. Default: "trees/{i}.svg" and "trees/{i}.dot".
	TreeURL func(i int, format string) string
}

// Page writes the HTML page of m under name with the zero PageOptions.
func Page(w io.Writer, m classify.TreeModel, name string) error {
	return PageOptions{}.Write(w, m, name)
}

// Write writes one self-contained HTML page for m, named name: what the
// model is, its global importances as two bar charts (splits per feature,
// and gain as m.Importance().GainKind says), and its first trees as inline
// SVG with links to the others. The page has no script and loads nothing:
// its style is inline and its pictures are in it. It returns an error
// wrapping ErrTree for a malformed tree, and w's error.
func (o PageOptions) Write(w io.Writer, m classify.TreeModel, name string) error {
	if o.Trees <= 0 {
		o.Trees = 10
	}
	if o.Nodes <= 0 {
		o.Nodes = 4000
	}
	if o.Features <= 0 {
		o.Features = 50
	}
	if o.Links <= 0 {
		o.Links = 1000
	}
	if o.TreeURL == nil {
		o.TreeURL = func(i int, format string) string { return "trees/" + strconv.Itoa(i) + "." + format }
	}
	info := m.Info()
	n := m.Trees()
	var b bytes.Buffer
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n")
	b.WriteString("<title>" + xmlText(name) + " · classify</title>\n")
	b.WriteString("<style>\nbody{font-family:sans-serif;margin:1.5em;color:#202124}\n" +
		".tree{overflow-x:auto;border-top:1px solid #dadce0;padding-top:.5em}\n" +
		"code,.links{font-family:monospace}\n</style>\n</head>\n<body>\n")
	b.WriteString("<h1>" + xmlText(name) + "</h1>\n")
	version := ""
	if info.Version != "" {
		version = ", version " + xmlText(info.Version)
	}
	fmt.Fprintf(&b, "<p>Kind <code>%s</code>%s. Features: %d. Classes: %d (%s). Trees: %d.</p>\n",
		xmlText(string(info.Kind)), version, len(info.Features), len(info.Classes), xmlText(strings.Join(info.Classes, ", ")), n)

	imp := m.Importance()
	b.WriteString("<h2 id=\"importance\">Importances</h2>\n")
	fmt.Fprintf(&b, "<p>Splits: the splits that test each feature, over all trees. Gain: %s.</p>\n", xmlText(gainDoc(imp.GainKind)))
	importanceChart(&b, imp, o.Features)

	b.WriteString("<h2 id=\"trees\">Trees</h2>\n")
	drawn, nodes, i := 0, 0, 0
	for ; i < n && drawn < o.Trees; i++ {
		t, err := prepare(m, i)
		if err != nil {
			return err
		}
		if nodes+len(t.nodes) > o.Nodes {
			break
		}
		nodes += len(t.nodes)
		drawn++
		fmt.Fprintf(&b, "<section class=\"tree\" id=\"tree-%d\">\n<h3>Tree %d</h3>\n", i, i)
		if links := treeLinks(o, i); links != "" {
			b.WriteString("<p class=\"links\">" + links + "</p>\n")
		}
		drawSVG(&b, t)
		b.WriteString("</section>\n")
	}
	if i < n {
		fmt.Fprintf(&b, "<section id=\"more\">\n<p>%d more trees, not drawn here", n-i)
		if drawn == 0 {
			b.WriteString(" (the first is larger than the page draws)")
		}
		b.WriteString(".</p>\n<p class=\"links\">")
		end := min(n, i+o.Links)
		for k := i; k < end; k++ {
			if u := o.TreeURL(k, "svg"); u != "" {
				fmt.Fprintf(&b, "<a href=\"%s\">%d</a> ", xmlText(u), k)
			}
		}
		b.WriteString("</p>\n")
		if end < n {
			fmt.Fprintf(&b, "<p>… and trees %d to %d.</p>\n", end, n-1)
		}
		b.WriteString("</section>\n")
	}
	b.WriteString("</body>\n</html>\n")
	_, err := w.Write(b.Bytes())
	return err
}

func treeLinks(o PageOptions, i int) string {
	s := ""
	for _, f := range []string{"svg", "dot"} {
		if u := o.TreeURL(i, f); u != "" {
			s += "<a href=\"" + xmlText(u) + "\">" + f + "</a> "
		}
	}
	return s
}

// gainDoc says what an Importance's GainKind is.
func gainDoc(kind string) string {
	if kind == "" {
		return "the gain the library reports"
	}
	return kind
}

// importanceChart draws the features of largest gain (at most max, then
// by splits, then in feature order) as one SVG: a row per feature, its
// name, a bar of its splits and a bar of its gain, each scaled to the
// largest.
func importanceChart(b *bytes.Buffer, imp classify.Importance, limit int) {
	nf := len(imp.Features)
	gain := func(f int) float64 {
		if f < len(imp.Gain) && !math.IsNaN(imp.Gain[f]) {
			return imp.Gain[f]
		}
		return 0
	}
	splits := func(f int) int {
		if f < len(imp.Splits) {
			return imp.Splits[f]
		}
		return 0
	}
	order := make([]int, nf)
	for f := range order {
		order[f] = f
	}
	slices.SortStableFunc(order, func(a, c int) int {
		if g := cmp.Compare(gain(c), gain(a)); g != 0 {
			return g
		}
		return cmp.Compare(splits(c), splits(a))
	})
	shown := order[:min(nf, limit)]
	maxS, maxG, nameChars := 0, 0.0, 7
	for _, f := range shown {
		maxS, maxG = max(maxS, splits(f)), max(maxG, gain(f))
		nameChars = max(nameChars, min(utf8.RuneCountInString(imp.Features[f]), 40))
	}
	const barW, valueW, rowH = 220.0, 90.0, 20.0
	nameW := float64(nameChars)*charWidth + 8
	colS := nameW + 8
	colG := colS + barW + valueW
	width := colG + barW + valueW
	height := rowH * float64(len(shown)+1)
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" class="importance" width="` + px(width) + `" height="` + px(height) +
		`" viewBox="0 0 ` + px(width) + " " + px(height) + `" font-family="monospace" font-size="` + strconv.Itoa(fontSize) + `">` + "\n")
	b.WriteString("<title>Importances: splits and gain per feature</title>\n")
	b.WriteString(`<text x="` + px(colS) + `" y="14" font-weight="bold">splits</text>`)
	b.WriteString(`<text x="` + px(colG) + `" y="14" font-weight="bold">gain (` + xmlText(gainDoc(imp.GainKind)) + ")</text>\n")
	for r, f := range shown {
		y := rowH * float64(r+1)
		name := imp.Features[f]
		if utf8.RuneCountInString(name) > 40 {
			name = string([]rune(name)[:39]) + "…"
		}
		b.WriteString(`<g class="feature"><text x="` + px(nameW) + `" y="` + px(y+14) + `" text-anchor="end">` + xmlText(name) + "</text>")
		ws := 0.0
		if maxS > 0 {
			ws = barW * float64(splits(f)) / float64(maxS)
		}
		wg := 0.0
		if maxG > 0 && gain(f) > 0 {
			wg = barW * gain(f) / maxG
		}
		b.WriteString(`<rect x="` + px(colS) + `" y="` + px(y+4) + `" width="` + px(ws) + `" height="12" fill="#8ab4f8"/>`)
		b.WriteString(`<text x="` + px(colS+ws+4) + `" y="` + px(y+14) + `">` + strconv.Itoa(splits(f)) + "</text>")
		b.WriteString(`<rect x="` + px(colG) + `" y="` + px(y+4) + `" width="` + px(wg) + `" height="12" fill="#81c995"/>`)
		g := "NaN"
		if f < len(imp.Gain) {
			g = number(imp.Gain[f])
		}
		b.WriteString(`<text x="` + px(colG+wg+4) + `" y="` + px(y+14) + `">` + g + "</text></g>\n")
	}
	b.WriteString("</svg>\n")
	if nf > len(shown) {
		fmt.Fprintf(b, "<p>%d more features with less gain are not shown.</p>\n", nf-len(shown))
	}
}
