package skboost

import (
	"encoding/json"
	"fmt"
)

// GB is a GradientBoostingClassifier as classify/sklearn-gb v1 or v2
// stores it.
// It is not modified after ParseGB returns and is safe for concurrent use.
type GB struct {
	Library           string
	Features, Classes []string
	Init              string    // "prior" or "zero"
	InitRaw           []float64 // the raw score each group starts from
	LearningRate      float64
	// Stages in order; each holds one regression tree per group.
	Stages [][]RegTree
}

// RegTree is a DecisionTreeRegressor's tree_ arrays: node i is a leaf
// when ChildrenLeft[i] is -1; otherwise a row goes left when
// float32(x[Feature[i]]) <= Threshold[i].
type RegTree struct {
	ChildrenLeft  int32s `json:"children_left"`
	ChildrenRight int32s `json:"children_right"`
	Feature       int32s `json:"feature"`
	Threshold     floats `json:"threshold"`
	Value         floats `json:"value"`
	// Version 2: tree_'s node statistics, nil in version 1.
	NNodeSamples         int32s `json:"n_node_samples,omitempty"`
	WeightedNNodeSamples floats `json:"weighted_n_node_samples,omitempty"`
	Impurity             floats `json:"impurity,omitempty"`
}

type gbFile struct {
	header
	Init         string          `json:"init"`
	InitRaw      floats          `json:"init_raw"`
	LearningRate *float64        `json:"learning_rate"`
	Stages       json.RawMessage `json:"stages"`
}

// ParseGB reads and validates a classify/sklearn-gb v1 or v2 document.
func ParseGB(b []byte) (*GB, error) {
	var f gbFile
	if err := decodeStrict(b, &f); err != nil {
		return nil, errorf("gradient_boosting: %v", err)
	}
	m, err := f.model()
	if err != nil {
		return nil, errorf("gradient_boosting: %v", err)
	}
	return m, nil
}

func (f *gbFile) model() (*GB, error) {
	k, err := f.check("classify/sklearn-gb", "GradientBoostingClassifier", "gradient_boosting")
	if err != nil {
		return nil, err
	}
	m := &GB{Library: f.Library, Features: f.Features, Classes: f.Classes, Init: f.Init, InitRaw: f.InitRaw}
	switch f.Init {
	case "prior", "zero":
	default:
		return nil, fmt.Errorf("init %q is not supported (prior or zero: another init estimator's raw prediction depends on the row)", f.Init)
	}
	if len(f.InitRaw) != k {
		return nil, fmt.Errorf("init_raw has %d values for %d trees per stage", len(f.InitRaw), k)
	}
	for i, v := range f.InitRaw {
		if !finite(v) || f.Init == "zero" && v != 0 {
			return nil, fmt.Errorf("init_raw %d is %v for init %s", i, v, f.Init)
		}
	}
	if f.LearningRate == nil || !(*f.LearningRate > 0) || !finite(*f.LearningRate) {
		return nil, fmt.Errorf("learning_rate is missing or not a positive number")
	}
	m.LearningRate = *f.LearningRate
	if f.Stages == nil {
		return nil, fmt.Errorf("no stages")
	}
	nf := len(f.Features)
	m.Stages, err = nested(f.Stages, "stage", k, func(t *RegTree, _, _ int) error {
		if err := t.check(nf, m.LearningRate); err != nil {
			return err
		}
		return t.checkStats(f.FormatVersion)
	})
	if err != nil {
		return nil, err
	}
	if len(m.Stages) == 0 {
		return nil, fmt.Errorf("no stages")
	}
	return m, nil
}

