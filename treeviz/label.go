package treeviz

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/ml-production-service/classify"
)

// ErrTree is wrapped by the errors for a tree index out of range and for
// a malformed TreeGraph (a child out of range, a node reached twice, a
// feature out of range).
var ErrTree = errors.New("treeviz: no such tree")

// tree is one tree ready to draw: its nodes in depth-first order from the
// root (left before right), each with the lines of its box.
type tree struct {
	title string // what the picture is, with the rule
	index int
	nodes []box // reachable nodes, preorder
}

// box is a node to draw: its lines, where its children are in tree.nodes
// (-1 for a leaf), and the labels of the edges to them.
type box struct {
	id          int // index in TreeGraph.Nodes
	lines       []string
	leaf        bool
	left, right int
	yes, no     string
	depth       int
}

// rule is how a tree's splits decide: "<" or "<=", on float32(x) or x.
type rule struct {
	float32 bool
	op      string // "<" or "<="
}

// parseRule reads a TreeGraph's Rule: "float32(x) <= t", "float32(x) < t",
// "x <= t" or "x < t". Any other rule is drawn as "x <= t" would be, with
// the rule itself still stated in the title.
func parseRule(s string) rule {
	f := strings.Fields(s)
	r := rule{op: "<="}
	if len(f) == 3 {
		r.float32 = f[0] == "float32(x)"
		if f[1] == "<" {
			r.op = "<"
		}
	}
	return r
}

// threshold writes t as the rule decides it: under a float32 rule, the
// float32 giving the same decision for every float32(x) (the largest
// float32 <= t for "<=", the smallest float32 >= t for "<"), in float32's
// shortest form; otherwise t in float64's shortest form.
func (r rule) threshold(t float64) string {
	if !r.float32 || math.IsNaN(t) {
		return strconv.FormatFloat(t, 'g', -1, 64)
	}
	f := float32(t)
	if r.op == "<=" && float64(f) > t {
		f = math.Nextafter32(f, float32(math.Inf(-1)))
	}
	if r.op == "<" && float64(f) < t {
		f = math.Nextafter32(f, float32(math.Inf(1)))
	}
	return strconv.FormatFloat(float64(f), 'g', -1, 32)
}

// number writes a cover, gain or leaf value for reading: six significant
// digits.
func number(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

// prepare checks tree i of m and lays out the text of its nodes.
func prepare(m classify.TreeModel, i int) (*tree, error) {
	n := m.Trees()
	if i < 0 || i >= n {
		return nil, fmt.Errorf("%w: tree %d of a model with %d", ErrTree, i, n)
	}
	g := m.TreeGraph(i)
	info := m.Info()
	r := parseRule(g.Rule)
	coverWord := "samples"
	if info.Kind == classify.XGBoost {
		coverWord = "cover"
	}
	hasCover := false
	for _, nd := range g.Nodes {
		if nd.Cover != 0 {
			hasCover = true
			break
		}
	}
	output := ""
	if outs := m.Outputs(); g.Output >= 0 && g.Output < len(outs) && info.Kind != classify.DecisionTree && info.Kind != classify.RandomForest {
		output = fmt.Sprintf(", output %d (%s)", g.Output, outs[g.Output])
	}
	t := &tree{index: i, title: fmt.Sprintf("%s, tree %d of %d%s: a split goes left (yes) when %s", info.Kind, i, n, output, g.Rule)}
	if len(g.Nodes) == 0 {
		return nil, fmt.Errorf("%w: tree %d has no nodes", ErrTree, i)
	}
	// Depth-first from the root, left first; pos[id] is the node's place
	// in t.nodes, so a node reached twice (a cycle) is refused.
	pos := make([]int, len(g.Nodes))
	for k := range pos {
		pos[k] = -1
	}
	type item struct{ id, parent, depth int }
	stack := []item{{0, -1, 0}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if it.id < 0 || it.id >= len(g.Nodes) {
			return nil, fmt.Errorf("%w: tree %d: child %d out of range [0, %d)", ErrTree, i, it.id, len(g.Nodes))
		}
		if pos[it.id] >= 0 {
			return nil, fmt.Errorf("%w: tree %d: node %d is reached twice", ErrTree, i, it.id)
		}
		pos[it.id] = len(t.nodes)
		if it.parent >= 0 {
			p := &t.nodes[it.parent]
			if p.left < 0 {
				p.left = len(t.nodes)
			} else {
				p.right = len(t.nodes)
			}
		}
		nd := &g.Nodes[it.id]
		b := box{id: it.id, left: -1, right: -1, depth: it.depth, leaf: nd.Left < 0 || nd.Right < 0}
		if !b.leaf {
			if nd.Feature < 0 || nd.Feature >= len(info.Features) {
				return nil, fmt.Errorf("%w: tree %d: node %d tests feature %d of %d", ErrTree, i, it.id, nd.Feature, len(info.Features))
			}
			b.lines = append(b.lines, condition(info.Features[nd.Feature], nd, r))
			b.yes, b.no = "yes", "no"
			if info.Missing {
				if nd.MissingLeft {
					b.yes += ", missing"
				} else {
					b.no += ", missing"
				}
			}
		}
		if hasCover {
			b.lines = append(b.lines, coverWord+" = "+number(nd.Cover))
		}
		if b.leaf {
			b.lines = append(b.lines, leafLines(nd.Value, info.Classes)...)
		} else if nd.Gain != 0 {
			b.lines = append(b.lines, "gain = "+number(nd.Gain))
		}
		t.nodes = append(t.nodes, b)
		if !b.leaf {
			parent := len(t.nodes) - 1
			stack = append(stack, item{nd.Right, parent, it.depth + 1}, item{nd.Left, parent, it.depth + 1})
		}
	}
	return t, nil
}

// condition writes a split's test with the feature's name.
func condition(feature string, nd *classify.TreeNode, r rule) string {
	if nd.Categories != nil {
		cs := make([]string, len(nd.Categories))
		for k, c := range nd.Categories {
			cs[k] = strconv.Itoa(c)
		}
		return feature + " in {" + strings.Join(cs, ", ") + "}"
	}
	return feature + " " + r.op + " " + r.threshold(nd.Threshold)
}

// leafLines writes a leaf's value: one number, or a class distribution
// and the class it votes for (the first largest, as predict picks it).
func leafLines(v []float64, classes []string) []string {
	switch len(v) {
	case 0:
		return nil
	case 1:
		return []string{"value = " + number(v[0])}
	}
	vs := make([]string, len(v))
	best := 0
	for k, x := range v {
		vs[k] = number(x)
		if x > v[best] {
			best = k
		}
	}
	out := []string{"value = [" + strings.Join(vs, ", ") + "]"}
	if len(v) == len(classes) {
		out = append(out, "class = "+classes[best])
	}
	return out
}
