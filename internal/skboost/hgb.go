package skboost

import (
	"encoding/json"
	"fmt"
	"math"
)

// HGB is a HistGradientBoostingClassifier as classify/sklearn-hgb v1 or
// v2 stores it. It is not modified after ParseHGB returns and is safe for
// concurrent use.
type HGB struct {
	Library           string
	Features, Classes []string
	// Baseline holds the raw score each group starts from: one for the
	// logistic link (2 classes), one per class for softmax.
	Baseline []float64
	// Columns[j] is the input feature predictor column j reads.
	Columns []int
	// Categories[f] is input feature f's known raw categories, sorted and
	// unique, or nil for a numerical feature.
	Categories [][]float64
	// KnownCatBitsets[FIdxMap[j]] is the categories predictor column j
	// saw in training (by code), for a categorical column.
	KnownCatBitsets []Bitset
	FIdxMap         []int
	// Iterations in order; each holds one predictor per group.
	Iterations [][]Predictor
}

// Predictor is one tree of an iteration (scikit-learn's TreePredictor).
type Predictor struct {
	Value           floats `json:"value"`
	FeatureIdx      int32s `json:"feature_idx"`
	NumThreshold    floats `json:"num_threshold"`
	MissingGoToLeft flags  `json:"missing_go_to_left"`
	Left            int32s `json:"left"`
	Right           int32s `json:"right"`
	IsLeaf          flags  `json:"is_leaf"`
	IsCategorical   flags  `json:"is_categorical"`
	BitsetIdx       int32s `json:"bitset_idx"`
	// RawLeftCatBitsets[BitsetIdx[i]] is the codes categorical split i
	// sends left.
	RawLeftCatBitsets bitsets `json:"raw_left_cat_bitsets"`
	// Version 2, nil in version 1: each node's training sample count
	// (its cover) and split gain (0 at leaves).
	Count int32s `json:"count,omitempty"`
	Gain  floats `json:"gain,omitempty"`
}

type hgbFile struct {
	header
	Baseline        floats          `json:"baseline"`
	Columns         ints            `json:"columns"`
	Categories      categoryLists   `json:"categories"`
	KnownCatBitsets bitsets         `json:"known_cat_bitsets"`
	FIdxMap         ints            `json:"f_idx_map"`
	Iterations      json.RawMessage `json:"iterations"`
}

// ParseHGB reads and validates a classify/sklearn-hgb v1 or v2 document.
func ParseHGB(b []byte) (*HGB, error) {
	var f hgbFile
	if err := decodeStrict(b, &f); err != nil {
		return nil, errorf("hist_gradient_boosting: %v", err)
	}
	m, err := f.model()
	if err != nil {
		return nil, errorf("hist_gradient_boosting: %v", err)
	}
	return m, nil
}

