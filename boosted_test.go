package classify

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

const boostingSuiteDir = "testdata/boosting/sklearn-1.9.1_lightgbm-4.7.0"

func suiteModel(t testing.TB, kind Kind, ds, file string) *Boosted {
	t.Helper()
	m, err := New(kind, filepath.Join(boostingSuiteDir, ds, file))
	require.NoError(t, err)
	return m.(*Boosted)
}

// lgbText is a LightGBM v4 model on features a, b, c with one tree per
// split given: each "feature threshold decision_type" splits once, leaves
// -1 and +1. objective is the objective line's value.
func lgbText(objective string, classes int, splits ...string) string {
	var b strings.Builder
	perIter := classes
	numClass := classes
	if classes == 2 {
		perIter, numClass = 1, 1
	}
	b.WriteString("tree\nversion=v4\nnum_class=" + strconv.Itoa(numClass) + "\nnum_tree_per_iteration=" + strconv.Itoa(perIter) +
		"\nlabel_index=0\nmax_feature_idx=2\nobjective=" + objective + "\nfeature_names=a b c\nfeature_infos=none none none\n\n")
	for i, s := range splits {
		f := strings.Fields(s)
		b.WriteString("Tree=" + strconv.Itoa(i) + "\nnum_leaves=2\nnum_cat=0\nsplit_feature=" + f[0] + "\nthreshold=" + f[1] +
			"\ndecision_type=" + f[2] + "\nleft_child=-1\nright_child=-2\nleaf_value=-1 1\nis_linear=0\nshrinkage=1\n\n")
	}
	b.WriteString("end of trees\n\npandas_categorical:null\n")
	return b.String()
}

func TestLightGBMZeroAndNaN(t *testing.T) {
	// missing type None (0), Zero (4), NaN (8), with and without default left (2).
	for _, c := range []struct {
		name  string
		split string
		x     float64
		left  bool
	}{
		{"none: NaN reads as 0 <= 0.5", "0 0.5 0", math.NaN(), true},
		{"none: NaN reads as 0 > -0.5", "0 -0.5 0", math.NaN(), false},
		{"none: tiny reads as 0", "0 -1e-40 0", 1e-40, false},
		{"none: -kZero reads as 0", "0 -1.0000000180025095e-35 0", -1.0000000180025095e-35, false},
		{"none: just below -kZero", "0 -1.0000000180025095e-35 0", math.Nextafter(-1.0000000180025095e-35, -1), true},
		{"zero: 0 default right", "0 -0.5 4", 0, false},
		{"zero: 0 default left", "0 -0.5 6", 0, true},
		{"zero: tiny default left", "0 -0.5 6", -1e-36, true},
		{"zero: NaN default left", "0 -0.5 6", math.NaN(), true},
		{"zero: NaN default right", "0 0.5 4", math.NaN(), false},
		{"zero: other values by threshold", "0 -0.5 6", -0.25, false},
		{"nan: NaN default left", "0 -0.5 10", math.NaN(), true},
		{"nan: NaN default right", "0 0.5 8", math.NaN(), false},
		{"nan: 0 by threshold", "0 0.5 8", 0, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := LoadLightGBM(strings.NewReader(lgbText("binary sigmoid:1", 2, c.split)), nil)
			require.NoError(t, err)
			p, err := m.Predict([]float64{c.x, 0, 0}, nil)
			require.NoError(t, err)
			require.Equal(t, c.left, p.Class == 0, "%v", p)
		})
	}
}

