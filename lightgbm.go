package classify

import (
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/ml-production-service/classify/internal/flat"
	"github.com/ml-production-service/classify/internal/lgbmodel"
)

// LightGBMMeta is the classify/lightgbm-meta sidecar that classify-export
// writes beside a LightGBM model, <model file>.meta.json: the names the
// text file does not hold (research/FORMATS.md).
type LightGBMMeta struct {
	Format        string   `json:"format"`         // "classify/lightgbm-meta"
	FormatVersion int      `json:"format_version"` // 1
	Library       string   `json:"library"`        // e.g. "lightgbm 4.7.0"
	Objective     string   `json:"objective"`      // the first word of the model's objective line
	Features      []string `json:"features"`
	Classes       []string `json:"classes"`
}

const (
	lgbMetaFormat  = "classify/lightgbm-meta"
	lgbMetaVersion = 1
)

// LoadLightGBM reads a LightGBM text model (what Booster.save_model and
// LGBMClassifier.booster_.save_model write, versions v2 to v4) and
// predicts as lightgbm's predict_proba and LGBMClassifier.predict do.
//
// Names: meta, when not nil, gives feature and class names, and must agree
// with the model (as many features, the same objective, as many classes),
// else the error wraps ErrFormat and names the disagreement. Without meta,
// features are the file's feature_names (Column_0.. unless the model was
// trained with names) and classes "0".."K-1".
//
// Supported: objectives binary, multiclass and multiclassova; boostings
// gbdt, goss, dart and rf (average_output); numerical and categorical
// splits; NaN and zero as missing values under every missing type. A row
// may hold NaN (Info().Missing); infinities and values beyond float32's
// range are refused with ErrInput. Refused with an error wrapping
// ErrFormat that names it: other objectives, linear trees, models trained
// on pandas category columns, other versions, and every malformed file
// (see internal/lgbmodel).
func LoadLightGBM(r io.Reader, meta *LightGBMMeta) (*Boosted, error) {
	data, err := readAll(r, "lightgbm model")
	if err != nil {
		return nil, err
	}
	m, err := lgbmodel.Parse(data)
	if err != nil {
		return nil, lgbErrorf("%v", err)
	}
	b := &Boosted{nf: m.Features, nc: m.Classes, float32Input: true, sigmoid: m.Sigmoid}
	switch m.Objective {
	case "binary":
		b.link = lgbBinary
	case "multiclassova":
		b.link = lgbOVA
	default:
		b.link = lgbSoftmax
	}
	if m.AverageOutput {
		b.divide = float64(len(m.Trees) / m.Groups)
	}
	if b.info, err = lgbInfo(meta, m); err != nil {
		return nil, err
	}
	zero, err := lgbZeroFeatures(m)
	if err != nil {
		return nil, err
	}
	if len(zero) > 0 {
		b.pre = func(dst, row []float64) { zeroAsMissing(dst, row, zero) }
	}
	b.e = flat.NewSum64(m.Features, make([]float64, m.Groups), true)
	isZero := make([]bool, m.Features)
	for _, f := range zero {
		isZero[f] = true
	}
	for i := range m.Trees {
		if err := b.e.AddSum64(lgbNodes(&m.Trees[i], isZero), i%m.Groups); err != nil {
			return nil, lgbErrorf("tree %d: %v", i, err)
		}
	}
	b.init()
	return b, nil
}

func lgbErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: lightgbm: %s", ErrFormat, fmt.Sprintf(format, args...))
}

// lgbInfo names the model's features and classes from meta, checked
// against the model, or from the model.
func lgbInfo(meta *LightGBMMeta, m *lgbmodel.Model) (Info, error) {
	info := Info{Kind: LightGBM, Missing: true}
	if meta == nil {
		info.Features = m.FeatureNames
		for k := range m.Classes {
			info.Classes = append(info.Classes, strconv.Itoa(k))
		}
		return info, nil
	}
	switch {
	case meta.Objective != m.Objective:
		return Info{}, lgbErrorf("meta objective %q, model objective %q", meta.Objective, m.Objective)
	case len(meta.Features) != m.Features:
		return Info{}, lgbErrorf("meta names %d features, model has %d", len(meta.Features), m.Features)
	case len(meta.Classes) != m.Classes:
		return Info{}, lgbErrorf("meta names %d classes, model has %d", len(meta.Classes), m.Classes)
	}
	info.Features = append([]string(nil), meta.Features...)
	info.Classes = append([]string(nil), meta.Classes...)
	return info, nil
}

