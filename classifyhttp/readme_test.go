package classifyhttp

import (
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/models"
)

// TestREADMEExamples sends each request the README shows as
// `curl -X POST localhost:8000/predict ... -d '<body>'` to the default
// configuration (the embedded heuristic) and checks that the answer is the
// one the README prints on the next line.
func TestREADMEExamples(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	reg, err := classify.OpenRegistry(models.FS)
	require.NoError(t, err)
	m, err := reg.Load("heuristic")
	require.NoError(t, err)
	hs := newHarness(t, m, Options{})

	example := regexp.MustCompile(`(?m)^\$ curl -s?X? ?-?X? ?POST localhost:8000/predict[^\n]*\\\n\s+-d '([^']*)'\n(\{[^\n]*\})$`)
	found := example.FindAllSubmatch(readme, -1)
	require.GreaterOrEqual(t, len(found), 2, "README.md's /predict examples were not found")
	for _, f := range found {
		body, want := string(f[1]), string(f[2])
		got := hs.do("POST", "/predict", body, map[string]string{"Content-Type": "application/json"}, false)
		assert.Equal(t, want, string(got.body), "README.md: curl -d '%s'", body)
	}
}
