package classify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/ml-production-service/classify/internal/flat"
	"github.com/ml-production-service/classify/internal/xgbmodel"
)

// XGBoost models predict through classify's flat tree engine
// (internal/flat), which does what XGBoost's own predictor does:
//
//   - Formats. internal/xgbmodel reads every file XGBoost writes, told
//     apart by content: JSON (1.0 to 3.x), UBJSON (1.6 to 3.x; save_model's
//     default since 2.1), the legacy binary of 0.x and 1.x, and the binary
//     2.x writes under a ".deprecated" name (size_leaf_vector 1 where 1.x
//     wrote 0). All become one validated tree model, holding only the
//     nodes reachable from each root, in preorder (gamma pruning leaves
//     deleted nodes in the file). xgbmodel checks everything against the
//     bytes that are there and refuses what does not form a tree.
//   - Split rule. XGBoost sends a row left when float32(x) < t. The loader
//     turns every t into a float64 bound (xgboostBound in threshold.go)
//     such that x <= bound exactly when float32(x) < t, so the engine
//     compares the caller's float64 values without rounding them, and a
//     row sitting exactly on a split goes the way XGBoost sends it. NaN
//     takes the split's default direction (default_left).
//   - Base score. XGBoost stores base_score in output space (since 1.0;
//     from 3.1 a vector, one value per class) and applies the objective's
//     link when it loads a model. Each group's margin starts from
//     XGBoost's own margin (see xgbBaseMargins).
//   - Arithmetic. XGBoost adds leaf values one tree at a time in float32,
//     per output group, in the order it added the trees (the file's). The
//     engine does the same (a Sum ensemble), then predict applies XGBoost's
//     float32 softmax or sigmoid: the probabilities are XGBoost's own
//     float32 values (identical on the test models of XGBoost 1.7.4, 2.1.4
//     and 3.2.0, within 3e-10 on the 600-tree one, where expf and
//     float32(math.Exp) differ by an ulp; multi:softmax's predict_proba is
//     scipy's float32 softmax, within 1.2e-7).
//
// github.com/dmitryikh/leaves, which reads only the legacy binary of
// XGBoost before 1.0, stays as the second, independent implementation:
// xgbmodel still encodes that binary (Model.Encode), and the tests compare
// the engine with leaves on every XGBoost model in testdata
// (xgb_leaves_test.go). Leaves walks one row at a time and sums in
// float64; the engine walks blocks of rows through each tree, four rows
// at a time and without a branch that depends on the row (see
// internal/flat for the figures).
//
// binary:logitraw: XGBClassifier.predict_proba returns [1-m, m] of the raw
// margin m (XGBoost documents it as unsupported) and predict labels 1 when
// m > 0.5; neither is a probability. A Booster gives the logistic of
// XGBoost's margin, computed as binary:logistic computes it, and labels by
// it (class 1 when that probability is above 0.5), so Predict agrees with
// Booster.predict's margins and not with XGBClassifier.predict on margins
// in (0, 0.5].
//
// Inputs: every XGBoost model takes NaN as missing (Info.Missing is true).
// Infinities and values beyond float32's range are refused with ErrInput,
// as XGBoost's DMatrix refuses them ("Input data contains inf or a value
// too large"); XGBoost 3.2's inplace_predict, which XGBClassifier uses,
// takes them and compares them as numbers.

// XGBoostMeta names an XGBoost model's features and classes: the
// classify/xgboost-meta v1 sidecar of research/FORMATS.md, which New reads
// from the model's path plus ".meta.json" when that file exists. It is
// optional: without it, names come from the model (see LoadXGBoost). With
// it, it must agree with the model: its feature count, its feature names
// when the model stores names, and its class count. A meta built in code
// may leave Format, FormatVersion, Library and Objective zero; when
// Objective is set, it must be the model's. The zero value is not valid:
// Features and Classes are required. It is plain data: LoadXGBoost copies
// what it keeps, so the caller may change or reuse a meta afterwards.
type XGBoostMeta struct {
	Format        string   `json:"format"`
	FormatVersion int      `json:"format_version"`
	Library       string   `json:"library"`
	Objective     string   `json:"objective"`
	Features      []string `json:"features"`
	Classes       []string `json:"classes"`
}