// check validates a tree on its own.
func (t *RegTree) check(nf int, lr float64) error {
	n := len(t.Value)
	switch {
	case n == 0:
		return fmt.Errorf("no nodes")
	case len(t.ChildrenLeft) != n || len(t.ChildrenRight) != n || len(t.Feature) != n || len(t.Threshold) != n:
		return fmt.Errorf("arrays differ in length (children_left %d, children_right %d, feature %d, threshold %d, value %d)",
			len(t.ChildrenLeft), len(t.ChildrenRight), len(t.Feature), len(t.Threshold), n)
	}
	for i := range n {
		if (t.ChildrenLeft[i] == -1) != (t.ChildrenRight[i] == -1) {
			return fmt.Errorf("node %d: children %d and %d (-1 both at a leaf)", i, t.ChildrenLeft[i], t.ChildrenRight[i])
		}
		if t.ChildrenLeft[i] == -1 {
			if v := lr * t.Value[i]; !finite(v) {
				return fmt.Errorf("leaf %d: learning_rate * value is %v", i, v)
			}
			continue
		}
		if f := t.Feature[i]; f < 0 || int(f) >= nf {
			return fmt.Errorf("node %d: feature %d outside [0, %d)", i, f, nf)
		}
	}
	return shape(n, func(i int) (int, int, bool) {
		return int(t.ChildrenLeft[i]), int(t.ChildrenRight[i]), t.ChildrenLeft[i] != -1
	})
}

// checkStats checks the node statistics: in every tree of version 2,
// one of each per node, counts non-negative; in none of version 1.
func (t *RegTree) checkStats(version int) error {
	has := t.NNodeSamples != nil || t.WeightedNNodeSamples != nil || t.Impurity != nil
	if version == 1 {
		if has {
			return fmt.Errorf("n_node_samples, weighted_n_node_samples and impurity are version 2 fields")
		}
		return nil
	}
	return CheckNodeStats(len(t.Value), t.NNodeSamples, t.WeightedNNodeSamples, t.Impurity)
}

// CheckNodeStats checks a scikit-learn tree's node statistics, as
// classify/sklearn-trees v3 and sklearn-gb v2 carry them: one of each per
// node of n, counts non-negative. Impurities are finite (JSON has no other
// numbers) and may sit a rounding below zero (friedman_mse), so only the
// counts are checked for sign.
func CheckNodeStats[I ~int | ~int32](n int, nSamples []I, weighted, impurity []float64) error {
	for _, a := range []struct {
		name string
		len  int
	}{{"n_node_samples", len(nSamples)}, {"weighted_n_node_samples", len(weighted)}, {"impurity", len(impurity)}} {
		if a.len != n {
			return fmt.Errorf("%s has %d entries for %d nodes", a.name, a.len, n)
		}
	}
	for id := range n {
		switch {
		case nSamples[id] < 0:
			return fmt.Errorf("node %d: n_node_samples %d is negative", id, nSamples[id])
		case !(weighted[id] >= 0):
			return fmt.Errorf("node %d: weighted_n_node_samples %v is negative", id, weighted[id])
		}
	}
	return nil
}

// HasStats reports whether the trees carry node statistics (version 2).
func (m *GB) HasStats() bool { return m.Stages[0][0].WeightedNNodeSamples != nil }

// Groups returns the number of raw scores: 1 (logistic) or the classes.
func (m *GB) Groups() int { return len(m.InitRaw) }

// Leaf returns the leaf row reaches in tree t (row already cast to
// float32 and back, as scikit-learn validates it).
func (t *RegTree) Leaf(row []float64) int {
	i := 0
	for t.ChildrenLeft[i] != -1 {
		if row[t.Feature[i]] <= t.Threshold[i] {
			i = int(t.ChildrenLeft[i])
		} else {
			i = int(t.ChildrenRight[i])
		}
	}
	return i
}

// Raw writes the raw scores for row into raw (Groups values): init_raw,
// then per stage raw[k] += float64(learning_rate * value[leaf]), the
// product rounded before the add as scikit-learn's
// _predict_regression_tree_inplace_fast_dense does. It is the reference
// the serving engine is tested against, not a fast path.
func (m *GB) Raw(row, raw []float64) {
	x := make([]float64, len(row))
	for i, v := range row {
		x[i] = float64(float32(v))
	}
	copy(raw, m.InitRaw)
	for _, s := range m.Stages {
		for k := range s {
			raw[k] += float64(m.LearningRate * s[k].Value[s[k].Leaf(x)])
		}
	}
}

// Proba writes predict_proba's probabilities for raw scores into p and
// returns predict's class: logistic [1-q, q] with q = expit(raw), class
// 1 iff raw >= 0; softmax, class the first arg max of raw.
func (m *GB) Proba(raw, p []float64) int {
	if len(raw) == 1 {
		q := expit(raw[0])
		p[0], p[1] = 1-q, q
		if raw[0] >= 0 {
			return 1
		}
		return 0
	}
	softmax(raw, p)
	return argmax(raw)
}
