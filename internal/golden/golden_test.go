package golden

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// v2File is a valid version 2 file over the Iris schema, with a missing
// value in its second case.
const v2File = `{
  "format": "classify/golden", "format_version": 2, "model": "m", "kind": "heuristic",
  "artifact": "rules.json", "tolerance": 1e-12, "reference": "research/rules.py", "objective": "ignored",
  "artifact_sha256": "eb6355bece8e2a160ec7f3f9df41578390e27f700e3c7f03bccd5f713b577cac",
  "features": ["sepal_length", "sepal_width", "petal_length", "petal_width"],
  "classes": ["setosa", "versicolor", "virginica"],
  "cases": [
    {"name": "a", "input": [5.1, 3.5, 1.4, 0.2], "label": "setosa", "proba": [1, 0, 0]},
    {"name": "b", "input": [6.3, null, 6.0, 2.5], "label": "virginica", "proba": [0, 0, 1]}
  ]
}`

func TestReadV2(t *testing.T) {
	f, err := Read(strings.NewReader(v2File))
	require.NoError(t, err)
	assert.Equal(t, 2, f.FormatVersion)
	assert.Equal(t, classify.Heuristic, f.Kind)
	assert.Equal(t, "rules.json", f.Artifact)
	require.NotNil(t, f.Tolerance)
	assert.Equal(t, 1e-12, *f.Tolerance)
	assert.Equal(t, "research/rules.py", f.Reference)
	require.Len(t, f.Cases, 2)
	assert.Equal(t, []float64{5.1, 3.5, 1.4, 0.2}, f.Cases[0].Input)
	assert.True(t, math.IsNaN(f.Cases[1].Input[1]), "null reads as NaN")
	assert.Equal(t, 2.5, f.Cases[1].Input[3])
	assert.Equal(t, []float64{0, 0, 1}, f.Cases[1].Proba)
	assert.Equal(t, 1, f.MissingCases())

	f.Cases = f.Cases[:1]
	assert.Equal(t, 0, f.MissingCases())
}

// Every golden file research wrote reads (version 2 for the production
// registry, version 1 for the frozen compatibility suite), and every model
// matches its own within the design's tolerance.
func TestReadsAndChecksTheGoldenFiles(t *testing.T) {
	prod, err := classify.OpenRegistry(models.FS)
	require.NoError(t, err)
	compat, err := classify.OpenRegistryDir(filepath.Join("..", "..", "testdata", "compat", "registry"))
	require.NoError(t, err)
	for _, suite := range []struct {
		reg     *classify.Registry
		dir     string
		version int
	}{
		{prod, filepath.Join("..", "..", "testdata", "golden"), 2},
		{compat, filepath.Join("..", "..", "testdata", "compat", "golden"), 1},
	} {
		checkGoldenFiles(t, suite.reg, suite.dir, suite.version)
	}
	// The XGBoost compatibility suite's files carry a field of their own.
	f, err := ReadFile(filepath.Join("..", "..", "testdata", "xgboost", "iris_softprob.json"))
	require.NoError(t, err)
	assert.Equal(t, "", f.ArtifactSHA256)
}

func checkGoldenFiles(t *testing.T, reg *classify.Registry, dir string, version int) {
	for _, e := range reg.Manifest().Models {
		t.Run(fmt.Sprintf("v%d/%s", version, e.Name), func(t *testing.T) {
			f, err := ReadFile(filepath.Join(dir, e.Name+".json"))
			require.NoError(t, err)
			assert.Equal(t, version, f.FormatVersion)
			assert.Equal(t, e.SHA256, f.ArtifactSHA256)
			assert.Nil(t, f.Tolerance)
			m, err := reg.Load(e.Name)
			require.NoError(t, err)
			r, err := Check(m, f, DefaultTolerance(e.Kind))
			require.NoError(t, err)
			assert.True(t, r.OK(), "%+v", r.Failures())
			assert.Equal(t, len(f.Cases), r.Cases)
			assert.LessOrEqual(t, r.MaxDiff, DefaultTolerance(e.Kind))
			assert.GreaterOrEqual(t, r.MaxDiffCase, 0)
		})
	}
}

