package classify_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/models"
)

// contribRef is a classify/contrib v1 file (research/FORMATS.md), written by
// research/contrib_reference.py (make research-contrib): a model's TreeSHAP
// contributions, raw outputs and importances as its reference computes them.
type contribRef struct {
	Format         string        `json:"format"`
	FormatVersion  int           `json:"format_version"`
	Model          string        `json:"model"`
	Kind           string        `json:"kind"`
	Artifact       string        `json:"artifact"`
	Artifacts      []string      `json:"artifacts"`
	ArtifactSHA256 string        `json:"artifact_sha256"`
	Registry       string        `json:"registry"`
	RegistryName   string        `json:"registry_name"`
	Reference      string        `json:"reference"`
	Tolerance      float64       `json:"tolerance"`
	Features       []string      `json:"features"`
	Outputs        []string      `json:"outputs"`
	SumError       float64       `json:"sum_error"`
	Importance     contribImport `json:"importance"`
	Rows           [][]*float64  `json:"rows"` // null: a missing value (NaN)
	Raw            [][]float64   `json:"raw"`
	Contributions  [][][]float64 `json:"contributions"`
}

type contribImport struct {
	Splits   []int     `json:"splits"`
	Gain     []float64 `json:"gain"`
	GainKind string    `json:"gain_kind"`
}

// contribSuite is what testdata/contrib must hold: per group directory, the
// models. A missing group, model or file fails.
var contribSuite = map[string][]string{
	"production": {"decision_tree", "random_forest", "xgboost"},
	"sklearn":    {"dt_iris_nan", "dt_missing_split", "dt_wine_balanced", "et_iris_nan", "rf_iris_nan", "rf_wine_balanced"},
	"xgboost/1.7.4": {"bc_logistic", "bc_logitraw", "bc_nan", "iris_gamma", "iris_rf", "iris_softmax_names",
		"wine_bench", "wine_softprob"},
	"xgboost/2.1.4": {"bc_logistic", "bc_logitraw", "bc_nan", "iris_gamma", "iris_rf", "iris_softmax_names",
		"wine_softprob"},
	"xgboost/3.2.0": {"bc_logistic", "bc_logitraw", "bc_nan", "iris_gamma", "iris_rf", "iris_softmax_names",
		"wine_softprob"},
	"boosting/iris": {"gradient_boosting", "gradient_boosting_zero", "hist_gradient_boosting", "lightgbm",
		"lightgbm_ova"},
	"boosting/digits":        {"gradient_boosting", "hist_gradient_boosting", "lightgbm"},
	"boosting/breast_cancer": {"gradient_boosting", "hist_gradient_boosting", "lightgbm"},
	"boosting/missing": {"gradient_boosting", "hist_gradient_boosting", "lightgbm", "lightgbm_rf",
		"lightgbm_zero"},
	"boosting/categorical": {"gradient_boosting", "hist_gradient_boosting", "lightgbm", "lightgbm_onehot"},
}

// contribResult is one row of the parity table TestContributionParity logs.
type contribResult struct {
	name      string
	rows      int
	maxDelta  float64 // largest |Go - reference| over every value
	maxSumErr float64 // largest |sum of Go's contributions and bias - reference raw output|
	tolerance float64
}

// TestContributionParity checks every model's Contributions and
// ContributionsBatch against its reference (XGBoost's pred_contribs,
// LightGBM's pred_contrib, shap's TreeExplainer or the exact computation the
// file names) within the file's tolerance, the sum property against the
// library's own raw outputs, Outputs' names, and Importance against what the
// library reports. Every format of an XGBoost model must give the same
// values. It logs the parity table: model, rows, largest |Δ| against the
// reference, largest sum-property error.
func TestContributionParity(t *testing.T) {
	root := filepath.Join("testdata", "contrib")
	found := map[string][]string{}
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".contrib.json") {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		group := filepath.ToSlash(filepath.Dir(rel))
		found[group] = append(found[group], strings.TrimSuffix(filepath.Base(p), ".contrib.json"))
		files = append(files, p)
		return nil
	})
	require.NoError(t, err, "testdata/contrib is written by make research-contrib")
	groups := make([]string, 0, len(contribSuite))
	for g := range contribSuite {
		groups = append(groups, g)
	}
	for g, names := range found {
		require.Contains(t, contribSuite, g, "%s: a group the test does not know", g)
		require.ElementsMatch(t, contribSuite[g], names, "%s/%s: models", root, g)
	}
	for _, g := range groups {
		require.Contains(t, found, g, "%s/%s: missing", root, g)
	}

	var results []contribResult
	for _, p := range files {
		ref := readContribRef(t, p)
		rel, _ := filepath.Rel(root, p)
		group := filepath.ToSlash(filepath.Dir(rel))
		for _, art := range ref.Artifacts {
			name := group + "/" + ref.Model
			if len(ref.Artifacts) > 1 {
				name += "/" + path.Ext(art)[1:]
			}
			t.Run(name, func(t *testing.T) {
				m, r := checkContributions(t, ref, art)
				r.name = name
				results = append(results, r)
				checkImportance(t, ref, m, art)
			})
		}
	}
	t.Logf("%-40s %5s %12s %12s %9s", "model", "rows", "max |Δ|", "max sum err", "tolerance")
	for _, r := range results {
		t.Logf("%-40s %5d %12.3g %12.3g %9.0e", r.name, r.rows, r.maxDelta, r.maxSumErr, r.tolerance)
	}
}

