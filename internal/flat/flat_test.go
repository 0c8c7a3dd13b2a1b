package flat

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// refTree is a tree as a test builds it, walked by ref, the obvious
// recursive reading of Node.
type refTree struct {
	nodes []Node
	group int
}

// ref walks t for row from node i and returns the leaf's node.
func (t *refTree) ref(row []float64, i int, missing bool) *Node {
	n := &t.nodes[i]
	if n.Leaf {
		return n
	}
	x := row[n.Feature]
	left := x <= n.Bound
	if x != x && missing {
		left = n.MissingLeft
	}
	if left {
		return t.ref(row, i+1, missing)
	}
	return t.ref(row, n.Right, missing)
}

// randomTree returns a random tree in preorder whose leaves hold, as Tag,
// a running number, and the bounds it used.
func randomTree(rng *rand.Rand, features, classes, depth int, tag *int32, bounds *[]float64) []Node {
	var nodes []Node
	var grow func(d int)
	grow = func(d int) {
		if d == 0 || rng.IntN(4) == 0 {
			dist := make([]float64, classes)
			for c := range dist {
				dist[c] = rng.Float64()
			}
			*tag++
			nodes = append(nodes, Node{Leaf: true, Dist: dist, Value: float32(rng.NormFloat64()), Tag: *tag})
			return
		}
		b := float64(rng.IntN(9)) - 4
		if rng.IntN(2) == 0 {
			b += rng.Float64()
		}
		*bounds = append(*bounds, b)
		at := len(nodes)
		nodes = append(nodes, Node{Feature: rng.IntN(features), Bound: b, MissingLeft: rng.IntN(2) == 0})
		grow(d - 1)
		nodes[at].Right = len(nodes)
		grow(d - 1)
	}
	grow(depth)
	return nodes
}

// randomRows returns n rows that sit on, next to and between the bounds,
// with NaN when nan is true.
func randomRows(rng *rand.Rand, n, features int, bounds []float64, nan bool) []float64 {
	rows := make([]float64, n*features)
	for i := range rows {
		switch b := bounds[rng.IntN(len(bounds))]; rng.IntN(6) {
		case 0:
			rows[i] = b
		case 1:
			rows[i] = math.Nextafter(b, math.Inf(1))
		case 2:
			rows[i] = math.Nextafter(b, math.Inf(-1))
		case 3:
			if nan {
				rows[i] = math.NaN()
			}
		default:
			rows[i] = (rng.Float64() - 0.5) * 12
		}
	}
	return rows
}

// build returns a random ensemble and its trees for the reference.
func build(t *testing.T, rng *rand.Rand, c Combine, missing bool, trees, features, outputs, depth int) (*Ensemble, []refTree, []float64) {
	t.Helper()
	var e *Ensemble
	base := make([]float32, outputs)
	for i := range base {
		base[i] = float32(rng.NormFloat64())
	}
	if c == Mean {
		e = NewMean(features, outputs, missing)
	} else {
		e = NewSum(features, base)
	}
	var tag int32
	bounds := []float64{0}
	var refs []refTree
	for range trees {
		nodes := randomTree(rng, features, outputs, depth, &tag, &bounds)
		g := rng.IntN(outputs)
		var err error
		if c == Mean {
			err = e.AddMean(nodes)
		} else {
			err = e.AddSum(nodes, g)
		}
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, refTree{nodes: nodes, group: g})
	}
	return e, refs, bounds
}

// want is the reference prediction: the mean of the distributions, or
// float32 sums per group in tree order from base.
func want(e *Ensemble, refs []refTree, row []float64) ([]float64, int32) {
	out := make([]float64, e.outputs)
	tag := refs[0].ref(row, 0, e.missing).Tag
	if e.combine == Mean {
		for _, t := range refs {
			for c, v := range t.ref(row, 0, e.missing).Dist {
				out[c] += v
			}
		}
		if len(refs) > 1 {
			for c := range out {
				out[c] /= float64(len(refs))
			}
		}
		return out, tag
	}
	acc := append([]float32(nil), e.base...)
	for _, t := range refs {
		acc[t.group] += t.ref(row, 0, true).Value
	}
	for g, v := range acc {
		out[g] = float64(v)
	}
	return out, tag
}

