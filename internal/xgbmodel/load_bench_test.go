package xgbmodel

import "testing"

// BenchmarkLoad measures Parse on XGBoost 1.7.4's files of one model
// (wine_bench: the largest in the suite) in each format, so a change to
// a reader can be compared with benchstat.
func BenchmarkLoad(b *testing.B) {
	for _, name := range []string{"wine_bench.json", "wine_bench.ubj", "wine_bench.model"} {
		data := suiteFile(b, "1.7.4", name)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := Parse(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
