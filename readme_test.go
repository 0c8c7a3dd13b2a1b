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

// TestREADMEConfiguration fails when the server reads an MPS_ variable that
// the README's configuration table does not list, or the table lists one the
// server does not read.
func TestREADMEConfiguration(t *testing.T) {
	src, err := os.ReadFile("cmd/serve/config.go")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	read := map[string]bool{}
	for _, m := range regexp.MustCompile(`"(MPS_[A-Z_]+)"`).FindAllStringSubmatch(string(src), -1) {
		read[m[1]] = true
	}
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `(MPS_[A-Z_]+)` \\|").FindAllStringSubmatch(string(readme), -1) {
		listed[m[1]] = true
	}
	if len(read) < 5 {
		t.Fatalf("found only %v in cmd/serve/config.go", read)
	}
	for v := range read {
		if !listed[v] {
			t.Errorf("the server reads %s but README.md's configuration table does not list it", v)
		}
	}
	for v := range listed {
		if !read[v] {
			t.Errorf("README.md's configuration table lists %s, which the server does not read", v)
		}
	}
}

// TestREADMEOwnModel checks that the README's "Serve your own model"
// walk-through is examples/own_model/walkthrough.sh, which .ci/run runs as
// it stands, and that the answer the README quotes is the one the script's
// last request got when it was written (.ci/run compares it with the real
// answer).
func TestREADMEOwnModel(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile("examples/own_model/walkthrough.sh")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```sh\n"+string(script)+"```\n") {
		t.Fatal("README.md does not show examples/own_model/walkthrough.sh as its \"Serve your own model\" walk-through")
	}
	answer, err := os.ReadFile("examples/own_model/answer.json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "\n"+string(answer)) {
		t.Fatalf("README.md does not quote the walk-through's answer %s", answer)
	}
}

// TestREADMEMount checks that the README's "Mount the API in your service"
// section shows examples/mount/main.go, whose test runs it.
func TestREADMEMount(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("examples/mount/main.go")
	if err != nil {
		t.Fatal(err)
	}
	code := string(src[bytes.Index(src, []byte("package main")):])
	if !strings.Contains(string(readme), "## Mount the API in your service") ||
		!strings.Contains(string(readme), "```go\n"+code+"```\n") {
		t.Fatal("README.md's \"Mount the API in your service\" does not show examples/mount/main.go")
	}
}
