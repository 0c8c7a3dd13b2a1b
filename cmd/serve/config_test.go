package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := parseConfig(nil, env(nil), &bytes.Buffer{})
	require.NoError(t, err)
	assert.Equal(t, "heuristic=1", cfg.split.String())
	assert.Equal(t, "X-Client-ID", cfg.splitHeader)
	assert.Equal(t, "", cfg.shadowModel)
	assert.Equal(t, 0.1, cfg.shadowFraction)
	assert.Equal(t, "", cfg.adminToken)
	assert.Equal(t, time.Duration(0), cfg.reloadInterval)
	assert.False(t, cfg.healthcheck)
	assert.Equal(t, "", cfg.modelPath)
	assert.Equal(t, slog.LevelInfo, cfg.logLevel)
	assert.Equal(t, "0.0.0.0", cfg.host)
	assert.Equal(t, 8000, cfg.port)
	assert.Equal(t, 10*time.Second, cfg.shutdownTimeout)
	assert.False(t, cfg.allowNonPositive)
}

func TestConfigEnvAndFlags(t *testing.T) {
	vars := map[string]string{
		"MPS_MODEL_TYPE": "XGBoost", "MPS_MODEL_PATH": "/srv/models", "MPS_LOG_LEVEL": "warning",
		"MPS_API_HOST": "127.0.0.1", "MPS_API_PORT": "9000", "MPS_SHUTDOWN_TIMEOUT": "3s", "MPS_ALLOW_NON_POSITIVE": "true",
	}
	cfg, err := parseConfig(nil, env(vars), &bytes.Buffer{})
	require.NoError(t, err)
	assert.Equal(t, "xgboost=1", cfg.split.String())
	assert.Equal(t, "/srv/models", cfg.modelPath)
	assert.Equal(t, slog.LevelWarn, cfg.logLevel)
	assert.Equal(t, "127.0.0.1", cfg.host)
	assert.Equal(t, 9000, cfg.port)
	assert.Equal(t, 3*time.Second, cfg.shutdownTimeout)
	assert.True(t, cfg.allowNonPositive)
	assert.Equal(t, "MPS_API_PORT", cfg.source["port"])
	assert.Equal(t, 9001, cfg.grpcPort, "unset, the HTTP port + 1")
	for http, want := range map[string]int{"8000": 8001, "8001": 8002, "0": 0, "65535": 0} {
		cfg, err := parseConfig(nil, env(map[string]string{"MPS_API_PORT": http}), &bytes.Buffer{})
		require.NoError(t, err, http)
		assert.Equal(t, want, cfg.grpcPort, "MPS_API_PORT=%s and no MPS_GRPC_PORT", http)
	}
	for v, want := range map[string]int{"off": -1, " OFF ": -1, "0": 0, "9001": 9001} {
		cfg, err := parseConfig(nil, env(map[string]string{"MPS_GRPC_PORT": v}), &bytes.Buffer{})
		require.NoError(t, err)
		assert.Equal(t, want, cfg.grpcPort, v)
	}

	// Flags override the environment.
	cfg, err = parseConfig([]string{"-model-type", "random_forest", "-port=0", "-log-level", "DEBUG", "-host", "localhost"}, env(vars), &bytes.Buffer{})
	require.NoError(t, err)
	assert.Equal(t, "random_forest=1", cfg.split.String())
	assert.Equal(t, 0, cfg.port)
	assert.Equal(t, slog.LevelDebug, cfg.logLevel)
	assert.Equal(t, "localhost", cfg.host)
	assert.Equal(t, "-port", cfg.source["port"])
	assert.Equal(t, "/srv/models", cfg.modelPath)

	for level, want := range map[string]slog.Level{"debug": slog.LevelDebug, "Info": slog.LevelInfo, "ERROR": slog.LevelError} {
		cfg, err := parseConfig(nil, env(map[string]string{"MPS_LOG_LEVEL": level}), &bytes.Buffer{})
		require.NoError(t, err)
		assert.Equal(t, want, cfg.logLevel, level)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		vars map[string]string
		want string
	}{
		{"model type", nil, map[string]string{"MPS_MODEL_TYPE": "decision_tree=x"},
			`serve: MPS_MODEL_TYPE="decision_tree=x" is not allowed: use one of heuristic, decision_tree, random_forest, xgboost, lightgbm, hist_gradient_boosting, gradient_boosting, or a split such as decision_tree=90,xgboost=10 (rollout: split: weight of "decision_tree" is "x", not an integer)`},
		{"model type flag", []string{"-model-type", "a=0,b=0"}, nil,
			`serve: -model-type="a=0,b=0" is not allowed: use one of heuristic, decision_tree, random_forest, xgboost, lightgbm, hist_gradient_boosting, gradient_boosting, or a split such as decision_tree=90,xgboost=10 (rollout: split: every weight is 0)`},
		{"split header", nil, map[string]string{"MPS_SPLIT_HEADER": "X Client"},
			`serve: MPS_SPLIT_HEADER="X Client" is not allowed: use a header name such as X-Client-ID (letters, digits and -)`},
		{"shadow fraction", nil, map[string]string{"MPS_SHADOW_FRACTION": "1.5"},
			`serve: MPS_SHADOW_FRACTION="1.5" is not allowed: use a number from 0 to 1, such as 0.1`},
		{"reload interval", nil, map[string]string{"MPS_RELOAD_INTERVAL": "often", "MPS_MODEL_PATH": "/srv"},
			`serve: MPS_RELOAD_INTERVAL="often" is not allowed: use 0 (no watch) or a positive duration such as 30s`},
		{"reload interval without a path", nil, map[string]string{"MPS_RELOAD_INTERVAL": "1s"},
			`serve: MPS_RELOAD_INTERVAL="1s" is not allowed: the embedded registry never changes; set MPS_MODEL_PATH to a registry directory to watch, or use 0`},
		{"log level", nil, map[string]string{"MPS_LOG_LEVEL": "verbose"},
			`serve: MPS_LOG_LEVEL="verbose" is not allowed: use DEBUG, INFO, WARNING or ERROR (any case)`},
		{"port text", nil, map[string]string{"MPS_API_PORT": "http"},
			`serve: MPS_API_PORT="http" is not allowed: use a port number from 0 to 65535`},
		{"port range", nil, map[string]string{"MPS_API_PORT": "70000"},
			`serve: MPS_API_PORT="70000" is not allowed: use a port number from 0 to 65535`},
		{"payload sample", nil, map[string]string{"MPS_PAYLOAD_SAMPLE": "0"},
			`serve: MPS_PAYLOAD_SAMPLE="0" is not allowed: use a number greater than 0 and at most 1, such as 0.05`},
		{"grpc port text", nil, map[string]string{"MPS_GRPC_PORT": "grpc"},
			`serve: MPS_GRPC_PORT="grpc" is not allowed: use a port number from 0 to 65535, or off`},
		{"grpc port range", []string{"-grpc-port", "-1"}, nil,
			`serve: -grpc-port="-1" is not allowed: use a port number from 0 to 65535, or off`},
		{"grpc port is the HTTP port", nil, map[string]string{"MPS_API_PORT": "8001", "MPS_GRPC_PORT": "8001"},
			`serve: MPS_GRPC_PORT="8001" is not allowed: use a port other than the HTTP port, or off`},
		{"host", nil, map[string]string{"MPS_API_HOST": "bad host!"},
			`serve: MPS_API_HOST="bad host!" is not allowed: use an IP address or a host name, such as 0.0.0.0 or 127.0.0.1`},
		{"host label", []string{"-host", "-x.example"}, nil,
			`serve: -host="-x.example" is not allowed: use an IP address or a host name, such as 0.0.0.0 or 127.0.0.1`},
		{"timeout", nil, map[string]string{"MPS_SHUTDOWN_TIMEOUT": "-1s"},
			`serve: MPS_SHUTDOWN_TIMEOUT="-1s" is not allowed: use a positive duration such as 10s or 500ms`},
		{"bool", nil, map[string]string{"MPS_ALLOW_NON_POSITIVE": "maybe"},
			`serve: MPS_ALLOW_NON_POSITIVE="maybe" is not allowed: use true or false`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseConfig(tc.args, env(tc.vars), &bytes.Buffer{})
			var ce *configError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.want, err.Error())
			var stderr bytes.Buffer
			assert.Equal(t, 2, exitCode(err, &stderr))
			assert.Equal(t, tc.want+"\n", stderr.String(), "one line")
		})
	}
}

