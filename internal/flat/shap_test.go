package flat

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// The reference for Contributions: the game TreeSHAP explains, evaluated
// by its definition, and its Shapley values by enumerating every subset
// of the features.

// expValue is v(S) for one tree from node i: at a split on a feature in
// S the row's way (the obvious reading of Node, as ref64), elsewhere the
// children weighted by their cover over the split's (1/2 each under a
// split of cover zero).
func expValue(nodes []Node, row []float64, in func(f int) bool, i int, missing bool, value func(*Node) float64) float64 {
	n := &nodes[i]
	if n.Leaf {
		return value(n)
	}
	if in(n.Feature) {
		x := row[n.Feature]
		left := x <= n.Bound
		if n.Categories != nil {
			left = InSet(n.Categories, x)
		}
		if x != x && missing {
			left = n.MissingLeft
		}
		if left {
			return expValue(nodes, row, in, i+1, missing, value)
		}
		return expValue(nodes, row, in, n.Right, missing, value)
	}
	wl, wr := 0.5, 0.5
	if n.Cover != 0 {
		wl, wr = nodes[i+1].Cover/n.Cover, nodes[n.Right].Cover/n.Cover
	}
	return wl*expValue(nodes, row, in, i+1, missing, value) + wr*expValue(nodes, row, in, n.Right, missing, value)
}

// bruteShap returns, per output o, the exact Shapley values of v for
// every feature and v(no feature) plus the base: F+1 values per output.
func bruteShap(e *Ensemble, trees [][]Node, groups []int, row []float64) []float64 {
	nf, k := e.features, e.outputs
	out := make([]float64, k*(nf+1))
	v := func(o int, mask uint) float64 {
		in := func(f int) bool { return mask>>f&1 != 0 }
		value := func(n *Node) float64 {
			switch e.combine {
			case Mean:
				return n.Dist[o]
			case Sum:
				return float64(n.Value)
			}
			return n.Value64
		}
		s := 0.0
		for t, nodes := range trees {
			if e.combine == Mean || groups[t] == o {
				s += expValue(nodes, row, in, 0, e.missing, value)
			}
		}
		if e.combine == Mean {
			s /= float64(len(trees))
		}
		return s
	}
	fact := func(n int) float64 {
		f := 1.0
		for i := 2; i <= n; i++ {
			f *= float64(i)
		}
		return f
	}
	for o := range k {
		for f := range nf {
			phi := 0.0
			for mask := uint(0); mask < 1<<nf; mask++ {
				if mask>>f&1 != 0 {
					continue
				}
				s := 0
				for m := mask; m != 0; m &= m - 1 {
					s++
				}
				w := fact(s) * fact(nf-s-1) / fact(nf)
				phi += w * (v(o, mask|1<<f) - v(o, mask))
			}
			out[o*(nf+1)+f] = phi
		}
		b := v(o, 0)
		switch e.combine {
		case Sum:
			b += float64(e.base[o])
		case Sum64:
			b += e.base64[o]
		}
		out[o*(nf+1)+nf] = b
	}
	return out
}

// withCovers gives nodes random covers: usually a parent's is its
// children's sum, as the libraries write them, sometimes not (the game is
// defined for any covers), sometimes zero.
func withCovers(rng *rand.Rand, nodes []Node) {
	var cover func(i int) float64
	cover = func(i int) float64 {
		n := &nodes[i]
		if n.Leaf {
			n.Cover = float64(rng.IntN(20))
			if rng.IntN(4) == 0 {
				n.Cover += rng.Float64()
			}
			return n.Cover
		}
		n.Cover = cover(i+1) + cover(n.Right)
		switch rng.IntN(8) {
		case 0:
			n.Cover *= 1 + rng.Float64()
		case 1:
			n.Cover = 0
		}
		return n.Cover
	}
	cover(0)
}

// shapRows returns n rows of small integers (categories and values on
// the bounds), uniform values and, with nan, NaN.
func shapRows(rng *rand.Rand, n, features int, nan bool) []float64 {
	rows := make([]float64, n*features)
	for i := range rows {
		switch rng.IntN(4) {
		case 0:
			rows[i] = float64(rng.IntN(40) - 4)
		case 1:
			if nan {
				rows[i] = math.NaN()
				continue
			}
			fallthrough
		default:
			rows[i] = (rng.Float64() - 0.5) * 12
		}
	}
	return rows
}

