package classify

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/dmitryikh/leaves"

	"github.com/ml-production-service/classify/internal/xgbmodel"
)

// The test models of testdata/xgboost, made by make_models.py with XGBoost
// 1.7.4, each with XGBoost's own answers on its data set, on probe rows
// sitting on and next to every split threshold and on extreme values.
var xgbTestModels = []string{"iris_softprob", "iris_tiny", "iris_softmax", "breast_cancer_logistic", "wine_200"}

// xgbCase is one case of a classify/golden v1 or v2 file.
type xgbCase struct {
	Name   string    `json:"name"`
	Input  xgbRow    `json:"input"`
	Label  string    `json:"label"`
	Proba  []float64 `json:"proba"`
	Margin []float64 `json:"margin"` // v2, binary:logitraw: XGBoost's own margins
}

// xgbRow is a golden file's input row; null (v2) is a missing value, NaN.
type xgbRow []float64

func (r *xgbRow) UnmarshalJSON(b []byte) error {
	var vals []*float64
	if err := json.Unmarshal(b, &vals); err != nil {
		return err
	}
	*r = make(xgbRow, len(vals))
	for i, v := range vals {
		(*r)[i] = math.NaN()
		if v != nil {
			(*r)[i] = *v
		}
	}
	return nil
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
		if classes[i] != p.Class || !xgbEqualFloats(batch[i*len(proba):(i+1)*len(proba)], p.Probabilities) {
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

func xgbEqualFloats(a, b []float64) bool {
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
			if !slices.Equal(info.Features, g.Features) || !slices.Equal(info.Classes, g.Classes) {
				t.Errorf("generic names %v %v, want %v %v", info.Features, info.Classes, g.Features, g.Classes)
			}
			d := checkXGBParity(t, b, g)
			t.Logf("%s (%s): %d rows, max probability difference %.3g", name, g.Objective, len(g.Cases), d)
		})
	}
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
	if wrong == 0 {
		t.Error("leaves without the threshold rewrite agrees on every probe row: the probes no longer sit on splits, so this test shows nothing")
	}
}

