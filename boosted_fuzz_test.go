package classify

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// seedSmall adds the files matching pattern under the boosting suite that
// are small enough to fuzz from.
func seedSmall(f *testing.F, pattern string) {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join(boostingSuiteDir, "*", pattern))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no seeds for %s: %v", pattern, err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) < 60000 {
			f.Add(b)
		}
	}
}

// FuzzLoadLightGBM: whatever the loader accepts predicts every probe row
// (and NaN) through every entry point without panicking.
func FuzzLoadLightGBM(f *testing.F) {
	seedSmall(f, "lightgbm*.txt")
	f.Add([]byte(lgbText("binary sigmoid:1", 2, "0 0.5 4", "1 -0.5 10")))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := LoadLightGBM(bytes.NewReader(b), nil)
		if err != nil {
			return
		}
		exercise(t, m)
	})
}

func FuzzLoadHistGradientBoosting(f *testing.F) {
	seedSmall(f, "hist_gradient_boosting*.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := LoadHistGradientBoosting(bytes.NewReader(b))
		if err != nil {
			return
		}
		exercise(t, m)
	})
}

func FuzzLoadGradientBoosting(f *testing.F) {
	seedSmall(f, "gradient_boosting*.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := LoadGradientBoosting(bytes.NewReader(b))
		if err != nil {
			return
		}
		exercise(t, m)
	})
}
