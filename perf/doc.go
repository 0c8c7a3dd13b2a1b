// Package perf holds no code: its benchmarks (perf_test.go) are the Go half
// of the comparison that perf/compare.sh runs against the reference
// libraries (perf/reference.py), on the same rows and the same models.
//
//	make perf-compare          # prints the tables (WRITE=1 rewrites PERFORMANCE.md)
//
// The benchmarks also run on their own, on Iris rows and the production
// registry, when the variables compare.sh sets are absent:
//
//	go test -run '^$' -bench Compare -benchmem ./perf/
//
// Variables (all optional):
//
//	PERF_ROWS         CSV with a header naming the production models' features: the batch
//	                  (default: research/data/iris.csv repeated to 4,096 rows)
//	PERF_LARGE_MODEL  an XGBoost model file: adds the xgboost_large benchmarks and BenchmarkLoad
//	PERF_LARGE_ROWS   CSV of rows for that model, with a header naming its features
//	PERF_LARGE_MODEL_UBJ  the same model as UBJSON: adds BenchmarkLoad/xgboost_large_ubj
//
// They use the public API only (classify.OpenRegistry, classify.New,
// Model.Predict, Model.PredictBatch), as a program that embeds the library
// would.
package perf
