package classify

import (
	"bufio"
	"bytes"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dmitryikh/leaves"

	"github.com/ml-production-service/classify/internal/flat"
	"github.com/ml-production-service/classify/internal/xgbmodel"
)

// leaves (github.com/dmitryikh/leaves) is the second, independent
// implementation of XGBoost's trees: it reads the legacy binary that
// xgbmodel encodes (Model.Encode: trees round-robin by group, each split
// condition t rewritten to the largest float32 below t, so that leaves'
// x <= t' on float32-rounded inputs decides as XGBoost's float32(x) < t),
// and walks rows one at a time. TestEngineMatchesLeaves requires the
// engine's margins to be bit-identical to the float32 sums of the leaves
// leaves reaches, on every XGBoost model in testdata.

// xgbEnsemble hands an encoded model to leaves. xgbmodel has checked
// everything leaves relies on; recover is the last line of defence, so a
// gap in those checks surfaces as an error rather than a crash.
func xgbEnsemble(norm []byte) (e *leaves.Ensemble, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, err = nil, xgbErrorf(ErrFormat, "leaves failed to read the model: %v", r)
		}
	}()
	e, err = leaves.XGEnsembleFromReader(bufio.NewReader(bytes.NewReader(norm)), false)
	if err != nil {
		return nil, xgbErrorf(ErrFormat, "leaves: %v", err)
	}
	return e, nil
}

// leavesRef predicts XGBoost margins through leaves: leaves gives the
// index of the leaf each tree reaches (its leaf-index output, group by
// group), and margins adds those leaves' float32 values per group in
// XGBoost's order, from XGBoost's base margin.
type leavesRef struct {
	ens                *leaves.Ensemble
	vals               [][]float32 // per tree in Order(), its leaves in leaves' numbering
	nf, groups, rounds int
	base               []float32
	fvals, idx         []float64
}

func newLeavesRef(t testing.TB, data []byte) *leavesRef {
	t.Helper()
	m, err := xgbmodel.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	base, err := xgbBaseMargins(m)
	if err != nil {
		t.Fatal(err)
	}
	order := m.Order()
	raw, err := xgbEnsemble(m.Encode(order))
	if err != nil {
		t.Fatal(err)
	}
	r := &leavesRef{ens: raw.EnsembleWithLeafPredictions(), nf: m.NumFeature, groups: m.NumGroups,
		rounds: raw.NEstimators(), base: base}
	if r.rounds*r.groups != len(order) || raw.NRawOutputGroups() != r.groups {
		t.Fatalf("leaves read %d rounds of %d groups, want %d trees", r.rounds, raw.NRawOutputGroups(), len(order))
	}
	for _, i := range order {
		r.vals = append(r.vals, xgbmodel.LeafValues(&m.Trees[i]))
	}
	r.fvals = make([]float64, r.nf)
	r.idx = make([]float64, r.groups*r.rounds)
	return r
}

// margins returns the float32 margins leaves gives for row.
func (r *leavesRef) margins(t testing.TB, row []float64) []float32 {
	t.Helper()
	for i, v := range row {
		r.fvals[i] = float64(float32(v))
	}
	if err := r.ens.Predict(r.fvals, 0, r.idx); err != nil {
		t.Fatal(err)
	}
	out := make([]float32, r.groups)
	for k := range out {
		a := r.base[k]
		for i := 0; i < r.rounds; i++ {
			j := int(r.idx[k*r.rounds+i])
			a += r.vals[i*r.groups+k][j]
		}
		out[k] = a
	}
	return out
}

// xgbModelFiles returns every XGBoost model file under testdata: the
// files LoadXGBoost reads, whatever their format.
func xgbModelFiles(t *testing.T) []string {
	t.Helper()
	var paths []string
	err := filepath.WalkDir("testdata", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, ".meta.json") {
			return err
		}
		switch filepath.Ext(path) {
		case ".model", ".ubj", ".deprecated", ".json":
		default:
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if _, err := LoadXGBoost(bytes.NewReader(data), nil); err == nil {
			paths = append(paths, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

// xgbProbeRows returns n rows for m that sit on its splits: each value is,
// at random, a split condition of its feature, the float32 below or above
// it, the float64 next to it, NaN, or a value drawn from the conditions'
// range.
func xgbProbeRows(m *xgbmodel.Model, n int, rng *rand.Rand) [][]float64 {
	cands := make([][]float64, m.NumFeature)
	for _, tr := range m.Trees {
		for _, nd := range tr.Nodes {
			if nd.Left < 0 || math.IsInf(float64(nd.Value), 0) {
				continue
			}
			v := nd.Value
			c := &cands[nd.Feature]
			*c = append(*c, float64(v), float64(xgbmodel.Below(v)), float64(math.Nextafter32(v, float32(math.Inf(1)))),
				math.Nextafter(float64(v), math.Inf(-1)), math.Nextafter(float64(v), math.Inf(1)))
		}
	}
	rows := make([][]float64, n)
	for i := range rows {
		row := make([]float64, m.NumFeature)
		for f := range row {
			c := cands[f]
			switch {
			case rng.IntN(8) == 0:
				row[f] = math.NaN()
			case len(c) == 0 || rng.IntN(8) == 0:
				row[f] = (rng.Float64() - 0.5) * 100
			default:
				row[f] = c[rng.IntN(len(c))]
			}
		}
		rows[i] = row
	}
	return rows
}

// TestEngineMatchesLeaves: on every XGBoost model in testdata (the
// format, compatibility and parity suites), on rows sitting on the splits
// and holding NaN, the engine's margins are bit-identical to the float32
// sums of the leaves leaves reaches, and PredictBatch gives exactly what
// Predict gives.
func TestEngineMatchesLeaves(t *testing.T) {
	paths := xgbModelFiles(t)
	if len(paths) < 20 {
		t.Fatalf("found %d XGBoost models in testdata, want the whole suite", len(paths))
	}
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			b := loadXGB(t, data, nil)
			ref := newLeavesRef(t, data)
			m, err := xgbmodel.Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			rows := xgbProbeRows(m, 300, rand.New(rand.NewPCG(3, uint64(len(data)))))
			p := make([]float64, b.nClasses)
			flatRows := make([]float64, 0, len(rows)*b.nFeatures)
			want := make([][]float64, len(rows))
			for i, row := range rows {
				ref := ref.margins(t, row)
				// Both walks of one row: the preorder walk that takes NaN,
				// and, for a finite row, the complete layout's plan.
				walks := []bool{true, false}
				if flat.HasNaN(row) {
					walks = walks[:1]
				}
				for _, nan := range walks {
					b.e.ens.Predict(row, p, nan)
					for k, v := range ref {
						if float32(p[k]) != v || float64(float32(p[k])) != p[k] {
							t.Fatalf("row %d %v (nan %v): group %d: engine margin %v, leaves %v", i, row, nan, k, p[k], v)
						}
					}
				}
				pred, err := b.Predict(row, nil)
				if err != nil {
					t.Fatal(err)
				}
				want[i] = pred.Probabilities
				flatRows = append(flatRows, row...)
			}
			classes := make([]int, len(rows))
			proba := make([]float64, len(rows)*b.nClasses)
			if err := b.PredictBatch(flatRows, classes, proba); err != nil {
				t.Fatal(err)
			}
			for i := range rows {
				if got := proba[i*b.nClasses : (i+1)*b.nClasses]; !xgbEqualFloats(got, want[i]) {
					t.Fatalf("row %d: PredictBatch %v, Predict %v", i, got, want[i])
				}
			}
		})
	}
}