func TestLightGBMRefusals(t *testing.T) {
	meta := func(edit string) *LightGBMMeta {
		m, err := ReadLightGBMMeta(strings.NewReader(`{"format":"classify/lightgbm-meta","format_version":1,"library":"lightgbm 4.7.0",` + edit + `}`))
		require.NoError(t, err)
		return m
	}
	good := `"objective":"binary","features":["x","y","z"],"classes":["no","yes"]`
	for _, c := range []struct {
		name  string
		model string
		meta  *LightGBMMeta
		want  string
	}{
		{"regression", lgbText("regression", 2, "0 0.5 0"), nil, `objective "regression" is not supported`},
		{"meta objective", lgbText("binary sigmoid:1", 2, "0 0.5 0"), meta(strings.Replace(good, `"binary"`, `"multiclass"`, 1)), `meta objective "multiclass", model objective "binary"`},
		{"meta features", lgbText("binary sigmoid:1", 2, "0 0.5 0"), meta(strings.Replace(good, `,"z"`, ``, 1)), "meta names 2 features, model has 3"},
		{"meta classes", lgbText("binary sigmoid:1", 2, "0 0.5 0"), meta(strings.Replace(good, `"no","yes"`, `"no","yes","maybe"`, 1)), "meta names 3 classes, model has 2"},
		{"zero and NaN mixed", lgbText("binary sigmoid:1", 2, "0 0.5 4", "0 -0.5 10"), nil, "sends NaN and zero different ways"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadLightGBM(strings.NewReader(c.model), c.meta)
			require.ErrorIs(t, err, ErrFormat)
			require.ErrorContains(t, err, c.want)
		})
	}
	// Zero and NaN mixed on one feature is fine when both go one way.
	_, err := LoadLightGBM(strings.NewReader(lgbText("binary sigmoid:1", 2, "0 0.5 4", "0 0.5 10")), nil)
	require.NoError(t, err)
	// A categorical split on a feature other splits treat zero as missing.
	cat := strings.Replace(lgbText("binary sigmoid:1", 2, "0 0.5 4", "0 0 1"), "num_cat=0\nsplit_feature=0\nthreshold=0\n", "num_cat=1\nsplit_feature=0\nthreshold=0\n", 1)
	cat = strings.Replace(cat, "shrinkage=1\n\nend of trees", "shrinkage=1\ncat_boundaries=0 1\ncat_threshold=2\n\nend of trees", 1)
	_, err = LoadLightGBM(strings.NewReader(cat), nil)
	require.ErrorContains(t, err, "categorical on feature 0")

	for _, c := range []struct{ name, meta, want string }{
		{"format", `{"format":"classify/xgboost-meta","format_version":1,"objective":"binary","features":["a"],"classes":["0","1"]}`, "format is"},
		{"version", `{"format":"classify/lightgbm-meta","format_version":2,"objective":"binary","features":["a"],"classes":["0","1"]}`, "version 2"},
		{"no objective", `{"format":"classify/lightgbm-meta","format_version":1,"features":["a"],"classes":["0","1"]}`, "no objective"},
		{"one class", `{"format":"classify/lightgbm-meta","format_version":1,"objective":"binary","features":["a"],"classes":["0"]}`, "1 class names"},
		{"duplicate class", `{"format":"classify/lightgbm-meta","format_version":1,"objective":"binary","features":["a"],"classes":["0","0"]}`, "appears twice"},
		{"empty feature", `{"format":"classify/lightgbm-meta","format_version":1,"objective":"binary","features":[""],"classes":["0","1"]}`, "empty name"},
		{"unknown field", `{"format":"classify/lightgbm-meta","format_version":1,"objective":"binary","features":["a"],"classes":["0","1"],"x":1}`, "unknown field"},
	} {
		t.Run("meta "+c.name, func(t *testing.T) {
			_, err := ReadLightGBMMeta(strings.NewReader(c.meta))
			require.ErrorIs(t, err, ErrFormat)
			require.ErrorContains(t, err, c.want)
		})
	}
}

