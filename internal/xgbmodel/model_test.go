package xgbmodel

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dmitryikh/leaves"
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
	for _, s := range []string{"scikit_learn", `{"classes_": ["a", "b"], "missing": NaN}`} {
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

// pruned is a root pruned into a leaf, its deleted children left behind: the
// tree leaves failed on with "logic error".
var pruned = []node{
	{left: -1, right: -1, value: 0.125},
	{left: -1, right: -1, value: 1},
	{left: -1, right: -1, value: 2},
}

func TestParseBinary(t *testing.T) {
	stump := []node{{left: -1, right: -1, value: 3}}
	m, err := Parse(build("multi:softprob", 2, 2, lopsided, pruned, stump, lopsided))
	if err != nil {
		t.Fatal(err)
	}
	if m.Format != FormatBinary || m.Objective != "multi:softprob" || m.NumFeature != 2 || m.NumClass != 2 ||
		m.NumGroups != 2 || len(m.Trees) != 4 || m.Version != [3]int{1, 7, 0} || m.BaseIsMargin ||
		len(m.BaseScore) != 2 || m.BaseScore[1] != 0.5 || len(m.Classes) != 2 || m.Classes[1] != "b" {
		t.Errorf("Model = %+v", m)
	}
	// Preorder, left first, deleted node dropped.
	want := []Node{
		{Left: 1, Right: 4, Feature: 0, Value: 1},
		{Left: 2, Right: 3, Feature: 1, DefaultLeft: true, Value: 2},
		{Left: -1, Right: -1, Value: -0.5},
		{Left: -1, Right: -1, Value: 0.75},
		{Left: -1, Right: -1, Value: 0.25},
	}
	if got := m.Trees[0].Nodes; len(got) != len(want) {
		t.Fatalf("tree 0 = %+v", got)
	}
	for i, n := range want {
		if m.Trees[0].Nodes[i] != n {
			t.Errorf("tree 0 node %d = %+v, want %+v", i, m.Trees[0].Nodes[i], n)
		}
	}
	if got := m.Trees[1].Nodes; len(got) != 1 || got[0].Value != 0.125 {
		t.Errorf("pruned tree = %+v, want the root leaf alone", got)
	}
	// leaves numbers the root's leaf child (C) first, then walks the left
	// subtree: A, B.
	if got := LeafValues(&m.Trees[0]); len(got) != 3 || got[0] != 0.25 || got[1] != -0.5 || got[2] != 0.75 {
		t.Errorf("LeafValues(0) = %v, want [0.25 -0.5 0.75]", got)
	}
	if got := LeafValues(&m.Trees[2]); len(got) != 1 || got[0] != 3 {
		t.Errorf("LeafValues(2) = %v, want [3]", got)
	}
}

func TestEncode(t *testing.T) {
	m, err := Parse(build("multi:softprob", 2, 2, lopsided, pruned, lopsided, pruned))
	if err != nil {
		t.Fatal(err)
	}
	// Groups 0,1,0,1 in the file; make them 0,0,1,1 to see the reordering.
	m.Groups = []int32{0, 0, 1, 1}
	order := m.Order()
	if want := []int{0, 2, 1, 3}; !slices.Equal(order, want) {
		t.Fatalf("Order() = %v, want %v", order, want)
	}
	out := m.Encode(order)
	le := binary.LittleEndian
	if string(out[:4]) == Magic || math.Float32frombits(le.Uint32(out)) != 0 {
		t.Fatal("magic or base score kept")
	}
	gb := learnerParamSize + 8 + len("multi:softprob") + 8 + len("gbtree")
	if got := le.Uint32(out[gb+24:]); got != 2 {
		t.Errorf("output groups %d, want 2", got)
	}
	pos := gb + gbtreeParamSize
	for i, tr := range order {
		n := int(le.Uint32(out[pos+4:]))
		if n != len(m.Trees[tr].Nodes) {
			t.Fatalf("encoded tree %d has %d nodes, want %d", i, n, len(m.Trees[tr].Nodes))
		}
		cond := func(j int) float32 { return math.Float32frombits(le.Uint32(out[pos+treeParamSize+20*j+16:])) }
		if n == 5 && (cond(0) != Below(1) || cond(1) != Below(2) || cond(2) != -0.5) {
			t.Errorf("tree %d: conditions %v %v, leaf %v", i, cond(0), cond(1), cond(2))
		}
		pos += treeParamSize + 36*n
	}
	for i := range order {
		if g := le.Uint32(out[pos+4*i:]); g != uint32(i%2) {
			t.Errorf("tree_info[%d] = %d", i, g)
		}
	}
	if pos+4*len(order) != len(out) {
		t.Errorf("%d bytes after tree_info", len(out)-pos-4*len(order))
	}
	// leaves reads it: the pruned trees (a root leaf whose deleted children
	// are still in the file) made it fail with "logic error" before.
	e, err := leaves.XGEnsembleFromReader(bufio.NewReader(bytes.NewReader(out)), false)
	if err != nil {
		t.Fatalf("leaves: %v", err)
	}
	if e.NEstimators() != 2 || e.NRawOutputGroups() != 2 {
		t.Errorf("leaves read %d rounds of %d groups", e.NEstimators(), e.NRawOutputGroups())
	}
	// The encoding reads back as the same model.
	again, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if !again.BaseIsMargin || len(again.Trees) != 4 || len(again.Trees[1].Nodes) != 5 || again.Trees[1].Nodes[0].Value != Below(1) {
		t.Errorf("encoded model reads back as %+v", again)
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

func TestParseBinaryErrors(t *testing.T) {
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
		{"groups", build("multi:softprob", 2, 3, []node{leaf}, []node{leaf}), "output group 2 has 0 trees, group 0 has 1"},
		{"no trees", build("binary:logistic", 2, 0), "tree count 0"},
		{"dart", bytes.Replace(build("binary:logistic", 2, 0, []node{leaf}), []byte("\x06\x00\x00\x00\x00\x00\x00\x00gbtree"), []byte("\x04\x00\x00\x00\x00\x00\x00\x00dart"), 1), `booster "dart" is not supported`},
		{"classes", bytes.Replace(build("multi:softprob", 2, 3, []node{leaf}, []node{leaf}, []node{leaf}), []byte(`"a", "b"`), []byte(`"a", "c"`), 1), "scikit_learn attribute names 2 classes, model has 3"},
		{"brace", []byte("{"), "JSON model: unexpected end of JSON input"},
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

// suiteFile reads a file of the classify package's format suite.
func suiteFile(t testing.TB, version, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "xgboost", version, name))
	if err != nil {
		t.Fatalf("test model missing (run testdata/xgboost/make_models.py): %v", err)
	}
	return data
}

// TestTranscode: XGBoost's UBJSON file of a model transcodes to a document
// equal to its JSON file of the same model.
func TestTranscode(t *testing.T) {
	for _, name := range []string{"iris_gamma", "wine_softprob", "bc_nan"} {
		text, err := transcode(suiteFile(t, "3.2.0", name+".ubj"))
		if err != nil {
			t.Fatal(err)
		}
		var a, b any
		if err := json.Unmarshal(text, &a); err != nil {
			t.Fatalf("%s: transcoded text is not JSON: %v", name, err)
		}
		if err := json.Unmarshal(suiteFile(t, "3.2.0", name+".json"), &b); err != nil {
			t.Fatal(err)
		}
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if !bytes.Equal(ja, jb) {
			t.Errorf("%s: UBJSON and JSON documents differ", name)
		}
	}
}

func TestTranscodeErrors(t *testing.T) {
	long := func(n uint64) string { return string(binary.BigEndian.AppendUint64([]byte{'L'}, n)) }
	tests := []struct{ name, data, want string }{
		{"empty object", "{}", ""},
		{"typed int8", "[$i#i\x03\x01\xff\x7f", ""},
		{"typed uint8", "[$U#U\x02\x00\xff", ""},
		{"strings", "[$S#i\x02i\x01ai\x00", ""},
		{"counted object", "{#i\x01i\x01kT", ""},
		{"no-op", "[NZN]", ""},
		{"char", "[C\"]", ""},
		{"truncated", "{i\x01k", "needs 1 bytes"},
		{"huge string", "[S" + long(1<<62) + "]", "length 4611686018427387904 is more than"},
		{"negative length", "[Si\xff]", "negative length -1"},
		{"huge count", "[#" + long(1<<40) + "]", "is more than"},
		{"huge typed count", "[$l#" + long(1<<40) + "]", "is more than"},
		{"nulls", "[$Z#" + long(3000) + "]", "expands beyond"},
		{"too many nulls", "[$Z#" + long(1<<40) + "]", "is too large"},
		{"deep", strings.Repeat("[", 100), "nesting deeper than 64"},
		{"unknown marker", "[X]", `marker 'X' is not supported`},
		{"high precision", "[Hi\x011]", `marker 'H' is not supported`},
		{"typed container type", "[$[#i\x01]", "element type '[' is not supported"},
		{"typed without count", "[$i\x01]", "typed container without a count"},
		{"float key length", "{d\x00\x00\x00\x00T}", "not an integer type"},
		{"trailing", "[]]", "1 unexpected bytes"},
		{"unterminated", "[T", "needs 1 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, err := transcode([]byte(tt.data))
			if tt.want == "" {
				if err != nil || !json.Valid(text) {
					t.Errorf("transcode = %q, %v; want valid JSON", text, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	// Values are transcoded faithfully.
	text, err := transcode([]byte("[$d#i\x02\x3f\x80\x00\x00\x7f\xc0\x00\x00"))
	if err != nil || string(text) != "[1,1e999]" {
		t.Errorf("floats: %q, %v", text, err)
	}
	text, err = transcode([]byte("[Si\x03a\"\x01I\x80\x00]"))
	if err != nil || string(text) != `["a\"\u0001",-32768]` {
		t.Errorf("string and int16: %q, %v", text, err)
	}
}

// TestPrefixes parses every prefix of a JSON and a UBJSON model: none may
// parse, none may panic.
func TestPrefixes(t *testing.T) {
	// Every prefix is quadratic in the file's size: -short (the quick loop)
	// tries the first and last 256 and every 61st in between.
	step := 1
	if testing.Short() {
		step = 61
	}
	for _, name := range []string{"iris_gamma.json", "iris_gamma.ubj"} {
		data := suiteFile(t, "3.2.0", name)
		for n := 0; n < len(data); n++ {
			if n > 256 && n < len(data)-256 && n%step != 0 {
				continue
			}
			if _, err := Parse(data[:n]); err == nil {
				t.Fatalf("%s: prefix of %d bytes parsed", name, n)
			}
		}
	}
}

func TestPythonJSON(t *testing.T) {
	in := `{"a": NaN, "b": "NaN -Infinity", "c": [-Infinity, Infinity], "d": "\"NaN"}`
	want := `{"a": null, "b": "NaN -Infinity", "c": [null, null], "d": "\"NaN"}`
	if got := string(pythonJSON(in)); got != want {
		t.Errorf("pythonJSON = %s, want %s", got, want)
	}
}

// TestTreeDecode: a tree's members are read as json.Unmarshal reads them
// (keys without regard to case or escaping, unknown members skipped,
// null the zero tree), without encoding/json scanning each tree again.
func TestTreeDecode(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", `{"tree_param": {"num_nodes": "1"}, "left_children": [-1], "x": {"a": [1, "]"]}, "split_conditions": [0.5]}`, "1 [-1] [0.5]"},
		{"case and escapes", `{"Tree_Param":{"num_nodes":"1"},"left_\u0063hildren":[-1],"split_conditions" : [ 2 ] }`, "1 [-1] [2]"},
		{"null", `null`, " [] []"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var jt jsonTree
			if err := jt.decode([]byte(tc.in)); err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(jt.Param.NumNodes, " ", []int32(jt.Left), " ", []float32(jt.Conditions)); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	var jt jsonTree
	if err := jt.decode([]byte(`[1]`)); err == nil {
		t.Error("an array decoded as a tree")
	}
	if err := jt.decode([]byte(`{"left_children": "x"}`)); err == nil {
		t.Error("a string decoded as left_children")
	}
}

// TestStats: every format carries the nodes' statistics, and the three
// files XGBoost 1.7.4 wrote of one model give the same sum_hess and
// loss_chg at every node; Encode writes them back into the binary.
func TestStats(t *testing.T) {
	for _, name := range []string{"wine_bench", "iris_gamma", "bc_nan"} {
		t.Run(name, func(t *testing.T) {
			var models []*Model
			for _, ext := range []string{".json", ".ubj", ".model"} {
				m, err := Parse(suiteFile(t, "1.7.4", name+ext))
				if err != nil {
					t.Fatal(err)
				}
				models = append(models, m)
			}
			enc, err := Parse(models[0].Encode(models[0].Order()))
			if err != nil {
				t.Fatal(err)
			}
			for ti, tr := range models[0].Trees {
				for i, nd := range tr.Nodes {
					if !(nd.SumHess > 0) || nd.Left < 0 && nd.LossChg != 0 {
						t.Fatalf("tree %d node %d: sum_hess %v loss_chg %v", ti, i, nd.SumHess, nd.LossChg)
					}
					for _, m := range models[1:] {
						o := m.Trees[ti].Nodes[i]
						if o.SumHess != nd.SumHess || o.LossChg != nd.LossChg {
							t.Fatalf("%s tree %d node %d: sum_hess %v loss_chg %v, JSON's %v %v", m.Format, ti, i, o.SumHess, o.LossChg, nd.SumHess, nd.LossChg)
						}
					}
				}
			}
			for k, ti := range models[0].Order() {
				for i, nd := range models[0].Trees[ti].Nodes {
					if o := enc.Trees[k].Nodes[i]; o.SumHess != nd.SumHess || o.LossChg != nd.LossChg {
						t.Fatalf("Encode: tree %d node %d: %v %v, want %v %v", ti, i, o.SumHess, o.LossChg, nd.SumHess, nd.LossChg)
					}
				}
			}
		})
	}
	// A JSON tree without the statistics predicts; its covers are NaN.
	doc := strings.Replace(string(suiteFile(t, "1.7.4", "iris_gamma.json")), `"sum_hessian"`, `"sum_hessian_"`, -1)
	m, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if h := m.Trees[0].Nodes[0].SumHess; !math.IsNaN(float64(h)) {
		t.Errorf("without sum_hessian: %v", h)
	}
	bad := strings.Replace(string(suiteFile(t, "1.7.4", "iris_gamma.json")), `"loss_changes":[`, `"loss_changes":[1,`, 1)
	if _, err := Parse([]byte(bad)); err == nil || !strings.Contains(err.Error(), "loss_changes has") {
		t.Errorf("a loss_changes array too long: %v", err)
	}
}
