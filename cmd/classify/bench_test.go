package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"
)

// BenchmarkPredictFile scores a CSV of Iris rows (research/data/iris.csv
// repeated to 100,000 rows) with each production model, as `classify
// predict -model NAME FILE > /dev/null` does, on all of GOMAXPROCS: the
// whole command, reading, parsing, scoring and writing. It reports rows/s.
//
//	go test -run '^$' -bench PredictFile -benchtime 5x ./cmd/classify
func BenchmarkPredictFile(b *testing.B) {
	src, err := os.ReadFile("../../research/data/iris.csv")
	if err != nil {
		b.Fatal(err)
	}
	header, body, _ := strings.Cut(string(src), "\n")
	const rows = 100_000
	lines := strings.Split(strings.TrimSpace(body), "\n")
	var csv strings.Builder
	csv.WriteString(header + "\n")
	for i := range rows {
		csv.WriteString(lines[i%len(lines)])
		csv.WriteByte('\n')
	}
	path := b.TempDir() + "/rows.csv"
	if err := os.WriteFile(path, []byte(csv.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, model := range []string{"heuristic", "decision_tree", "random_forest", "xgboost"} {
		b.Run(model, func(b *testing.B) {
			var stderr bytes.Buffer
			for b.Loop() {
				stderr.Reset()
				err := run(context.Background(), []string{"predict", "-model", model, path}, func(string) string { return "" }, nil, io.Discard, &stderr)
				if err != nil {
					b.Fatalf("%v: %s", err, stderr.String())
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
