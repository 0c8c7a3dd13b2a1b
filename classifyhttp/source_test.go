package classifyhttp

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/models"
	"github.com/ml-production-service/classify/rollout"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rulesFile is a rule model that answers label for every row.
func rulesFile(label string) []byte {
	return []byte(`{"format": "classify/rules", "format_version": 1,
 "features": ["sepal_length", "sepal_width", "petal_length", "petal_width"],
 "classes": ["setosa", "versicolor", "virginica"], "rules": [], "default": "` + label + `", "source": "test"}`)
}

// TestFileWatchRecordsWhatItLoaded serves a single artifact file whose
// bytes are replaced right after each load, before anything else happens
// (a hook on the source's load, so the race is not left to timing). What
// the watch records as loaded must be the bytes that were loaded: the
// replacement is then seen at the next check and served, rather than taken
// for the model already serving and never loaded.
func TestFileWatchRecordsWhatItLoaded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules.json")
	require.NoError(t, os.WriteFile(path, rulesFile("setosa"), 0o644))
	src := FileSource(classify.Heuristic, path)
	next := "" // the label of the file written after the next load
	hooked := func() (*Catalog, error) {
		cat, err := src()
		if err != nil {
			return nil, err
		}
		load := cat.Load
		cat.Load = func(name string) (classify.Model, error) {
			m, err := load(name)
			if next != "" {
				require.NoError(t, os.WriteFile(path, rulesFile(next), 0o644))
				next = ""
			}
			return m, err
		}
		return cat, nil
	}
	predicts := func(h http.Handler) string {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/predict", strings.NewReader(seedRequest)))
		require.Equal(t, http.StatusOK, rec.Code, "%s", rec.Body)
		var body struct{ Prediction string }
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
		return body.Prediction
	}

	// At start-up.
	next = "virginica"
	cat, err := hooked()
	require.NoError(t, err)
	split, err := rollout.ParseSplit("heuristic")
	require.NoError(t, err)
	router, err := rollout.LoadRouter(split, cat.Load, nil)
	require.NoError(t, err)
	reg := prometheus.NewRegistry()
	hs, err := New(router, Options{Source: hooked, Catalog: cat, Registerer: reg})
	require.NoError(t, err)
	assert.Equal(t, "setosa", predicts(hs), "the bytes read at start-up serve")
	require.True(t, hs.ReloadIfChanged("watch"), "the file replaced after the start-up load is a change")
	assert.Equal(t, "virginica", predicts(hs))

	// At a reload by the watch.
	require.NoError(t, os.WriteFile(path, rulesFile("versicolor"), 0o644))
	next = "setosa"
	require.True(t, hs.ReloadIfChanged("watch"))
	assert.Equal(t, "versicolor", predicts(hs), "the bytes the watch read serve")
	require.True(t, hs.ReloadIfChanged("watch"), "the file replaced after the watch's load is a change")
	assert.Equal(t, "setosa", predicts(hs))
	assert.False(t, hs.ReloadIfChanged("watch"), "no change since")
	assert.Equal(t, 3.0, reloadCount(t, reg, `reason="",result="success",target="primary",trigger="watch"`))
}

// TestFileLoadMatchesNew loads single artifact files from the bytes read
// once, as the file source does, and finds what classify.New gives for the
// same files: the same model, or the same error.
func TestFileLoadMatchesNew(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o644))
		return p
	}
	xgb, err := os.ReadFile("../models/xgboost.json")
	require.NoError(t, err)
	meta, err := os.ReadFile("../models/xgboost.json.meta.json")
	require.NoError(t, err)
	boosting := "../testdata/boosting/sklearn-1.9.1_lightgbm-4.7.0/iris/"
	lgb, err := os.ReadFile(boosting + "lightgbm.txt")
	require.NoError(t, err)
	lgbMeta, err := os.ReadFile(boosting + "lightgbm.txt.meta.json")
	require.NoError(t, err)
	require.NoError(t, os.Mkdir(filepath.Join(dir, "a_directory"), 0o755))
	for _, tc := range []struct {
		name string
		kind classify.Kind
		path string
		ok   bool
	}{
		{"heuristic", classify.Heuristic, write("rules.json", rulesFile("setosa")), true},
		{"decision tree", classify.DecisionTree, "../models/decision_tree.json", true},
		{"xgboost with its sidecar", classify.XGBoost, write("xgb.json", xgb), true},
		{"xgboost without a sidecar", classify.XGBoost, write("bare.json", xgb), true},
		{"missing", classify.DecisionTree, filepath.Join(dir, "nosuch.json"), false},
		{"not a model", classify.RandomForest, write("junk.json", []byte("junk")), false},
		{"a directory", classify.DecisionTree, filepath.Join(dir, "a_directory"), false},
		{"bad sidecar", classify.XGBoost, write("badmeta.json", xgb), false},
		{"sidecar a directory", classify.XGBoost, write("dirmeta.json", xgb), false},
		{"lightgbm with its sidecar", classify.LightGBM, write("lgb.txt", lgb), true},
		{"lightgbm without a sidecar", classify.LightGBM, write("barelgb.txt", lgb), true},
		{"lightgbm bad sidecar", classify.LightGBM, write("badlgb.txt", lgb), false},
		{"lightgbm sidecar a directory", classify.LightGBM, write("dirlgb.txt", lgb), false},
		{"gradient boosting", classify.GradientBoosting, boosting + "gradient_boosting.json", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			switch tc.name {
			case "xgboost with its sidecar":
				write("xgb.json.meta.json", meta)
			case "lightgbm with its sidecar":
				write("lgb.txt.meta.json", lgbMeta)
			case "lightgbm bad sidecar":
				write("badlgb.txt.meta.json", []byte("{"))
			case "lightgbm sidecar a directory":
				require.NoError(t, os.Mkdir(filepath.Join(dir, "dirlgb.txt.meta.json"), 0o755))
			case "bad sidecar":
				write("badmeta.json.meta.json", []byte("{"))
			case "sidecar a directory":
				require.NoError(t, os.Mkdir(filepath.Join(dir, "dirmeta.json.meta.json"), 0o755))
			}
			want, wantErr := classify.New(tc.kind, tc.path)
			got, err := readArtifactFiles(tc.path).load(tc.kind, tc.path)
			if !tc.ok {
				require.Error(t, wantErr)
				assert.EqualError(t, err, wantErr.Error())
				assert.Nil(t, got)
				return
			}
			require.NoError(t, wantErr)
			require.NoError(t, err)
			assert.Equal(t, want.Info(), got.Info())
		})
	}
}

