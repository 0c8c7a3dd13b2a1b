package classify

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ml-production-service/classify/internal/flat"
)

// withStats gives a scikit-learn tree dump version 3's node statistics:
// each leaf n samples of weight w, each split its children's sums, the
// impurity of a node 1/(its depth + 1).
func withStats(d treeDump, w float64) treeDump {
	n := len(d.Feature)
	d.NNodeSamples, d.WeightedNNodeSamples, d.Impurity = make([]int, n), make([]float64, n), make([]float64, n)
	var fill func(id, depth int) (int, float64)
	fill = func(id, depth int) (int, float64) {
		d.Impurity[id] = 1 / float64(depth+1)
		if d.ChildrenLeft[id] == -1 {
			d.NNodeSamples[id], d.WeightedNNodeSamples[id] = 2+id, w*float64(2+id)
		} else {
			ln, lw := fill(d.ChildrenLeft[id], depth+1)
			rn, rw := fill(d.ChildrenRight[id], depth+1)
			d.NNodeSamples[id], d.WeightedNNodeSamples[id] = ln+rn, lw+rw
		}
		return d.NNodeSamples[id], d.WeightedNNodeSamples[id]
	}
	fill(0, 0)
	return d
}

// otherMissingTree is otherTree with missing sepal_length going right.
func otherMissingTree() treeDump {
	d := otherTree()
	d.MissingGoToLeft = []int{0, 0, 0}
	return d
}

// dumpV3 writes a classify/sklearn-trees v3 dump of the Iris trees.
func dumpV3(t testing.TB, kind Kind, estimator string, trees ...treeDump) string {
	t.Helper()
	b, err := json.Marshal(treesFile{
		Format: "classify/sklearn-trees", FormatVersion: 3, Kind: kind, Estimator: estimator,
		Library: "scikit-learn 1.9.1", Features: irisFeatures, Classes: irisClasses, Trees: trees,
	})
	require.NoError(t, err)
	return string(b)
}

// sumsTo checks that each output's contributions and bias in out add up
// to raw within tol.
func sumsTo(t *testing.T, out, raw []float64, nf int, tol float64) {
	t.Helper()
	for o, r := range raw {
		s := 0.0
		for _, v := range out[o*(nf+1) : (o+1)*(nf+1)] {
			s += v
		}
		require.InDelta(t, r, s, tol*max(1, math.Abs(r)), "output %d", o)
	}
}

// TestContributionsSklearnTrees: version 3 trees and forests explain
// (missing values included, NaN going its learnt way), their covers and
// gains are the dump's, and the values add up to the probabilities.
func TestContributionsSklearnTrees(t *testing.T) {
	tree, err := LoadDecisionTree(strings.NewReader(dumpV3(t, DecisionTree, "DecisionTreeClassifier", withStats(smallTree(), 1))))
	require.NoError(t, err)
	forest, err := LoadRandomForest(strings.NewReader(dumpV3(t, RandomForest, "RandomForestClassifier",
		withStats(missingTree(), 0.5), withStats(otherMissingTree(), 2), withStats(missingTree(), 1))))
	require.NoError(t, err)
	// Node 0 of smallTree: weighted 2+... its gain is w*imp - wl*impl - wr*impr.
	d := withStats(smallTree(), 1)
	root := tree.e.ens.Node(tree.e.ens.Root(0))
	require.Equal(t, d.WeightedNNodeSamples[0], root.Cover)
	require.Equal(t, d.WeightedNNodeSamples[0]*1-d.WeightedNNodeSamples[1]/2-d.WeightedNNodeSamples[2]/2, root.Gain)
	require.Equal(t, 2.45, root.Threshold)
	for _, m := range []Contributor{tree, forest} {
		require.Equal(t, irisClasses, m.Outputs())
		out := make([]float64, 3*5)
		for _, row := range [][]float64{{5.1, 3.5, 1.4, 0.2}, {6, 3, 4.5, 1.5}, {6, 3, 5, 2}, {5, 3, math.NaN(), 2}, {7, 3, 5, math.NaN()}} {
			err := m.Contributions(row, out)
			if !m.Info().Missing && flat.HasNaN(row) {
				require.ErrorIs(t, err, ErrInput)
				continue
			}
			require.NoError(t, err)
			p, err := m.Predict(row, nil)
			require.NoError(t, err)
			sumsTo(t, out, p.Probabilities, 4, 1e-12)
		}
	}
	// One split on petal_length, the row on its left: petal_length takes
	// all of the difference between the leaf and the expected value.
	out := make([]float64, 15)
	require.NoError(t, tree.Contributions([]float64{5.1, 3.5, 1.4, 0.2}, out))
	w := d.WeightedNNodeSamples
	expect := (w[1]*1 + w[3]*0 + w[4]*0) / w[0] // setosa: leaf 1 alone
	require.InDelta(t, expect, out[4], 1e-15)
	require.InDelta(t, 1-expect, out[2], 1e-15)
	require.Zero(t, out[0])
	require.Zero(t, out[1])
}