// TestXGBoostRoundsInputs pins what the docs say of a Booster's hot path:
// every input is rounded to float32 before the trees see it. On the probe
// rows that sit on a split, nudging a value by one float64 ulp either way
// rounds to the same float32 and must not change the answer (a float64
// comparison would send the row the other way at some of them).
func TestXGBoostRoundsInputs(t *testing.T) {
	g := readXGBGolden(t, "wine_200")
	b := loadXGB(t, readXGBModel(t, "wine_200"), nil)
	probes := 0
	for _, c := range g.Cases {
		if !strings.HasPrefix(c.Name, "threshold/") {
			continue
		}
		probes++
		want, err := b.Predict(c.Input, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range c.Input {
			if v != v || float64(float32(v)) != v {
				continue
			}
			for _, dir := range []float64{math.Inf(-1), math.Inf(1)} {
				row := append([]float64(nil), c.Input...)
				row[i] = math.Nextafter(v, dir)
				p, err := b.Predict(row, nil)
				if err != nil || !xgbEqualFloats(p.Probabilities, want.Probabilities) {
					t.Fatalf("%s: feature %d nudged to %v: %v %v, want %v", c.Name, i, row[i], p.Probabilities, err, want.Probabilities)
				}
			}
		}
	}
	if probes == 0 {
		t.Fatal("no threshold probes in the golden file")
	}
}

// xgbLayoutOnly loads data into leaves with only the magic stripped and the
// output-group field set: the layout fix alone, without the threshold
// rewrite or the float32 rounding of inputs.
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

// xgbMutate returns a copy of data changed by f.
func xgbMutate(data []byte, f func(b []byte) []byte) []byte {
	return f(append([]byte(nil), data...))
}

func xgbPutU32(off int, v uint32) func([]byte) []byte {
	return func(b []byte) []byte { binary.LittleEndian.PutUint32(b[off:], v); return b }
}

func xgbPutU64(off int, v uint64) func([]byte) []byte {
	return func(b []byte) []byte { binary.LittleEndian.PutUint64(b[off:], v); return b }
}

// xgbReplaceString replaces the length-prefixed string at off with s.
func xgbReplaceString(off int, s string) func([]byte) []byte {
	return func(b []byte) []byte {
		n := int(binary.LittleEndian.Uint64(b[off:]))
		out := append([]byte(nil), b[:off]...)
		out = binary.LittleEndian.AppendUint64(out, uint64(len(s)))
		out = append(out, s...)
		return append(out, b[off+8+n:]...)
	}
}

func TestLoadXGBoostMalformed(t *testing.T) {
	iris := readXGBModel(t, "iris_softprob")
	bc := readXGBModel(t, "breast_cancer_logistic")
	l := xgbLayoutOf(t, iris)
	lb := xgbLayoutOf(t, bc)
	node := func(i int) int { return l.node0 + 20*i }
	firstLeaf := -1
	for i := 0; i < l.numNodes0; i++ {
		if int32(binary.LittleEndian.Uint32(iris[node(i)+4:])) == -1 {
			firstLeaf = i
			break
		}
	}
	nan := math.Float32bits(float32(math.NaN()))
	tests := []struct {
		name string
		data []byte
		want string // in the error message
	}{
		{"empty", nil, "learner header"},
		{"magic only", []byte("binf"), "learner header"},
		{"base64", append([]byte("bs64"), iris[4:]...), "base64"},
		// Without the magic the file reads as the pre-1.0 layout, shifted.
		{"wrong magic", append([]byte("fnib"), iris[4:]...), "learner header: feature count 1056964608"},
		{"JSON model", []byte(`{"learner": {"attributes": {}}}`), "JSON model: not an XGBoost model"},
		{"UBJSON model", []byte("{L\x00\x00\x00\x00\x00\x00\x00\x01x}"), "UBJSON model: offset 12: marker '}' is not supported"},
		{"short header", iris[:100], "learner header: needs 136 bytes"},
		{"zero features", xgbMutate(iris, xgbPutU32(8, 0)), "feature count 0"},
		{"huge feature count", xgbMutate(iris, xgbPutU32(8, 1<<31)), "feature count 2147483648"},
		{"negative class count", xgbMutate(iris, xgbPutU32(12, math.MaxUint32)), "class count -1 is outside [0, 65536]"},
		{"NaN base score", xgbMutate(iris, xgbPutU32(4, nan)), "base score is NaN"},
		{"huge objective length", xgbMutate(iris, xgbPutU64(l.objective, 1<<62)), "objective name: length 4611686018427387904"},
		{"objective length past the end", xgbMutate(iris, xgbPutU64(l.objective, uint64(len(iris)))), "objective name: length"},
		{"long objective", xgbMutate(iris, xgbReplaceString(l.objective, strings.Repeat("x", 300))), "exceeds 256"},
		{"unknown objective", xgbMutate(iris, xgbReplaceString(l.objective, "reg:squarederror")), `objective "reg:squarederror" is not supported`},
		{"rank objective", xgbMutate(iris, xgbReplaceString(l.objective, "rank:pairwise")), `objective "rank:pairwise" is not supported`},
		{"logistic with 3 classes", xgbMutate(iris, xgbReplaceString(l.objective, "binary:logistic")), "binary:logistic with 3 classes"},
		{"softprob without classes", xgbMutate(bc, xgbReplaceString(lb.objective, "multi:softprob")), "multi:softprob with 0 classes"},
		{"logistic base score 1.5", xgbMutate(bc, xgbPutU32(4, math.Float32bits(1.5))), "base score 1.5 of binary:logistic is outside [0, 1]"},
		{"gblinear", xgbMutate(iris, xgbReplaceString(l.booster, "gblinear")), `booster "gblinear" is not supported`},
		{"dart", xgbMutate(iris, xgbReplaceString(l.booster, "dart")), `booster "dart" is not supported`},
		{"zero trees", xgbMutate(iris, xgbPutU32(l.gbtree, 0)), "tree count 0"},
		{"negative tree count", xgbMutate(iris, xgbPutU32(l.gbtree, math.MaxUint32)), "tree count -1"},
		{"huge tree count", xgbMutate(iris, xgbPutU32(l.gbtree, 1<<30)), "1073741824 trees cannot fit"},
		{"parallel trees", xgbMutate(iris, xgbPutU32(l.gbtree+4, 0)), "0 parallel trees per round"},
		{"gbtree features", xgbMutate(iris, xgbPutU32(l.gbtree+8, 5)), "gbtree header: feature count 5"},
		{"output groups", xgbMutate(iris, xgbPutU32(l.gbtree+24, 5)), "5 output groups"},
		{"gbtree leaf vector", xgbMutate(iris, xgbPutU32(l.gbtree+28, 2)), "leaf vector size 2: vector leaves"},
		{"trees not a multiple of groups", xgbMutate(iris, xgbPutU32(l.gbtree, 59)), "tree info: "},
		{"two roots", xgbMutate(iris, xgbPutU32(l.tree0, 2)), "tree 0: 2 roots"},
		{"zero nodes", xgbMutate(iris, xgbPutU32(l.tree0+4, 0)), "tree 0: node count 0"},
		{"huge node count", xgbMutate(iris, xgbPutU32(l.tree0+4, 1<<30)), "tree 0: 1073741824 nodes cannot fit"},
		{"negative node count", xgbMutate(iris, xgbPutU32(l.tree0+4, math.MaxUint32)), "tree 0: node count -1"},
		{"deleted nodes", xgbMutate(iris, xgbPutU32(l.tree0+8, math.MaxUint32)), "deleted node count -1"},
		{"tree features", xgbMutate(iris, xgbPutU32(l.tree0+16, 99)), "tree 0: feature count 99"},
		{"tree leaf vector", xgbMutate(iris, xgbPutU32(l.tree0+20, 3)), "tree 0: leaf vector size 3"},
		{"child out of range", xgbMutate(iris, xgbPutU32(node(0)+4, 1000)), "tree 0: node 0: child 1000 is outside"},
		{"negative child", xgbMutate(iris, xgbPutU32(node(0)+8, math.MaxUint32-4)), "child -5 is outside"},
		{"child is the root", xgbMutate(iris, xgbPutU32(node(0)+4, 0)), "child 0 is outside [1,"},
		{"shared child", xgbMutate(iris, func(b []byte) []byte {
			copy(b[node(0)+8:node(0)+12], b[node(0)+4:node(0)+8])
			return b
		}), "is reached twice"},
		{"split feature out of range", xgbMutate(iris, xgbPutU32(node(0)+12, 4)), "split on feature 4, model has 4"},
		{"NaN split", xgbMutate(iris, xgbPutU32(node(0)+16, nan)), "split condition is NaN"},
		{"NaN leaf", xgbMutate(iris, xgbPutU32(node(firstLeaf)+16, nan)), "leaf value is NaN"},
		{"infinite leaf", xgbMutate(iris, xgbPutU32(node(firstLeaf)+16, math.Float32bits(float32(math.Inf(1))))), "leaf value is +Inf"},
		{"tree info", xgbMutate(iris, xgbPutU32(l.treeInfo+4, 0)), "tree info: output group 1 has 19 trees, group 0 has 21"},
		{"tree info out of range", xgbMutate(iris, xgbPutU32(l.treeInfo+4, 3)), "tree info: tree 1 is in output group 3, model has 3"},
		{"huge attribute count", xgbMutate(iris, xgbPutU64(l.attrs, 1<<60)), "attributes: length 1152921504606846976"},
		{"huge attribute length", xgbMutate(iris, xgbPutU64(l.attrs+8, 1<<40)), "attribute 0: length 1099511627776"},
		{"trailing byte", append(append([]byte(nil), iris...), 0), "1 unexpected bytes after the model"},
		{"no tree info", iris[:l.treeInfo], "tree info: needs 240 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadXGBoost(bytes.NewReader(tt.data), nil)
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("err = %v, want ErrFormat", err)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "classify: xgboost: ") || !strings.Contains(msg, tt.want) {
				t.Errorf("err = %q, want %q in it", msg, tt.want)
			}
		})
	}
}

