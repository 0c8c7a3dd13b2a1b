package classify

import (
	"fmt"
	"io"

	"github.com/ml-production-service/classify/internal/flat"
	"github.com/ml-production-service/classify/internal/skboost"
)

// LoadGradientBoosting reads a classify/sklearn-gb dump of a scikit-learn
// GradientBoostingClassifier (log_loss, init "prior" or "zero") and
// predicts as its predict and predict_proba do (scikit-learn 1.9.1;
// research/FORMATS.md): each value as float32, each stage adding
// float64(learning_rate * leaf value) to its class's raw score.
//
// Like scikit-learn, it refuses NaN, infinities and values beyond
// float32's range with ErrInput (Info().Missing is false). A malformed or
// unsupported dump gives an error wrapping ErrFormat that says what is
// wrong (see internal/skboost).
func LoadGradientBoosting(r io.Reader) (*Boosted, error) {
	data, err := readAll(r, "gradient_boosting model")
	if err != nil {
		return nil, err
	}
	m, err := skboost.ParseGB(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	nf := len(m.Features)
	b := &Boosted{nf: nf, nc: len(m.Classes), link: skSoftmax, float32Input: true,
		info: Info{Kind: GradientBoosting, Features: m.Features, Classes: m.Classes}}
	if m.Groups() == 1 {
		b.link = gbLogistic
	}
	b.e = flat.NewSum64(nf, m.InitRaw, false)
	for i, s := range m.Stages {
		for k := range s {
			if err := b.e.AddSum64(gbNodes(&s[k], m.LearningRate), k); err != nil {
				return nil, fmt.Errorf("%w: gradient_boosting: stage %d, tree %d: %v", ErrFormat, i, k, err)
			}
		}
	}
	b.init()
	return b, nil
}

// gbNodes lays out a regression tree for the engine: thresholds as the
// float64 bounds of scikit-learn's float32 comparison, leaves as the
// product learning_rate * value rounded to float64, which scikit-learn
// adds.
// Covers and gains come from a version 2 dump's statistics, as for a
// decision tree (sklearnStats).
func gbNodes(t *skboost.RegTree, lr float64) []flat.Node {
	w, imp := []float64(t.WeightedNNodeSamples), []float64(t.Impurity)
	return preorder(0, func(i int) (int, int, bool) {
		return int(t.ChildrenLeft[i]), int(t.ChildrenRight[i]), t.ChildrenLeft[i] != -1
	}, func(i int) flat.Node {
		l, r := int(t.ChildrenLeft[i]), int(t.ChildrenRight[i])
		cover, gain := sklearnStats(w, imp, i, l, r)
		if l == -1 {
			return flat.Node{Leaf: true, Value64: float64(lr * t.Value[i]), Cover: cover}
		}
		return flat.Node{Feature: int(t.Feature[i]), Bound: sklearnBound(t.Threshold[i]), Threshold: t.Threshold[i],
			Cover: cover, Gain: gain}
	})
}