// TestContributionsRefusals: an artifact without covers, a bad row and an
// output of the wrong length are refused with errors saying so; a batch
// stops at its first bad row, the rows before it explained.
func TestContributionsRefusals(t *testing.T) {
	v1, err := LoadRandomForest(strings.NewReader(dump(t, RandomForest, smallTree())))
	require.NoError(t, err)
	v1.info.Name = "iris"
	out := make([]float64, 15)
	err = v1.Contributions([]float64{1, 2, 3, 4}, out)
	require.ErrorIs(t, err, ErrFormat)
	require.ErrorContains(t, err, `random_forest "iris": the artifact carries no node covers (classify/sklearn-trees v3 carries them): re-export it with classify-export`)
	require.ErrorIs(t, v1.ContributionsBatch([]float64{1, 2, 3, 4}, out), ErrFormat)

	tree, err := LoadDecisionTree(strings.NewReader(dumpV3(t, DecisionTree, "DecisionTreeClassifier", withStats(smallTree(), 1))))
	require.NoError(t, err)
	for _, c := range []struct {
		name     string
		rows     []float64
		out      int
		batch    bool
		want     string
		wantRows int // rows explained before the error
	}{
		{"short row", []float64{1, 2, 3}, 15, false, "", 0},
		{"NaN", []float64{1, 2, math.NaN(), 4}, 15, false, "", 0},
		{"infinity", []float64{1, 2, math.Inf(1), 4}, 15, false, "", 0},
		{"short out", []float64{1, 2, 3, 4}, 14, false, "need 15 values, got 14", 0},
		{"batch length", []float64{1, 2, 3, 4, 5}, 15, true, "holds 5 values", 0},
		{"batch out", []float64{1, 2, 3, 4}, 30, true, "contributions of 1 rows need 15 values, got 30", 0},
		{"batch bad row", []float64{1, 2, 3, 4, 1, 2, 3, 4, 1, math.NaN(), 3, 4}, 45, true, "row 2: ", 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := make([]float64, c.out)
			var err error
			if c.batch {
				err = tree.ContributionsBatch(c.rows, o)
			} else {
				err = tree.Contributions(c.rows, o)
			}
			require.ErrorIs(t, err, ErrInput)
			require.ErrorContains(t, err, c.want)
			for r := range c.wantRows {
				require.NotZero(t, o[r*15+4], "row %d explained", r)
			}
		})
	}
}

// boostingDoc reads a suite dump of the boosting testdata as a document.
func boostingDoc(t *testing.T, ds, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "boosting", "sklearn-1.9.1_lightgbm-4.7.0", ds, name))
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(b, &doc))
	return doc
}

// ints returns a document's array of numbers as ints.
func docInts(v any) []int {
	var out []int
	for _, x := range v.([]any) {
		out = append(out, int(x.(float64)))
	}
	return out
}

// leafCounts gives every leaf of a tree (children arrays) a count of 1 +
// its index and every split its children's sum.
func leafCounts(left, right []int, leaf func(i int) bool) []int {
	n := make([]int, len(left))
	var fill func(i int) int
	fill = func(i int) int {
		if leaf(i) {
			n[i] = 1 + i
		} else {
			n[i] = fill(left[i]) + fill(right[i])
		}
		return n[i]
	}
	fill(0)
	return n
}