// The sidecar's format name and the newest version this package reads.
const (
	xgbMetaFormat  = "classify/xgboost-meta"
	xgbMetaVersion = 1
)

// xgbObjective is how a Booster turns raw margins into probabilities.
type xgbObjective uint8

const (
	xgbSoftmax      xgbObjective = iota + 1 // multi:softprob: label of the highest probability
	xgbSoftmaxLabel                         // multi:softmax: label of the highest margin
	xgbLogistic                             // binary:logistic and binary:logitraw
)

// Booster is an XGBoost gradient-boosted tree classifier loaded from any
// model file XGBoost writes (objectives multi:softprob, multi:softmax,
// binary:logistic and binary:logitraw), predicting what XGBoost's
// predict_proba and predict give. It is immutable after loading and safe
// for concurrent use by multiple goroutines. Load one with LoadXGBoost, or
// New(XGBoost, path).
type Booster struct {
	info      Info
	objective xgbObjective
	nFeatures int
	nClasses  int // probabilities per row: the output groups, or 2 for binary:logistic
	nGroups   int // margins per row
	base      []float32

	// e holds the trees as a Sum ensemble: float32 leaf values added per
	// group in the file's tree order, from the base margins; its k is
	// nClasses, and the engine writes the nGroups margins at the start
	// of each row's probabilities.
	e engine
}

var _ Model = (*Booster)(nil)

// xgbError is an error of the XGBoost loader or of a prediction: its
// message starts with "classify: xgboost: " and it wraps one of the
// package's sentinels.
type xgbError struct {
	msg string
	err error
}

func (e *xgbError) Error() string { return "classify: xgboost: " + e.msg }
func (e *xgbError) Unwrap() error { return e.err }

func xgbErrorf(sentinel error, format string, args ...any) error {
	return &xgbError{msg: fmt.Sprintf(format, args...), err: sentinel}
}

// LoadXGBoost reads an XGBoost model from r, in any format XGBoost writes,
// told apart by content (not by file name): JSON (XGBoost 1.0 to 3.x),
// UBJSON (1.6 to 3.x; save_model's default since 2.1), and the legacy
// binary (0.x and 1.x, and what 2.x writes under a ".deprecated" name).
//
// Names: meta, when not nil, gives feature and class names, and must agree
// with the model (feature count and, when the model stores them, feature
// names; objective when meta names one; class count), else the error wraps
// ErrFormat and names the disagreement. Without meta, features are named
// from the model (learner.feature_names, which XGBoost stores when trained
// on a DataFrame) or f0..fN-1, and classes from the scikit-learn wrapper's
// classes_ (stored by XGBoost 1.x's XGBClassifier) or 0..K-1 ("0", "1" for
// a binary objective).
//
// Supported: the gbtree booster, with any number of trees per class and
// round (num_parallel_tree > 1: XGBRFClassifier), trees pruned by gamma,
// the objectives multi:softprob, multi:softmax, binary:logistic and
// binary:logitraw, a scalar or (XGBoost 3.1 on) per-class base_score, and
// up to 65536 features and classes. Refused with an error wrapping
// ErrFormat that says what to do instead: categorical splits, vector leaves
// (multi_strategy="multi_output_tree"), the dart and gblinear boosters, and
// every other objective. Everything is validated before use: a malformed
// model gives an error wrapping ErrFormat that says what is wrong, never a
// panic or an unbounded allocation; at most 64 MiB are read, and parsing
// allocates at most a small multiple of that (see internal/xgbmodel). The
// Booster's Info has Kind XGBoost, Missing true, and empty Name and
// Version.
func LoadXGBoost(r io.Reader, meta *XGBoostMeta) (*Booster, error) {
	data, err := readAll(r, "xgboost model")
	if err != nil {
		return nil, err
	}
	m, err := xgbmodel.Parse(data)
	if err != nil {
		return nil, xgbErrorf(ErrFormat, "%v", err)
	}
	b := &Booster{nFeatures: m.NumFeature, nGroups: m.NumGroups}
	if b.base, err = xgbBaseMargins(m); err != nil {
		return nil, err
	}
	switch m.Objective {
	case "multi:softprob", "multi:softmax":
		b.objective, b.nClasses = xgbSoftmax, m.NumGroups
		if m.Objective == "multi:softmax" {
			b.objective = xgbSoftmaxLabel
		}
	case "binary:logistic", "binary:logitraw":
		b.objective, b.nClasses = xgbLogistic, 2
	}
	if b.info, err = xgbInfo(meta, m, b.nClasses); err != nil {
		return nil, err
	}
	if err := b.setTrees(m); err != nil {
		return nil, err
	}
	return b, nil
}

