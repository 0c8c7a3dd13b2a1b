package classify_test

import (
	"bytes"
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"
)

var updateREADME = flag.Bool("update-readme", false, "rewrite README.md's model table from research/results/SUMMARY.md")

// modelsBlock matches the generated part of README.md.
var modelsBlock = regexp.MustCompile(`(?s)(<!-- models:begin[^\n]*-->\n).*?(<!-- models:end -->)`)

// summaryTable returns the first table of research/results/SUMMARY.md: the
// accuracy of each model by validation method, as research/summarize.py
// computed it.
func summaryTable(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("research/results/SUMMARY.md")
	if err != nil {
		t.Fatal(err)
	}
	var table []string
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.HasPrefix(line, "|") {
			table = append(table, line)
		} else if len(table) > 0 {
			break
		}
	}
	if len(table) < 3 || !strings.HasPrefix(table[0], "| model | LOOCV") {
		t.Fatalf("research/results/SUMMARY.md has no model table first: %q", table)
	}
	return strings.Join(table, "\n") + "\n"
}

// TestREADMEModels fails when README.md's model table is not the one
// research computed. `make readme-models` rewrites it.
func TestREADMEModels(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := modelsBlock.FindSubmatchIndex(readme)
	if m == nil {
		t.Fatal("README.md has no <!-- models:begin --> ... <!-- models:end --> block")
	}
	want := summaryTable(t)
	got := string(readme[m[3]:m[4]])
	if *updateREADME {
		var out bytes.Buffer
		out.Write(readme[:m[3]])
		out.WriteString(want)
		out.Write(readme[m[4]:])
		if err := os.WriteFile("README.md", out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != want {
		t.Fatalf("README.md's model table differs from research/results/SUMMARY.md; run `make readme-models`.\nREADME:\n%s\nresults:\n%s", got, want)
	}
}

// TestREADMEQuickStart checks that the README's library example is
// examples/quickstart/main.go (whose test runs it and checks the output the
// README quotes), less its doc comment.
func TestREADMEQuickStart(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("examples/quickstart/main.go")
	if err != nil {
		t.Fatal(err)
	}
	code := string(src[bytes.Index(src, []byte("package main")):])
	if !strings.Contains(string(readme), "```go\n"+code+"```\n") {
		t.Fatalf("README.md does not show examples/quickstart/main.go as its library example:\n%s", code)
	}
	if !strings.Contains(string(readme), "prints `virginica [setosa versicolor virginica] [0 0 1]`") {
		t.Fatal("README.md does not quote the example's output")
	}
}