func same(a, b []float64) bool {
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return len(a) == len(b)
}

// TestPredict compares Predict, PredictBatch and Leaf with the reference
// walk, bit for bit, on random ensembles of every shape the engine
// specialises: one tree, a number of trees that is not a multiple of
// four, few and many (more than 8) outputs, with and without NaN, and
// batches that do and do not fill blocks of Block rows and of four.
func TestPredict(t *testing.T) {
	for _, tc := range []struct {
		name                            string
		combine                         Combine
		missing                         bool
		trees, features, outputs, depth int
	}{
		{"mean/one-tree", Mean, false, 1, 4, 3, 6},
		{"mean/one-tree/missing", Mean, true, 1, 4, 3, 6},
		{"mean/forest", Mean, false, 23, 5, 3, 7},
		{"mean/forest/missing", Mean, true, 23, 5, 3, 7},
		{"mean/stump", Mean, false, 5, 1, 2, 0},
		{"sum/few-groups", Sum, true, 30, 6, 3, 5},
		{"sum/binary", Sum, true, 9, 3, 1, 4},
		{"sum/many-groups", Sum, true, 41, 4, 11, 4},
		{"sum/long-rows", Sum, true, 8, 100, 2, 6},
		{"sum/shallow", Sum, true, 150, 5, 2, 3}, // chunks of Predict
		{"sum/deep", Sum, true, 40, 6, 3, 9},
	} {
		for _, w := range []Walk{Branching, Fixed} {
			t.Run(tc.name+"/"+w.String(), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(tc.trees), uint64(tc.depth)))
				e, refs, bounds := build(t, rng, tc.combine, tc.missing, tc.trees, tc.features, tc.outputs, tc.depth)
				e.walk = w
				if e.Trees() != tc.trees || e.Features() != tc.features || e.Outputs() != tc.outputs || e.Combine() != tc.combine {
					t.Fatalf("Trees %d Features %d Outputs %d Combine %d", e.Trees(), e.Features(), e.Outputs(), e.Combine())
				}
				// Rows with NaN where the ensemble takes them, then finite
				// rows, which a Sum ensemble walks in its complete layout.
				for _, nan := range []bool{tc.missing || tc.combine == Sum, false} {
					for _, n := range []int{0, 1, 3, 4, 5, 63, 64, 65, 200} {
						checkRows(t, e, refs, randomRows(rng, n, tc.features, bounds, nan), n, nan)
					}
				}
			})
		}
	}
}

// checkRows compares Predict, PredictBatch (with and without tags) and
// Leaf on the n rows with the reference.
func checkRows(t *testing.T, e *Ensemble, refs []refTree, rows []float64, n int, nan bool) {
	t.Helper()
	k, nf := e.Outputs(), e.Features()
	stride := k + 1
	out := make([]float64, n*stride)
	tags := make([]int32, n)
	e.PredictBatch(rows, n, out, stride, tags, nan)
	// Without tags, the first tree walks as the others.
	untagged := make([]float64, n*stride)
	e.PredictBatch(rows, n, untagged, stride, nil, nan)
	got := make([]float64, k)
	for r := 0; r < n; r++ {
		row := rows[r*nf : (r+1)*nf]
		w, wtag := want(e, refs, row)
		tag := e.Predict(row, got, HasNaN(row))
		if !same(got, w) || tag != wtag {
			t.Fatalf("row %v: Predict %v tag %d, want %v tag %d", row, got, tag, w, wtag)
		}
		if b := out[r*stride:][:k]; !same(b, w) || tags[r] != wtag {
			t.Fatalf("batch of %d, row %d %v: %v tag %d, want %v tag %d", n, r, row, b, tags[r], w, wtag)
		}
		if b := untagged[r*stride:][:k]; !same(b, w) {
			t.Fatalf("batch of %d without tags, row %d %v: %v, want %v", n, r, row, b, w)
		}
		if l := e.Leaf(0, row); e.LeafTag(l) != wtag {
			t.Fatalf("row %v: Leaf's tag %d, want %d", row, e.LeafTag(l), wtag)
		}
	}
}

