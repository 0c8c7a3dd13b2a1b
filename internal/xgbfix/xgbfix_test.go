package xgbfix

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"
)

// node is one tree node for build: left == -1 makes a leaf.
type node struct {
	left, right int32
	feature     uint32
	value       float32
}

// build writes an XGBoost 1.x binary model with the given trees, class
// count and objective, and one attribute, as Booster.save_model would.
func build(objective string, numFeature uint32, numClass int32, trees ...[]node) []byte {
	le := binary.LittleEndian
	b := []byte(Magic)
	h := make([]byte, learnerParamSize)
	le.PutUint32(h[0:], math.Float32bits(0.5))
	le.PutUint32(h[4:], numFeature)
	le.PutUint32(h[8:], uint32(numClass))
	le.PutUint32(h[12:], 1) // contain_extra_attrs
	le.PutUint32(h[20:], 1) // major version
	le.PutUint32(h[24:], 7)
	b = append(b, h...)
	for _, s := range []string{objective, "gbtree"} {
		b = le.AppendUint64(b, uint64(len(s)))
		b = append(b, s...)
	}
	g := make([]byte, gbtreeParamSize)
	le.PutUint32(g[0:], uint32(len(trees)))
	le.PutUint32(g[4:], 1)
	b = append(b, g...)
	for _, t := range trees {
		p := make([]byte, treeParamSize)
		le.PutUint32(p[0:], 1)
		le.PutUint32(p[4:], uint32(len(t)))
		le.PutUint32(p[16:], numFeature)
		b = append(b, p...)
		for i, n := range t {
			b = le.AppendUint32(b, uint32(max(i-1, 0))) // parent: not read
			b = le.AppendUint32(b, uint32(n.left))
			b = le.AppendUint32(b, uint32(n.right))
			b = le.AppendUint32(b, n.feature)
			b = le.AppendUint32(b, math.Float32bits(n.value))
		}
		b = append(b, make([]byte, nodeStatSize*len(t))...)
	}
	groups := max(int(numClass), 1)
	for i := range trees {
		b = le.AppendUint32(b, uint32(i%groups))
	}
	b = le.AppendUint64(b, 1)
	for _, s := range []string{"best_iteration", "0"} {
		b = le.AppendUint64(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

// A tree whose root's left child is a split and right child a leaf, plus a
// deleted node (5) whose fields are garbage.
var lopsided = []node{
	{left: 1, right: 2, feature: 0, value: 1},
	{left: 3, right: 4, feature: 1 | 1<<31, value: 2},
	{left: -1, right: -1, value: 0.25}, // C
	{left: -1, right: -1, value: -0.5}, // A
	{left: -1, right: -1, value: 0.75}, // B
	{left: 99, right: -7, feature: 1 << 20, value: float32(math.NaN())},
}

func TestParseLeafValues(t *testing.T) {
	stump := []node{{left: -1, right: -1, value: 3}}
	m, err := Parse(build("multi:softprob", 2, 2, lopsided, stump))
	if err != nil {
		t.Fatal(err)
	}
	if m.Objective != "multi:softprob" || m.NumFeature != 2 || m.NumClass != 2 || m.NumGroups != 2 ||
		m.NumTrees != 2 || m.MajorVersion != 1 || !m.HasMagic || m.BaseScore != 0.5 {
		t.Errorf("Model = %+v", m)
	}
	// leaves numbers the root's leaf child (C) first, then walks the left
	// subtree: A, B.
	if got := m.LeafValues(0); len(got) != 3 || got[0] != 0.25 || got[1] != -0.5 || got[2] != 0.75 {
		t.Errorf("LeafValues(0) = %v, want [0.25 -0.5 0.75]", got)
	}
	if got := m.LeafValues(1); len(got) != 1 || got[0] != 3 {
		t.Errorf("LeafValues(1) = %v, want [3]", got)
	}
}

func TestNormalize(t *testing.T) {
	data := build("multi:softprob", 2, 2, lopsided, lopsided)
	m, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	out := m.Normalize(-1.5)
	le := binary.LittleEndian
	if string(out[:4]) == Magic || len(out) >= len(data)-4 {
		t.Fatalf("magic or attributes kept: %d bytes of %d", len(out), len(data))
	}
	if got := math.Float32frombits(le.Uint32(out)); got != -1.5 {
		t.Errorf("base score %v, want -1.5", got)
	}
	gb := learnerParamSize + 8 + len("multi:softprob") + 8 + len("gbtree")
	if got := le.Uint32(out[gb+24:]); got != 2 {
		t.Errorf("output groups %d, want 2", got)
	}
	for tree := 0; tree < 2; tree++ {
		nodes := gb + gbtreeParamSize + tree*(treeParamSize+36*len(lopsided)) + treeParamSize
		cond := func(i int) float32 { return math.Float32frombits(le.Uint32(out[nodes+20*i+16:])) }
		if cond(0) != Below(1) || cond(1) != Below(2) || cond(2) != 0.25 || !math.IsNaN(float64(cond(5))) {
			t.Errorf("tree %d: conditions %v %v, leaf %v, deleted %v", tree, cond(0), cond(1), cond(2), cond(5))
		}
	}
	if data[0] != 'b' || math.Float32frombits(le.Uint32(data[4:])) != 0.5 {
		t.Error("Normalize changed its input")
	}
}

func TestBelow(t *testing.T) {
	inf := float32(math.Inf(1))
	tests := []struct{ in, want float32 }{
		{1, math.Float32frombits(0x3f7fffff)},
		{0, -math.SmallestNonzeroFloat32},
		{-math.MaxFloat32, -inf},
		{-inf, -inf},
		{inf, math.MaxFloat32},
	}
	for _, tt := range tests {
		if got := Below(tt.in); got != tt.want {
			t.Errorf("Below(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
	// The rewrite's claim: for every float32 x, x < t exactly when
	// x <= Below(t). Checked on all neighbours of a few conditions.
	for _, c := range []float32{1, 0, -2.5, 3.4e38, 1e-40} {
		x := c
		for i := 0; i < 3; i++ {
			x = math.Nextafter32(x, -inf)
		}
		for i := 0; i < 7; i++ {
			if (x < c) != (x <= Below(c)) {
				t.Errorf("x = %v, t = %v: x < t is %v, x <= Below(t) is %v", x, c, x < c, x <= Below(c))
			}
			x = math.Nextafter32(x, inf)
		}
	}
}

func TestParseErrors(t *testing.T) {
	leaf := node{left: -1, right: -1}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"cycle", build("binary:logistic", 2, 0, []node{{left: 1, right: 2}, {left: 2, right: 0}, leaf}), "child 2 is reached twice"},
		{"self loop", build("binary:logistic", 2, 0, []node{{left: 1, right: 2}, {left: 1, right: 1}, leaf}), "child 1 is reached twice"},
		{"one-node split", build("binary:logistic", 2, 0, []node{{left: 1, right: 2}}), "child 1 is outside [1, 1)"},
		{"feature", build("binary:logistic", 2, 0, []node{{left: 1, right: 2, feature: 2}, leaf, leaf}), "split on feature 2, model has 2"},
		{"groups", build("multi:softprob", 2, 3, []node{leaf}, []node{leaf}), "2 trees is not a multiple of 3 output groups"},
		{"no trees", build("binary:logistic", 2, 0), "tree count 0"},
		{"JSON", []byte(`{"learner": {}}`), "not a binary model (JSON or UBJSON?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.data)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// FuzzParse checks that Parse never panics, and that what it accepts
// normalises to bytes it accepts again, with the same trees.
func FuzzParse(f *testing.F) {
	f.Add(build("multi:softprob", 2, 2, lopsided, []node{{left: -1, right: -1, value: 3}}))
	f.Add(build("binary:logistic", 3, 0, lopsided))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			return
		}
		if m.Objective == "count:poisson" {
			return // its max_delta_step, after tree_info, is dropped
		}
		again, err := Parse(m.Normalize(m.BaseScore))
		if err != nil {
			t.Fatalf("normalised model does not parse: %v", err)
		}
		if again.NumTrees != m.NumTrees || again.NumGroups != m.NumGroups || len(again.leafVals) != len(m.leafVals) {
			t.Fatalf("normalised model differs: %+v, was %+v", again, m)
		}
	})
}