// TestNewLightGBMSidecar: New reads the sidecar when it is there, gives
// the model's own names when it is not, and refuses a bad one naming it.
func TestNewLightGBMSidecar(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(boostingSuiteDir, "iris", "lightgbm.txt")
	model, err := os.ReadFile(src)
	require.NoError(t, err)
	path := filepath.Join(dir, "m.txt")
	require.NoError(t, os.WriteFile(path, model, 0o644))
	m, err := New(LightGBM, path)
	require.NoError(t, err)
	require.Equal(t, []string{"0", "1", "2"}, m.Info().Classes)
	require.Equal(t, []string{"Column_0", "Column_1", "Column_2", "Column_3"}, m.Info().Features, "LGBMClassifier.fit on an array names them so")

	meta, err := os.ReadFile(src + ".meta.json")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path+".meta.json", meta, 0o644))
	m, err = New(LightGBM, path)
	require.NoError(t, err)
	require.Equal(t, []string{"setosa", "versicolor", "virginica"}, m.Info().Classes)

	require.NoError(t, os.WriteFile(path+".meta.json", []byte(`{"format": 1}`), 0o644))
	_, err = New(LightGBM, path)
	require.ErrorIs(t, err, ErrFormat)
	require.ErrorContains(t, err, "m.txt.meta.json")

	// Load has no sidecar: the model's names.
	m, err = Load(LightGBM, bytes.NewReader(model))
	require.NoError(t, err)
	require.Equal(t, []string{"0", "1", "2"}, m.Info().Classes)
}

// TestBoostedRegistry: lightgbm entries list their sidecar's sha256;
// hist_gradient_boosting and gradient_boosting entries load like the
// others.
func TestBoostedRegistry(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(boostingSuiteDir, "iris", name))
		require.NoError(t, err)
		return b
	}
	lgb, meta, hgb, gb := read("lightgbm.txt"), read("lightgbm.txt.meta.json"), read("hist_gradient_boosting.json"), read("gradient_boosting.json")
	iris := `"features":["sepal_length","sepal_width","petal_length","petal_width"],"classes":["setosa","versicolor","virginica"],"metrics":[]`
	entry := func(name, kind, file string, b []byte, extra string) string {
		return `{"name":"` + name + `","kind":"` + kind + `","file":"` + file + `","sha256":"` + sum(string(b)) + `"` + extra +
			`,"version":"1.0.0","created":"2026-11-30T00:00:00Z",` + iris + `}`
	}
	manifest := `{"format":"classify/manifest","format_version":1,"models":[` +
		entry("lightgbm", "lightgbm", "lightgbm.txt", lgb, `,"meta_sha256":"`+sum(string(meta))+`"`) + "," +
		entry("hgb", "hist_gradient_boosting", "hgb.json", hgb, "") + "," +
		entry("gb", "gradient_boosting", "gb.json", gb, "") + `]}`
	fsys := fstest.MapFS{ManifestFile: {Data: []byte(manifest)}, "lightgbm.txt": {Data: lgb}, "lightgbm.txt.meta.json": {Data: meta},
		"hgb.json": {Data: hgb}, "gb.json": {Data: gb}}
	reg, err := OpenRegistry(fsys)
	require.NoError(t, err)
	require.NoError(t, reg.Verify())
	for _, name := range []string{"lightgbm", "hgb", "gb"} {
		m, err := reg.Load(name)
		require.NoError(t, err, name)
		require.Equal(t, name, m.Info().Name)
		p, err := m.Predict([]float64{6.3, 3.3, 6.0, 2.5}, nil)
		require.NoError(t, err)
		require.Equal(t, "virginica", p.Label, name)
	}
	fsys["lightgbm.txt.meta.json"] = &fstest.MapFile{Data: []byte(`{"format":"classify/lightgbm-meta"}`)}
	manifest = strings.Replace(manifest, sum(string(meta)), sum(string(fsys["lightgbm.txt.meta.json"].Data)), 1)
	fsys[ManifestFile] = &fstest.MapFile{Data: []byte(manifest)}
	reg, err = OpenRegistry(fsys)
	require.NoError(t, err)
	_, err = reg.Load("lightgbm")
	require.ErrorIs(t, err, ErrFormat)
}

