// Package flat is classify's one tree engine: every tree family (scikit-learn
// decision trees and forests, XGBoost boosters) predicts and explains
// through it. The name
// says what it is: trees flattened into one contiguous array of 16-byte
// nodes per model, walked without pointers or recursion.
//
// A family is a loader plus a combination: the loader turns its library's
// split rule into a float64 bound per split (x goes left when x <= bound, for
// scikit-learn's float32(x) <= t as for XGBoost's float32(x) < t, so the walk
// never rounds an input), states where NaN goes at each split, and gives
// leaf values in the precision its library accumulates in: float64 class
// distributions averaged in tree order (Mean, scikit-learn) or float32 leaf
// values summed per output group in tree order from a base margin (Sum,
// XGBoost), or float64 leaf values summed the same way (Sum64, LightGBM and
// scikit-learn's gradient boosting, whose splits may also be categorical:
// see sum64.go). The caller then applies its link (softmax, sigmoid, arg
// max).
//
// The engine trusts its caller for the rows: Predict and PredictBatch take
// rows of the right length, with no infinities, and a flag saying whether
// they may hold NaN (then only in an ensemble that takes missing values),
// which the caller's own row check already knows. It checks the trees it
// is given (AddMean, AddSum) so that every walk ends on a leaf and reads
// within the row.
//
// Two walks read the same nodes (walk.go): Branching, until the leaf with
// one branch per split, for Mean ensembles; Fixed, each tree's full depth
// with walks interleaved, for Sum ensembles. Both were measured on both
// families; each family takes the one that executes fewer instructions on
// it and is not slower by the clock. A Fixed step is computed without a
// branch in trees deeper than 4 and is a branch in shallower ones (Go
// does not turn a float comparison into a conditional move: until that
// was noticed every Fixed step branched, and the large 2,000-tree depth-8
// model of perf/reference.py took twice the time it takes now). A
// branching Mean ensemble's batch walks row by row, every tree for a row
// before the next row: a forest's trees mostly agree, so one row's walks
// predict one another's branches (half the CPU time a row of walking one
// tree over a block of rows).
//
// A Sum ensemble's batches of finite rows walk a third layout of the same
// trees (complete.go): trees of depth at most 6 as complete binary trees
// in heap order, where a step needs no right child and the first three
// splits are compared at once; fused with the addition and specialised
// by depth, it took the production XGBoost model's batch from 17,365 to
// 9,850 instructions a row and about 37% less time.
//
// Contributions (shap.go, shaptable.go, shapregion.go) explain a row
// with path-dependent TreeSHAP: each feature's Shapley value in the game whose value for a
// set of known features is a tree's expected output when the others
// follow the training data down the tree, weighted by node covers (Node's
// Cover, kept with Threshold and Gain in side arrays the walks never
// read). The bias is each group's base plus its trees' expected values
// (cover-weighted means of their leaves, computed when a tree is added);
// a Mean ensemble averages trees, classes from one walk. Three ways
// compute the same values, chosen per tree on the first explanation
// (shaptable.go's plan): Algorithm 2 of Lundberg et al. (2018), walking
// the tree with the path of features met so far (shap.go); per-leaf
// tables of Algorithm 2's weights for every outcome of the leaf's path
// features, when no split is categorical and no leaf's path tests more
// than six features (shaptable.go); and, cheapest, per-tree region
// tables (shapregion.go): a tree's values depend on the row only through
// where each of its features falls among the bounds the tree splits it
// at (NaN its own state), so the values of every such cell are computed
// once (from the leaf tables) and a row costs per tree a comparison per
// bound and the cell's adds. Region tables need a tree without
// categorical splits and of at most 4096 cells, within budgets for the
// ensemble (64 MiB of values; cells times nodes at most 8M, about 130 ms
// of building). All three are checked against Shapley values computed by
// enumerating every subset of features (shap_test.go); they agree with
// one another within rounding (production models, Iris rows and 2,000
// uniform rows: largest difference 4.4e-13 relative to the value,
// 1.5e-15 relative to max(1, |value|)).
//
// Per row, on the production models (callgrind, as below, batch of 4096,
// Contributions/<model>/batch=4096, benchtime 4x and 8x; ns/row from
// go test -run '^$' -bench BenchmarkContributions -benchmem -count 5, the
// median, alternating runs of both builds; shap 0.49.1's TreeExplainer
// takes about 97 us/row on the forest on this machine):
//
//	                       leaf tables (Ir, ns)     region tables (Ir, ns)
//	decision tree                      258 ns                 76 ns
//	random forest         225,531   28,400 ns     43,136   5,260 ns
//	XGBoost               123,435   12,460 ns     46,480   5,045 ns
//
// The tables' cost, built on the first explanation: the forest's 100
// trees all take region tables, 20,737 cells, 1.9 MiB, built in about
// 10 ms (its leaf tables took 2.5 ms); XGBoost's 220 trees of more than
// one leaf, 2,628 cells, 0.07 MiB, 1 ms; the decision tree 90 cells.
// testdata/xgboost/make_large.py's 2,000 trees of depth 8 on 50 features
// take none (every tree has more than 4096 cells): 32 take leaf tables,
// the rest the walk, planned in about 40 ms. Where a region row's
// instructions go (forest): about 240 per tree to find the cell (a
// comparison per bound, about 17 instructions each with the loops), 125
// to add its 10 or so values; a per-feature rank of the row among all
// trees' bounds, looked up per tree, would cut the first.
//
// Instruction counts (callgrind, production models in models/, Iris rows,
// go1.26.8 amd64), per row, the whole call included (row checks, softmax):
//
//	                                   Branching       Fixed        main (pre-engine walk)
//	decision tree (1 tree, depth 5)
//	  single row (Predict)                   135 [2]     531 [1]        318
//	  batch of 4096 (PredictBatch)           201         423 [1]        258
//	random forest (100 trees, depth 2-8)
//	  single row                           8,339      17,625 [1]     11,297
//	  batch of 4096                        9,058      15,771 [1]     11,199
//	XGBoost (300 trees, depth 0-5)
//	  single row                          23,703 [1]  16,889         44,871 (leaves)
//	  batch of 4096                       20,969 [1]  17,365         44,568 (leaves)
//	    complete layout [3]                             9,850
//
// The current build (deep Fixed trees stepping without a branch, forest
// batches walked row by row), by the method below, single row / batch of
// 4096: decision tree 328 / 203, random forest 8,412 / 8,310, XGBoost
// 17,665 / 9,866. perf/PROFILES.md says where these go.
//
// [1] the walk the family does not use, measured with the walk switched,
// on an earlier build (before the fused single-tree and single-row loops
// of the branching walk) and over 4 and 8 batches (decision tree figures
// within about 30 Ir of noise).
//
// [2] Ensemble.Predict's own instructions (callgrind_annotate
// --inclusive=yes, per call, 40,000 calls), 174 before the single tree of
// three classes was inlined in predictMean; Tree.Predict, with the row
// check and the Prediction, 295 -> 256. By the difference method below
// the whole single-row call, the benchmark's loop included, measures 320
// to 360 on either build: the garbage collector's work swamps a
// difference of 40.
//
// [3] PredictBatch (complete.go); its single row keeps the Fixed walk
// (16,870), which was faster by the clock than the complete layout's
// walks though they took fewer instructions.
//
// Measured as the difference between two benchmark lengths, which cancels
// loading and setup (a toggle on the predict function is not reliable:
// Go's stack growth re-enters it and flips the toggle):
//
//	go test -c -o /tmp/cg.test . && for n in 8 16; do GODEBUG=asyncpreemptoff=1 GOMAXPROCS=1 \
//	  valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.$n /tmp/cg.test -test.run '^$' \
//	  -test.bench '^BenchmarkPredict$/random_forest/batch=4096$' -test.benchtime ${n}x; done
//	# Ir/row = (summary of cg.16 - summary of cg.8) / (8*4096)
//
// (single rows: /row$ with 5,000 and 10,000 iterations; the decision tree's
// batch needs 50 and 100, fewer let the garbage collector's work swamp
// the difference.) Where the instructions go, per tree and row, in the
// forest's batch: about 16 per split step of the branching walk (two
// bounds checks among them: the node index and the feature index are
// data to the compiler), 12 to add a three-class distribution, the rest
// loop and call overhead.
package flat
