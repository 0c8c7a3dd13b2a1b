package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/classifyhttp"
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
	cfg, err := parseConfig(nil, env(map[string]string{"MPS_MODEL_PATH": path, "MPS_MODEL_TYPE": "heuristic"}), &bytes.Buffer{})
	require.NoError(t, err)
	src, err := newSource(cfg)
	require.NoError(t, err)
	next := "" // the label of the file written after the next load
	hooked := func() (*catalog, error) {
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
	router, _, cat, err := loadRouter(cfg, hooked)
	require.NoError(t, err)
	reg := prometheus.NewRegistry()
	hs, err := classifyhttp.New(router, classifyhttp.Options{Source: source(hooked).forHandler(), Catalog: &cat.Catalog, Registerer: reg})
	require.NoError(t, err)
	assert.Equal(t, "setosa", predicts(hs), "the bytes read at start-up serve")
	require.True(t, hs.ReloadIfChanged(triggerWatch), "the file replaced after the start-up load is a change")
	assert.Equal(t, "virginica", predicts(hs))

	// At a reload by the watch.
	require.NoError(t, os.WriteFile(path, rulesFile("versicolor"), 0o644))
	next = "setosa"
	require.True(t, hs.ReloadIfChanged(triggerWatch))
	assert.Equal(t, "versicolor", predicts(hs), "the bytes the watch read serve")
	require.True(t, hs.ReloadIfChanged(triggerWatch), "the file replaced after the watch's load is a change")
	assert.Equal(t, "setosa", predicts(hs))
	assert.False(t, hs.ReloadIfChanged(triggerWatch), "no change since")
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
	xgb, err := os.ReadFile("../../models/xgboost.json")
	require.NoError(t, err)
	meta, err := os.ReadFile("../../models/xgboost.json.meta.json")
	require.NoError(t, err)
	require.NoError(t, os.Mkdir(filepath.Join(dir, "a_directory"), 0o755))
	for _, tc := range []struct {
		name string
		kind classify.Kind
		path string
		ok   bool
	}{
		{"heuristic", classify.Heuristic, write("rules.json", rulesFile("setosa")), true},
		{"decision tree", classify.DecisionTree, "../../models/decision_tree.json", true},
		{"xgboost with its sidecar", classify.XGBoost, write("xgb.json", xgb), true},
		{"xgboost without a sidecar", classify.XGBoost, write("bare.json", xgb), true},
		{"missing", classify.DecisionTree, filepath.Join(dir, "nosuch.json"), false},
		{"not a model", classify.RandomForest, write("junk.json", []byte("junk")), false},
		{"a directory", classify.DecisionTree, filepath.Join(dir, "a_directory"), false},
		{"bad sidecar", classify.XGBoost, write("badmeta.json", xgb), false},
		{"sidecar a directory", classify.XGBoost, write("dirmeta.json", xgb), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			switch tc.name {
			case "xgboost with its sidecar":
				write("xgb.json.meta.json", meta)
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
