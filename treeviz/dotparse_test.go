package treeviz_test

import (
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"
)

// dotGraph is what parseDOT reads from a digraph: node labels (as
// Graphviz shows them: \n a line break, \\ a backslash, \" a quote) and
// edges.
type dotGraph struct {
	labels map[string]string
	edges  [][2]string
}

// parseDOT parses the subset of the DOT language DOT writes, strictly:
// `digraph ID { stmt* }` where a statement is `graph|node|edge [attrs];`,
// `ID [attrs];` or `ID -> ID [attrs];`, attributes `ID=ID|"string"`
// separated by commas. Braces and brackets must balance, strings must
// close, and every edge's ends must be declared nodes.
func parseDOT(t *testing.T, src string) dotGraph {
	t.Helper()
	toks := dotTokens(t, src)
	g := dotGraph{labels: map[string]string{}}
	p := 0
	next := func() string {
		require.Less(t, p, len(toks), "DOT ends early")
		p++
		return toks[p-1]
	}
	expect := func(want string) {
		got := next()
		require.Equal(t, want, got, "DOT token %d", p-1)
	}
	isID := func(s string) bool { return s != "" && s[0] != '"' && strings.IndexFunc(s, notIDRune) < 0 }
	attrs := func() map[string]string {
		a := map[string]string{}
		if p < len(toks) && toks[p] == "[" {
			p++
			for toks[p] != "]" {
				k := next()
				require.True(t, isID(k), "attribute name %q", k)
				expect("=")
				v := next()
				require.True(t, isID(v) || v[0] == '"', "attribute value %q", v)
				a[k] = unquote(v)
				if toks[p] == "," {
					p++
				}
			}
			p++
		}
		expect(";")
		return a
	}
	expect("digraph")
	require.True(t, isID(next()), "graph name")
	expect("{")
	for toks[p] != "}" {
		id := next()
		require.True(t, isID(id), "statement starts with %q", id)
		switch {
		case id == "graph" || id == "node" || id == "edge":
			attrs()
		case toks[p] == "->":
			p++
			to := next()
			require.True(t, isID(to), "edge to %q", to)
			attrs()
			g.edges = append(g.edges, [2]string{id, to})
		default:
			_, dup := g.labels[id]
			require.False(t, dup, "node %s declared twice", id)
			g.labels[id] = attrs()["label"]
		}
	}
	p++
	require.Equal(t, len(toks), p, "tokens after the closing brace")
	for _, e := range g.edges {
		for _, n := range e {
			_, ok := g.labels[n]
			require.True(t, ok, "edge %s -> %s names an undeclared node %s", e[0], e[1], n)
		}
	}
	return g
}

func notIDRune(r rune) bool { return !(r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)) }

// dotTokens splits DOT source into punctuation, IDs and quoted strings
// (kept with their quotes and escapes).
func dotTokens(t *testing.T, src string) []string {
	var toks []string
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case strings.IndexByte("{}[];=,", c) >= 0:
			toks = append(toks, string(c))
			i++
		case strings.HasPrefix(src[i:], "->"):
			toks = append(toks, "->")
			i += 2
		case c == '"':
			j := i + 1
			for ; j < len(src) && src[j] != '"'; j++ {
				if src[j] == '\\' {
					j++
				}
				require.NotEqual(t, byte('\n'), src[j], "a raw line break in a DOT string")
			}
			require.Less(t, j, len(src), "unterminated DOT string")
			toks = append(toks, src[i:j+1])
			i = j + 1
		default:
			j := i
			for j < len(src) && strings.IndexByte(" \t\n{}[];=,\"", src[j]) < 0 && !strings.HasPrefix(src[j:], "->") {
				j++
			}
			toks = append(toks, src[i:j])
			i = j
		}
	}
	return toks
}

// unquote reads a DOT string as a label shows it.
func unquote(s string) string {
	if s == "" || s[0] != '"' {
		return s
	}
	s = s[1 : len(s)-1]
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			default: // \" and \\
				b.WriteByte(s[i])
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