func TestConfigUsage(t *testing.T) {
	var out bytes.Buffer
	_, err := parseConfig([]string{"-h"}, env(nil), &out)
	require.ErrorIs(t, err, flag.ErrHelp)
	assert.Equal(t, 0, exitCode(err, &bytes.Buffer{}))
	for _, s := range settings {
		assert.Contains(t, out.String(), "-"+s.flag+", "+s.env)
	}
	assert.Contains(t, out.String(), "Exit status")
	assert.Contains(t, out.String(), "  -healthcheck\n")
	assert.Contains(t, out.String(), `{"model_type": "decision_tree=0,xgboost=100"}`)

	_, err = parseConfig([]string{"-nope"}, env(nil), &bytes.Buffer{})
	var ue *usageError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, 2, exitCode(err, &bytes.Buffer{}))
	_, err = parseConfig([]string{"extra"}, env(nil), &bytes.Buffer{})
	require.ErrorAs(t, err, &ue)
	assert.Contains(t, err.Error(), `unexpected argument "extra"`)
}

func TestExitCodeOtherErrors(t *testing.T) {
	var stderr bytes.Buffer
	assert.Equal(t, 1, exitCode(errors.New("port taken"), &stderr))
	assert.Equal(t, "serve: port taken\n", stderr.String())
	assert.Equal(t, 0, exitCode(nil, &stderr))
}