// TestContributionsSklearnBoosting: suite models of GradientBoosting and
// HistGradientBoosting (numerical, categorical, missing values), with
// version 2's statistics added, explain; the values add up to the raw
// scores, and the statistics are the nodes' covers and gains.
func TestContributionsSklearnBoosting(t *testing.T) {
	for _, ds := range []string{"iris", "categorical", "missing"} {
		t.Run(ds+"/gradient_boosting", func(t *testing.T) {
			doc := boostingDoc(t, ds, "gradient_boosting.json")
			doc["format_version"] = 2
			for _, stage := range doc["stages"].([]any) {
				for _, tr := range stage.([]any) {
					tr := tr.(map[string]any)
					l, r := docInts(tr["children_left"]), docInts(tr["children_right"])
					n := leafCounts(l, r, func(i int) bool { return l[i] == -1 })
					imp := make([]float64, len(n))
					for i := range imp {
						imp[i] = 1 / float64(1+i)
					}
					tr["n_node_samples"], tr["weighted_n_node_samples"], tr["impurity"] = n, n, imp
				}
			}
			b, err := json.Marshal(doc)
			require.NoError(t, err)
			m, err := LoadGradientBoosting(strings.NewReader(string(b)))
			require.NoError(t, err)
			checkBoostedSums(t, m, ds, "gradient_boosting")
		})
		t.Run(ds+"/hist_gradient_boosting", func(t *testing.T) {
			doc := boostingDoc(t, ds, "hist_gradient_boosting.json")
			doc["format_version"] = 2
			for _, it := range doc["iterations"].([]any) {
				for _, p := range it.([]any) {
					p := p.(map[string]any)
					leaf := docInts(p["is_leaf"])
					n := leafCounts(docInts(p["left"]), docInts(p["right"]), func(i int) bool { return leaf[i] == 1 })
					gain := make([]float64, len(n))
					for i := range gain {
						gain[i] = float64(1 - leaf[i])
					}
					p["count"], p["gain"] = n, gain
				}
			}
			b, err := json.Marshal(doc)
			require.NoError(t, err)
			m, err := LoadHistGradientBoosting(strings.NewReader(string(b)))
			require.NoError(t, err)
			checkBoostedSums(t, m, ds, "hist_gradient_boosting")
		})
	}
}