// TestLoadXGBoostTruncated loads every proper prefix of real models: each
// must fail with ErrFormat, none may panic.
func TestLoadXGBoostTruncated(t *testing.T) {
	for _, name := range []string{"iris_softprob", "breast_cancer_logistic"} {
		data := readXGBModel(t, name)
		for n := 0; n < len(data); n++ {
			if _, err := LoadXGBoost(bytes.NewReader(data[:n]), nil); !errors.Is(err, ErrFormat) {
				t.Fatalf("%s truncated to %d of %d bytes: err = %v, want ErrFormat", name, n, len(data), err)
			}
		}
	}
}

func TestLoadXGBoostTooLarge(t *testing.T) {
	_, err := LoadXGBoost(io.LimitReader(xgbZeroReader{}, maxArtifactBytes+1), nil)
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v, want ErrFormat saying the model is too large", err)
	}
}

type xgbZeroReader struct{}

func (xgbZeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// xgbPre10 rewrites an XGBoost 1.x binary model into the layout XGBoost 0.x
// wrote: no magic, the output groups in the tree section, version 0 and the
// base score stored as a margin.
func xgbPre10(t testing.TB, data []byte, baseMargin float32) []byte {
	l := xgbLayoutOf(t, data)
	b := xgbMutate(data, xgbPutU32(l.gbtree+24, uint32(max(l.numClass, 1))))
	b = xgbMutate(b, xgbPutU32(4+20, 0)) // major version
	b = xgbMutate(b, xgbPutU32(4+24, 0)) // minor version
	b = xgbMutate(b, xgbPutU32(4, math.Float32bits(baseMargin)))
	return b[4:]
}

func TestLoadXGBoostPre10Layout(t *testing.T) {
	for _, name := range []string{"iris_softprob", "breast_cancer_logistic"} {
		t.Run(name, func(t *testing.T) {
			// Both models have base_score 0.5: its margin is 0.5 for
			// softprob (identity) and logit(0.5) = 0 for logistic.
			margin := float32(0.5)
			if strings.Contains(name, "logistic") {
				margin = 0
			}
			b := loadXGB(t, xgbPre10(t, readXGBModel(t, name), margin), nil)
			checkXGBParity(t, b, readXGBGolden(t, name))
		})
	}
}

func xgbIrisMeta() *XGBoostMeta {
	return &XGBoostMeta{
		Format:        "classify/xgboost-meta",
		FormatVersion: 1,
		Library:       "xgboost 1.7.4",
		Objective:     "multi:softprob",
		Features:      []string{"sepal_length", "sepal_width", "petal_length", "petal_width"},
		Classes:       []string{"setosa", "versicolor", "virginica"},
	}
}

func TestLoadXGBoostMeta(t *testing.T) {
	iris := readXGBModel(t, "iris_softprob")
	meta := xgbIrisMeta()
	b := loadXGB(t, iris, meta)
	info := b.Info()
	if !slices.Equal(info.Features, meta.Features) || !slices.Equal(info.Classes, meta.Classes) || info.Kind != XGBoost {
		t.Fatalf("Info() = %+v", info)
	}
	meta.Features[0], meta.Classes[0] = "changed", "changed"
	if info := b.Info(); info.Features[0] != "sepal_length" || info.Classes[0] != "setosa" {
		t.Errorf("the model shares the caller's meta slices: %+v", info)
	}
	p, err := b.Predict([]float64{5.1, 3.5, 1.4, 0.2}, nil)
	if err != nil || p.Label != "setosa" {
		t.Errorf("Predict = %+v, %v", p, err)
	}

	inCode := &XGBoostMeta{Features: []string{"a", "b", "c", "d"}, Classes: []string{"x", "y", "z"}}
	if _, err := LoadXGBoost(bytes.NewReader(iris), inCode); err != nil {
		t.Errorf("meta built in code without format: %v", err)
	}
	bc := &XGBoostMeta{Features: make([]string, 30), Classes: []string{"malignant", "benign"}}
	for i := range bc.Features {
		bc.Features[i] = strconv.Itoa(i)
	}
	if b, err := LoadXGBoost(bytes.NewReader(readXGBModel(t, "breast_cancer_logistic")), bc); err != nil || b.Info().Classes[1] != "benign" {
		t.Errorf("binary model with meta: %v", err)
	}

	tests := []struct {
		name   string
		change func(m *XGBoostMeta)
		want   string
	}{
		{"too few features", func(m *XGBoostMeta) { m.Features = m.Features[:3] }, "meta names 3 features, model has 4"},
		{"too many classes", func(m *XGBoostMeta) { m.Classes = append(m.Classes, "other") }, "meta names 4 classes, model has 3"},
		{"one class", func(m *XGBoostMeta) { m.Classes = m.Classes[:1] }, "meta: 1 class names, a classifier needs at least 2"},
		{"no features", func(m *XGBoostMeta) { m.Features = nil }, "meta: no feature names"},
		{"empty feature name", func(m *XGBoostMeta) { m.Features[2] = "" }, "meta: feature 2 has an empty name"},
		{"duplicate class", func(m *XGBoostMeta) { m.Classes[2] = "setosa" }, `meta: class name "setosa" appears twice`},
		{"objective", func(m *XGBoostMeta) { m.Objective = "binary:logistic" }, `meta objective "binary:logistic", model objective "multi:softprob"`},
		{"format", func(m *XGBoostMeta) { m.Format = "classify/rules" }, `meta: format is "classify/rules", want "classify/xgboost-meta"`},
		{"newer version", func(m *XGBoostMeta) { m.FormatVersion = 2 }, "meta: classify/xgboost-meta version 2 is not supported"},
		{"version 0", func(m *XGBoostMeta) { m.FormatVersion = 0 }, "meta: classify/xgboost-meta version 0 is not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := xgbIrisMeta()
			tt.change(m)
			_, err := LoadXGBoost(bytes.NewReader(iris), m)
			if !errors.Is(err, ErrFormat) || !strings.HasPrefix(err.Error(), "classify: xgboost: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrFormat with %q", err, tt.want)
			}
		})
	}
}