// xgbBaseMargins checks the model's objective and class count and returns
// the margin each output group starts from: base_score is stored in output
// space (since XGBoost 1.0), and XGBoost applies the objective's
// ProbToMargin when it loads a model. That is the identity for the softmax
// objectives (XGBoost 3.1 on stores a per-class vector for them, already a
// margin: ln p - mean(ln p) of the class frequencies) and for
// binary:logitraw, and for binary:logistic -logf(1/p - 1) in float32, p
// first clamped to [1e-6, 1-1e-6] (XGBoost 3.x; 1.x refused a p outside
// (0, 1) when training). Binary files before 1.0 store the margin itself.
func xgbBaseMargins(m *xgbmodel.Model) ([]float32, error) {
	switch m.Objective {
	case "multi:softprob", "multi:softmax":
		if m.NumClass < 2 {
			return nil, xgbErrorf(ErrFormat, "objective %s with %d classes (need at least 2)", m.Objective, m.NumClass)
		}
	case "binary:logistic", "binary:logitraw":
		if m.NumGroups != 1 {
			return nil, xgbErrorf(ErrFormat, "objective %s with %d classes in the header (need 0 or 1)", m.Objective, m.NumClass)
		}
	default:
		return nil, xgbErrorf(ErrFormat, "objective %q is not supported (want multi:softprob, multi:softmax, "+
			"binary:logistic or binary:logitraw): retrain the model as an XGBClassifier", m.Objective)
	}
	base := append([]float32(nil), m.BaseScore...)
	if m.Objective != "binary:logistic" || m.BaseIsMargin {
		return base, nil
	}
	p := base[0]
	if !(p >= 0 && p <= 1) {
		return nil, xgbErrorf(ErrFormat, "base score %v of %s is outside [0, 1]", p, m.Objective)
	}
	const eps = float32(1e-6) // XGBoost's kRtEps
	p = min(max(p, eps), 1-eps)
	d := 1/p - 1 // float32, as XGBoost's common::Logit computes it
	base[0] = -float32(math.Log(float64(d)))
	return base, nil
}

