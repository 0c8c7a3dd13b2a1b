package classify

import (
	"fmt"
	"io"
	"math"

	"github.com/ml-production-service/classify/internal/flat"
	"github.com/ml-production-service/classify/internal/skboost"
)

// LoadHistGradientBoosting reads a classify/sklearn-hgb dump of a
// scikit-learn HistGradientBoostingClassifier (binary or multi-class, with
// numerical and categorical features) and predicts as its predict and
// predict_proba do (scikit-learn 1.9.1; research/FORMATS.md).
//
// A row may hold NaN, a missing value (Info().Missing), and any finite
// value; a categorical feature's value that is not one of its known
// categories (unseen, negative, fractional) goes where NaN goes, as
// scikit-learn's encoder makes it NaN. Infinities are refused with
// ErrInput. A malformed or unsupported dump gives an error wrapping
// ErrFormat that says what is wrong (see internal/skboost).
func LoadHistGradientBoosting(r io.Reader) (*Boosted, error) {
	data, err := readAll(r, "hist_gradient_boosting model")
	if err != nil {
		return nil, err
	}
	m, err := skboost.ParseHGB(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	nf := len(m.Features)
	b := &Boosted{nf: nf, nc: len(m.Classes), link: skSoftmax,
		info: Info{Kind: HistGradientBoosting, Features: m.Features, Classes: m.Classes, Missing: true}}
	if m.Groups() == 1 {
		b.link = hgbLogistic
	}
	var cats []int
	for f, c := range m.Categories {
		if c != nil {
			cats = append(cats, f)
		}
	}
	if len(cats) > 0 {
		b.pre = func(dst, row []float64) {
			copy(dst, row)
			for _, f := range cats {
				dst[f] = skboost.Code(m.Categories[f], dst[f])
			}
		}
	}
	b.e = flat.NewSum64(nf, m.Baseline, true)
	for i, it := range m.Iterations {
		for k := range it {
			if err := b.e.AddSum64(hgbNodes(m, &it[k]), k); err != nil {
				return nil, fmt.Errorf("%w: hist_gradient_boosting: iteration %d, predictor %d: %v", ErrFormat, i, k, err)
			}
		}
	}
	b.init()
	return b, nil
}

// hgbNodes lays out a predictor for the engine, on the input's features
// (predictor column j reads input feature Columns[j]), categorical values
// as codes. A categorical split's set is the codes it sends left: those in
// its raw-category bitset, and the known codes in neither set that go the
// missing way (none, after the encoding: every code is known). Covers
// and gains are a version 2 dump's count and gain.
func hgbNodes(m *skboost.HGB, p *skboost.Predictor) []flat.Node {
	return preorder(0, func(i int) (int, int, bool) {
		return int(p.Left[i]), int(p.Right[i]), !p.IsLeaf[i]
	}, func(i int) flat.Node {
		cover, gain := math.NaN(), 0.0
		if p.Count != nil { // version 2
			cover, gain = float64(p.Count[i]), p.Gain[i]
		}
		if p.IsLeaf[i] {
			return flat.Node{Leaf: true, Value64: p.Value[i], Cover: cover}
		}
		j := p.FeatureIdx[i]
		f := m.Columns[j]
		n := flat.Node{Feature: f, Bound: p.NumThreshold[i], MissingLeft: p.MissingGoToLeft[i],
			Threshold: p.NumThreshold[i], Cover: cover, Gain: gain}
		if p.IsCategorical[i] {
			set := make([]uint32, 8)
			for c := range len(m.Categories[f]) {
				if m.Left(p, i, float64(c)) {
					set[c/32] |= 1 << (c % 32)
				}
			}
			n.Categories = set
		}
		return n
	})
}
