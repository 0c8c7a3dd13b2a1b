// Package classify serves tabular classifiers inside a Go program: rule
// lists, scikit-learn decision trees, random forests and gradient boosting,
// and XGBoost and LightGBM gradient-boosted trees, each predicting exactly
// what the library that trained it predicts.
//
// # Loading a model
//
// Most programs load production models from a registry, which verifies each
// artifact's sha256 against its manifest before parsing it:
//
//	reg, err := classify.OpenRegistry(models.FS) // the embedded production registry
//	m, err := reg.Load("random_forest")
//
// A single artifact loads with New (from a path) or Load (from an
// io.Reader):
//
//	m, err := classify.New(classify.DecisionTree, "decision_tree.json")
//	m, err := classify.New(classify.Heuristic, "") // the built-in Iris rules
//
// The root package does not import the production registry: it lives in
// package models (github.com/ml-production-service/classify/models), whose FS
// callers pass to OpenRegistry, and tests can hand OpenRegistry any fs.FS.
// The root package embeds one file of it, models/heuristic.json (go:embed
// in heuristic.go), which IrisRules parses on each call and
// New(Heuristic, "") returns; a program that serves its own models carries
// that small rule list and none of the other production models.
//
// # Predicting
//
// Every Model is immutable and safe for concurrent use. Predict takes one
// row, ordered as Info().Features, and a buffer for the probabilities; with
// a buffer it allocates nothing:
//
//	proba := make([]float64, len(m.Info().Classes))
//	p, err := m.Predict([]float64{5.1, 3.5, 1.4, 0.2}, proba)
//	fmt.Println(p.Label) // setosa
//
// PredictBatch scores many rows into caller-owned slices. PredictNamed and
// Row map named values (a decoded JSON object, say) through the model's
// schema and report missing and unknown names in a *FeatureError.
//
// Rows with the wrong length, NaN, infinities, or values too large for
// float32 (for the tree models, whose reference libraries reject them) give
// an error wrapping ErrInput. A model whose Info().Missing is true takes
// NaN as a missing value instead, as its reference library does (a
// scikit-learn tree or forest exported with its missing-value directions:
// classify/sklearn-trees v2 and later); a loader never panics on a malformed artifact
// and returns an error wrapping ErrFormat that says what was wrong. A
// prediction that fails on a row the model accepted is the package's
// fault, not the caller's: its error wraps ErrInternal, not ErrInput.
//
// # Exactness
//
// scikit-learn casts inputs to float32 and sends a row left when
// float32(x) <= threshold; XGBoost sends it left when float32(x) < split.
// Both decisions are reproduced exactly, so predictions agree with the
// reference libraries even on rows that sit exactly on a split. Every tree
// model predicts through one flat tree engine (internal/flat), and the
// loaders turn each threshold into the float64 bound that gives the same
// decision for every float64 input, so the walk compares the row as it
// is, without rounding on the hot path. XGBoost leaf values are added in
// float32, per class in tree order, as XGBoost adds them. Forest probabilities are the mean of the trees' normalised
// leaf distributions, summed in scikit-learn's order; a NaN goes the way
// the tree learnt for it at each split (missing_go_to_left). The tests
// compare every production model with golden files that the reference
// libraries wrote (testdata/golden, produced by research/), and
// scikit-learn 1.9.1 and 1.2.1 trees, forests and extra trees, with and
// without missing values, with theirs (testdata/sklearn).
//
// # XGBoost
//
// New(XGBoost, path) and LoadXGBoost read every model file XGBoost writes,
// told apart by content rather than by file name: JSON (XGBoost 1.0 to
// 3.x), UBJSON (1.6 to 3.x, save_model's default since 2.1) and the legacy
// binary (0.x, 1.x, and 2.x's ".deprecated" files; 3.1 and later no longer
// write it). Objective, class count, base_score (scalar, or from 3.1 a
// vector) and feature names come from the model; the
// classify/xgboost-meta sidecar is optional and, when present, must agree
// with the model. NaN is a missing value, routed as XGBoost routes it.
// Random forests (XGBRFClassifier) and trees pruned by gamma load;
// categorical splits, vector leaves, dart and gblinear are refused with an
// error that says what to do.
//
// # Gradient boosting: LightGBM and scikit-learn
//
// New(LightGBM, path) and LoadLightGBM read LightGBM's text model (what
// save_model writes, v2 to v4: binary, multiclass and multiclassova;
// gbdt, goss, dart and rf; numerical and categorical splits; NaN and zero
// as missing values under every missing type) with the
// classify/lightgbm-meta sidecar that names features and classes.
// LoadHistGradientBoosting and LoadGradientBoosting read the
// classify/sklearn-hgb and classify/sklearn-gb dumps of scikit-learn's
// HistGradientBoostingClassifier (missing values and categorical features
// included) and GradientBoostingClassifier. All three are a *Boosted: float64
// leaf values summed per class in tree order, as those libraries sum them,
// then their own link; labels equal theirs and probabilities agree within
// 1e-9 on every case of testdata/boosting. The library loads them (New,
// Load, a Registry); Kinds lists them once cmd/serve and cmd/classify
// serve them.
//
// # Explaining
//
// *Rules and *Tree implement Explainer: the rule that fired, or the
// decision path.
//
// The tree models (*Tree, *Forest, *Booster, *Boosted) implement
// Contributor: each feature's exact TreeSHAP contribution to each raw
// output, and the bias, as the reference computes them
// (feature_perturbation "tree_path_dependent": shap's TreeExplainer,
// XGBoost's pred_contribs, LightGBM's pred_contrib). The raw outputs are
// a scikit-learn tree's or forest's class probabilities and a boosted
// model's margins before the link (one per class, or the positive class's
// alone for a binary model: Outputs names them); a row's contributions
// and bias add up to them (XGBoost's within its float32 sums). TreeSHAP
// weighs a split's children by their training cover, so an artifact must
// carry covers: XGBoost and LightGBM files always do, scikit-learn
// artifacts from classify/sklearn-trees v3, sklearn-gb v2 and
// sklearn-hgb v2 on; a model loaded from an older one predicts as before,
// and Contributions returns an error wrapping ErrFormat that says to
// re-export it. Rows are checked as Predict checks them (ErrInput), and
// NaN goes each split's missing-value way. With a caller's buffer it
// allocates nothing once warm.
//
// The engine computes Algorithm 2 of Lundberg et al. (2018), and, per
// tree, the same values from tables built on the first explanation: for
// each region of the row space where the tree's splits all go the same
// way, when the tree has few enough (at most 4096), else per leaf when no
// leaf's path tests more than six features (see internal/flat); trees
// with categorical splits are walked. On the production models, Iris
// rows, per row of a batch of 4096 (go test -run '^$' -bench
// BenchmarkContributions -count 5, medians, two cores shared, go1.26):
// decision tree 0.08 us, random forest 5.3 us (shap 0.49.1's
// TreeExplainer on the same trees: 97 us), XGBoost 5.0 us (XGBoost
// 3.2.0's pred_contribs with one thread: 69 us); no allocation. The
// values equal shap's to 9 digits on the forest and the tree, and
// XGBoost's to float32 precision.
//
// # Serving several models
//
// Swapping models while requests go on, A/B splits and canaries, and
// shadow traffic live in package rollout
// (github.com/ml-production-service/classify/rollout): Live holds the
// serving model and reloads it only once the new one has proved itself,
// Router serves the variants of a Split and reloads them all at once, and
// Shadow sends a share of requests to a challenger. Package classify
// does not import it, and a program that serves one fixed model need not
// either.
//
// # Serving over HTTP
//
// Package classifyhttp
// (github.com/ml-production-service/classify/classifyhttp) turns a
// rollout.Router into an http.Handler answering the HTTP API (predict,
// batches, the Open Inference Protocol, docs, metrics, reloads) that any
// mux can mount; cmd/serve is a process around it. Package classify
// imports neither net/http nor Prometheus.
//
// The artifact formats are specified in research/FORMATS.md.
package classify