// setTrees builds the engine from the parsed model's trees, in the file's
// order (the order XGBoost adds them in, per group), each split condition
// turned into a float64 bound (xgboostBound).
func (b *Booster) setTrees(m *xgbmodel.Model) error {
	// Margins are float32 sums. A model whose leaves can add up past
	// float32's range would predict NaN; refuse it (no trained model
	// comes near: leaf values are small).
	bound := make([]float64, b.nGroups)
	for k := range bound {
		bound[k] = math.Abs(float64(b.base[k]))
	}
	ens := flat.NewSum(b.nFeatures, b.base)
	total, most := 0, 0
	for t := range m.Trees {
		total += len(m.Trees[t].Nodes)
		most = max(most, len(m.Trees[t].Nodes))
	}
	ens.Reserve(len(m.Trees), total)
	nodes := make([]flat.Node, 0, most)
	for t := range m.Trees {
		nodes = nodes[:0]
		hi := 0.0
		for _, nd := range m.Trees[t].Nodes {
			if nd.Left < 0 {
				hi = max(hi, math.Abs(float64(nd.Value)))
				nodes = append(nodes, flat.Node{Leaf: true, Value: nd.Value, Cover: float64(nd.SumHess)})
				continue
			}
			nodes = append(nodes, flat.Node{Feature: int(nd.Feature), Bound: xgboostBound(nd.Value),
				Right: int(nd.Right), MissingLeft: nd.DefaultLeft,
				Cover: float64(nd.SumHess), Threshold: float64(nd.Value), Gain: float64(nd.LossChg)})
		}
		g := int(m.Groups[t])
		bound[g] += hi
		if err := ens.AddSum(nodes, g); err != nil {
			return xgbErrorf(ErrFormat, "tree %d: %v", t, err)
		}
	}
	for k, v := range bound {
		if v > math.MaxFloat32/2 {
			return xgbErrorf(ErrFormat, "group %d: leaf values add up to %g, beyond float32's range", k, v)
		}
	}
	b.e = newEngine(ens, b.nClasses)
	return nil
}

// xgbInfo builds the model's Info from meta, or from the names the model
// stores, or generic names.
func xgbInfo(meta *XGBoostMeta, m *xgbmodel.Model, nClasses int) (Info, error) {
	info := Info{Kind: XGBoost, Missing: true}
	if m.FeatureNames != nil {
		if _, err := indexNames("feature", m.FeatureNames); err != nil {
			return Info{}, xgbErrorf(ErrFormat, "model's feature_names: %v", err)
		}
	}
	if m.Classes != nil {
		if _, err := indexNames("class", m.Classes); err != nil {
			return Info{}, xgbErrorf(ErrFormat, "model's scikit-learn classes: %v", err)
		}
		if len(m.Classes) != nClasses {
			return Info{}, xgbErrorf(ErrFormat, "model's scikit-learn attribute names %d classes, model has %d", len(m.Classes), nClasses)
		}
	}
	if meta == nil {
		info.Features = append([]string(nil), m.FeatureNames...)
		if m.FeatureNames == nil {
			info.Features = make([]string, m.NumFeature)
			for i := range info.Features {
				info.Features[i] = "f" + strconv.Itoa(i)
			}
		}
		info.Classes = append([]string(nil), m.Classes...)
		if m.Classes == nil {
			info.Classes = make([]string, nClasses)
			for i := range info.Classes {
				info.Classes[i] = strconv.Itoa(i)
			}
		}
		return info, nil
	}
	if meta.Format != "" || meta.FormatVersion != 0 {
		if err := meta.checkFormat(); err != nil {
			return Info{}, err
		}
	}
	if err := meta.checkNames(); err != nil {
		return Info{}, err
	}
	if meta.Objective != "" && meta.Objective != m.Objective {
		return Info{}, xgbErrorf(ErrFormat, "meta objective %q, model objective %q", meta.Objective, m.Objective)
	}
	if len(meta.Features) != m.NumFeature {
		return Info{}, xgbErrorf(ErrFormat, "meta names %d features, model has %d", len(meta.Features), m.NumFeature)
	}
	for i, name := range m.FeatureNames {
		if meta.Features[i] != name {
			return Info{}, xgbErrorf(ErrFormat, "meta names feature %d %q, the model names it %q", i, meta.Features[i], name)
		}
	}
	if len(meta.Classes) != nClasses {
		return Info{}, xgbErrorf(ErrFormat, "meta names %d classes, model has %d", len(meta.Classes), nClasses)
	}
	// Copies: the caller keeps meta.
	info.Features = append([]string(nil), meta.Features...)
	info.Classes = append([]string(nil), meta.Classes...)
	return info, nil
}

func (meta *XGBoostMeta) checkFormat() error {
	if err := checkFormat(meta.Format, meta.FormatVersion, xgbMetaFormat, xgbMetaVersion); err != nil {
		return xgbErrorf(ErrFormat, "meta: %v", err)
	}
	return nil
}

