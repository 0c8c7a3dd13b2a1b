// Package flat is classify's one tree engine: every tree family (scikit-learn
// decision trees and forests, XGBoost boosters) predicts through it. The name
// says what it is: trees flattened into one contiguous node array per model,
// walked without pointers, recursion or branches that depend on the data.
//
// A family is a loader plus a combination: the loader turns its library's
// split rule into a float64 bound per split (x goes left when x <= bound, for
// scikit-learn's float32(x) <= t as for XGBoost's float32(x) < t, so the walk
// never rounds an input), states where NaN goes at each split, and gives
// leaf values in the precision its library accumulates in: float64 class
// distributions averaged in tree order (Mean, scikit-learn) or float32 leaf
// values summed per output group in tree order from a base margin (Sum,
// XGBoost). The caller then applies its link (softmax, sigmoid, arg max).
//
// The engine trusts its caller for the rows: Predict and PredictBatch take
// rows of the right length, with no infinities, and NaN only in an ensemble
// that takes missing values. It checks the trees it is given (AddMean,
// AddSum) so that every walk ends on a leaf and reads within the row.
package flat

// Instruction counts (callgrind, production models in models/, Iris rows,
// go1.26.8 amd64), per row of a 4096-row PredictBatch, the whole call
// included (row checks, softmax):
//
//	decision tree (1 tree, depth 5)       ~400 Ir/row  (before the engine: ~130)
//	random forest (100 trees, depth 2-8)  ~17,600 Ir/row (before: ~4,550)
//	XGBoost (300 trees, depth 0-5)        ~21,900 Ir/row (before, leaves: ~22,300)
//
// Measured with (10 PredictBatch calls of 4096 rows for -test.benchtime 5x):
//
//	go test -c -o /tmp/cg.test . && GODEBUG=asyncpreemptoff=1 GOMAXPROCS=1 \
//	  valgrind --tool=callgrind --toggle-collect='github.com/ml-production-service/classify.(*Forest).PredictBatch' \
//	  /tmp/cg.test -test.run '^$' -test.bench 'BenchmarkPredict/random_forest/batch=4096$' -test.benchtime 5x
//
// The branch-free walk executes more instructions per step than a
// branching walk (about 16 against 8) and always takes the tree's full
// depth; it pays off where branches mispredict (XGBoost: 2.9x faster per
// batch row than leaves on this machine) and loses where the benchmark's
// rows are predictable (the Iris decision tree and forest: about 2.5x
// slower than the branching walk that preceded the engine). Choosing the
// walk per ensemble is the next step.
