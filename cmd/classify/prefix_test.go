package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestErrorPrefixOnce runs the command on bad model files and registries:
// a library error, already prefixed "classify: ", is reported once with
// the command's prefix, the subcommand and what it was loading, never as
// "classify: classify: ...".
func TestErrorPrefixOnce(t *testing.T) {
	dir := t.TempDir()
	truncated := filepath.Join(dir, "truncated.json")
	if err := os.WriteFile(truncated, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	badManifest := filepath.Join(dir, "badreg")
	if err := os.Mkdir(badManifest, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(badManifest, "manifest.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	noManifest := t.TempDir()
	tampered := copyRegistry(t)
	flipByte(t, filepath.Join(tampered, "xgboost.json"))

	for _, tc := range []struct {
		name   string
		args   []string
		stderr string // the whole of stderr
	}{
		{"truncated decision_tree artifact", []string{"predict", "-artifact", truncated, "-kind", "decision_tree", irisCSV},
			"classify: predict: -artifact " + truncated + ": invalid model artifact: decision_tree: unexpected EOF\n"},
		{"truncated heuristic artifact", []string{"eval", "-artifact", truncated, "-kind", "heuristic", irisCSV},
			"classify: eval: -artifact " + truncated + ": invalid model artifact: rules: unexpected EOF\n"},
		{"truncated xgboost artifact", []string{"predict", "-artifact", truncated, "-kind", "xgboost", irisCSV},
			"classify: predict: -artifact " + truncated + ": xgboost: JSON model: unexpected end of JSON input\n"},
		{"missing artifact", []string{"predict", "-artifact", "nothere.json", "-kind", "decision_tree", irisCSV},
			"classify: predict: -artifact nothere.json: open decision_tree model: open nothere.json: no such file or directory\n"},
		{"predict bad manifest", []string{"predict", "-registry", badManifest, irisCSV},
			"classify: predict: registry " + badManifest + ": invalid model artifact: manifest: unexpected EOF\n"},
		{"eval no manifest", []string{"eval", "-registry", noManifest, irisCSV},
			"classify: eval: registry " + noManifest + ": open manifest.json: no such file or directory\n"},
		{"models bad manifest", []string{"models", "-registry", badManifest},
			"classify: models: registry " + badManifest + ": invalid model artifact: manifest: unexpected EOF\n"},
		{"models no manifest", []string{"models", "-registry", noManifest},
			"classify: models: registry " + noManifest + ": open manifest.json: no such file or directory\n"},
		{"verify bad manifest", []string{"verify", "-registry", badManifest},
			"classify: verify: registry " + badManifest + ": invalid model artifact: manifest: unexpected EOF\n"},
		{"verify no manifest", []string{"verify", "-registry", noManifest},
			"classify: verify: registry " + noManifest + ": open manifest.json: no such file or directory\n"},
		{"checksum mismatch", []string{"predict", "-registry", tampered, "-model", "xgboost", irisCSV},
			"classify: predict: registry " + tampered + ": model xgboost: checksum mismatch: xgboost.json has sha256 "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, "", tc.args...)
			if r.code != exitFailure || !strings.HasPrefix(r.stderr, tc.stderr) || strings.Contains(r.stderr, "classify: classify:") {
				t.Errorf("classify %v: exit %d, stderr %q; want exit 1, stderr %q", tc.args, r.code, r.stderr, tc.stderr)
			}
		})
	}
}