func TestReadXGBoostMeta(t *testing.T) {
	f, err := os.Open(xgbModelPath("iris_softprob") + ".meta.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	meta, err := ReadXGBoostMeta(f)
	if err != nil {
		t.Fatal(err)
	}
	if want := xgbIrisMeta(); !slices.Equal(meta.Features, want.Features) || !slices.Equal(meta.Classes, want.Classes) ||
		meta.Objective != want.Objective || meta.Library != want.Library {
		t.Errorf("meta = %+v", meta)
	}

	valid := `{"format": "classify/xgboost-meta", "format_version": 1, "features": ["a"], "classes": ["x", "y"]`
	tests := []struct{ name, json, want string }{
		{"not JSON", "meta", "meta: invalid character"},
		{"truncated", valid, "meta: unexpected EOF"},
		{"trailing data", valid + "} {}", "unexpected data after the JSON object"},
		{"wrong type", `{"features": "a"}`, "meta: json: cannot unmarshal"},
		{"no format", `{"format_version": 1, "features": ["a"], "classes": ["x", "y"]}`, `meta: format is ""`},
		{"newer version", strings.Replace(valid, `"format_version": 1`, `"format_version": 2`, 1) + "}", "meta: classify/xgboost-meta version 2 is not supported"},
		{"no classes", `{"format": "classify/xgboost-meta", "format_version": 1, "features": ["a"]}`, "meta: 0 class names"},
		{"duplicate feature", strings.Replace(valid, `["a"]`, `["a", "a"]`, 1) + "}", `meta: feature name "a" appears twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadXGBoostMeta(strings.NewReader(tt.json))
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrFormat with %q", err, tt.want)
			}
		})
	}
	if _, err := ReadXGBoostMeta(strings.NewReader(valid + `, "unknown": true}`)); err != nil {
		t.Errorf("unknown field: %v", err)
	}
}

func TestXGBoostSidecar(t *testing.T) {
	dir := t.TempDir()
	if meta, err := readSidecar(filepath.Join(dir, "none.meta.json"), XGBoost, ReadXGBoostMeta); meta != nil || err != nil {
		t.Errorf("missing sidecar: %v, %v; want nil, nil", meta, err)
	}
	bad := filepath.Join(dir, "bad.meta.json")
	if err := os.WriteFile(bad, []byte(`{"format": "x"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readSidecar(bad, XGBoost, ReadXGBoostMeta); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), bad) {
		t.Errorf("bad sidecar: err = %v, want ErrFormat naming the file", err)
	}
	if _, err := readSidecar(dir, XGBoost, ReadXGBoostMeta); err == nil {
		t.Error("sidecar path is a directory: no error")
	}

	// New reads the sidecar beside the model.
	m, err := New(XGBoost, xgbModelPath("iris_softprob"))
	if err != nil {
		t.Fatal(err)
	}
	if info := m.Info(); info.Kind != XGBoost || !slices.Equal(info.Classes, xgbIrisMeta().Classes) {
		t.Errorf("Info() = %+v", info)
	}
	g := readXGBGolden(t, "iris_softprob")
	for _, c := range g.Cases {
		p, err := m.Predict(c.Input, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := xgbIrisMeta().Classes[xgbIndex(t, g.Classes, c.Label)]; p.Label != want {
			t.Errorf("%s: label %s, XGBoost %s", c.Name, p.Label, want)
		}
	}
	// Without a sidecar: generic names.
	path := filepath.Join(dir, "wine.model")
	if err := os.WriteFile(path, readXGBModel(t, "wine_200"), 0o644); err != nil {
		t.Fatal(err)
	}
	if m, err := New(XGBoost, path); err != nil || m.Info().Classes[2] != "2" || m.Info().Features[12] != "f12" {
		t.Errorf("New without sidecar: %v", err)
	}
}

func TestXGBoostPredictInput(t *testing.T) {
	b := loadXGB(t, readXGBModel(t, "iris_softprob"), nil)
	f32 := math.MaxFloat32
	for _, row := range [][]float64{{1, 2, 3, f32}, {-f32, 0, math.SmallestNonzeroFloat64, 1e-300}, {1, math.NaN(), 3, 4}} {
		if _, err := b.Predict(row, nil); err != nil {
			t.Errorf("Predict(%v): %v", row, err)
		}
	}
	bad := []struct {
		name string
		row  []float64
		want string
	}{
		{"short", []float64{1, 2, 3}, "row has 3 values, model takes 4"},
		{"long", []float64{1, 2, 3, 4, 5}, "row has 5 values"},
		{"nil", nil, "row has 0 values"},
		{"+Inf", []float64{1, 2, math.Inf(1), 4}, "feature 2 is +Inf"},
		{"-Inf", []float64{math.Inf(-1), 2, 3, 4}, "feature 0 is -Inf"},
		{"beyond float32", []float64{1, 2, 3, 1e39}, "too large for float32"},
		{"just beyond float32", []float64{1, 2, 3, -math.Nextafter(f32, math.Inf(1))}, "too large for float32"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := b.Predict(tt.row, nil); !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Predict: err = %v, want ErrInput with %q", err, tt.want)
			}
			if len(tt.row) != 4 {
				return
			}
			rows := append([]float64{5.1, 3.5, 1.4, 0.2, 5.1, 3.5, 1.4, 0.2}, tt.row...)
			err := b.PredictBatch(rows, make([]int, 3), nil)
			if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "row 2: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("PredictBatch: err = %v, want ErrInput naming row 2", err)
			}
		})
	}
	if err := b.PredictBatch(make([]float64, 7), make([]int, 2), nil); !errors.Is(err, ErrInput) {
		t.Errorf("PredictBatch with 7 values for 2 rows: err = %v", err)
	}
	if err := b.PredictBatch(make([]float64, 8), make([]int, 2), make([]float64, 5)); !errors.Is(err, ErrInput) {
		t.Errorf("PredictBatch with 5 probabilities for 2 rows: err = %v", err)
	}
	if err := b.PredictBatch(nil, nil, nil); err != nil {
		t.Errorf("empty batch: %v", err)
	}
	// A buffer without room: a new slice, the buffer untouched.
	small := []float64{-1, -1}
	p, err := b.Predict([]float64{5.1, 3.5, 1.4, 0.2}, small)
	if err != nil || len(p.Probabilities) != 3 || small[0] != -1 {
		t.Errorf("Predict with a short buffer: %+v, %v, buffer %v", p, err, small)
	}
}