func (meta *XGBoostMeta) checkNames() error {
	if _, err := indexNames("feature", meta.Features); err != nil {
		return xgbErrorf(ErrFormat, "meta: %v", err)
	}
	if len(meta.Classes) < 2 {
		return xgbErrorf(ErrFormat, "meta: %d class names, a classifier needs at least 2", len(meta.Classes))
	}
	if _, err := indexNames("class", meta.Classes); err != nil {
		return xgbErrorf(ErrFormat, "meta: %v", err)
	}
	return nil
}

// ReadXGBoostMeta reads a classify/xgboost-meta sidecar (JSON, at most
// 64 MiB) and checks it on its own: format name and version, and non-empty,
// unique feature and class names. LoadXGBoost checks it against the model.
// Unknown fields are ignored.
func ReadXGBoostMeta(r io.Reader) (*XGBoostMeta, error) {
	data, err := readAll(r, "xgboost meta")
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	meta := &XGBoostMeta{}
	if err := dec.Decode(meta); err != nil {
		return nil, xgbErrorf(ErrFormat, "meta: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, xgbErrorf(ErrFormat, "meta: unexpected data after the JSON object")
	}
	if err := meta.checkFormat(); err != nil {
		return nil, err
	}
	if err := meta.checkNames(); err != nil {
		return nil, err
	}
	return meta, nil
}

// Info describes the model. Its Kind is XGBoost.
func (b *Booster) Info() Info { return b.info }

// Predict classifies one row; see Model.Predict. Like XGBoost, it takes each
// value as float32 and NaN as a missing value, and refuses infinities and
// values beyond float32's range, with an error wrapping ErrInput. The
// probabilities are XGBoost's float32 results, computed the way XGBoost
// computes them. With room in proba it allocates nothing.
func (b *Booster) Predict(row, proba []float64) (Prediction, error) {
	nan, ok := b.e.row(row)
	if !ok {
		return Prediction{}, rowError(row, b.nFeatures, true, true)
	}
	p := probaBuffer(proba, b.nClasses)
	b.e.ens.Predict(row, p, nan)
	c := b.finish(p)
	return Prediction{Class: c, Label: b.info.Classes[c], Probabilities: p}, nil
}

// PredictBatch classifies rows stored back to back; see Model.PredictBatch.
// It walks blocks of rows through each tree and allocates nothing.
func (b *Booster) PredictBatch(rows []float64, classes []int, proba []float64) error {
	return b.e.batch(rows, classes, proba, "classify: xgboost: ", b.finish)
}

// finish turns the float32 margins at the start of p (len nClasses) into
// probabilities and returns the class, as XGBoost (1.7 to 3.2) does: its
// common::Softmax or common::Sigmoid, in float32, and predict_proba's
// 1-p. expf is float32(math.Exp) here, within an ulp of glibc's.
func (b *Booster) finish(p []float64) int {
	switch b.objective {
	case xgbLogistic:
		x := min(-float32(p[0]), 88.7)
		p1 := 1 / (float32(math.Exp(float64(x))) + 1)
		p[0], p[1] = float64(1-p1), float64(p1)
		return argmax(p)
	case xgbSoftmaxLabel:
		c := argmax(p) // predict's label: the largest margin
		xgbSoftmax32(p)
		return c
	default:
		xgbSoftmax32(p)
		return argmax(p)
	}
}

// xgbSoftmax32 turns float32 margins into probabilities in place as
// XGBoost's common::Softmax does: subtract the largest margin, expf, sum in
// float64, divide in float32.
func xgbSoftmax32(p []float64) {
	hi := float32(p[0])
	for _, v := range p[1:] {
		hi = max(hi, float32(v))
	}
	sum := 0.0
	for i, v := range p {
		e := float32(math.Exp(float64(float32(v) - hi)))
		p[i] = float64(e)
		sum += p[i]
	}
	s := float32(sum)
	for i, v := range p {
		p[i] = float64(float32(v) / s)
	}
}
