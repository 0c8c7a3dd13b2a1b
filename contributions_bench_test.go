package classify_test

import (
	"testing"

	"github.com/ml-production-service/classify"
)

// BenchmarkContributions measures TreeSHAP on each production tree model,
// on Iris rows: one row per op, and a batch of 4096 rows per op (ns/row
// reported), as BenchmarkPredict does.
func BenchmarkContributions(b *testing.B) {
	iris := irisRows(b)
	const nf = 4
	for _, name := range productionNames(b) {
		m, ok := productionModel(b, name).(classify.Contributor)
		if !ok {
			continue // the rules
		}
		size := len(m.Outputs()) * (nf + 1)
		b.Run(name+"/row", func(b *testing.B) {
			out := make([]float64, size)
			n := len(iris) / nf
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := m.Contributions(iris[i*nf:(i+1)*nf], out); err != nil {
					b.Fatal(err)
				}
				if i++; i == n {
					i = 0
				}
			}
		})
		const rows = 4096
		batch := make([]float64, 0, rows*nf)
		for len(batch) < rows*nf {
			batch = append(batch, iris[:min(len(iris), rows*nf-len(batch))]...)
		}
		out := make([]float64, rows*size)
		b.Run(name+"/batch=4096", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := m.ContributionsBatch(batch, out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
		})
	}
}