func TestReadErrors(t *testing.T) {
	// edit returns v2File with old replaced by new (once, which must exist).
	edit := func(old, new string) string {
		t.Helper()
		require.Contains(t, v2File, old)
		return strings.Replace(v2File, old, new, 1)
	}
	for _, tc := range []struct{ name, in, want string }{
		{"empty", ``, "empty file"},
		{"not JSON", `hello`, "line 1: invalid character 'h'"},
		{"truncated", v2File[:200], "unexpected end of the file"},
		{"an array", `[1, 2]`, "the file holds a JSON array, not an object"},
		{"trailing data", v2File + `{}`, "data after the JSON object"},
		{"no format", `{}`, `no "format" field`},
		{"other format", edit(`"classify/golden"`, `"classify/rules"`), `format "classify/rules", want "classify/golden"`},
		{"no version", edit(`"format_version": 2,`, ``), `no "format_version" field`},
		{"newer version", edit(`"format_version": 2`, `"format_version": 3`), "format_version 3 is newer than this reader, which reads 1 to 2"},
		{"version 0", edit(`"format_version": 2`, `"format_version": 0`), "versions start at 1"},
		{"version as string", edit(`"format_version": 2`, `"format_version": "2"`), "line 2: format_version: string where int is expected"},
		{"v1 with v2 fields", edit(`"format_version": 2`, `"format_version": 1`), "kind, artifact and tolerance are format_version 2 fields"},
		{"no reference", edit(`"reference": "research/rules.py",`, ``), `no "reference"`},
		{"bad sha256", edit(`"eb6355`, `"EB6355`), "is not 64 lower-case hex digits"},
		{"short sha256", edit(`"eb6355bece`, `"eb6355bec`), "is not 64 lower-case hex digits"},
		{"unknown kind", edit(`"kind": "heuristic"`, `"kind": "svm"`), `kind "svm" is not one of heuristic, decision_tree, random_forest, xgboost`},
		{"kind in capitals", edit(`"kind": "heuristic"`, `"kind": "Heuristic"`), `kind "Heuristic" is not one of`},
		{"artifact up", edit(`"rules.json"`, `"../rules.json"`), `artifact "../rules.json": want a clean file name relative to the golden file`},
		{"artifact absolute", edit(`"rules.json"`, `"/etc/passwd"`), `artifact "/etc/passwd"`},
		{"artifact unclean", edit(`"rules.json"`, `"a//rules.json"`), `artifact "a//rules.json"`},
		{"artifact empty", edit(`"rules.json"`, `""`), `artifact ""`},
		{"negative tolerance", edit(`1e-12`, `-1`), "tolerance -1 is not a number from 0 up"},
		{"tolerance string", edit(`1e-12`, `"tiny"`), `tolerance "tiny" is not a number`},
		{"no features", edit(`["sepal_length", "sepal_width", "petal_length", "petal_width"]`, `[]`), "no features"},
		{"empty feature", edit(`"sepal_width"`, `""`), "features[1] is empty"},
		{"repeated class", edit(`"virginica"]`, `"setosa"]`), `classes[2] "setosa" repeats classes[0]`},
		{"no cases", edit(`"cases": [`, `"cases": [], "x": [`), "no cases"},
		{"unnamed case", edit(`"name": "a"`, `"name": ""`), "case 0 has no name"},
		{"repeated case", edit(`"name": "b"`, `"name": "a"`), `case 1: the name "a" is case 0's too`},
		{"short input", edit(`[5.1, 3.5, 1.4, 0.2]`, `[5.1, 3.5, 1.4]`), `case "a": input has 3 values, the file has 4 features`},
		{"input too large", edit(`5.1, 3.5`, `1e400, 3.5`), "number 1e400 where float64 is expected"},
		{"unknown label", edit(`"label": "setosa"`, `"label": "rose"`), `case "a": label "rose" is not one of the classes`},
		{"short proba", edit(`[1, 0, 0]`, `[1, 0]`), `case "a": proba has 2 values, the file has 3 classes`},
		{"null proba", edit(`[1, 0, 0]`, `[1, null, 0]`), `case "a": proba[1] is null, not a probability`},
		{"proba above 1", edit(`[1, 0, 0]`, `[1.5, 0, 0]`), `case "a": proba[0] is 1.5, not a probability`},
		{"negative proba", edit(`[1, 0, 0]`, `[1, -0.1, 0]`), `proba[1] is -0.1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Read(strings.NewReader(tc.in))
			require.Error(t, err)
			assert.Nil(t, f)
			assert.ErrorIs(t, err, ErrFormat)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "golden: invalid golden file: "), err.Error())
		})
	}
}

func TestReadV1NullInput(t *testing.T) {
	in := strings.Replace(v2File, `"format_version": 2, "model": "m", "kind": "heuristic",
  "artifact": "rules.json", "tolerance": 1e-12,`, `"format_version": 1,`, 1)
	_, err := Read(strings.NewReader(in))
	require.ErrorIs(t, err, ErrFormat)
	assert.Contains(t, err.Error(), `case "b": input 1 (sepal_width) is null; missing values need format_version 2`)
}

func TestReadLimits(t *testing.T) {
	_, err := Read(io0{})
	assert.ErrorContains(t, err, "golden: read: boom")
	assert.NotErrorIs(t, err, ErrFormat)

	_, err = Read(strings.NewReader(strings.Repeat(" ", MaxBytes+1)))
	assert.ErrorIs(t, err, ErrFormat)
	assert.ErrorContains(t, err, "larger than")

	_, err = ReadFile(filepath.Join(t.TempDir(), "none.json"))
	assert.ErrorIs(t, err, os.ErrNotExist)

	p := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(p, []byte(`{}`), 0o644))
	_, err = ReadFile(p)
	assert.ErrorContains(t, err, p+": golden: invalid golden file: no \"format\" field")
}

type io0 struct{}

func (io0) Read([]byte) (int, error) { return 0, errors.New("boom") }

func TestDefaultTolerance(t *testing.T) {
	assert.Equal(t, 1e-6, DefaultTolerance(classify.XGBoost))
	for _, k := range []classify.Kind{classify.Heuristic, classify.DecisionTree, classify.RandomForest} {
		assert.Equal(t, 1e-9, DefaultTolerance(k), k)
	}
}