func TestXGBoostAllocs(t *testing.T) {
	for _, name := range []string{"iris_softprob", "breast_cancer_logistic"} {
		b := loadXGB(t, readXGBModel(t, name), nil)
		g := readXGBGolden(t, name)
		row := g.Cases[0].Input
		proba := make([]float64, len(g.Classes))
		if n := testing.AllocsPerRun(100, func() { _, _ = b.Predict(row, proba) }); n != 0 {
			t.Errorf("%s: Predict with a buffer allocates %v times", name, n)
		}
		rows := make([]float64, 0, 16*len(row))
		for i := 0; i < 16; i++ {
			rows = append(rows, g.Cases[i].Input...)
		}
		classes := make([]int, 16)
		probas := make([]float64, 16*len(g.Classes))
		if n := testing.AllocsPerRun(100, func() { _ = b.PredictBatch(rows, classes, probas) }); n != 0 {
			t.Errorf("%s: PredictBatch allocates %v times", name, n)
		}
		if n := testing.AllocsPerRun(100, func() { _ = b.PredictBatch(rows, classes, nil) }); n != 0 {
			t.Errorf("%s: PredictBatch without probabilities allocates %v times", name, n)
		}
	}
}

// TestXGBoostConcurrent predicts from many goroutines at once (run with
// -race): the answers are those of one goroutine.
func TestXGBoostConcurrent(t *testing.T) {
	g := readXGBGolden(t, "wine_200")
	b := loadXGB(t, readXGBModel(t, "wine_200"), nil)
	want := make([][]float64, len(g.Cases))
	for i, c := range g.Cases {
		p, err := b.Predict(c.Input, nil)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = p.Probabilities
	}
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			proba := make([]float64, 3)
			for i := range g.Cases {
				i := (i + w*97) % len(g.Cases)
				p, err := b.Predict(g.Cases[i].Input, proba)
				if err != nil || !xgbEqualFloats(p.Probabilities, want[i]) {
					t.Errorf("%s: %v %v, want %v", g.Cases[i].Name, p.Probabilities, err, want[i])
					return
				}
			}
		}()
	}
	wg.Wait()
}