// checkBoostedSums explains the rows of a suite model's parity cases.
func checkBoostedSums(t *testing.T, m *Boosted, ds, name string) {
	t.Helper()
	var pf struct {
		Cases []struct {
			Input []*float64 `json:"input"`
		} `json:"cases"`
	}
	b, err := os.ReadFile(filepath.Join("testdata", "boosting", "sklearn-1.9.1_lightgbm-4.7.0", ds, name+".parity.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &pf))
	nf, no := m.nf, m.e.Outputs()
	require.Len(t, m.Outputs(), no)
	if no == 1 {
		require.Equal(t, m.info.Classes[1:], m.Outputs())
	}
	out := make([]float64, no*(nf+1))
	raw := make([]float64, no)
	x := make([]float64, nf)
	for _, c := range pf.Cases {
		row := make([]float64, nf)
		for i, v := range c.Input {
			row[i] = math.NaN()
			if v != nil {
				row[i] = *v
			}
		}
		require.NoError(t, m.Contributions(row, out))
		copy(x, row)
		if m.pre != nil {
			m.pre(x, row)
		}
		m.e.Predict(x, raw, flat.HasNaN(x))
		sumsTo(t, out, raw, nf, 1e-9)
	}
	// The first tree's root: its cover is its count, from the dump.
	root := m.e.Node(m.e.Root(0))
	require.False(t, root.Leaf)
	require.Positive(t, root.Cover)
}

// TestContributorOutputs: a binary boosted model's one output is its
// positive class; a multi-class model's, its classes.
func TestContributorOutputs(t *testing.T) {
	bin := loadXGB(t, readXGBModel(t, "breast_cancer_logistic"), nil)
	require.Equal(t, bin.info.Classes[1:], bin.Outputs())
	multi := loadXGB(t, readXGBModel(t, "iris_softprob"), nil)
	require.Equal(t, multi.info.Classes, multi.Outputs())
	// A copy: the caller may change it.
	multi.Outputs()[0] = "x"
	require.NotEqual(t, "x", multi.info.Classes[0])
}

// TestContributionsAllocateNothing: Contributions and ContributionsBatch
// allocate nothing once warm, for every family: a tree and a forest (v3),
// an XGBoost model, a LightGBM model whose rows are rewritten (zero as
// missing).
func TestContributionsAllocateNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops scratch under -race")
	}
	tree, err := LoadDecisionTree(strings.NewReader(dumpV3(t, DecisionTree, "DecisionTreeClassifier", withStats(smallTree(), 1))))
	require.NoError(t, err)
	forest, err := LoadRandomForest(strings.NewReader(dumpV3(t, RandomForest, "RandomForestClassifier", withStats(missingTree(), 1), withStats(otherMissingTree(), 1))))
	require.NoError(t, err)
	xgb := loadXGB(t, readXGBModel(t, "iris_softprob"), nil)
	lgb, err := New(LightGBM, filepath.Join("testdata", "boosting", "sklearn-1.9.1_lightgbm-4.7.0", "missing", "lightgbm_zero.txt"))
	require.NoError(t, err)
	for _, m := range []Contributor{tree, forest, xgb, lgb.(Contributor)} {
		t.Run(string(m.Info().Kind), func(t *testing.T) {
			nf := len(m.Info().Features)
			size := len(m.Outputs()) * (nf + 1)
			rows := make([]float64, 3*nf)
			for i := range rows {
				rows[i] = float64(i%5) * 0.7
			}
			if m.Info().Missing {
				rows[1] = math.NaN()
			}
			out := make([]float64, 3*size)
			if n := testing.AllocsPerRun(50, func() {
				if err := m.Contributions(rows[:nf], out[:size]); err != nil {
					t.Fatal(err)
				}
				if err := m.ContributionsBatch(rows, out); err != nil {
					t.Fatal(err)
				}
			}); n != 0 {
				t.Errorf("%v allocations per call", n)
			}
		})
	}
}

// TestLoadTreesV3Errors: version 3's statistics are required in every
// tree, one per node, non-negative; versions 1 and 2 may not carry them.
func TestLoadTreesV3Errors(t *testing.T) {
	good := withStats(smallTree(), 1)
	for _, c := range []struct {
		name string
		doc  string
		want string
	}{
		{"missing", dumpV3(t, DecisionTree, "DecisionTreeClassifier", smallTree()), "tree 0: n_node_samples has 0 entries for 5 nodes"},
		{"short", dumpV3(t, DecisionTree, "DecisionTreeClassifier", func() treeDump {
			d := good
			d.Impurity = d.Impurity[:4]
			return d
		}()), "impurity has 4 entries for 5 nodes"},
		{"negative count", dumpV3(t, DecisionTree, "DecisionTreeClassifier", func() treeDump {
			d := withStats(smallTree(), 1)
			d.NNodeSamples[2] = -1
			return d
		}()), "node 2: n_node_samples -1 is negative"},
		{"negative weight", dumpV3(t, DecisionTree, "DecisionTreeClassifier", func() treeDump {
			d := withStats(smallTree(), 1)
			d.WeightedNNodeSamples[3] = -0.5
			return d
		}()), "node 3: weighted_n_node_samples -0.5 is negative"},
		{"in version 2", dumpV2(t, DecisionTree, "DecisionTreeClassifier", good), "are version 3 fields"},
		{"in version 1", dump(t, DecisionTree, good), "are version 3 fields"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadDecisionTree(strings.NewReader(c.doc))
			require.ErrorIs(t, err, ErrFormat)
			require.ErrorContains(t, err, c.want)
		})
	}
}
