package classify

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dmitryikh/leaves"
)

// The test models of testdata/xgboost, made by make_models.py with XGBoost
// 1.7.4, each with XGBoost's own answers on its data set, on probe rows
// sitting on and next to every split threshold and on extreme values.
var xgbTestModels = []string{"iris_softprob", "iris_softmax", "breast_cancer_logistic", "wine_200"}

// xgbCase is one case of a classify/golden v1 file.
type xgbCase struct {
	Name  string    `json:"name"`
	Input []float64 `json:"input"`
	Label string    `json:"label"`
	Proba []float64 `json:"proba"`
}

type xgbGolden struct {
	Format        string    `json:"format"`
	FormatVersion int       `json:"format_version"`
	Reference     string    `json:"reference"`
	Objective     string    `json:"objective"`
	Features      []string  `json:"features"`
	Classes       []string  `json:"classes"`
	Cases         []xgbCase `json:"cases"`
}

func xgbModelPath(name string) string { return filepath.Join("testdata", "xgboost", name+".model") }

func readXGBGolden(t testing.TB, name string) *xgbGolden {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "xgboost", name+".json"))
	if err != nil {
		t.Fatalf("golden file missing (run testdata/xgboost/make_models.py): %v", err)
	}
	g := &xgbGolden{}
	if err := json.Unmarshal(data, g); err != nil {
		t.Fatal(err)
	}
	if g.Format != "classify/golden" || g.FormatVersion != 1 || len(g.Cases) == 0 {
		t.Fatalf("%s: unexpected golden file %q v%d with %d cases", name, g.Format, g.FormatVersion, len(g.Cases))
	}
	return g
}

func readXGBModel(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(xgbModelPath(name))
	if err != nil {
		t.Fatalf("test model missing (run testdata/xgboost/make_models.py): %v", err)
	}
	return data
}

