package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"strconv"
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

// The fields of a numeric CSV row, as the fast paths for plain CSV see
// them.
var benchFields = []string{"5.1", "3.5", "1.4", "0.2", "6.3", "3.3", "6", "2.5", "setosa", "virginica"}

// BenchmarkParseDecimal reads numeric fields with parseDecimal and with
// strconv.ParseFloat, which it stands in for: the "several times less" of
// parseDecimal's comment.
//
//	go test -run '^$' -bench 'ParseDecimal|CSVNeedsQuotes' ./cmd/classify
func BenchmarkParseDecimal(b *testing.B) {
	values := benchFields[:8]
	var sink float64
	b.Run("parseDecimal", func(b *testing.B) {
		for b.Loop() {
			for _, s := range values {
				v, _ := parseDecimal(s)
				sink += v
			}
		}
	})
	b.Run("ParseFloat", func(b *testing.B) {
		for b.Loop() {
			for _, s := range values {
				v, _ := strconv.ParseFloat(s, 64)
				sink += v
			}
		}
	})
	_ = sink
}

// BenchmarkCSVNeedsQuotes checks the fields of a row with csvNeedsQuotes
// and with csvNeedsQuotesRule (strings.ContainsAny): the "several times as
// much" of csvNeedsQuotes's comment.
func BenchmarkCSVNeedsQuotes(b *testing.B) {
	n := 0
	for _, bc := range []struct {
		name string
		f    func(string) bool
	}{{"csvNeedsQuotes", csvNeedsQuotes[string]}, {"ContainsAny", csvNeedsQuotesRule}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				for _, s := range benchFields {
					if bc.f(s) {
						n++
					}
				}
			}
		})
	}
	if n != 0 {
		b.Fatalf("%d fields need quotes", n)
	}
}
