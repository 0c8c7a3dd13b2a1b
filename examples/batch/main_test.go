package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const irisCSV = "../../research/data/iris.csv"

func TestRun(t *testing.T) {
	for _, model := range []string{"heuristic", "decision_tree", "random_forest", "xgboost"} {
		t.Run(model, func(t *testing.T) {
			var out bytes.Buffer
			if err := run(&out, model, irisCSV); err != nil {
				t.Fatal(err)
			}
			re := regexp.MustCompile(`^` + model + ` v\S+ scored 150 rows: (\d+) correct \(\d+\.\d% training accuracy\)\n$`)
			if !re.MatchString(out.String()) {
				t.Fatalf("output %q does not match %s", out.String(), re)
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	noColumn := filepath.Join(dir, "a.csv")
	if err := os.WriteFile(noColumn, []byte("sepal_length,species\n1,setosa\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badNumber := filepath.Join(dir, "b.csv")
	if err := os.WriteFile(badNumber, []byte("sepal_length,sepal_width,petal_length,petal_width\n1,2,x,4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ model, path, msg string }{
		{"svm", irisCSV, "model not found"},
		{"heuristic", filepath.Join(dir, "missing.csv"), "no such file"},
		{"heuristic", noColumn, `has no column "sepal_width"`},
		{"heuristic", badNumber, "line 2"},
	} {
		err := run(&bytes.Buffer{}, tc.model, tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("run(%s, %s) = %v, want an error containing %q", tc.model, tc.path, err, tc.msg)
		}
	}
}
