package classify_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dmitryikh/leaves"
	"github.com/stretchr/testify/require"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/internal/golden"
)

// The boosting parity suite (make parity-suite, research/FORMATS.md): per
// data set, the models it must hold.
const boostingGen = "sklearn-1.9.1_lightgbm-4.7.0"

var boostingSuite = map[string][]string{
	"iris":          {"lightgbm", "lightgbm_ova", "hist_gradient_boosting", "gradient_boosting", "gradient_boosting_zero"},
	"digits":        {"lightgbm", "hist_gradient_boosting", "gradient_boosting"},
	"breast_cancer": {"lightgbm", "hist_gradient_boosting", "gradient_boosting"},
	"missing":       {"lightgbm", "lightgbm_rf", "lightgbm_zero", "hist_gradient_boosting", "gradient_boosting"},
	"categorical":   {"lightgbm", "lightgbm_onehot", "hist_gradient_boosting", "gradient_boosting"},
}

// TestBoostingParity checks every model of the boosting suite against its
// reference library's own answers (lightgbm 4.7.0, scikit-learn 1.9.1):
// the same label on every case, probabilities within the file's tolerance
// (1e-9), single rows and batches alike, through New with the LightGBM
// sidecar. A missing data set, model or file fails.
func TestBoostingParity(t *testing.T) {
	root := filepath.Join("testdata", "boosting", boostingGen)
	dirs, err := os.ReadDir(root)
	require.NoError(t, err, "testdata/boosting is written by make parity-suite")
	var sets []string
	for _, d := range dirs {
		if d.IsDir() {
			sets = append(sets, d.Name())
		}
	}
	require.ElementsMatch(t, slices.Collect(maps.Keys(boostingSuite)), sets, "%s: data sets", root)
	for _, ds := range sets {
		files, err := filepath.Glob(filepath.Join(root, ds, "*.parity.json"))
		require.NoError(t, err)
		var names []string
		for _, f := range files {
			names = append(names, strings.TrimSuffix(filepath.Base(f), ".parity.json"))
		}
		require.ElementsMatch(t, boostingSuite[ds], names, "%s/%s: models", root, ds)
		for _, path := range files {
			t.Run(ds+"/"+filepath.Base(path), func(t *testing.T) {
				checkBoostingFile(t, ds, path)
			})
		}
	}
}

func checkBoostingFile(t *testing.T, ds, path string) {
	f, err := golden.ReadFile(path)
	require.NoError(t, err)
	require.NotEmpty(t, f.Artifact, "%s names its artifact", path)
	art := filepath.Join(filepath.Dir(path), filepath.FromSlash(f.Artifact))
	b, err := os.ReadFile(art)
	require.NoError(t, err)
	sum := sha256.Sum256(b)
	require.Equal(t, f.ArtifactSHA256, hex.EncodeToString(sum[:]), "%s: the answers were written for another artifact", art)
	if f.Kind == classify.LightGBM {
		_, err := os.Stat(art + ".meta.json")
		require.NoError(t, err, "classify-export writes a sidecar beside every LightGBM model")
	}
	m, err := classify.New(f.Kind, art)
	require.NoError(t, err)
	info := m.Info()
	require.Equal(t, f.Kind, info.Kind)
	require.Equal(t, f.Features, info.Features)
	require.Equal(t, f.Classes, info.Classes)
	if info.Missing {
		require.Positive(t, f.MissingCases(), "%s: a model that takes missing values needs NaN cases", path)
	} else {
		require.Zero(t, f.MissingCases(), "%s: NaN cases for a model that refuses them", path)
	}
	require.NotNil(t, f.Tolerance, "%s states its tolerance", path)
	tol := *f.Tolerance
	require.LessOrEqual(t, tol, 1e-9, "%s promises less than the design's bar", path)
	res, err := golden.Check(m, f, tol)
	require.NoError(t, err)
	for _, fail := range res.Failures() {
		t.Errorf("%s", fail)
	}
	require.True(t, res.OK(), "%s: %d label mismatches, %d refused, largest difference %.3g (tolerance %g)",
		path, len(res.Mismatches), len(res.Refused), res.MaxDiff, tol)
	// One line of the parity table: kind, data set, model, reference,
	// cases, labels equal, largest difference.
	t.Logf("parity | %s | %s | %s | %s | %d | %d | %.3g |", f.Kind, ds,
		strings.TrimSuffix(filepath.Base(path), ".parity.json"), f.Reference,
		res.Cases, res.Cases-len(res.Mismatches), res.MaxDiff)
}

