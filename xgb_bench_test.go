package classify

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// xgbFormatBench is the same 150-tree model (wine, 3 classes, 50 rounds,
// depth 3) as XGBoost 1.7.4 saved it in each format it writes.
var xgbFormatBench = []struct{ name, file string }{
	{"binary", "wine_bench.model"},
	{"JSON", "wine_bench.json"},
	{"UBJSON", "wine_bench.ubj"},
}

// BenchmarkXGBoostLoad measures LoadXGBoost on the same model in each
// format: parsing, validation, encoding and leaves' own read.
//
//	go test -run '^$' -bench 'XGBoostLoad|XGBoostFormatPredict' -benchmem .
//
// On a busy machine, count instructions instead (Go's asynchronous
// preemption signals crash callgrind; the benchmark loads 11 times for
// -test.benchtime 10x):
//
//	go test -c -o /tmp/cg.test . && GODEBUG=asyncpreemptoff=1 GOMAXPROCS=1 \
//	  valgrind --tool=callgrind --toggle-collect='github.com/ml-production-service/classify.LoadXGBoost' \
//	  /tmp/cg.test -test.run '^$' -test.bench 'XGBoostLoad/^JSON$' -test.benchtime 10x
func BenchmarkXGBoostLoad(b *testing.B) {
	for _, f := range xgbFormatBench {
		data, err := os.ReadFile(filepath.Join("testdata", "xgboost", "1.7.4", f.file))
		if err != nil {
			b.Fatalf("test model missing (run testdata/xgboost/make_models.py): %v", err)
		}
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := LoadXGBoost(bytes.NewReader(data), nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkXGBoostFormatPredict measures Predict on one row for the same
// model loaded from each format: every format becomes the same trees, so
// the figures should agree.
func BenchmarkXGBoostFormatPredict(b *testing.B) {
	for _, f := range xgbFormatBench {
		data, err := os.ReadFile(filepath.Join("testdata", "xgboost", "1.7.4", f.file))
		if err != nil {
			b.Fatalf("test model missing (run testdata/xgboost/make_models.py): %v", err)
		}
		m := loadXGB(b, data, nil)
		row := []float64{13.2, 1.78, 2.14, 11.2, 100, 2.65, 2.76, 0.26, 1.28, 4.38, 1.05, 3.4, 1050}
		proba := make([]float64, 3)
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Predict(row, proba); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkXGBoostLoadLarge measures LoadXGBoost on the large model of
// issue 14's load-time target (50 features, 5 classes, 2,000 trees of
// depth 8), which is generated, not committed: it runs when
// CLASSIFY_XGB_LARGE names the file, which testdata/xgboost/make_large.py
// writes (and times XGBoost's own load of, for the comparison). It is a
// measurement, not a test.
//
//	.venv/bin/python testdata/xgboost/make_large.py /tmp/large.json
//	CLASSIFY_XGB_LARGE=/tmp/large.json go test -run '^$' -bench XGBoostLoadLarge -benchmem .
func BenchmarkXGBoostLoadLarge(b *testing.B) {
	path := os.Getenv("CLASSIFY_XGB_LARGE")
	if path == "" {
		b.Skip("CLASSIFY_XGB_LARGE is not set: write the model with testdata/xgboost/make_large.py and name it there")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := LoadXGBoost(bytes.NewReader(data), nil); err != nil {
			b.Fatal(err)
		}
	}
}
