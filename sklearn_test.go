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

// goldenV2 is a classify/golden v2 file: a null input is a missing value.
type goldenV2 struct {
	Format         string        `json:"format"`
	FormatVersion  int           `json:"format_version"`
	Model          string        `json:"model"`
	ArtifactSHA256 string        `json:"artifact_sha256"`
	Reference      string        `json:"reference"`
	Kind           classify.Kind `json:"kind"`
	Artifact       string        `json:"artifact"`
	Tolerance      float64       `json:"tolerance"`
	Features       []string      `json:"features"`
	Classes        []string      `json:"classes"`
	Cases          []struct {
		Name  string     `json:"name"`
		Input []*float64 `json:"input"`
		Label string     `json:"label"`
		Proba []float64  `json:"proba"`
	} `json:"cases"`
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
			var g goldenV2
			readJSON(t, filepath.Join(dir, e.Golden), &g)
			require.Equal(t, "classify/golden", g.Format)
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
			require.Equal(t, g.Features, info.Features)
			require.Equal(t, g.Classes, info.Classes)
			require.Equal(t, e.AcceptsNaN, info.Missing, "Info.Missing says whether scikit-learn took NaN")

			nf, nc := len(info.Features), len(info.Classes)
			proba := make([]float64, nc)
			rows := make([]float64, 0, len(g.Cases)*nf)
			worst, nans := 0.0, 0
			for _, c := range g.Cases {
				require.Len(t, c.Input, nf, c.Name)
				row := make([]float64, nf)
				for i, v := range c.Input {
					if v == nil {
						row[i] = math.NaN()
						nans++
					} else {
						row[i] = *v
					}
				}
				rows = append(rows, row...)
				p, err := m.Predict(row, proba)
				require.NoError(t, err, c.Name)
				require.Equal(t, c.Label, p.Label, "case %s input %v: proba %v, reference %v", c.Name, row, p.Probabilities, c.Proba)
				require.Len(t, c.Proba, nc, c.Name)
				for i := range c.Proba {
					d := math.Abs(p.Probabilities[i] - c.Proba[i])
					worst = max(worst, d)
					require.LessOrEqual(t, d, 1e-9, "case %s class %d: got %v, reference %v", c.Name, i, p.Probabilities, c.Proba)
				}
				if ex, ok := m.(classify.Explainer); ok {
					x, err := ex.Explain(row)
					require.NoError(t, err, c.Name)
					require.Equal(t, p.Label, x.Prediction.Label, c.Name)
					for _, s := range x.Path {
						require.Equal(t, math.IsNaN(s.Value), s.Missing, c.Name)
					}
				}
			}
			if e.AcceptsNaN {
				require.Positive(t, nans, "a model that takes NaN is checked on NaN inputs")
			}

			// The batch path agrees with the single-row path.
			classes := make([]int, len(g.Cases))
			batch := make([]float64, len(g.Cases)*nc)
			require.NoError(t, m.PredictBatch(rows, classes, batch))
			for i, c := range g.Cases {
				require.Equal(t, c.Label, info.Classes[classes[i]], c.Name)
				p, _ := m.Predict(rows[i*nf:(i+1)*nf], nil)
				require.True(t, slices.Equal(p.Probabilities, batch[i*nc:(i+1)*nc]), c.Name)
			}

			// What scikit-learn refused, refused here too.
			bad := []float64{math.Inf(1), math.Inf(-1), 1e39}
			if !e.AcceptsNaN {
				bad = append(bad, math.NaN())
			}
			require.True(t, e.RefusesInf)
			for _, v := range bad {
				row := slices.Clone(rows[:nf])
				row[nf-1] = v
				_, err := m.Predict(row, nil)
				require.ErrorIs(t, err, classify.ErrInput, "value %v", v)
				require.ErrorIs(t, m.PredictBatch(row, []int{0}, nil), classify.ErrInput, "value %v", v)
			}
			t.Logf("%s (%s, %s): %d cases, %d NaN inputs, largest probability difference %.3g",
				e.Name, e.Estimator, g.Reference, len(g.Cases), nans, worst)
		})
	}
}