// loadModel loads the configured models as run does and returns the first
// variant's model and the registry.
func loadModel(cfg config) (classify.Model, *classify.Registry, error) {
	src, err := newSource(cfg)
	if err != nil {
		return nil, nil, err
	}
	router, _, cat, err := loadRouter(cfg, src)
	if err != nil {
		return nil, nil, err
	}
	return router.Variants()[0].Model(), cat.Registry, nil
}

func TestLoadModel(t *testing.T) {
	cfgFor := func(vars map[string]string) config {
		cfg, err := parseConfig(nil, env(vars), &bytes.Buffer{})
		require.NoError(t, err)
		return cfg
	}
	embedded, err := classify.OpenRegistry(models.FS)
	require.NoError(t, err)
	for _, e := range embedded.Manifest().Models {
		k := e.Kind
		t.Run("embedded "+string(k), func(t *testing.T) {
			m, reg, err := loadModel(cfgFor(map[string]string{"MPS_MODEL_TYPE": string(k)}))
			require.NoError(t, err)
			require.NotNil(t, reg)
			assert.Equal(t, k, m.Info().Kind)
			assert.Equal(t, string(k), m.Info().Name)
		})
	}

	t.Run("a kind the embedded registry does not hold", func(t *testing.T) {
		_, _, err := loadModel(cfgFor(map[string]string{"MPS_MODEL_TYPE": "lightgbm"}))
		var ce *configError
		require.ErrorAs(t, err, &ce)
		assert.Contains(t, err.Error(), `the embedded registry has no model named "lightgbm" or of that kind`)
	})
	for _, tc := range []struct {
		kind classify.Kind
		file string
	}{
		{classify.LightGBM, "lightgbm.txt"},
		{classify.HistGradientBoosting, "hist_gradient_boosting.json"},
		{classify.GradientBoosting, "gradient_boosting.json"},
	} {
		t.Run("single file "+string(tc.kind), func(t *testing.T) {
			path := filepath.Join("..", "..", "testdata", "boosting", "sklearn-1.9.1_lightgbm-4.7.0", "iris", tc.file)
			m, reg, err := loadModel(cfgFor(map[string]string{"MPS_MODEL_TYPE": string(tc.kind), "MPS_MODEL_PATH": path}))
			require.NoError(t, err)
			assert.Nil(t, reg)
			assert.Equal(t, tc.kind, m.Info().Kind)
			assert.Equal(t, []string{"setosa", "versicolor", "virginica"}, m.Info().Classes)
		})
	}
	t.Run("registry directory", func(t *testing.T) {
		m, reg, err := loadModel(cfgFor(map[string]string{"MPS_MODEL_TYPE": "decision_tree", "MPS_MODEL_PATH": "../../models"}))
		require.NoError(t, err)
		require.NotNil(t, reg)
		assert.Equal(t, "decision_tree", m.Info().Name)
	})
	t.Run("single file", func(t *testing.T) {
		m, reg, err := loadModel(cfgFor(map[string]string{"MPS_MODEL_TYPE": "decision_tree", "MPS_MODEL_PATH": "../../models/decision_tree.json"}))
		require.NoError(t, err)
		assert.Nil(t, reg)
		assert.Equal(t, classify.DecisionTree, m.Info().Kind)
		assert.Equal(t, "", m.Info().Name)
	})
	t.Run("a registry entry found by kind", func(t *testing.T) {
		dir := t.TempDir()
		b, err := os.ReadFile("../../models/heuristic.json")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "rules.json"), b, 0o644))
		manifest := `{"format":"classify/manifest","format_version":1,"models":[{"name":"iris-rules","kind":"heuristic","file":"rules.json",
			"sha256":"` + sha256Hex(b) + `","version":"3","created":"2026-01-01T00:00:00Z",
			"features":["sepal_length","sepal_width","petal_length","petal_width"],"classes":["setosa","versicolor","virginica"],"metrics":[]}]}`
		require.NoError(t, os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(manifest), 0o644))
		m, _, err := loadModel(cfgFor(map[string]string{"MPS_MODEL_PATH": dir}))
		require.NoError(t, err)
		assert.Equal(t, "iris-rules", m.Info().Name)

		_, _, err = loadModel(cfgFor(map[string]string{"MPS_MODEL_PATH": dir, "MPS_MODEL_TYPE": "xgboost"}))
		var ce *configError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, `serve: MPS_MODEL_TYPE="xgboost" is not allowed: `+dir+` has no model named "xgboost" or of that kind; use one of iris-rules, or a split of them such as decision_tree=90,xgboost=10`, err.Error())

		// A corrupt artifact is not a configuration error: exit status 1.
		require.NoError(t, os.WriteFile(filepath.Join(dir, "rules.json"), append(b, ' '), 0o644))
		_, _, err = loadModel(cfgFor(map[string]string{"MPS_MODEL_PATH": dir}))
		require.ErrorIs(t, err, classify.ErrChecksum)
		assert.Equal(t, 1, exitCode(err, &bytes.Buffer{}))
	})
	t.Run("unknown model", func(t *testing.T) {
		_, _, err := loadModel(cfgFor(map[string]string{"MPS_MODEL_TYPE": "svm"}))
		assert.EqualError(t, err, `serve: MPS_MODEL_TYPE="svm" is not allowed: the embedded registry has no model named "svm" or of that kind; use one of heuristic, decision_tree, random_forest, xgboost, or a split of them such as decision_tree=90,xgboost=10`)
		_, _, err = loadModel(cfgFor(map[string]string{"MPS_MODEL_TYPE": "svm", "MPS_MODEL_PATH": "../../models/decision_tree.json"}))
		assert.EqualError(t, err, `serve: MPS_MODEL_TYPE="svm" is not allowed: use one of heuristic, decision_tree, random_forest, xgboost, lightgbm, hist_gradient_boosting, gradient_boosting`)
		_, _, err = loadModel(cfgFor(map[string]string{"MPS_MODEL_TYPE": "decision_tree=1,xgboost=1", "MPS_MODEL_PATH": "../../models/decision_tree.json"}))
		assert.EqualError(t, err, `serve: MPS_MODEL_TYPE="decision_tree=1,xgboost=1" is not allowed: a split needs a registry, and MPS_MODEL_PATH names a single file`)
		_, _, err = loadModel(cfgFor(map[string]string{"MPS_SHADOW_MODEL": "svm"}))
		assert.EqualError(t, err, `serve: MPS_SHADOW_MODEL="svm" is not allowed: the embedded registry has no model of that name or kind; use one of heuristic, decision_tree, random_forest, xgboost`)
	})
	t.Run("split and shadow", func(t *testing.T) {
		cfg := cfgFor(map[string]string{"MPS_MODEL_TYPE": "Decision_Tree=90,xgboost=10", "MPS_SHADOW_MODEL": "random_forest"})
		src, err := newSource(cfg)
		require.NoError(t, err)
		router, challenger, _, err := loadRouter(cfg, src)
		require.NoError(t, err)
		assert.Equal(t, "decision_tree=90,xgboost=10", router.Split().String())
		assert.Equal(t, classify.RandomForest, challenger.Model().Info().Kind)
	})
	t.Run("errors", func(t *testing.T) {
		_, _, err := loadModel(cfgFor(map[string]string{"MPS_MODEL_PATH": "/no/such/dir"}))
		assert.EqualError(t, err, `serve: MPS_MODEL_PATH="/no/such/dir" is not allowed: no such file or directory; use a registry directory holding manifest.json, or a model file`)
		empty := t.TempDir()
		_, _, err = loadModel(cfgFor(map[string]string{"MPS_MODEL_PATH": empty}))
		assert.EqualError(t, err, `serve: MPS_MODEL_PATH="`+empty+`" is not allowed: the directory holds no manifest.json; use a registry directory or a model file`)
		bad := filepath.Join(empty, "x.json")
		require.NoError(t, os.WriteFile(bad, []byte("{}"), 0o644))
		_, _, err = loadModel(cfgFor(map[string]string{"MPS_MODEL_PATH": bad, "MPS_MODEL_TYPE": "random_forest"}))
		require.ErrorIs(t, err, classify.ErrFormat)
		assert.Equal(t, 1, exitCode(err, &bytes.Buffer{}))
		require.NoError(t, os.WriteFile(filepath.Join(empty, "manifest.json"), []byte("{}"), 0o644))
		_, _, err = loadModel(cfgFor(map[string]string{"MPS_MODEL_PATH": empty}))
		require.ErrorIs(t, err, classify.ErrFormat)
	})
}

func TestValidHost(t *testing.T) {
	for h, ok := range map[string]bool{"0.0.0.0": true, "::1": true, "localhost": true, "api.example.com": true,
		"": false, "a..b": false, "x_y": false, strings.Repeat("a", 64): false} {
		assert.Equal(t, ok, validHost(h), h)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
