package classify_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/models"
)

// golden is a classify/golden v1 file written by research/ (research/FORMATS.md).
type golden struct {
	Format         string   `json:"format"`
	FormatVersion  int      `json:"format_version"`
	Model          string   `json:"model"`
	ArtifactSHA256 string   `json:"artifact_sha256"`
	Reference      string   `json:"reference"`
	Features       []string `json:"features"`
	Classes        []string `json:"classes"`
	Cases          []struct {
		Name  string    `json:"name"`
		Input []float64 `json:"input"`
		Label string    `json:"label"`
		Proba []float64 `json:"proba"`
	} `json:"cases"`
}

func readGolden(t *testing.T, dir, name string) golden {
	t.Helper()
	path := filepath.Join(dir, name+".json")
	b, err := os.ReadFile(path)
	require.NoError(t, err, "every production model needs a golden file written by research/")
	var g golden
	require.NoError(t, json.Unmarshal(b, &g), path)
	require.Equal(t, "classify/golden", g.Format, path)
	require.Equal(t, 1, g.FormatVersion, path)
	require.Equal(t, name, g.Model, path)
	// Every Iris row once, and edge cases: a truncated file must fail.
	names := map[string]bool{}
	iris, edge := 0, 0
	for _, c := range g.Cases {
		require.False(t, names[c.Name], "%s: case %q appears twice", path, c.Name)
		names[c.Name] = true
		switch {
		case strings.HasPrefix(c.Name, "iris/"):
			iris++
		case strings.HasPrefix(c.Name, "edge/"):
			edge++
		}
	}
	require.Equal(t, 150, iris, "%s: every Iris row", path)
	require.Positive(t, edge, "%s: edge cases (thresholds, extremes)", path)
	return g
}

// TestGoldenParity checks every production model against its reference
// library's own predictions: the same label on every case, probabilities
// within 1e-9 (1e-6 for XGBoost, which computes in float32).
func TestGoldenParity(t *testing.T) {
	reg, err := classify.OpenRegistry(models.FS)
	require.NoError(t, err)
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	worst := checkRegistryGolden(t, reg, filepath.Join("testdata", "golden"))
	for name, w := range worst {
		// README.md's exactness table quotes these figures.
		row := regexp.MustCompile(`(?m)^\| ` + name + ` \| (\d+) \| [^|]+ \| 0 \| (\S+) \|$`).FindSubmatch(readme)
		require.NotNil(t, row, "README.md's exactness table has no row for %s", name)
		assert.Equal(t, strconv.Itoa(w.cases), string(row[1]), "README.md: %s's case count", name)
		assert.Equal(t, fmt.Sprintf("%.3g", w.diff), string(row[2]), "README.md: %s's largest probability difference", name)
	}
}

// TestCompatParity checks the frozen registry that scikit-learn 1.2.1 and
// XGBoost 1.7.4 wrote (testdata/compat) against those libraries' own
// predictions: artifacts made by older library versions keep loading and
// predicting exactly.
func TestCompatParity(t *testing.T) {
	reg, err := classify.OpenRegistryDir(filepath.Join("testdata", "compat", "registry"))
	require.NoError(t, err)
	checkRegistryGolden(t, reg, filepath.Join("testdata", "compat", "golden"))
}

// goldenResult is what one model's golden check found.
type goldenResult struct {
	cases int
	diff  float64 // the largest probability difference
}

// checkRegistryGolden compares every model of reg, one of each kind, with
// its golden file in dir, single rows and batches, and returns what it
// found per model name.
func checkRegistryGolden(t *testing.T, reg *classify.Registry, dir string) map[string]goldenResult {
	t.Helper()
	entries := reg.Manifest().Models
	require.Len(t, entries, 4, "the registry holds the four production models")
	kinds := map[classify.Kind]bool{}
	found := map[string]goldenResult{}
	for _, e := range entries {
		kinds[e.Kind] = true
		t.Run(e.Name, func(t *testing.T) {
			g := readGolden(t, dir, e.Name)
			require.Equal(t, e.SHA256, g.ArtifactSHA256, "golden file was written for another artifact")
			m, err := reg.Load(e.Name)
			require.NoError(t, err)
			info := m.Info()
			require.Equal(t, g.Features, info.Features)
			require.Equal(t, g.Classes, info.Classes)

			tol := 1e-9 // scikit-learn and the rules: float64 arithmetic
			if e.Kind == classify.XGBoost {
				tol = 1e-6 // XGBoost computes in float32
			}
			proba := make([]float64, len(info.Classes))
			worst := 0.0
			for _, c := range g.Cases {
				p, err := m.Predict(c.Input, proba)
				require.NoError(t, err, c.Name)
				require.Equal(t, c.Label, p.Label, "case %s input %v: proba %v, reference %v", c.Name, c.Input, p.Probabilities, c.Proba)
				require.Len(t, c.Proba, len(info.Classes), c.Name)
				for i := range c.Proba {
					d := math.Abs(p.Probabilities[i] - c.Proba[i])
					worst = max(worst, d)
					require.LessOrEqual(t, d, tol, "case %s class %d: got %v, reference %v", c.Name, i, p.Probabilities, c.Proba)
				}
			}

			// The batch path must agree with the single-row path.
			nf, nc := len(info.Features), len(info.Classes)
			rows := make([]float64, 0, len(g.Cases)*nf)
			for _, c := range g.Cases {
				rows = append(rows, c.Input...)
			}
			classes := make([]int, len(g.Cases))
			batchProba := make([]float64, len(g.Cases)*nc)
			require.NoError(t, m.PredictBatch(rows, classes, batchProba))
			for i, c := range g.Cases {
				require.Equal(t, c.Label, info.Classes[classes[i]], c.Name)
				p, _ := m.Predict(c.Input, nil)
				require.True(t, slices.Equal(p.Probabilities, batchProba[i*nc:(i+1)*nc]), c.Name)
			}
			t.Logf("%s: %d cases against %s, largest probability difference %.3g", e.Name, len(g.Cases), g.Reference, worst)
			found[e.Name] = goldenResult{cases: len(g.Cases), diff: worst}
		})
	}
	for _, k := range classify.Kinds() {
		require.True(t, kinds[k], "no model of kind %s", k)
	}
	return found
}
