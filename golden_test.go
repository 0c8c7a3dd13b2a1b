package classify_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/internal/golden"
	"github.com/ml-production-service/classify/models"
)

// readGolden reads the golden file (research/FORMATS.md) of the model
// name in dir and checks that it holds every Iris row once and edge cases,
// so a truncated file fails.
func readGolden(t *testing.T, dir, name string) *golden.File {
	t.Helper()
	path := filepath.Join(dir, name+".json")
	g, err := golden.ReadFile(path)
	require.NoError(t, err, "every production model needs a golden file written by research/")
	require.Equal(t, name, g.Model, path)
	iris, edge := 0, 0
	for _, c := range g.Cases {
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

			// NaN cases exactly for the models that take missing values
			// (version 1, the frozen compatibility suite's, cannot hold
			// NaN: testdata/parity checks those libraries on NaN).
			if info.Missing && g.FormatVersion >= 2 {
				require.Positive(t, g.MissingCases(), "%s takes missing values: its golden file needs NaN cases", e.Name)
			} else if !info.Missing {
				require.Zero(t, g.MissingCases(), "%s refuses missing values: NaN cases in its golden file", e.Name)
			}
			res, err := golden.Check(m, g, golden.DefaultTolerance(e.Kind))
			require.NoError(t, err)
			for _, f := range res.Failures() {
				t.Errorf("%s", f)
			}
			require.True(t, res.OK(), "%s: %d label mismatches, %d refused, largest difference %.3g", e.Name,
				len(res.Mismatches), len(res.Refused), res.MaxDiff)
			worst := res.MaxDiff
			t.Logf("%s: %d cases against %s, largest probability difference %.3g", e.Name, len(g.Cases), g.Reference, worst)
			found[e.Name] = goldenResult{cases: len(g.Cases), diff: worst}
		})
	}
	// The registries hold these kinds; the boosting kinds have their own
	// suite (TestBoostingParity, testdata/boosting).
	for _, k := range []classify.Kind{classify.Heuristic, classify.DecisionTree, classify.RandomForest, classify.XGBoost} {
		require.True(t, kinds[k], "no model of kind %s", k)
	}
	return found
}