func loadXGB(t testing.TB, data []byte, meta *XGBoostMeta) *Booster {
	t.Helper()
	b, err := LoadXGBoost(bytes.NewReader(data), meta)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkXGBParity compares b with XGBoost on every case: the same label, and
// probabilities within 1e-6. It returns the largest difference.
func checkXGBParity(t *testing.T, b *Booster, g *xgbGolden) float64 {
	t.Helper()
	info := b.Info()
	if len(info.Classes) != len(g.Classes) || len(info.Features) != len(g.Features) {
		t.Fatalf("model has %d features, %d classes; golden file %d, %d",
			len(info.Features), len(info.Classes), len(g.Features), len(g.Classes))
	}
	maxDiff := 0.0
	proba := make([]float64, len(info.Classes))
	rows := make([]float64, 0, len(g.Cases)*len(info.Features))
	for _, c := range g.Cases {
		rows = append(rows, c.Input...)
		p, err := b.Predict(c.Input, proba)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if want := g.Classes[xgbIndex(t, g.Classes, c.Label)]; p.Label != want || info.Classes[p.Class] != p.Label {
			t.Errorf("%s: label %q (class %d), XGBoost says %q; proba %v, XGBoost %v", c.Name, p.Label, p.Class, want, p.Probabilities, c.Proba)
		}
		for k, want := range c.Proba {
			d := math.Abs(p.Probabilities[k] - want)
			maxDiff = max(maxDiff, d)
			if !(d <= 1e-6) {
				t.Errorf("%s: proba[%d] = %v, XGBoost %v (diff %.3g)", c.Name, k, p.Probabilities[k], want, d)
			}
		}
	}
	// The batch API answers the same, bit for bit.
	classes := make([]int, len(g.Cases))
	batch := make([]float64, len(g.Cases)*len(info.Classes))
	if err := b.PredictBatch(rows, classes, batch); err != nil {
		t.Fatal(err)
	}
	for i, c := range g.Cases {
		p, _ := b.Predict(c.Input, proba)
		if classes[i] != p.Class || !equalFloats(batch[i*len(proba):(i+1)*len(proba)], p.Probabilities) {
			t.Errorf("%s: PredictBatch gave class %d %v, Predict %d %v", c.Name, classes[i],
				batch[i*len(proba):(i+1)*len(proba)], p.Class, p.Probabilities)
		}
	}
	if err := b.PredictBatch(rows, classes, nil); err != nil {
		t.Fatal(err)
	}
	return maxDiff
}

func xgbIndex(t *testing.T, names []string, s string) int {
	t.Helper()
	for i, n := range names {
		if n == s {
			return i
		}
	}
	t.Fatalf("label %q is not one of %v", s, names)
	return -1
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

func TestXGBoostParity(t *testing.T) {
	for _, name := range xgbTestModels {
		t.Run(name, func(t *testing.T) {
			g := readXGBGolden(t, name)
			b := loadXGB(t, readXGBModel(t, name), nil)
			info := b.Info()
			if info.Kind != XGBoost || info.Name != "" || info.Version != "" {
				t.Errorf("Info() = %+v", info)
			}
			if !equalStrings(info.Features, g.Features) || !equalStrings(info.Classes, g.Classes) {
				t.Errorf("generic names %v %v, want %v %v", info.Features, info.Classes, g.Features, g.Classes)
			}
			d := checkXGBParity(t, b, g)
			t.Logf("%s (%s): %d rows, max probability difference %.3g", name, g.Objective, len(g.Cases), d)
		})
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestXGBoostThresholdRows shows that the threshold rewrite is what makes the
// probe rows agree: leaves on the model with only the layout fixed (split
// conditions as XGBoost wrote them, inputs as given) sends rows sitting on a
// split the other way, and then disagrees with XGBoost's labels.
func TestXGBoostThresholdRows(t *testing.T) {
	g := readXGBGolden(t, "wine_200")
	data := readXGBModel(t, "wine_200")
	b := loadXGB(t, data, nil)
	raw := xgbLayoutOnly(t, data)
	probes, wrong := 0, 0
	margins := make([]float64, 3)
	for _, c := range g.Cases {
		if !strings.HasPrefix(c.Name, "threshold/") {
			continue
		}
		probes++
		if err := raw.Predict(c.Input, 0, margins); err != nil {
			t.Fatal(err)
		}
		if strconv.Itoa(argmax(margins)) != c.Label {
			wrong++
		}
		if p, _ := b.Predict(c.Input, nil); p.Label != c.Label {
			t.Errorf("%s: label %s, XGBoost %s", c.Name, p.Label, c.Label)
		}
	}
	t.Logf("%d probe rows: leaves without the threshold rewrite gets %d labels wrong, Booster 0", probes, wrong)
	if probes < 500 {
		t.Errorf("only %d probe rows", probes)
	}
}

// xgbLayoutOnly loads data into leaves with only the magic stripped and the
// output-group field set: the fix DESIGN.md started from.
func xgbLayoutOnly(t *testing.T, data []byte) *leaves.Ensemble {
	t.Helper()
	l := xgbLayoutOf(t, data)
	fixed := append([]byte(nil), data[4:]...)
	binary.LittleEndian.PutUint32(fixed[l.gbtree-4+24:], uint32(max(l.numClass, 1)))
	e, err := xgbEnsemble(fixed)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// xgbLayout holds offsets (in the file, magic included) of the fields the
// malformed-input tests corrupt.
type xgbLayout struct {
	numClass  int
	objective int // offset of the objective name's length
	booster   int // offset of the booster name's length
	gbtree    int // GBTreeModelParam
	tree0     int // first TreeParam
	node0     int // first node of the first tree
	numNodes0 int
	treeInfo  int
	attrs     int // after tree_info
}

func xgbLayoutOf(t testing.TB, data []byte) xgbLayout {
	t.Helper()
	if string(data[:4]) != "binf" {
		t.Fatal("test model has no binf magic")
	}
	le := binary.LittleEndian
	l := xgbLayout{numClass: int(le.Uint32(data[4+8:]))}
	pos := 4 + 136
	l.objective = pos
	pos += 8 + int(le.Uint64(data[pos:]))
	l.booster = pos
	pos += 8 + int(le.Uint64(data[pos:]))
	l.gbtree = pos
	numTrees := int(le.Uint32(data[pos:]))
	pos += 160
	l.tree0 = pos
	for i := 0; i < numTrees; i++ {
		n := int(le.Uint32(data[pos+4:]))
		if i == 0 {
			l.node0, l.numNodes0 = pos+148, n
		}
		pos += 148 + 36*n
	}
	l.treeInfo = pos
	l.attrs = pos + 4*numTrees
	return l
}