// TestContributionsBrute compares Contributions and ContributionsBatch
// with the Shapley values of the path-dependent game computed by
// enumerating every subset of up to 6 features, on random ensembles of
// every combination: forests of several classes, float32 and float64
// sums over several groups, NaN routed, categorical splits, features met
// twice on a path, zero covers and covers that do not add up. It also
// checks that each output's values add up to Predict's.
func TestContributionsBrute(t *testing.T) {
	for _, tc := range []struct {
		name                            string
		combine                         Combine
		missing, cat                    bool
		trees, features, outputs, depth int
		// regions: some trees are small enough for region tables.
		regions bool
	}{
		{"mean/one-tree", Mean, false, false, 1, 3, 3, 6, true},
		{"mean/forest/missing", Mean, true, false, 7, 4, 3, 6, true},
		{"mean/forest/six-features", Mean, false, false, 5, 6, 2, 7, true},
		{"mean/shallow/missing", Mean, true, false, 12, 3, 3, 4, true},
		{"sum/groups", Sum, true, false, 12, 5, 3, 5, true},
		{"sum/binary", Sum, true, false, 9, 6, 1, 6, false},
		{"sum/shallow", Sum, true, false, 15, 4, 2, 4, true},
		{"sum64/categorical/missing", Sum64, true, true, 10, 4, 2, 6, true},
		{"sum64/categorical", Sum64, false, true, 6, 5, 1, 5, false},
		{"sum64/shallow/categorical", Sum64, true, true, 30, 3, 2, 2, true},
		{"sum64/one-feature", Sum64, true, false, 4, 1, 1, 5, true},
	} {
		for _, m := range []struct {
			name    string
			methods explainMethods
		}{{"regions", anyMethod}, {"leaf-tables", noRegions}, {"walk", walkOnly}} {
			t.Run(tc.name+"/"+m.name, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(tc.trees), uint64(tc.features)))
				var e *Ensemble
				switch tc.combine {
				case Mean:
					e = NewMean(tc.features, tc.outputs, tc.missing)
				case Sum:
					base := make([]float32, tc.outputs)
					for i := range base {
						base[i] = float32(rng.NormFloat64())
					}
					e = NewSum(tc.features, base)
				case Sum64:
					base := make([]float64, tc.outputs)
					for i := range base {
						base[i] = rng.NormFloat64()
					}
					e = NewSum64(tc.features, base, tc.missing)
				}
				var trees [][]Node
				var groups []int
				var tag int32
				bounds := []float64{0}
				for range tc.trees {
					var nodes []Node
					if tc.combine == Sum64 {
						nodes = randomTree64(rng, tc.features, tc.depth, tc.cat, &tag)
					} else {
						nodes = randomTree(rng, tc.features, tc.outputs, tc.depth, &tag, &bounds)
					}
					withCovers(rng, nodes)
					g := rng.IntN(tc.outputs)
					var err error
					switch tc.combine {
					case Mean:
						err = e.AddMean(nodes)
					case Sum:
						err = e.AddSum(nodes, g)
					case Sum64:
						err = e.AddSum64(nodes, g)
					}
					if err != nil {
						t.Fatal(err)
					}
					trees, groups = append(trees, nodes), append(groups, g)
				}
				if err := e.Explainable(); err != nil {
					t.Fatal(err)
				}
				e.methods = m.methods
				p := e.plan()
				regions, leaves := 0, 0
				if p.region != nil {
					regions = len(p.region.trees)
				}
				if p.leaves != nil {
					leaves = len(p.leaves.leaves)
				}
				t.Logf("%d trees: %d with region tables, %d leaves in leaf tables, %d walked", tc.trees, regions, leaves, len(p.walk))
				switch {
				case m.methods != anyMethod && regions > 0,
					m.methods == walkOnly && leaves > 0,
					m.methods == anyMethod && regions == 0 && tc.regions,
					m.methods == noRegions && leaves == 0 && !tc.cat:
					t.Fatal("not the ways the test is for")
				}
				const n = 60
				rows := shapRows(rng, n, tc.features, e.Missing())
				size := tc.outputs * (tc.features + 1)
				batch := make([]float64, n*size)
				e.ContributionsBatch(rows, n, batch)
				got := make([]float64, size)
				pred := make([]float64, tc.outputs)
				for r := range n {
					row := rows[r*tc.features : (r+1)*tc.features]
					e.Contributions(row, got)
					want := bruteShap(e, trees, groups, row)
					for i := range want {
						if !close(got[i], want[i], 1e-9) || got[i] != batch[r*size+i] {
							t.Fatalf("row %v: value %d (output %d, feature %d) is %v (batch %v), want %v",
								row, i, i/(tc.features+1), i%(tc.features+1), got[i], batch[r*size+i], want[i])
						}
					}
					e.Predict(row, pred, HasNaN(row))
					for o, p := range pred {
						sum := 0.0
						for _, v := range got[o*(tc.features+1) : (o+1)*(tc.features+1)] {
							sum += v
						}
						tol := 1e-9
						if tc.combine == Sum {
							tol = 1e-5 // Predict adds in float32
						}
						if !close(sum, p, tol) {
							t.Fatalf("row %v, output %d: contributions add up to %v, Predict gives %v", row, o, sum, p)
						}
					}
				}
			})
		}
	}
}