// TestNext follows a tree's path with Root, Split and Next and checks it
// against the reference walk, NaN included.
func TestNext(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, missing := range []bool{false, true} {
		e, refs, bounds := build(t, rng, Mean, missing, 1, 3, 2, 8)
		rows := randomRows(rng, 500, 3, bounds, missing)
		for r := 0; r < 500; r++ {
			row := rows[r*3 : (r+1)*3]
			i, ri := e.Root(0), 0
			for {
				f, split := e.Split(i)
				if split != !refs[0].nodes[ri].Leaf {
					t.Fatalf("node %d: split %v", ri, split)
				}
				if !split {
					break
				}
				nd := &refs[0].nodes[ri]
				wantLeft := row[f] <= nd.Bound || missing && row[f] != row[f] && nd.MissingLeft
				var left bool
				i, left = e.Next(i, row[f])
				if f != nd.Feature || left != wantLeft {
					t.Fatalf("node %d, x %v: feature %d left %v, want %d %v", ri, row[f], f, left, nd.Feature, wantLeft)
				}
				if left {
					ri++
				} else {
					ri = nd.Right
				}
			}
		}
	}
}

// TestAllocs: Predict and PredictBatch allocate nothing, rows with NaN
// and long rows included.
func TestAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct {
		c        Combine
		features int
		outputs  int
	}{{Mean, 4, 3}, {Sum, 4, 3}, {Sum, 80, 12}} {
		e, _, bounds := build(t, rng, tc.c, true, 10, tc.features, tc.outputs, 5)
		rows := randomRows(rng, 100, tc.features, bounds, true)
		out := make([]float64, 100*tc.outputs)
		tags := make([]int32, 100)
		for _, w := range []Walk{Branching, Fixed} {
			e.walk = w
			if n := testing.AllocsPerRun(50, func() {
				e.Predict(rows[:tc.features], out, true)
				e.PredictBatch(rows, 100, out, tc.outputs, tags, true)
			}); n != 0 {
				t.Errorf("%v/%v/%d features: %v allocations", tc.c, w, tc.features, n)
			}
		}
	}
}

// TestAddErrors: a tree that is not a well-formed preorder tree, or whose
// leaves do not fit the ensemble, is refused with an error saying why.
func TestAddErrors(t *testing.T) {
	leaf := Node{Leaf: true, Dist: []float64{1, 0}, Value: 1}
	split := func(f int, right int) Node { return Node{Feature: f, Bound: 0.5, Right: right} }
	for _, tc := range []struct {
		name  string
		sum   bool
		group int
		nodes []Node
		want  string
	}{
		{"empty", false, 0, nil, "no nodes"},
		{"feature", false, 0, []Node{split(2, 2), leaf, leaf}, "feature 2 outside [0, 2)"},
		{"negative feature", false, 0, []Node{split(-1, 2), leaf, leaf}, "feature -1"},
		{"NaN bound", false, 0, []Node{{Bound: math.NaN(), Right: 2}, leaf, leaf}, "bound is NaN"},
		{"right is left", false, 0, []Node{split(0, 1), leaf, leaf}, "children 1 and 1"},
		{"right out of range", false, 0, []Node{split(0, 3), leaf, leaf}, "children 1 and 3"},
		{"no left child", false, 0, []Node{split(0, 1)}, "children 1 and 1"},
		{"unreachable", false, 0, []Node{split(0, 2), leaf, leaf, leaf}, "node 3 is not reachable"},
		{"not preorder", false, 0, []Node{split(0, 3), split(1, 4), leaf, leaf, leaf}, "node 4 comes where preorder has node 3"},
		{"distribution", false, 0, []Node{{Leaf: true, Dist: []float64{1}}}, "distribution of 1 values for 2 classes"},
		{"leaf value", true, 0, []Node{{Leaf: true, Value: float32(math.Inf(1))}}, "leaf value +Inf"},
		{"group", true, 2, []Node{leaf}, "group 2 outside [0, 2)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.sum {
				err = NewSum(2, []float32{0, 0}).AddSum(tc.nodes, tc.group)
			} else {
				err = NewMean(2, 2, false).AddMean(tc.nodes)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "flat: ") {
				t.Fatalf("err = %v, want one saying %q", err, tc.want)
			}
		})
	}
	if err := NewSum(1, []float32{0}).AddMean([]Node{leaf}); err == nil {
		t.Error("AddMean on a Sum ensemble: no error")
	}
	if err := NewMean(1, 2, false).AddSum([]Node{leaf}, 0); err == nil {
		t.Error("AddSum on a Mean ensemble: no error")
	}
}

