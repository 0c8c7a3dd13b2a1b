package classify_test

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/internal/golden"
)

// The parity suite beyond Iris (research/parity_suite.py): for each library
// generation, each data set, the models it must hold. XGBoost appears in
// every format that generation writes.
var paritySuite = map[string][]string{
	"sklearn-1.9.1_xgboost-3.2.0": {"decision_tree", "random_forest", "extra_trees", "xgboost_json", "xgboost_ubj"},
	"sklearn-1.2.1_xgboost-1.7.4": {"decision_tree", "random_forest", "extra_trees", "xgboost_binary", "xgboost_json", "xgboost_ubj"},
}

var parityDatasets = []string{"breast_cancer", "digits", "missing"}

// TestParitySuite checks every model of the parity suite against its
// reference library's own answers: the same label on every case,
// probabilities within the file's tolerance (1e-9 for scikit-learn, 1e-6
// for XGBoost), single rows and batches alike, NaN cases exactly for the
// models that take missing values. A missing generation, data set or model
// fails.
func TestParitySuite(t *testing.T) {
	dirs, err := os.ReadDir(filepath.Join("testdata", "parity"))
	require.NoError(t, err, "testdata/parity is written by research/parity_suite.py")
	var gens []string
	for _, d := range dirs {
		if d.IsDir() {
			gens = append(gens, d.Name())
		}
	}
	require.ElementsMatch(t, slices.Collect(maps.Keys(paritySuite)), gens, "testdata/parity: library generations")
	for _, gen := range gens {
		for _, ds := range parityDatasets {
			dir := filepath.Join("testdata", "parity", gen, ds)
			files, err := filepath.Glob(filepath.Join(dir, "*.parity.json"))
			require.NoError(t, err)
			var names []string
			for _, f := range files {
				names = append(names, strings.TrimSuffix(filepath.Base(f), ".parity.json"))
			}
			want := slices.Clone(paritySuite[gen])
			if ds == "missing" { // an XGBoost random forest on the data set with missing values
				for _, n := range paritySuite[gen] {
					if rest, ok := strings.CutPrefix(n, "xgboost_"); ok {
						want = append(want, "xgboost_rf_"+rest)
					}
				}
			}
			require.ElementsMatch(t, want, names, "%s: models", dir)
			for _, path := range files {
				t.Run(gen+"/"+ds+"/"+filepath.Base(path), func(t *testing.T) {
					checkParityFile(t, gen, ds, path)
				})
			}
		}
	}
}

func checkParityFile(t *testing.T, gen, ds, path string) {
	f, err := golden.ReadFile(path)
	require.NoError(t, err)
	require.NotEmpty(t, f.Artifact, "%s names its artifact", path)
	require.NotEmpty(t, f.Kind, "%s names its kind", path)
	art := filepath.Join(filepath.Dir(path), filepath.FromSlash(f.Artifact))
	b, err := os.ReadFile(art)
	require.NoError(t, err)
	sum := sha256.Sum256(b)
	require.Equal(t, f.ArtifactSHA256, hex.EncodeToString(sum[:]), "%s: the answers were written for another artifact", art)

	m, err := classify.New(f.Kind, art)
	require.NoError(t, err)
	info := m.Info()
	require.Equal(t, f.Features, info.Features)
	require.Equal(t, f.Classes, info.Classes)
	// NaN cases exactly for the models that take missing values, so a
	// model that does is checked on them.
	if info.Missing {
		require.Positive(t, f.MissingCases(), "%s: a model that takes missing values needs NaN cases", path)
	} else {
		require.Zero(t, f.MissingCases(), "%s: NaN cases for a model that refuses them", path)
	}
	tol := golden.DefaultTolerance(f.Kind)
	if f.Tolerance != nil {
		tol = *f.Tolerance
	}
	require.LessOrEqual(t, tol, golden.DefaultTolerance(f.Kind), "%s promises less than the design's bar", path)
	res, err := golden.Check(m, f, tol)
	require.NoError(t, err)
	for _, fail := range res.Failures() {
		t.Errorf("%s", fail)
	}
	require.True(t, res.OK(), "%s: %d label mismatches, %d refused, largest difference %.3g (tolerance %g)",
		path, len(res.Mismatches), len(res.Refused), res.MaxDiff, tol)
	// One line of the parity table: generation, data set, model, kind,
	// artifact, reference, rows, mismatches, largest difference.
	t.Logf("parity | %s | %s | %s | %s | %s | %s | %d | %d | %.3g |", gen, ds,
		strings.TrimSuffix(filepath.Base(path), ".parity.json"), f.Kind, filepath.Ext(art), f.Reference,
		res.Cases, len(res.Mismatches), res.MaxDiff)
}
