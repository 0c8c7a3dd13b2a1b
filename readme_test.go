package classify_test

import (
	"bytes"
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"
)

var updateREADME = flag.Bool("update-readme", false, "rewrite README.md's model tables from research/results/SUMMARY.md")

// readmeBlock matches a generated part of README.md named name.
func readmeBlock(name string) *regexp.Regexp {
	return regexp.MustCompile(`(?s)(<!-- ` + name + `:begin[^\n]*-->\n).*?(<!-- ` + name + `:end -->)`)
}

// summaryTables returns the tables of research/results/SUMMARY.md, as
// research/summarize.py wrote them, each with its trailing newline.
func summaryTables(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("research/results/SUMMARY.md")
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	var table []string
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.HasPrefix(line, "|") {
			table = append(table, line)
			continue
		}
		if len(table) > 0 {
			tables = append(tables, strings.Join(table, "\n")+"\n")
			table = nil
		}
	}
	return tables
}

// TestREADMEModels fails when README.md's model tables are not the ones
// research computed: the production models (SUMMARY.md's first table) and
// the models evaluated but not promoted (its table with a "promoted"
// column), whose links README.md gives from the repository's root.
// `make readme-models` rewrites them.
func TestREADMEModels(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	tables := summaryTables(t)
	if len(tables) == 0 || !strings.HasPrefix(tables[0], "| model | LOOCV") {
		t.Fatalf("research/results/SUMMARY.md has no model table first: %q", tables)
	}
	evaluated := ""
	for _, table := range tables {
		if header, _, _ := strings.Cut(table, "\n"); strings.HasSuffix(header, "| promoted |") {
			evaluated = strings.ReplaceAll(table, "](../experiments/", "](research/experiments/")
		}
	}
	if evaluated == "" {
		t.Fatal(`research/results/SUMMARY.md has no table of evaluated models (a "promoted" column)`)
	}
	for _, block := range []struct{ name, want string }{{"models", tables[0]}, {"evaluated", evaluated}} {
		m := readmeBlock(block.name).FindSubmatchIndex(readme)
		if m == nil {
			t.Fatalf("README.md has no <!-- %s:begin --> ... <!-- %s:end --> block", block.name, block.name)
		}
		if *updateREADME {
			var out bytes.Buffer
			out.Write(readme[:m[3]])
			out.WriteString(block.want)
			out.Write(readme[m[4]:])
			readme = out.Bytes()
			continue
		}
		if got := string(readme[m[3]:m[4]]); got != block.want {
			t.Fatalf("README.md's %s table differs from research/results/SUMMARY.md; run `make readme-models`.\nREADME:\n%s\nresults:\n%s", block.name, got, block.want)
		}
	}
	if *updateREADME {
		if err := os.WriteFile("README.md", readme, 0o644); err != nil {
			t.Fatal(err)
		}
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
