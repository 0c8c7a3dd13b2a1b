package treeviz

import (
	"bytes"
	"io"
	"strconv"
	"strings"

	"github.com/ml-production-service/classify"
)

// DOT writes tree i of m (0 <= i < m.Trees()) as a Graphviz digraph: a box
// per node, named n0, n1, … in depth-first order from the root, labelled
// with its split condition or leaf value and its cover; edges labelled
// "yes" (left), "no" (right) and "missing" on the way NaN goes; the graph
// labelled with the model's kind, the tree and its library's rule. It
// returns an error wrapping ErrTree for an index out of range or a
// malformed tree, and w's error.
func DOT(w io.Writer, m classify.TreeModel, i int) error {
	t, err := prepare(m, i)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString("digraph tree {\n")
	b.WriteString("\tgraph [label=" + dotString(t.title) + ", labelloc=t, fontname=\"monospace\"];\n")
	b.WriteString("\tnode [shape=box, style=\"rounded,filled\", fontname=\"monospace\"];\n")
	b.WriteString("\tedge [fontname=\"monospace\"];\n")
	for k, n := range t.nodes {
		fill := splitFill
		if n.leaf {
			fill = leafFill
		}
		b.WriteString("\tn" + strconv.Itoa(k) + " [label=" + dotString(strings.Join(n.lines, "\n")) + ", fillcolor=\"" + fill + "\"];\n")
	}
	for k, n := range t.nodes {
		if n.leaf {
			continue
		}
		b.WriteString("\tn" + strconv.Itoa(k) + " -> n" + strconv.Itoa(n.left) + " [label=" + dotString(n.yes) + "];\n")
		b.WriteString("\tn" + strconv.Itoa(k) + " -> n" + strconv.Itoa(n.right) + " [label=" + dotString(n.no) + "];\n")
	}
	b.WriteString("}\n")
	_, err = w.Write(b.Bytes())
	return err
}

// The fill colours of splits and leaves, in DOT and SVG.
const (
	splitFill = "#e8f0fe"
	leafFill  = "#e6f4ea"
)

// dotString quotes s as a DOT string whose label shows s as it is: quotes
// and backslashes escaped (a backslash would otherwise start one of
// Graphviz's label escapes, \N or \l), line breaks as \n, other control
// characters dropped.
func dotString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r < 0x20 || r == 0x7f:
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