// TestBoostedRows: each kind refuses what its library refuses (and
// classify holds LightGBM to float32's range like the other loaders),
// with ErrInput naming the value, in Predict and PredictBatch alike.
func TestBoostedRows(t *testing.T) {
	lgb := suiteModel(t, LightGBM, "iris", "lightgbm.txt")
	hgb := suiteModel(t, HistGradientBoosting, "iris", "hist_gradient_boosting.json")
	gb := suiteModel(t, GradientBoosting, "iris", "gradient_boosting.json")
	for _, c := range []struct {
		name string
		m    *Boosted
		x    float64
		ok   bool
	}{
		{"lightgbm NaN", lgb, math.NaN(), true}, {"lightgbm Inf", lgb, math.Inf(1), false}, {"lightgbm -Inf", lgb, math.Inf(-1), false},
		{"lightgbm beyond float32", lgb, 1e39, false}, {"lightgbm float32 max", lgb, math.MaxFloat32, true},
		{"hgb NaN", hgb, math.NaN(), true}, {"hgb Inf", hgb, math.Inf(1), false}, {"hgb 1e300", hgb, 1e300, true},
		{"gb NaN", gb, math.NaN(), false}, {"gb Inf", gb, math.Inf(-1), false}, {"gb beyond float32", gb, -1e39, false},
		{"gb float32 max", gb, -math.MaxFloat32, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			row := []float64{5, 3, c.x, 1}
			_, err := c.m.Predict(row, nil)
			batchErr := c.m.PredictBatch(append([]float64{5, 3, 1, 1}, row...), make([]int, 2), nil)
			if c.ok {
				require.NoError(t, err)
				require.NoError(t, batchErr)
				return
			}
			var ie *InputError
			require.ErrorAs(t, err, &ie)
			require.Equal(t, 2, ie.Feature)
			require.ErrorIs(t, batchErr, ErrInput)
			require.ErrorContains(t, batchErr, "row 1")
		})
	}
	_, err := lgb.Predict([]float64{1, 2, 3}, nil)
	require.ErrorIs(t, err, ErrInput)
	require.ErrorIs(t, lgb.PredictBatch([]float64{1, 2, 3}, make([]int, 1), nil), ErrInput)
	require.ErrorIs(t, lgb.PredictBatch([]float64{1, 2, 3, 4}, make([]int, 1), make([]float64, 2)), ErrInput)
}

// TestBoostedAllocatesNothing guards the hot path of each kind, with NaN
// and, for the models that rewrite rows (categorical codes, zero as
// missing), through the rewrite. Under the race detector sync.Pool drops
// a share of its buffers on purpose, so the guard runs without it.
func TestBoostedAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop buffers; the guard runs without -race")
	}
	for _, c := range []struct {
		kind     Kind
		ds, file string
	}{
		{LightGBM, "iris", "lightgbm.txt"}, {LightGBM, "missing", "lightgbm_zero.txt"}, {LightGBM, "categorical", "lightgbm.txt"},
		{HistGradientBoosting, "categorical", "hist_gradient_boosting.json"}, {HistGradientBoosting, "breast_cancer", "hist_gradient_boosting.json"},
		{GradientBoosting, "iris", "gradient_boosting.json"}, {GradientBoosting, "breast_cancer", "gradient_boosting.json"},
	} {
		t.Run(c.ds+"/"+c.file, func(t *testing.T) {
			m := suiteModel(t, c.kind, c.ds, c.file)
			row := make([]float64, m.nf)
			for i := range row {
				row[i] = float64(i % 3)
			}
			if m.info.Missing {
				row[0] = math.NaN()
			}
			proba := make([]float64, m.nc)
			batch := make([]float64, 0, 100*m.nf)
			for range 100 {
				batch = append(batch, row...)
			}
			classes := make([]int, 100)
			allocs := testing.AllocsPerRun(50, func() {
				if _, err := m.Predict(row, proba); err != nil {
					t.Fatal(err)
				}
				if err := m.PredictBatch(batch, classes, nil); err != nil {
					t.Fatal(err)
				}
			})
			require.Zero(t, allocs)
		})
	}
}

func TestBoostedLoadErrors(t *testing.T) {
	for _, kind := range []Kind{LightGBM, HistGradientBoosting, GradientBoosting} {
		_, err := Load(kind, strings.NewReader("{}"))
		require.ErrorIs(t, err, ErrFormat, kind)
		_, err = Load(kind, errReader{})
		require.Error(t, err, kind)
		require.False(t, errors.Is(err, ErrFormat), kind)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }
