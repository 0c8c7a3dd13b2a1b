package classify_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/internal/golden"
)

// sklearnModels are the models testdata/sklearn/make_models.py writes; each
// must be there, so a model the script stopped writing fails the test.
var sklearnModels = []string{
	"dt_iris_121", "dt_iris_nan", "dt_missing_split", "dt_wine_balanced",
	"et_iris_nan", "rf_iris_balanced_121", "rf_iris_nan", "rf_wine_balanced",
}

type sklearnEntry struct {
	Name       string `json:"name"`
	Artifact   string `json:"artifact"`
	Golden     string `json:"golden"`
	Estimator  string `json:"estimator"`
	Library    string `json:"library"`
	AcceptsNaN bool   `json:"accepts_nan"`
	RefusesInf bool   `json:"refuses_inf"`
	Cases      int    `json:"cases"`
}

func readJSON(t *testing.T, path string, v any) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err, "written by testdata/sklearn/make_models.py")
	require.NoError(t, json.Unmarshal(b, v), path)
	return b
}

// TestSklearnParity checks every model of testdata/sklearn against
// scikit-learn's own answers (1.9.1 and 1.2.1): the same label on every
// case, probabilities within 1e-9, NaN taken exactly when scikit-learn took
// it, infinities refused.
func TestSklearnParity(t *testing.T) {
	dir := filepath.Join("testdata", "sklearn")
	var index struct{ Models []sklearnEntry }
	readJSON(t, filepath.Join(dir, "index.json"), &index)
	var names []string
	for _, e := range index.Models {
		names = append(names, e.Name)
	}
	require.Equal(t, sklearnModels, names, "index.json lists every model, sorted")

	for _, e := range index.Models {
		t.Run(e.Name, func(t *testing.T) {
			g, err := golden.ReadFile(filepath.Join(dir, e.Golden))
			require.NoError(t, err)
			require.Equal(t, 2, g.FormatVersion)
			require.Equal(t, e.Artifact, g.Artifact)
			require.Len(t, g.Cases, e.Cases, "a truncated golden file fails")
			art, err := os.ReadFile(filepath.Join(dir, e.Artifact))
			require.NoError(t, err)
			sum := sha256.Sum256(art)
			require.Equal(t, g.ArtifactSHA256, hex.EncodeToString(sum[:]), "golden file was written for another artifact")

			m, err := classify.Load(g.Kind, bytes.NewReader(art))
			require.NoError(t, err)
			info := m.Info()
			require.Equal(t, g.Kind, info.Kind)
			require.Equal(t, e.AcceptsNaN, info.Missing, "Info.Missing says whether scikit-learn took NaN")
			if e.AcceptsNaN {
				require.Positive(t, g.MissingCases(), "a model that takes NaN is checked on NaN inputs")
			}

			// Labels, probabilities within 1e-9, and the batch path bit
			// for bit against single rows: golden.Check, as verify-parity.
			res, err := golden.Check(m, g, 1e-9)
			require.NoError(t, err)
			for _, f := range res.Failures() {
				t.Errorf("%s", f)
			}
			require.True(t, res.OK())

			// Explain takes the same path, and marks the steps on NaN.
			if ex, ok := m.(classify.Explainer); ok {
				for _, c := range g.Cases {
					x, err := ex.Explain(c.Input)
					require.NoError(t, err, c.Name)
					require.Equal(t, c.Label, x.Prediction.Label, c.Name)
					for _, s := range x.Path {
						require.Equal(t, math.IsNaN(s.Value), s.Missing, c.Name)
					}
				}
			}

			// What scikit-learn refused, refused here too.
			bad := []float64{math.Inf(1), math.Inf(-1), 1e39}
			if !e.AcceptsNaN {
				bad = append(bad, math.NaN())
			}
			require.True(t, e.RefusesInf)
			for _, v := range bad {
				row := slices.Clone(g.Cases[0].Input)
				row[len(row)-1] = v
				_, err := m.Predict(row, nil)
				require.ErrorIs(t, err, classify.ErrInput, "value %v", v)
				require.ErrorIs(t, m.PredictBatch(row, []int{0}, nil), classify.ErrInput, "value %v", v)
			}
			t.Logf("%s (%s, %s): %d cases, %d with NaN inputs, largest probability difference %.3g",
				e.Name, e.Estimator, g.Reference, len(g.Cases), g.MissingCases(), res.MaxDiff)
		})
	}
}