// xgbBenchModels are the models the benchmarks run on: the production model
// when models/ has it, then two test models (60 and 600 trees).
func xgbBenchModels(b *testing.B) []string {
	paths := []string{xgbModelPath("iris_softprob"), xgbModelPath("wine_200")}
	if _, err := os.Stat(filepath.Join("models", "xgboost.json")); err == nil {
		paths = append([]string{filepath.Join("models", "xgboost.json")}, paths...)
	}
	return paths
}

// xgbBenchRows returns n rows for the model at path: Iris-like rows cycled
// from the test model's golden file, or uniform values for other shapes.
func xgbBenchRows(b *testing.B, path string, nf, n int) []float64 {
	var src [][]float64
	name := strings.TrimSuffix(filepath.Base(path), ".model")
	if _, err := os.Stat(filepath.Join("testdata", "xgboost", name+".json")); err == nil {
		for _, c := range readXGBGolden(b, name).Cases {
			src = append(src, c.Input)
		}
	} else {
		for _, c := range readXGBGolden(b, "iris_softprob").Cases {
			if len(c.Input) == nf {
				src = append(src, c.Input)
			}
		}
	}
	rows := make([]float64, 0, n*nf)
	for i := 0; i < n; i++ {
		rows = append(rows, src[i%len(src)]...)
	}
	return rows
}