// FuzzAdd builds trees from arbitrary bytes: AddMean and AddSum must
// refuse or accept them without panicking, and an accepted tree must
// predict every row, NaN included, without panicking.
func FuzzAdd(f *testing.F) {
	f.Add([]byte{1, 0, 0, 2, 0, 0})
	f.Add([]byte{0, 1, 128, 4, 0, 1, 0, 2, 7, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		const features = 3
		var nodes []Node
		for len(data) >= 3 {
			b := data[:3]
			data = data[3:]
			if b[0]&1 == 0 {
				nodes = append(nodes, Node{Leaf: true, Dist: []float64{float64(b[1]), 1}, Value: float32(b[2])})
				continue
			}
			nodes = append(nodes, Node{Feature: int(b[0]>>1) % 4, Bound: float64(int8(b[1])) / 8, Right: int(b[2]) % 16, MissingLeft: b[0]&2 != 0})
		}
		mean := NewMean(features, 2, true)
		sum := NewSum(features, []float32{0, 1})
		if err := mean.AddMean(nodes); err != nil {
			if sum.AddSum(nodes, 1) == nil {
				t.Fatal("AddSum took a tree AddMean refused")
			}
			return
		}
		if err := sum.AddSum(nodes, 1); err != nil {
			t.Fatal(err)
		}
		out := make([]float64, 2*4)
		rows := []float64{0, 0.125, -1, math.NaN(), 3, -0.125, 16, -16, math.NaN(), 0, math.NaN(), 1}
		tags := make([]int32, 4)
		for _, e := range []*Ensemble{mean, sum} {
			for _, w := range []Walk{Branching, Fixed} {
				e.walk = w
				e.Predict(rows[:features], out, true)
				e.PredictBatch(rows, 4, out, 2, tags, true)
			}
		}
	})
}

// TestReserve: an ensemble built after Reserve (too little, exact, too
// much room) is the ensemble built without it.
func TestReserve(t *testing.T) {
	for _, c := range []Combine{Mean, Sum} {
		for _, room := range [][2]int{{-1, -1}, {3, 10}, {20, 100000}} {
			e, refs, _ := build(t, rand.New(rand.NewPCG(7, 8)), c, true, 20, 4, 3, 5)
			r := NewSum(4, e.base)
			if c == Mean {
				r = NewMean(4, 3, true)
			}
			r.Reserve(room[0], room[1])
			for _, ref := range refs {
				var err error
				if c == Mean {
					err = r.AddMean(ref.nodes)
				} else {
					err = r.AddSum(ref.nodes, ref.group)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if !reflect.DeepEqual(e, r) {
				t.Errorf("combine %v, Reserve(%d, %d): the ensembles differ", c, room[0], room[1])
			}
		}
	}
}