func readContribRef(t *testing.T, p string) *contribRef {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	var ref contribRef
	require.NoError(t, json.Unmarshal(b, &ref), p)
	require.Equal(t, "classify/contrib", ref.Format, p)
	require.Equal(t, 1, ref.FormatVersion, p)
	require.NotEmpty(t, ref.Artifacts, "%s: no artifacts", p)
	require.Equal(t, ref.Artifact, ref.Artifacts[0], "%s: the reference's artifact comes first", p)
	require.Positive(t, ref.Tolerance, p)
	require.NotEmpty(t, ref.Rows, p)
	require.Len(t, ref.Raw, len(ref.Rows), p)
	require.Len(t, ref.Contributions, len(ref.Rows), p)
	for r := range ref.Rows {
		require.Len(t, ref.Rows[r], len(ref.Features), "%s: row %d", p, r)
		require.Len(t, ref.Raw[r], len(ref.Outputs), "%s: raw %d", p, r)
		require.Len(t, ref.Contributions[r], len(ref.Outputs), "%s: contributions %d", p, r)
		for o := range ref.Outputs {
			require.Len(t, ref.Contributions[r][o], len(ref.Features)+1, "%s: contributions %d/%d", p, r, o)
		}
	}
	return &ref
}

// within reports whether got is within tol of want, relative to want's size
// when that is above 1 (the references' float32 and float64 rounding scales
// with the values).
func within(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

func checkContributions(t *testing.T, ref *contribRef, art string) (classify.Model, contribResult) {
	res := contribResult{rows: len(ref.Rows), tolerance: ref.Tolerance}
	kind, err := classify.ParseKind(ref.Kind)
	require.NoError(t, err)
	file := filepath.FromSlash(art)
	b, err := os.ReadFile(file)
	require.NoError(t, err, "the artifact the reference names")
	if art == ref.Artifact {
		sum := sha256.Sum256(b)
		require.Equal(t, ref.ArtifactSHA256, hex.EncodeToString(sum[:]), "%s: the reference was computed for another artifact", art)
	}

	var m classify.Model
	if ref.Registry != "" {
		require.Equal(t, "models", ref.Registry, "only the embedded production registry is known")
		reg, err := classify.OpenRegistry(models.FS)
		require.NoError(t, err)
		m, err = reg.Load(ref.RegistryName)
		require.NoError(t, err)
	} else {
		m, err = classify.New(kind, file)
		require.NoError(t, err)
	}
	require.Equal(t, kind, m.Info().Kind)
	require.Equal(t, featuresOf(ref, art), m.Info().Features)
	c, ok := m.(classify.Contributor)
	require.True(t, ok, "%T is not a classify.Contributor", m)
	require.Equal(t, ref.Outputs, c.Outputs())

	nf, no := len(ref.Features), len(ref.Outputs)
	width := no * (nf + 1)
	rows := make([]float64, 0, len(ref.Rows)*nf)
	for _, row := range ref.Rows {
		for _, v := range row {
			if v == nil {
				rows = append(rows, math.NaN())
			} else {
				rows = append(rows, *v)
			}
		}
	}

	// check compares one row's contributions with the reference and the
	// sum property with the library's raw output.
	check := func(how string, r int, got []float64) {
		t.Helper()
		bad := 0
		for o := range no {
			total, size := 0.0, 0.0
			for f := range nf + 1 {
				g, w := got[o*(nf+1)+f], ref.Contributions[r][o][f]
				res.maxDelta = math.Max(res.maxDelta, math.Abs(g-w))
				if !within(g, w, ref.Tolerance) && bad < 5 {
					bad++
					t.Errorf("%s row %d output %s feature %d: %.17g, reference %.17g (|Δ| %.3g > %g)",
						how, r, ref.Outputs[o], f, g, w, math.Abs(g-w), ref.Tolerance)
				}
				total += g
				size += math.Abs(g)
			}
			raw := ref.Raw[r][o]
			res.maxSumErr = math.Max(res.maxSumErr, math.Abs(total-raw))
			if math.Abs(total-raw) > ref.Tolerance*math.Max(1, size) && bad < 5 {
				bad++
				t.Errorf("%s row %d output %s: contributions and bias sum to %.17g, raw output %.17g", how, r, ref.Outputs[o], total, raw)
			}
		}
	}

	out := make([]float64, width)
	for r := range ref.Rows {
		clear(out)
		require.NoError(t, c.Contributions(rows[r*nf:(r+1)*nf], out), "row %d", r)
		check("Contributions", r, out)
	}
	batch := make([]float64, len(ref.Rows)*width)
	require.NoError(t, c.ContributionsBatch(rows, batch))
	for r := range ref.Rows {
		check("ContributionsBatch", r, batch[r*width:(r+1)*width])
	}

	t.Logf("%s: %d rows, max |Δ| %.3g, max sum error %.3g (reference's own %.3g), tolerance %g; %s",
		art, res.rows, res.maxDelta, res.maxSumErr, ref.SumError, ref.Tolerance, ref.Reference)
	return m, res
}

// checkImportance compares the model's Importance with what its library
// reports.
func checkImportance(t *testing.T, ref *contribRef, m classify.Model, art string) {
	tm, ok := m.(classify.TreeModel)
	require.True(t, ok, "%T is not a classify.TreeModel", m)
	nf := len(ref.Features)
	imp := tm.Importance()
	require.Equal(t, featuresOf(ref, art), imp.Features)
	require.Equal(t, ref.Importance.Splits, imp.Splits, "splits per feature")
	require.Equal(t, ref.Importance.GainKind, imp.GainKind)
	require.Len(t, imp.Gain, nf)
	// XGBoost keeps its gains as float32 (loss_chg) and sums them in its own
	// order; the other libraries' are float64 sums.
	gainTol := 1e-9
	if m.Info().Kind == classify.XGBoost {
		gainTol = 1e-6
	}
	for f, w := range ref.Importance.Gain {
		require.True(t, math.Abs(imp.Gain[f]-w) <= gainTol*math.Max(1e-300, math.Abs(w)) || imp.Gain[f] == w,
			"gain of %s: %.17g, library %.17g", ref.Features[f], imp.Gain[f], w)
	}
}

// TestContributionSuiteCoversKinds: the references hold every tree kind.
func TestContributionSuiteCoversKinds(t *testing.T) {
	kinds := map[string]bool{}
	err := filepath.WalkDir(filepath.Join("testdata", "contrib"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var head struct {
			Kind string `json:"kind"`
		}
		if err := json.Unmarshal(b, &head); err != nil {
			return err
		}
		kinds[head.Kind] = true
		return nil
	})
	require.NoError(t, err)
	var want []string
	for _, k := range classify.Kinds() {
		if k != classify.Heuristic {
			want = append(want, string(k))
		}
	}
	var got []string
	for k := range kinds {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(want)
	require.Equal(t, want, got)
}

// featuresOf returns the feature names a model loaded from art has: the
// reference's, except for XGBoost's legacy binary format, which stores no
// names (a model read from it is named f0, f1, ... unless a sidecar names
// its features).
func featuresOf(ref *contribRef, art string) []string {
	if ext := path.Ext(art); ref.Kind != string(classify.XGBoost) || (ext != ".model" && ext != ".deprecated") {
		return ref.Features
	}
	if _, err := os.Stat(filepath.FromSlash(art) + ".meta.json"); err == nil {
		return ref.Features
	}
	names := make([]string, len(ref.Features))
	for i := range names {
		names[i] = "f" + strconv.Itoa(i)
	}
	return names
}