func (f *hgbFile) model() (*HGB, error) {
	k, err := f.check("classify/sklearn-hgb", "HistGradientBoostingClassifier", "hist_gradient_boosting")
	if err != nil {
		return nil, err
	}
	nf := len(f.Features)
	m := &HGB{Library: f.Library, Features: f.Features, Classes: f.Classes, Baseline: f.Baseline,
		Columns: f.Columns, KnownCatBitsets: f.KnownCatBitsets, FIdxMap: f.FIdxMap}
	m.Categories = make([][]float64, len(f.Categories))
	for i, c := range f.Categories {
		m.Categories[i] = c
	}
	if len(f.Baseline) != k {
		return nil, fmt.Errorf("baseline has %d values for %d trees per iteration", len(f.Baseline), k)
	}
	for i, v := range f.Baseline {
		if !finite(v) {
			return nil, fmt.Errorf("baseline %d is %v", i, v)
		}
	}
	switch {
	case len(f.Columns) != nf:
		return nil, fmt.Errorf("columns has %d entries for %d features", len(f.Columns), nf)
	case len(f.Categories) != nf:
		return nil, fmt.Errorf("categories has %d entries for %d features", len(f.Categories), nf)
	case len(f.FIdxMap) != nf:
		return nil, fmt.Errorf("f_idx_map has %d entries for %d features", len(f.FIdxMap), nf)
	}
	seen := make([]bool, nf)
	for j, c := range f.Columns {
		if c < 0 || c >= nf || seen[c] {
			return nil, fmt.Errorf("columns is not a permutation of the %d features (entry %d is %d)", nf, j, c)
		}
		seen[c] = true
	}
	for fi, cats := range f.Categories {
		if cats == nil {
			continue
		}
		if len(cats) == 0 || len(cats) > 256 {
			return nil, fmt.Errorf("feature %d has %d categories (1 to 256)", fi, len(cats))
		}
		for i := 1; i < len(cats); i++ {
			if !(cats[i] > cats[i-1]) {
				return nil, fmt.Errorf("feature %d: categories are not sorted and unique at %d", fi, i)
			}
		}
	}
	for j, c := range f.Columns {
		if f.Categories[c] != nil && (f.FIdxMap[j] < 0 || f.FIdxMap[j] >= len(f.KnownCatBitsets)) {
			return nil, fmt.Errorf("f_idx_map[%d] is %d, outside the %d known-category bitsets", j, f.FIdxMap[j], len(f.KnownCatBitsets))
		}
	}
	if f.Iterations == nil {
		return nil, fmt.Errorf("no iterations")
	}
	m.Iterations, err = nested(f.Iterations, "iteration", k, func(p *Predictor, _, _ int) error {
		if err := p.check(m.Columns, m.Categories); err != nil {
			return err
		}
		return p.checkStats(f.FormatVersion)
	})
	if err != nil {
		return nil, err
	}
	if len(m.Iterations) == 0 {
		return nil, fmt.Errorf("no iterations")
	}
	return m, nil
}

// check validates a predictor on its own and against the columns.
func (p *Predictor) check(columns []int, categories [][]float64) error {
	n := len(p.Value)
	if n == 0 {
		return fmt.Errorf("no nodes")
	}
	for _, a := range []struct {
		what string
		n    int
	}{{"feature_idx", len(p.FeatureIdx)}, {"num_threshold", len(p.NumThreshold)},
		{"missing_go_to_left", len(p.MissingGoToLeft)}, {"left", len(p.Left)}, {"right", len(p.Right)},
		{"is_leaf", len(p.IsLeaf)}, {"is_categorical", len(p.IsCategorical)}, {"bitset_idx", len(p.BitsetIdx)}} {
		if a.n != n {
			return fmt.Errorf("%s has %d entries for %d nodes", a.what, a.n, n)
		}
	}
	for i := range n {
		if p.IsLeaf[i] {
			if !finite(p.Value[i]) {
				return fmt.Errorf("leaf %d: value %v", i, p.Value[i])
			}
			continue
		}
		j := p.FeatureIdx[i]
		switch {
		case j < 0 || int(j) >= len(columns):
			return fmt.Errorf("node %d: feature_idx %d outside [0, %d)", i, j, len(columns))
		case math.IsNaN(p.NumThreshold[i]):
			return fmt.Errorf("node %d: threshold NaN", i)
		case !p.IsCategorical[i]:
		case categories[columns[j]] == nil:
			return fmt.Errorf("node %d: a categorical split on column %d, whose feature %d is numerical", i, j, columns[j])
		case p.BitsetIdx[i] < 0 || int(p.BitsetIdx[i]) >= len(p.RawLeftCatBitsets):
			return fmt.Errorf("node %d: bitset_idx %d outside the %d bitsets", i, p.BitsetIdx[i], len(p.RawLeftCatBitsets))
		}
	}
	return shape(n, func(i int) (int, int, bool) { return int(p.Left[i]), int(p.Right[i]), !p.IsLeaf[i] })
}

