package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("want one line per production model, got:\n%s", out.String())
	}
	for i, name := range []string{"heuristic", "decision_tree", "random_forest", "xgboost"} {
		if !strings.HasPrefix(lines[i], name+" ") || !strings.Contains(lines[i], "setosa=") {
			t.Errorf("line %d: %q", i, lines[i])
		}
	}
}