// reloadCount is the value of mps_model_reloads_total with the labels
// (sorted by name, as Gather sorts them), 0 when the series does not exist.
func reloadCount(t *testing.T, reg *prometheus.Registry, labels string) float64 {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != "mps_model_reloads_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			var got []string
			for _, l := range m.GetLabel() {
				got = append(got, l.GetName()+"="+strconv.Quote(l.GetValue()))
			}
			if strings.Join(got, ",") == labels {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// TestRegistrySource opens a registry through RegistrySource: a model is
// found by its name or, when it is the only one of that kind, by its kind;
// an unknown name is ErrNotFound naming what the registry holds; the
// fingerprint follows the named entries' versions; a registry that cannot
// be opened is an error naming where it is.
func TestRegistrySource(t *testing.T) {
	manifest, err := fs.ReadFile(models.FS, classify.ManifestFile)
	require.NoError(t, err)
	fsys := fstest.MapFS{}
	for _, name := range []string{"heuristic.json", "random_forest.json"} {
		b, err := fs.ReadFile(models.FS, name)
		require.NoError(t, err)
		fsys[name] = &fstest.MapFile{Data: b}
	}
	// Only the heuristic and the forest, the forest renamed.
	var m struct {
		Format        string           `json:"format"`
		FormatVersion int              `json:"format_version"`
		Models        []map[string]any `json:"models"`
	}
	require.NoError(t, json.Unmarshal(manifest, &m))
	var kept []map[string]any
	for _, e := range m.Models {
		switch e["name"] {
		case "heuristic":
			kept = append(kept, e)
		case "random_forest":
			e["name"] = "forest_v2"
			kept = append(kept, e)
		}
	}
	m.Models = kept
	write := func() {
		b, err := json.Marshal(m)
		require.NoError(t, err)
		fsys[classify.ManifestFile] = &fstest.MapFile{Data: b}
	}
	write()
	src := RegistrySource("the test registry", func() (*classify.Registry, error) { return classify.OpenRegistry(fsys) })

	cat, err := src()
	require.NoError(t, err)
	assert.Equal(t, "the test registry", cat.Where)
	assert.Equal(t, []string{"heuristic", "forest_v2"}, cat.Names)
	for _, name := range []string{"heuristic", "forest_v2", "random_forest"} {
		model, err := cat.Load(name)
		require.NoError(t, err, name)
		assert.NotNil(t, model, name)
	}
	_, err = cat.Load("xgboost")
	require.ErrorIs(t, err, classify.ErrNotFound)
	assert.Contains(t, err.Error(), `the test registry has no model named "xgboost" or of that kind (models: heuristic, forest_v2)`)

	before := cat.Fingerprint([]string{"random_forest", "xgboost"})
	assert.Contains(t, before, "random_forest=forest_v2/")
	assert.Contains(t, before, "xgboost=?;")
	m.Models[1]["version"] = "9.9.9"
	write()
	cat, err = src()
	require.NoError(t, err)
	assert.NotEqual(t, before, cat.Fingerprint([]string{"random_forest", "xgboost"}), "a new version of a served model is a change")

	delete(fsys, classify.ManifestFile)
	_, err = src()
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "the test registry: "), err.Error())
}