// checkStats checks the node statistics: in every predictor of version 2,
// a count (non-negative) and a gain (finite) per node; in none of version
// 1.
func (p *Predictor) checkStats(version int) error {
	if version == 1 {
		if p.Count != nil || p.Gain != nil {
			return fmt.Errorf("count and gain are version 2 fields")
		}
		return nil
	}
	n := len(p.Value)
	if len(p.Count) != n || len(p.Gain) != n {
		return fmt.Errorf("count has %d and gain %d entries for %d nodes", len(p.Count), len(p.Gain), n)
	}
	for i := range n {
		if p.Count[i] < 0 || !finite(p.Gain[i]) {
			return fmt.Errorf("node %d: count %d, gain %v: want a non-negative count and a finite gain", i, p.Count[i], p.Gain[i])
		}
	}
	return nil
}

// HasStats reports whether the predictors carry node statistics
// (version 2).
func (m *HGB) HasStats() bool { return m.Iterations[0][0].Count != nil }

// Groups returns the number of raw scores: 1 (logistic) or the classes.
func (m *HGB) Groups() int { return len(m.Baseline) }

// Encode writes row as the predictors read it into x: predictor column j
// holds input feature Columns[j], a categorical value replaced by its
// code (its index in the feature's categories, exact equality), NaN and
// every unknown value by NaN (scikit-learn's OrdinalEncoder).
func (m *HGB) Encode(row, x []float64) {
	for j, fi := range m.Columns {
		v := row[fi]
		if cats := m.Categories[fi]; cats != nil {
			v = Code(cats, v)
		}
		x[j] = v
	}
}

// Code returns v's index in the sorted categories, as a float64, or NaN
// when v is not one of them.
func Code(cats []float64, v float64) float64 {
	lo, hi := 0, len(cats)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if cats[mid] < v {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < len(cats) && cats[lo] == v {
		return float64(lo)
	}
	return math.NaN()
}

// Left reports whether node i of predictor p sends x (an encoded row's
// value) left: scikit-learn's _predict_one_from_raw_data.
func (m *HGB) Left(p *Predictor, i int, x float64) bool {
	switch {
	case math.IsNaN(x):
		return p.MissingGoToLeft[i]
	case !p.IsCategorical[i]:
		return x <= p.NumThreshold[i]
	case x < 0:
		return p.MissingGoToLeft[i]
	}
	c := uint8(uint64(x)) // the codes are below 256
	if p.RawLeftCatBitsets[p.BitsetIdx[i]].Has(c) {
		return true
	}
	if m.KnownCatBitsets[m.FIdxMap[p.FeatureIdx[i]]].Has(c) {
		return false
	}
	return p.MissingGoToLeft[i]
}

// Raw writes the raw scores for row (input features) into raw (Groups
// values): the baseline, then each iteration's leaf values added in
// float64 in order. It is the reference the serving engine is tested
// against, not a fast path.
func (m *HGB) Raw(row, raw []float64) {
	x := make([]float64, len(row))
	m.Encode(row, x)
	copy(raw, m.Baseline)
	for _, it := range m.Iterations {
		for k := range it {
			p := &it[k]
			i := 0
			for !p.IsLeaf[i] {
				if m.Left(p, i, x[p.FeatureIdx[i]]) {
					i = int(p.Left[i])
				} else {
					i = int(p.Right[i])
				}
			}
			raw[k] += p.Value[i]
		}
	}
}

// Proba writes predict_proba's probabilities for raw scores into p and
// returns predict's class: logistic [1-q, q] with q = expit(raw), class
// 1 iff raw > 0; softmax, class the first arg max of raw.
func (m *HGB) Proba(raw, p []float64) int {
	if len(raw) == 1 {
		q := expit(raw[0])
		p[0], p[1] = 1-q, q
		if raw[0] > 0 {
			return 1
		}
		return 0
	}
	softmax(raw, p)
	return argmax(raw)
}

func argmax(v []float64) int {
	best := 0
	for i := range v {
		if v[i] > v[best] {
			best = i
		}
	}
	return best
}
