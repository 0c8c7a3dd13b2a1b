package treeviz_test

import (
	"bytes"
	"context"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ml-production-service/classify/treeviz"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDOTInGraphviz renders the DOT of every test tree, hostile names
// included, with Graphviz's own dot (Debian's graphviz package, which
// .ci/run installs) and checks that it parses without a warning and that
// its picture shows the labels as they are. It fails when dot is missing:
// install graphviz. -short leaves it out, with the other tests that start
// programs.
func TestDOTInGraphviz(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Graphviz's dot: runs without -short (CI's full run)")
	}
	dot, err := exec.LookPath("dot")
	require.NoError(t, err, "Graphviz's dot not found: apt-get install -y graphviz (.ci/run installs it)")
	for name, m := range map[string]*fakeModel{"iris": irisTree(), "xgb": xgbTree(), "hostile": hostile()} {
		for i := range m.Trees() {
			t.Run(name, func(t *testing.T) {
				src := render(t, func(w io.Writer) error { return treeviz.DOT(w, m, i) })
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				cmd := exec.CommandContext(ctx, dot, "-Tsvg")
				cmd.Stdin = bytes.NewReader(src)
				var stderr strings.Builder
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				require.NoError(t, err, "dot refused the graph: %s", stderr.String())
				assert.Empty(t, stderr.String(), "dot warned")
				texts := parseXML(t, out)
				// Graphviz writes each line of a label as a text element.
				g := parseDOT(t, string(src))
				for _, label := range g.labels {
					for _, line := range strings.Split(label, "\n") {
						assert.Contains(t, texts, line+"\n", "dot's picture lacks the line %q", line)
					}
				}
			})
		}
	}
}
