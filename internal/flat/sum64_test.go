package flat

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// ref64 walks a Sum64 tree as the obvious reading of Node: a categorical
// split sends x left when InSet holds, a numerical one when x <= Bound,
// NaN the MissingLeft way in an ensemble that takes it.
func ref64(nodes []Node, row []float64, i int, missing bool) *Node {
	n := &nodes[i]
	if n.Leaf {
		return n
	}
	x := row[n.Feature]
	left := x <= n.Bound
	if n.Categories != nil {
		left = InSet(n.Categories, x)
	}
	if x != x && missing {
		left = n.MissingLeft
	}
	if left {
		return ref64(nodes, row, i+1, missing)
	}
	return ref64(nodes, row, n.Right, missing)
}

// randomTree64 is randomTree with float64 leaf values and, when cat,
// categorical splits over categories 0 to 40.
func randomTree64(rng *rand.Rand, features, depth int, cat bool, tag *int32) []Node {
	var nodes []Node
	var grow func(d int)
	grow = func(d int) {
		if d == 0 || rng.IntN(4) == 0 {
			*tag++
			nodes = append(nodes, Node{Leaf: true, Value64: rng.NormFloat64() * math.Pow(10, float64(rng.IntN(9)-4)), Tag: *tag})
			return
		}
		n := Node{Feature: rng.IntN(features), Bound: float64(rng.IntN(9)) - 4 + rng.Float64()*float64(rng.IntN(2)),
			MissingLeft: rng.IntN(2) == 0}
		if cat && rng.IntN(2) == 0 {
			n.Categories = make([]uint32, 1+rng.IntN(2))
			for w := range n.Categories {
				n.Categories[w] = rng.Uint32()
			}
		}
		at := len(nodes)
		nodes = append(nodes, n)
		grow(d - 1)
		nodes[at].Right = len(nodes)
		grow(d - 1)
	}
	grow(depth)
	return nodes
}

// TestSum64: Predict and PredictBatch give, bit for bit, the float64 sums
// in tree order of the reference walk's leaves, for numerical and
// categorical trees, with and without NaN, at every batch shape.
func TestSum64(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 64))
	for _, c := range []struct {
		name    string
		cat     bool
		missing bool
		groups  int
	}{{"numerical", false, true, 3}, {"categorical", true, true, 3}, {"binary", false, false, 1}, {"categorical binary", true, false, 1}, {"many", true, true, 10}} {
		t.Run(c.name, func(t *testing.T) {
			const features = 5
			base := make([]float64, c.groups)
			for i := range base {
				base[i] = rng.NormFloat64()
			}
			e := NewSum64(features, base, c.missing)
			var trees [][]Node
			var groups []int
			var tag int32
			for i := range 37 {
				nodes := randomTree64(rng, features, 1+rng.IntN(7), c.cat, &tag)
				g := i % c.groups
				if err := e.AddSum64(nodes, g); err != nil {
					t.Fatal(err)
				}
				trees, groups = append(trees, nodes), append(groups, g)
			}
			const n = 300
			rows := make([]float64, n*features)
			for i := range rows {
				switch rng.IntN(5) {
				case 0:
					if c.missing {
						rows[i] = math.NaN()
					}
				case 1:
					rows[i] = float64(rng.IntN(70)) - 5
				case 2:
					rows[i] = float64(rng.IntN(9)) - 4
				default:
					rows[i] = (rng.Float64() - 0.5) * 80
				}
			}
			want := make([]float64, n*c.groups)
			wantTags := make([]int32, n)
			for r := range n {
				row := rows[r*features : (r+1)*features]
				w := want[r*c.groups : (r+1)*c.groups]
				copy(w, base)
				for i, tr := range trees {
					leaf := ref64(tr, row, 0, c.missing)
					w[groups[i]] += leaf.Value64
					if i == 0 {
						wantTags[r] = leaf.Tag
					}
				}
				got := make([]float64, c.groups)
				tag := e.Predict(row, got, c.missing && HasNaN(row))
				for g := range got {
					if math.Float64bits(got[g]) != math.Float64bits(w[g]) {
						t.Fatalf("row %d group %d: Predict %v, reference %v", r, g, got[g], w[g])
					}
				}
				if tag != wantTags[r] {
					t.Fatalf("row %d: tag %d, want %d", r, tag, wantTags[r])
				}
				if lf := e.Leaf(0, row); e.LeafTag(lf) != wantTags[r] {
					t.Fatalf("row %d: Leaf's tag %d, want %d", r, e.LeafTag(lf), wantTags[r])
				}
			}
			for _, m := range []int{1, 3, 64, 65, 130, n} {
				stride := c.groups + 1
				out := make([]float64, m*stride)
				tags := make([]int32, m)
				e.PredictBatch(rows[:m*features], m, out, stride, tags, c.missing && HasNaN(rows[:m*features]))
				for r := range m {
					for g := range c.groups {
						if math.Float64bits(out[r*stride+g]) != math.Float64bits(want[r*c.groups+g]) {
							t.Fatalf("batch of %d, row %d group %d: %v, reference %v", m, r, g, out[r*stride+g], want[r*c.groups+g])
						}
					}
					if tags[r] != wantTags[r] {
						t.Fatalf("batch of %d, row %d: tag %d, want %d", m, r, tags[r], wantTags[r])
					}
				}
			}
		})
	}
}