var xgbBenchSizes = []struct {
	name string
	rows int
}{{"single", 1}, {"batch64", 64}, {"batch4096", 4096}}

// BenchmarkXGBoost measures Booster.Predict (single) and PredictBatch.
// Compare with BenchmarkLeavesPredict, leaves' own prediction of raw
// margins on the same trees and rows.
func BenchmarkXGBoost(b *testing.B) {
	for _, path := range xgbBenchModels(b) {
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		m := loadXGB(b, data, nil)
		nf, nc := m.nFeatures, m.nClasses
		for _, size := range xgbBenchSizes {
			rows := xgbBenchRows(b, path, nf, size.rows)
			b.Run(filepath.Base(path)+"/"+size.name, func(b *testing.B) {
				b.ReportAllocs()
				proba := make([]float64, size.rows*nc)
				if size.rows == 1 {
					for b.Loop() {
						if _, err := m.Predict(rows, proba); err != nil {
							b.Fatal(err)
						}
					}
					return
				}
				classes := make([]int, size.rows)
				for b.Loop() {
					if err := m.PredictBatch(rows, classes, proba); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// xgbRawEnsemble loads data into leaves as LoadXGBoost does before it
// switches leaves to leaf indices: the encoded trees, raw-margin output.
func xgbRawEnsemble(b *testing.B, data []byte) *leaves.Ensemble {
	m, err := xgbmodel.Parse(data)
	if err != nil {
		b.Fatal(err)
	}
	e, err := xgbEnsemble(m.Encode(m.Order()))
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// BenchmarkLeavesPredict measures leaves' own Predict (single row) and
// PredictDense (batches, one thread) on the trees LoadXGBoost builds, for
// the rows BenchmarkXGBoost uses.
func BenchmarkLeavesPredict(b *testing.B) {
	for _, path := range xgbBenchModels(b) {
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		e := xgbRawEnsemble(b, data)
		nf, ng := e.NFeatures(), e.NRawOutputGroups()
		for _, size := range xgbBenchSizes {
			rows := xgbBenchRows(b, path, nf, size.rows)
			b.Run(filepath.Base(path)+"/"+size.name, func(b *testing.B) {
				b.ReportAllocs()
				preds := make([]float64, size.rows*ng)
				if size.rows == 1 {
					for b.Loop() {
						if err := e.Predict(rows, 0, preds); err != nil {
							b.Fatal(err)
						}
					}
					return
				}
				for b.Loop() {
					if err := e.PredictDense(rows, size.rows, nf, preds, 0, 1); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
