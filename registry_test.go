package classify

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sum(b string) string {
	s := sha256.Sum256([]byte(b))
	return hex.EncodeToString(s[:])
}

// testRegistry returns a registry of a tree, a forest and rules, and the
// manifest it was built from, for tests to break.
func testRegistry(t *testing.T) (fstest.MapFS, Manifest) {
	t.Helper()
	tree := dump(t, DecisionTree, smallTree())
	forest := dump(t, RandomForest, smallTree(), otherTree())
	created := time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)
	std := 0.02
	m := Manifest{Format: "classify/manifest", FormatVersion: 1, Models: []Entry{
		{Name: "tree", Kind: DecisionTree, File: "tree.json", SHA256: sum(tree), Version: "1.0.0", Created: created,
			Features: irisFeatures, Classes: irisClasses,
			Metrics: []Metric{{Name: "accuracy", Method: "loocv", Value: 0.95, Std: &std, Source: "test"}}},
		{Name: "forest", Kind: RandomForest, File: "sub/forest.json", SHA256: sum(forest), Version: "2.0.0", Created: created,
			Features: irisFeatures, Classes: irisClasses},
		{Name: "rules", Kind: Heuristic, File: "rules.json", SHA256: sum(testRules), Version: "0.1.0", Created: created,
			Features: []string{"a", "b"}, Classes: []string{"x", "y", "z"}},
	}}
	fsys := fstest.MapFS{
		"tree.json":       {Data: []byte(tree)},
		"sub/forest.json": {Data: []byte(forest)},
		"rules.json":      {Data: []byte(testRules)},
	}
	writeManifest(t, fsys, m)
	return fsys, m
}

func writeManifest(t *testing.T, fsys fstest.MapFS, m Manifest) {
	t.Helper()
	b, err := json.Marshal(m)
	require.NoError(t, err)
	fsys[ManifestFile] = &fstest.MapFile{Data: b}
}

func TestRegistryLoad(t *testing.T) {
	fsys, want := testRegistry(t)
	reg, err := OpenRegistry(fsys)
	require.NoError(t, err)
	assert.Equal(t, want, reg.Manifest())
	require.NoError(t, reg.Verify())

	for _, e := range want.Models {
		m, err := reg.Load(e.Name)
		require.NoError(t, err, e.Name)
		info := m.Info()
		assert.Equal(t, e.Kind, info.Kind)
		assert.Equal(t, e.Name, info.Name)
		assert.Equal(t, e.Version, info.Version)
		got, err := reg.Entry(e.Name)
		require.NoError(t, err)
		assert.Equal(t, e, got)
	}
	_, err = reg.Load("svm")
	require.ErrorIs(t, err, ErrNotFound)
	assert.EqualError(t, err, `classify: model not found: "svm" (registry has: [tree forest rules])`)
}

func TestRegistryDir(t *testing.T) {
	_, err := OpenRegistryDir(t.TempDir())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "classify: registry: open manifest.json")
}