// leavesV3 loads a LightGBM v4 text model into leaves, which reads only
// files labelled version=v3: the label is the only change (the v4 text
// adds nothing to a tree leaves reads; leaves ignores keys it does not
// know).
func leavesV3(t testing.TB, path string) *leaves.Ensemble {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	_, err = leaves.LGEnsembleFromReader(bufio.NewReader(bytes.NewReader(b)), true)
	require.ErrorContains(t, err, "only version=v3 is supported", "leaves reads v4 now: drop the relabelling")
	b = bytes.Replace(b, []byte("\nversion=v4\n"), []byte("\nversion=v3\n"), 1)
	e, err := leaves.LGEnsembleFromReader(bufio.NewReader(bytes.NewReader(b)), true)
	require.NoError(t, err)
	return e
}

// nearZero reports whether row holds a value within LightGBM's
// kZeroThreshold of zero other than zero itself: LightGBM's C API reads it
// as zero, leaves compares it as it is.
func nearZero(row []float64) bool {
	const kz = float64(float32(1e-35))
	for _, v := range row {
		if v != 0 && math.Abs(v) <= kz {
			return true
		}
	}
	return false
}

// TestLightGBMLeaves compares classify with leaves, a second LightGBM
// reader, on every LightGBM model of the suite and every case: the same
// probabilities (1e-12) except on rows holding a value within
// kZeroThreshold of zero (LightGBM and classify read it as zero, leaves
// does not). leaves cannot serve two of the models: multiclassova (it has
// no transformation for it) and boosting=rf (it ignores average_output);
// the test checks that it still cannot, so that it notices when it can.
func TestLightGBMLeaves(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "boosting", boostingGen, "*", "lightgbm*.txt"))
	require.NoError(t, err)
	require.Len(t, files, 9)
	for _, path := range files {
		t.Run(filepath.Base(filepath.Dir(path))+"/"+filepath.Base(path), func(t *testing.T) {
			f, err := golden.ReadFile(strings.TrimSuffix(path, ".txt") + ".parity.json")
			require.NoError(t, err)
			m, err := classify.New(classify.LightGBM, path)
			require.NoError(t, err)
			if strings.HasSuffix(path, "_ova.txt") {
				b, err := os.ReadFile(path)
				require.NoError(t, err)
				b = bytes.Replace(b, []byte("\nversion=v4\n"), []byte("\nversion=v3\n"), 1)
				_, err = leaves.LGEnsembleFromReader(bufio.NewReader(bytes.NewReader(b)), true)
				require.Error(t, err, "leaves has no multiclassova transformation")
				t.Logf("leaves: %v", err)
				return
			}
			e := leavesV3(t, path)
			nc := len(f.Classes)
			if strings.HasSuffix(path, "_rf.txt") {
				// leaves ignores average_output: it answers the raw sums of
				// a random forest's trees, neither averaged nor transformed.
				out := make([]float64, e.NOutputGroups())
				require.NoError(t, e.Predict(f.Cases[0].Input, 0, out))
				p, err := m.Predict(f.Cases[0].Input, nil)
				require.NoError(t, err)
				require.NotEqual(t, p.Probabilities, out, "leaves reads average_output now: compare it")
				t.Logf("leaves ignores average_output (boosting=rf): %v where LightGBM gives %v", out, p.Probabilities)
				return
			}
			out := make([]float64, e.NOutputGroups())
			differ, skipped := 0, 0
			for _, c := range f.Cases {
				p, err := m.Predict(c.Input, nil)
				require.NoError(t, err)
				require.NoError(t, e.Predict(c.Input, 0, out))
				theirs := out
				if nc == 2 {
					theirs = []float64{1 - out[0], out[0]}
				}
				same := true
				for k := range nc {
					same = same && math.Abs(p.Probabilities[k]-theirs[k]) <= 1e-12
				}
				if nearZero(c.Input) {
					skipped++
					if !same {
						differ++
					}
					continue
				}
				require.True(t, same, "%s: classify %v, leaves %v", c.Name, p.Probabilities, theirs)
			}
			t.Logf("leaves agrees on %d cases; of %d holding a value within kZeroThreshold of zero, %d differ (leaves does not zero them)",
				len(f.Cases)-skipped, skipped, differ)
		})
	}
}
