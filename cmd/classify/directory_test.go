package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestDirectoryArguments: a directory where predict or eval wants a file
// (the input, -artifact, -o, a registry's manifest or artifact,
// verify-parity's parity file or -model) is one clear error, "... is a
// directory", with exit status 1 (an unreadable file), whatever the
// format or the path taken.
func TestDirectoryArguments(t *testing.T) {
	root := t.TempDir()
	mkdir := func(name string) string {
		t.Helper()
		p := filepath.Join(root, name)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	csvDir, jsonlDir, plainDir := mkdir("rows.csv"), mkdir("rows.jsonl"), mkdir("rows")
	manifestDir := t.TempDir()
	if err := os.Mkdir(filepath.Join(manifestDir, "manifest.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	artifactDir := copyRegistry(t)
	if err := os.Remove(filepath.Join(artifactDir, "decision_tree.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(artifactDir, "decision_tree.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	registryFile := writeFile(t, "registry", "")
	parity := parityDir(t, 3, nil)
	parityOfDir := parityDir(t, 3, nil)
	parityArtifact := filepath.Join(filepath.Dir(parityOfDir), "decision_tree.json")
	if err := os.Remove(parityArtifact); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(parityArtifact, 0o755); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		args   []string
		stderr string // the whole of stderr
	}{
		{"csv input", []string{"predict", csvDir}, "classify: predict: " + csvDir + " is a directory\n"},
		{"jsonl input", []string{"predict", jsonlDir}, "classify: predict: " + jsonlDir + " is a directory\n"},
		{"input without extension", []string{"predict", plainDir}, "classify: predict: " + plainDir + " is a directory\n"},
		{"input with -format csv", []string{"predict", "-format", "csv", plainDir}, "classify: predict: " + plainDir + " is a directory\n"},
		{"input with -format jsonl", []string{"predict", "-format", "jsonl", csvDir}, "classify: predict: " + csvDir + " is a directory\n"},
		{"input with -on-error fail", []string{"predict", "-on-error", "fail", jsonlDir}, "classify: predict: " + jsonlDir + " is a directory\n"},
		{"eval input", []string{"eval", jsonlDir}, "classify: eval: " + jsonlDir + " is a directory\n"},
		{"heuristic artifact", []string{"predict", "-artifact", plainDir, "-kind", "heuristic", irisCSV}, "classify: predict: -artifact " + plainDir + " is a directory\n"},
		{"tree artifact", []string{"predict", "-artifact", plainDir, "-kind", "decision_tree", irisCSV}, "classify: predict: -artifact " + plainDir + " is a directory\n"},
		{"xgboost artifact", []string{"eval", "-artifact", plainDir, "-kind", "xgboost", irisCSV}, "classify: eval: -artifact " + plainDir + " is a directory\n"},
		{"output", []string{"predict", "-o", plainDir, irisCSV}, "classify: predict: -o " + plainDir + " is a directory\n"},
		{"registry manifest", []string{"predict", "-registry", manifestDir, irisCSV},
			"classify: predict: registry " + manifestDir + ": manifest.json is a directory\n"},
		{"registry artifact", []string{"predict", "-registry", artifactDir, "-model", "decision_tree", irisCSV},
			"classify: predict: registry " + artifactDir + ": model decision_tree: decision_tree.json is a directory\n"},
		{"registry not a directory", []string{"predict", "-registry", registryFile, irisCSV},
			"classify: predict: registry " + registryFile + " is not a directory\n"},
		{"models registry manifest", []string{"models", "-registry", manifestDir},
			"classify: models: registry " + manifestDir + ": manifest.json is a directory\n"},
		{"parity file", []string{"verify-parity", plainDir}, "classify: verify-parity: " + plainDir + " is a directory\n"},
		{"parity -model", []string{"verify-parity", "-model", plainDir, parity}, "classify: verify-parity: -model " + plainDir + " is a directory\n"},
		{"parity file's artifact", []string{"verify-parity", parityOfDir},
			"classify: verify-parity: the parity file's artifact " + parityArtifact + " is a directory\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, "", tc.args...)
			if r.code != exitFailure || r.stderr != tc.stderr {
				t.Errorf("classify %v: exit %d, stderr %q; want exit 1, stderr %q", tc.args, r.code, r.stderr, tc.stderr)
			}
		})
	}

	// A directory as stdin (`classify predict -format csv < DIR`).
	t.Run("stdin", func(t *testing.T) {
		args := []string{"predict", "-format", "csv"}
		want := result{exitFailure, "", "classify: predict: stdin is a directory\n"}
		dir, err := os.Open(plainDir)
		if err != nil {
			t.Fatal(err)
		}
		defer dir.Close()
		cmd := exec.Command(bin, args...)
		cmd.Stdin = dir
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		code := 0
		var ee *exec.ExitError
		if err := cmd.Run(); errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if got := (result{code, stdout.String(), stderr.String()}); got != want {
			t.Errorf("binary: %+v, want %+v", got, want)
		}
		stdout.Reset()
		stderr.Reset()
		err = run(context.Background(), args, func(string) string { return "" }, dir, &stdout, &stderr)
		if got := (result{exitCode(err, &stderr), stdout.String(), stderr.String()}); got != want {
			t.Errorf("run(): %+v, want %+v", got, want)
		}
	})
}
