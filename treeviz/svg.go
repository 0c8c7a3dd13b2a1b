package treeviz

import (
	"bytes"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ml-production-service/classify"
)

// The SVG layout, in pixels: monospace text of fontSize, whose characters
// are taken as charWidth wide (0.6em, the advance of common monospace
// fonts), in boxes padded by pad, columns hGap apart and rows vGap apart
// (room for the edge labels).
const (
	fontSize   = 12
	charWidth  = 7.2
	lineHeight = 15
	pad        = 6
	hGap       = 16
	vGap       = 40
	margin     = 10
	titleH     = 24
)

// SVG writes tree i of m (0 <= i < m.Trees()) as a standalone SVG image,
// laid out by the package itself: leaves left to right in tree order, a
// split centred over its children, one row per depth, every box as wide
// as the widest (so no two boxes overlap). Texts are those of DOT. It
// returns an error wrapping ErrTree for an index out of range or a
// malformed tree, and w's error.
func SVG(w io.Writer, m classify.TreeModel, i int) error {
	t, err := prepare(m, i)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	drawSVG(&b, t)
	_, err = w.Write(b.Bytes())
	return err
}

// drawSVG writes t as an <svg> element, with the XML namespace so that it
// stands alone and also inlines in HTML.
func drawSVG(b *bytes.Buffer, t *tree) {
	// Every box is boxW wide and boxH high: the widest and the tallest.
	maxChars, maxLines := 0, 1
	for _, n := range t.nodes {
		for _, l := range n.lines {
			maxChars = max(maxChars, utf8.RuneCountInString(l))
		}
		maxLines = max(maxLines, len(n.lines))
	}
	boxW := float64(maxChars)*charWidth + 2*pad
	boxH := float64(maxLines*lineHeight + 2*pad)
	colW, rowH := boxW+hGap, boxH+vGap

	// x in columns: leaves take the next column in depth-first order; a
	// split is centred over its children. Children follow their parent
	// in t.nodes, so walking it backwards places them first.
	x := make([]float64, len(t.nodes))
	col, depth := 0, 0
	for k, n := range t.nodes {
		if n.leaf {
			x[k] = float64(col)
			col++
		}
		depth = max(depth, n.depth)
	}
	for k := len(t.nodes) - 1; k >= 0; k-- {
		if n := t.nodes[k]; !n.leaf {
			x[k] = (x[n.left] + x[n.right]) / 2
		}
	}
	titleW := float64(utf8.RuneCountInString(t.title))*charWidth + 2*margin
	width := max(float64(col)*colW-hGap+2*margin, titleW)
	height := float64(depth+1)*rowH - vGap + 2*margin + titleH
	// Centre of node k's box, left edge and top.
	cx := func(k int) float64 { return margin + x[k]*colW + boxW/2 }
	top := func(k int) float64 { return margin + titleH + float64(t.nodes[k].depth)*rowH }

	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" width="` + px(width) + `" height="` + px(height) +
		`" viewBox="0 0 ` + px(width) + " " + px(height) + `" font-family="monospace" font-size="` + strconv.Itoa(fontSize) + `">` + "\n")
	b.WriteString("<title>" + xmlText(t.title) + "</title>\n")
	b.WriteString(`<text x="` + px(margin) + `" y="` + px(margin+fontSize) + `">` + xmlText(t.title) + "</text>\n")
	// Edges first, so boxes are drawn over them; each labelled halfway.
	b.WriteString(`<g stroke="#5f6368" fill="none">` + "\n")
	for k, n := range t.nodes {
		if n.leaf {
			continue
		}
		for _, c := range []int{n.left, n.right} {
			b.WriteString(`<line x1="` + px(cx(k)) + `" y1="` + px(top(k)+boxH) + `" x2="` + px(cx(c)) + `" y2="` + px(top(c)) + `"/>` + "\n")
		}
	}
	b.WriteString("</g>\n")
	b.WriteString(`<g fill="#3c4043" text-anchor="middle">` + "\n")
	for k, n := range t.nodes {
		if n.leaf {
			continue
		}
		for _, e := range []struct {
			c     int
			label string
		}{{n.left, n.yes}, {n.right, n.no}} {
			mx, my := (cx(k)+cx(e.c))/2, (top(k)+boxH+top(e.c))/2+fontSize/3
			b.WriteString(`<text x="` + px(mx) + `" y="` + px(my) + `">` + xmlText(e.label) + "</text>\n")
		}
	}
	b.WriteString("</g>\n")
	for k, n := range t.nodes {
		fill := splitFill
		if n.leaf {
			fill = leafFill
		}
		left := cx(k) - boxW/2
		b.WriteString(`<g><rect x="` + px(left) + `" y="` + px(top(k)) + `" width="` + px(boxW) + `" height="` + px(boxH) +
			`" rx="4" fill="` + fill + `" stroke="#5f6368"/>`)
		b.WriteString(`<text x="` + px(left+pad) + `" y="` + px(top(k)+pad) + `">`)
		for _, l := range n.lines {
			b.WriteString(`<tspan x="` + px(left+pad) + `" dy="` + strconv.Itoa(lineHeight) + `">` + xmlText(l) + "</tspan>")
		}
		b.WriteString("</text></g>\n")
	}
	b.WriteString("</svg>\n")
}

// px writes a coordinate with at most two decimals.
func px(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) }

// xmlText escapes s for XML text and attribute values: the five special
// characters as entities, and characters XML 1.0 cannot hold (most control
// characters, invalid UTF-8, U+FFFE and U+FFFF) as U+FFFD.
func xmlText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '&':
			b.WriteString("&amp;")
		case r == '"':
			b.WriteString("&#34;")
		case r == '\'':
			b.WriteString("&#39;")
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteRune(r)
		case r < 0x20 || r == 0xFFFE || r == 0xFFFF || (r >= 0xD800 && r <= 0xDFFF):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r) // invalid UTF-8 arrives here as utf8.RuneError
		}
	}
	return b.String()
}