func TestRegistryLoadFailures(t *testing.T) {
	tests := []struct {
		name    string
		breakFS func(fstest.MapFS)
		model   string
		is      error
		msg     string
	}{
		{"checksum mismatch", func(f fstest.MapFS) { f["tree.json"].Data = append(f["tree.json"].Data, ' ') },
			"tree", ErrChecksum, "tree.json has sha256"},
		{"missing file", func(f fstest.MapFS) { delete(f, "sub/forest.json") }, "forest", nil, "open sub/forest.json"},
		{"manifest lies about features", nil, "rules", ErrFormat, `model "rules": artifact has features [a b]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fsys, m := testRegistry(t)
			if tc.breakFS != nil {
				tc.breakFS(fsys)
			} else {
				m.Models[2].Features = []string{"a", "c"}
				writeManifest(t, fsys, m)
			}
			reg, err := OpenRegistry(fsys)
			require.NoError(t, err)
			_, err = reg.Load(tc.model)
			require.Error(t, err)
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			}
			assert.Contains(t, err.Error(), tc.msg)
			if tc.breakFS != nil {
				assert.Error(t, reg.Verify())
			}
		})
	}
}

func TestManifestErrors(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Manifest)
		msg    string
	}{
		{"format", func(m *Manifest) { m.Format = "x" }, `format is "x"`},
		{"version", func(m *Manifest) { m.FormatVersion = 2 }, "version 2 is not supported"},
		{"no name", func(m *Manifest) { m.Models[0].Name = "" }, "model 0 has no name"},
		{"duplicate name", func(m *Manifest) { m.Models[1].Name = "tree" }, `model name "tree" appears twice`},
		{"bad kind", func(m *Manifest) { m.Models[0].Kind = "svm" }, `model "tree": kind "svm" is not one of`},
		{"kind not canonical", func(m *Manifest) { m.Models[0].Kind = "Decision_Tree" }, `kind "Decision_Tree" is not one of`},
		{"escaping path", func(m *Manifest) { m.Models[0].File = "../tree.json" }, `file "../tree.json" is not a plain relative path`},
		{"absolute path", func(m *Manifest) { m.Models[0].File = "/tree.json" }, "is not a plain relative path"},
		{"unclean path", func(m *Manifest) { m.Models[0].File = "sub//forest.json" }, "is not a plain relative path"},
		{"dot", func(m *Manifest) { m.Models[0].File = "." }, "is not a plain relative path"},
		{"short sha", func(m *Manifest) { m.Models[0].SHA256 = "abc" }, `sha256 "abc" is not 64 lowercase hex digits`},
		{"upper sha", func(m *Manifest) { m.Models[0].SHA256 = strings.ToUpper(m.Models[0].SHA256) }, "is not 64 lowercase hex digits"},
		{"xgboost with a bad meta sum", func(m *Manifest) { m.Models[0].Kind, m.Models[0].MetaSHA256 = XGBoost, "abc" }, `meta_sha256 "abc" is not 64 lowercase hex digits`},
		{"no features", func(m *Manifest) { m.Models[0].Features = nil }, "no feature names"},
		{"duplicate class", func(m *Manifest) { m.Models[0].Classes = []string{"a", "a"} }, `class name "a" appears twice`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fsys, m := testRegistry(t)
			tc.mutate(&m)
			writeManifest(t, fsys, m)
			_, err := OpenRegistry(fsys)
			require.ErrorIs(t, err, ErrFormat)
			assert.Contains(t, err.Error(), "classify: invalid model artifact: manifest: ")
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
	fsys, _ := testRegistry(t)
	fsys[ManifestFile].Data = []byte(`{"format":"classify/manifest","format_version":1,"models":[],"extra":1}`)
	_, err := OpenRegistry(fsys)
	assert.ErrorContains(t, err, "unknown field")
}

// productionFS copies the production registry into a MapFS for tests to
// break.
func productionFS(t *testing.T) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	for _, name := range []string{ManifestFile, "heuristic.json", "decision_tree.json", "random_forest.json", "xgboost.json", "xgboost.json.meta.json"} {
		b, err := os.ReadFile(filepath.Join("models", name))
		require.NoError(t, err)
		fsys[name] = &fstest.MapFile{Data: b}
	}
	return fsys
}

func TestRegistryXGBoostMeta(t *testing.T) {
	reg, err := OpenRegistry(productionFS(t))
	require.NoError(t, err)
	require.NoError(t, reg.Verify())
	m, err := reg.Load("xgboost")
	require.NoError(t, err)
	assert.Equal(t, "xgboost", m.Info().Name)

	tests := []struct {
		name   string
		breakF func(fstest.MapFS)
		is     error
		msg    string
	}{
		{"meta checksum", func(f fstest.MapFS) {
			f["xgboost.json.meta.json"].Data = append(f["xgboost.json.meta.json"].Data, ' ')
		},
			ErrChecksum, "xgboost.json.meta.json has sha256"},
		{"meta missing", func(f fstest.MapFS) { delete(f, "xgboost.json.meta.json") }, nil, "open xgboost.json.meta.json"},
		{"model checksum", func(f fstest.MapFS) { f["xgboost.json"].Data[100] ^= 1 }, ErrChecksum, "xgboost.json has sha256"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fsys := productionFS(t)
			tc.breakF(fsys)
			reg, err := OpenRegistry(fsys)
			require.NoError(t, err)
			_, err = reg.Load("xgboost")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			}
			assert.Error(t, reg.Verify())
		})
	}

	// A meta that passes its checksum but is not a classify/xgboost-meta.
	fsys := productionFS(t)
	bad := []byte(`{"format":"other","format_version":1}`)
	fsys["xgboost.json.meta.json"].Data = bad
	var man Manifest
	require.NoError(t, json.Unmarshal(fsys[ManifestFile].Data, &man))
	for i := range man.Models {
		if man.Models[i].Name == "xgboost" {
			man.Models[i].MetaSHA256 = sum(string(bad))
		}
	}
	writeManifest(t, fsys, man)
	reg, err = OpenRegistry(fsys)
	require.NoError(t, err)
	_, err = reg.Load("xgboost")
	assert.ErrorIs(t, err, ErrFormat)
}

func TestRegistryBounds(t *testing.T) {
	huge := bytes.Repeat([]byte(" "), maxArtifactBytes+1)
	_, err := OpenRegistry(fstest.MapFS{ManifestFile: {Data: huge}})
	require.ErrorIs(t, err, ErrFormat)
	assert.Contains(t, err.Error(), "manifest.json is larger than")

	fsys, _ := testRegistry(t)
	fsys["tree.json"].Data = huge
	reg, err := OpenRegistry(fsys)
	require.NoError(t, err)
	_, err = reg.Load("tree")
	require.ErrorIs(t, err, ErrFormat)
	assert.Contains(t, err.Error(), "tree.json is larger than")
}

// TestRegistryXGBoostWithoutSidecar: an xgboost entry without meta_sha256
// has no sidecar; its feature names come from the model itself, its class
// names are 0..K-1, and the manifest must agree with both.
func TestRegistryXGBoostWithoutSidecar(t *testing.T) {
	model, err := os.ReadFile(filepath.Join("testdata", "xgboost", "3.2.0", "iris_softmax_names.json"))
	require.NoError(t, err)
	sum := sha256.Sum256(model)
	manifest := func(meta string) []byte {
		return []byte(`{"format":"classify/manifest","format_version":1,"models":[{"name":"iris","kind":"xgboost",` +
			`"file":"iris.json","sha256":"` + hex.EncodeToString(sum[:]) + `"` + meta + `,"version":"1.0.0",` +
			`"created":"2026-11-30T10:00:00Z","features":["sepal length","sepal_width","petal_length","petal_width"],` +
			`"classes":["0","1","2"],"metrics":[]}]}`)
	}
	fsys := fstest.MapFS{ManifestFile: {Data: manifest("")}, "iris.json": {Data: model}}
	reg, err := OpenRegistry(fsys)
	require.NoError(t, err)
	require.NoError(t, reg.Verify())
	m, err := reg.Load("iris")
	require.NoError(t, err)
	assert.Equal(t, "sepal length", m.Info().Features[0])
	assert.True(t, m.Info().Missing)

	// A meta_sha256 names a sidecar that must then be there.
	fsys[ManifestFile] = &fstest.MapFile{Data: manifest(`,"meta_sha256":"` + strings.Repeat("0", 64) + `"`)}
	reg, err = OpenRegistry(fsys)
	require.NoError(t, err)
	_, err = reg.Load("iris")
	assert.ErrorContains(t, err, "iris.json.meta.json")
	assert.Error(t, reg.Verify())

	// Only xgboost and lightgbm entries have sidecars.
	bad := bytes.Replace(manifest(`,"meta_sha256":"`+strings.Repeat("0", 64)+`"`), []byte(`"kind":"xgboost"`), []byte(`"kind":"decision_tree"`), 1)
	_, err = OpenRegistry(fstest.MapFS{ManifestFile: {Data: bad}, "iris.json": {Data: model}})
	require.ErrorIs(t, err, ErrFormat)
	assert.ErrorContains(t, err, "meta_sha256 is for xgboost and lightgbm entries")
}