func TestInSet(t *testing.T) {
	set := []uint32{1<<1 | 1<<31, 1 << 1} // categories 1, 31, 33
	for _, c := range []struct {
		x    float64
		want bool
	}{{1, true}, {1.99, true}, {31, true}, {33, true}, {33.7, true}, {0, false}, {0.5, false}, {-0.5, false},
		{-1, false}, {2, false}, {32, false}, {64, false}, {1 << 31, false}, {math.NaN(), false}, {math.Inf(1), false}, {math.Inf(-1), false}} {
		if got := InSet(set, c.x); got != c.want {
			t.Errorf("InSet(%v) = %v, want %v", c.x, got, c.want)
		}
	}
}

func TestNextCategorical(t *testing.T) {
	e := NewSum64(1, []float64{0}, true)
	nodes := []Node{{Feature: 0, Categories: []uint32{4}, MissingLeft: true, Right: 2}, {Leaf: true}, {Leaf: true}}
	if err := e.AddSum64(nodes, 0); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		x    float64
		left bool
	}{{2, true}, {2.5, true}, {1, false}, {math.NaN(), true}} {
		if _, left := e.Next(0, c.x); left != c.left {
			t.Errorf("Next(%v): left %v, want %v", c.x, left, c.left)
		}
	}
}

func TestSum64Refusals(t *testing.T) {
	leaf := []Node{{Leaf: true}}
	catTree := []Node{{Feature: 0, Categories: []uint32{1}, Right: 2}, {Leaf: true}, {Leaf: true}}
	for _, c := range []struct {
		name string
		add  func() error
		want string
	}{
		{"AddSum64 on Sum", func() error { return NewSum(1, []float32{0}).AddSum64(leaf, 0) }, "AddSum64 on"},
		{"AddSum64 on Mean", func() error { return NewMean(1, 2, false).AddSum64(leaf, 0) }, "AddSum64 on"},
		{"AddSum on Sum64", func() error { return NewSum64(1, []float64{0}, true).AddSum(leaf, 0) }, "AddSum on"},
		{"AddMean on Sum64", func() error { return NewSum64(1, []float64{0}, true).AddMean(leaf) }, "AddMean on"},
		{"group", func() error { return NewSum64(1, []float64{0}, true).AddSum64(leaf, 1) }, "group 1 outside"},
		{"leaf NaN", func() error {
			return NewSum64(1, []float64{0}, true).AddSum64([]Node{{Leaf: true, Value64: math.NaN()}}, 0)
		}, "leaf value NaN"},
		{"leaf Inf", func() error {
			return NewSum64(1, []float64{0}, true).AddSum64([]Node{{Leaf: true, Value64: math.Inf(1)}}, 0)
		}, "leaf value +Inf"},
		{"categories in Sum", func() error { return NewSum(1, []float32{0}).AddSum(catTree, 0) }, "categorical split"},
		{"categories in Mean", func() error {
			return NewMean(1, 1, false).AddMean([]Node{catTree[0], {Leaf: true, Dist: []float64{1}}, {Leaf: true, Dist: []float64{1}}})
		}, "categorical split"},
		{"empty categories", func() error {
			return NewSum64(1, []float64{0}, true).AddSum64([]Node{{Feature: 0, Categories: []uint32{}, Right: 2}, {Leaf: true}, {Leaf: true}}, 0)
		}, "empty category set"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.add()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestSum64Allocs(t *testing.T) {
	e := NewSum64(2, []float64{0, 0}, true)
	var tag int32
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 8 {
		if err := e.AddSum64(randomTree64(rng, 2, 4, i%2 == 0, &tag), i%2); err != nil {
			t.Fatal(err)
		}
	}
	row, out := []float64{1, math.NaN()}, make([]float64, 2)
	rows, outs := make([]float64, 2*100), make([]float64, 2*100)
	if n := testing.AllocsPerRun(100, func() {
		e.Predict(row, out, true)
		e.PredictBatch(rows, 100, outs, 2, nil, false)
	}); n != 0 {
		t.Fatalf("%v allocations per run", n)
	}
}