// lgbZeroFeatures returns the features that some numerical split treats
// with missing type Zero: for those, a value within kZeroThreshold of zero
// is rewritten to NaN before the walk, and each split on them routes NaN
// where LightGBM routes both NaN and zero. It refuses a model where that
// is not one direction: a categorical split on such a feature, or a
// missing-type-NaN split on it that sends NaN and zero different ways
// (LightGBM's trainer gives each feature one missing type; a file that
// mixes them could not be served exactly).
func lgbZeroFeatures(m *lgbmodel.Model) ([]int, error) {
	zero := make([]bool, m.Features)
	for ti := range m.Trees {
		t := &m.Trees[ti]
		for i := range t.SplitFeature {
			if !t.IsCategorical(i) && t.MissingType(i) == lgbmodel.MissingZero {
				zero[t.SplitFeature[i]] = true
			}
		}
	}
	var out []int
	for f, z := range zero {
		if z {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	for ti := range m.Trees {
		t := &m.Trees[ti]
		for i, f := range t.SplitFeature {
			switch {
			case !zero[f]:
			case t.IsCategorical(i):
				return nil, lgbErrorf("tree %d: split %d is categorical on feature %d, which other splits treat zero as missing", ti, i, f)
			case t.MissingType(i) == lgbmodel.MissingNaN && t.DefaultLeft(i) != (0 <= t.Threshold[i]):
				return nil, lgbErrorf("tree %d: split %d on feature %d sends NaN and zero different ways, and other splits treat zero as missing", ti, i, f)
			}
		}
	}
	return out, nil
}

// zeroAsMissing copies row into dst with the values of the given features
// that are within kZeroThreshold of zero replaced by NaN.
func zeroAsMissing(dst, row []float64, features []int) {
	copy(dst, row)
	for _, f := range features {
		if math.Abs(dst[f]) <= lgbmodel.ZeroThreshold {
			dst[f] = math.NaN()
		}
	}
}

// lgbBound is the float64 bound b such that x <= b exactly when LightGBM's
// numerical split sends x left by its threshold t, after LightGBM has
// zeroed every |x| <= kZeroThreshold (the C API drops them from a row):
// that zeroing is monotone, so the set of such x is (-Inf, b].
func lgbBound(t float64) float64 {
	const kz = lgbmodel.ZeroThreshold
	if t >= 0 {
		return max(t, kz)
	}
	return min(t, math.Nextafter(-kz, math.Inf(-1)))
}

// lgbNodes lays out a LightGBM tree for the engine. A numerical split
// sends NaN where LightGBM does: the default way for missing type NaN
// (and for Zero, whose features the caller rewrites zero to NaN), and
// where zero goes for missing type None (LightGBM reads NaN as 0 there).
// A categorical split sends NaN right.
//
// Covers are the counts (internal_count, leaf_count), as LightGBM's own
// TreeSHAP takes them, NaN when the file has none; gains are split_gain.
func lgbNodes(t *lgbmodel.Tree, isZero []bool) []flat.Node {
	stat := func(a []float64, i int) float64 {
		if a == nil {
			return math.NaN()
		}
		return a[i]
	}
	var st lgbmodel.Stats
	if t.Stats != nil {
		st = *t.Stats
	}
	if len(t.SplitFeature) == 0 {
		return []flat.Node{{Leaf: true, Value64: t.LeafValue[0], Cover: stat(st.LeafCount, 0)}}
	}
	// ids: split i is i, leaf j is len(splits)+j.
	ns := len(t.SplitFeature)
	id := func(c int32) int {
		if c >= 0 {
			return int(c)
		}
		return ns + int(^c)
	}
	return preorder(0, func(i int) (int, int, bool) {
		if i >= ns {
			return 0, 0, false
		}
		return id(t.Left[i]), id(t.Right[i]), true
	}, func(i int) flat.Node {
		if i >= ns {
			return flat.Node{Leaf: true, Value64: t.LeafValue[i-ns], Cover: stat(st.LeafCount, i-ns)}
		}
		n := flat.Node{Feature: int(t.SplitFeature[i]), Cover: stat(st.InternalCount, i), Threshold: t.Threshold[i]}
		if st.SplitGain != nil {
			n.Gain = st.SplitGain[i]
		}
		if t.IsCategorical(i) {
			n.Categories = t.Bitset(i)
			return n
		}
		th := t.Threshold[i]
		n.Bound = lgbBound(th)
		switch t.MissingType(i) {
		case lgbmodel.MissingNone:
			n.MissingLeft = 0 <= th
		default: // NaN, and Zero (zero rewritten to NaN); lgbZeroFeatures checked the mixed case
			n.MissingLeft = t.DefaultLeft(i)
		}
		return n
	})
}

func (meta *LightGBMMeta) check() error {
	if err := checkFormat(meta.Format, meta.FormatVersion, lgbMetaFormat, lgbMetaVersion); err != nil {
		return lgbErrorf("meta: %v", err)
	}
	if meta.Objective == "" {
		return lgbErrorf("meta: no objective")
	}
	if _, err := indexNames("feature", meta.Features); err != nil {
		return lgbErrorf("meta: %v", err)
	}
	if len(meta.Classes) < 2 {
		return lgbErrorf("meta: %d class names, a classifier needs at least 2", len(meta.Classes))
	}
	if _, err := indexNames("class", meta.Classes); err != nil {
		return lgbErrorf("meta: %v", err)
	}
	return nil
}

// ReadLightGBMMeta reads a classify/lightgbm-meta sidecar (JSON, at most
// 64 MiB) and checks it on its own: format name and version, an objective,
// and non-empty, unique feature and class names. LoadLightGBM checks it
// against the model. Unknown fields are refused.
func ReadLightGBMMeta(r io.Reader) (*LightGBMMeta, error) {
	data, err := readAll(r, "lightgbm meta")
	if err != nil {
		return nil, err
	}
	meta := &LightGBMMeta{}
	if err := decodeStrict(data, meta); err != nil {
		return nil, lgbErrorf("meta: %v", err)
	}
	if err := meta.check(); err != nil {
		return nil, err
	}
	return meta, nil
}