// close reports whether a and b agree within tol, relative to the larger
// of their magnitudes and 1.
func close(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*max(1, math.Abs(a), math.Abs(b))
}

// TestContributionsAllocs: Contributions and ContributionsBatch allocate
// nothing once their scratch is made.
func TestContributionsAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops scratch under -race")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	e := NewSum64(4, []float64{0, 0}, true)
	var tag int32
	for i := range 10 {
		nodes := randomTree64(rng, 4, 6, true, &tag)
		withCovers(rng, nodes)
		if err := e.AddSum64(nodes, i%2); err != nil {
			t.Fatal(err)
		}
	}
	rows := shapRows(rng, 10, 4, true)
	out := make([]float64, 10*2*5)
	if n := testing.AllocsPerRun(50, func() {
		e.Contributions(rows[:4], out)
		e.ContributionsBatch(rows, 10, out)
	}); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// TestExplainable: an ensemble with a node added without a cover (NaN,
// negative, infinite) cannot explain; one whose trees are deeper than
// MaxExplainDepth neither.
func TestExplainable(t *testing.T) {
	leaf := func(c float64) Node { return Node{Leaf: true, Value64: 1, Cover: c} }
	for _, c := range []float64{math.NaN(), -1, math.Inf(1)} {
		e := NewSum64(1, []float64{0}, false)
		if err := e.AddSum64([]Node{{Right: 2, Cover: 2}, leaf(1), leaf(c)}, 0); err != nil {
			t.Fatal(err)
		}
		if e.HasCovers() || e.Explainable() != ErrNoCovers {
			t.Errorf("cover %v: HasCovers %v, Explainable %v", c, e.HasCovers(), e.Explainable())
		}
	}
	if NewSum64(1, []float64{0}, false).HasCovers() {
		t.Error("an ensemble of no trees has covers")
	}
	deep := make([]Node, 0, 2*MaxExplainDepth+3)
	for d := 0; d <= MaxExplainDepth; d++ {
		deep = append(deep, Node{Right: len(deep) + 2, Cover: 1}, leaf(1))
	}
	deep = append(deep, leaf(1))
	e := NewSum64(1, []float64{0}, false)
	if err := e.AddSum64(deep, 0); err != nil {
		t.Fatal(err)
	}
	if err := e.Explainable(); err == nil || e.MaxDepth() != MaxExplainDepth+1 {
		t.Errorf("depth %d: Explainable %v", e.MaxDepth(), err)
	}
}

// TestNode: Node, Root, TreeLen and Group hand back every tree as it was
// added, covers, thresholds and gains included.
func TestNode(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, c := range []Combine{Mean, Sum, Sum64} {
		var e *Ensemble
		switch c {
		case Mean:
			e = NewMean(3, 2, false)
		case Sum:
			e = NewSum(3, []float32{0, 0})
		case Sum64:
			e = NewSum64(3, []float64{0, 0}, true)
		}
		var trees [][]Node
		var tag int32
		bounds := []float64{0}
		for i := range 5 {
			var nodes []Node
			if c == Sum64 {
				nodes = randomTree64(rng, 3, 4, true, &tag)
			} else {
				nodes = randomTree(rng, 3, 2, 4, &tag, &bounds)
			}
			withCovers(rng, nodes)
			for j := range nodes {
				nodes[j].Threshold, nodes[j].Gain = rng.Float64(), rng.Float64()
				switch {
				case nodes[j].Leaf:
					nodes[j].Threshold, nodes[j].Gain = 0, 0
					if c != Mean {
						nodes[j].Dist = nil
					}
					if c != Sum {
						nodes[j].Value = 0
					}
				case c != Mean && !e.Missing():
					nodes[j].MissingLeft = false
				}
			}
			var err error
			switch c {
			case Mean:
				err = e.AddMean(nodes)
			case Sum:
				err = e.AddSum(nodes, i%2)
			case Sum64:
				err = e.AddSum64(nodes, i%2)
			}
			if err != nil {
				t.Fatal(err)
			}
			trees = append(trees, nodes)
		}
		for ti, nodes := range trees {
			if e.TreeLen(ti) != len(nodes) || c != Mean && e.Group(ti) != ti%2 || c == Mean && e.Group(ti) != 0 {
				t.Fatalf("%v tree %d: TreeLen %d Group %d", c, ti, e.TreeLen(ti), e.Group(ti))
			}
			for j := range nodes {
				got, want := e.Node(e.Root(ti)+int32(j)), nodes[j]
				if want.Leaf {
					want.Feature, want.Bound, want.Right, want.MissingLeft, want.Categories = 0, 0, 0, false, nil
				} else {
					want.Tag, want.Value64 = 0, 0
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%v tree %d node %d: %+v, want %+v", c, ti, j, got, want)
				}
			}
		}
	}
}
