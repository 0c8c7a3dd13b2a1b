// Package skboost reads the artifacts classify-export writes for
// scikit-learn's gradient boosting classifiers (research/FORMATS.md):
// classify/sklearn-hgb v1 and v2 (HistGradientBoostingClassifier) and
// classify/sklearn-gb v1 and v2 (GradientBoostingClassifier), each into one
// validated model, and predicts raw scores from it exactly as
// scikit-learn 1.9.1 does (Raw), as a reference for the engine that
// serves it. Version 2 of both adds each node's statistics (cover and
// gain), for explanations and importances; prediction reads none.
//
// Every parser refuses, naming what it found: another format, a version
// it does not read, a document with unknown fields, and every model it
// could not serve exactly: array lengths that differ, indexes out of
// range, trees that are not trees (every node reached from the root
// exactly once), a link that does not fit the class count.
//
// Memory: documents are decoded with encoding/json, but every array a
// model keeps decodes itself (jsonarrays.go): numbers into slices of
// exactly their count, lists of names, categories and bitsets one element
// at a time up to MaxFeatures, and the trees one at a time, each checked
// (and an iteration's count) before the next is read. What a document of
// n bytes makes a parser allocate is thus bounded by a multiple of n:
// about 5 to 8 on real models, at most 14 on documents built to make it
// allocate (TestAllocBound holds it to 16). The caller bounds n.
package skboost

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// Limits on what a model may declare, independent of the file's size.
const (
	MaxFeatures = 1 << 16
	MaxClasses  = 1 << 16
)

// ErrFormat is wrapped by every error the parsers return.
var ErrFormat = errors.New("skboost: invalid scikit-learn boosting artifact")

func errorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))
}

// decodeStrict decodes one JSON value, refusing unknown fields and
// trailing data.
func decodeStrict(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// header is what both formats start with.
type header struct {
	Format        string `json:"format"`
	FormatVersion int    `json:"format_version"`
	Estimator     string `json:"estimator"`
	Kind          string `json:"kind"`
	Library       string `json:"library"`
	Features      names  `json:"features"`
	Classes       names  `json:"classes"`
	Link          string `json:"link"`
}

// check validates the header for format and estimator, and returns the
// number of raw scores (trees per iteration) its link implies.
func (h *header) check(format, estimator, kind string) (int, error) {
	switch {
	case h.Format != format:
		return 0, fmt.Errorf("format is %q, want %q", h.Format, format)
	case h.FormatVersion != 1 && h.FormatVersion != 2:
		return 0, fmt.Errorf("%s version %d is not supported (this package reads 1 and 2)", format, h.FormatVersion)
	case h.Estimator != estimator:
		return 0, fmt.Errorf("estimator is %q, want %s", h.Estimator, estimator)
	case h.Kind != kind:
		return 0, fmt.Errorf("kind is %q, want %s", h.Kind, kind)
	case h.Library == "":
		return 0, fmt.Errorf("no library")
	case len(h.Features) > MaxFeatures:
		return 0, fmt.Errorf("%d features (at most %d)", len(h.Features), MaxFeatures)
	case len(h.Classes) > MaxClasses:
		return 0, fmt.Errorf("%d classes (at most %d)", len(h.Classes), MaxClasses)
	}
	if err := checkNames("feature", h.Features); err != nil {
		return 0, err
	}
	if err := checkNames("class", h.Classes); err != nil {
		return 0, err
	}
	switch {
	case len(h.Classes) < 2:
		return 0, fmt.Errorf("%d class: a classifier has at least 2", len(h.Classes))
	case h.Link == "logistic" && len(h.Classes) == 2:
		return 1, nil
	case h.Link == "softmax" && len(h.Classes) > 2:
		return len(h.Classes), nil
	}
	return 0, fmt.Errorf("link %q for %d classes (logistic for 2, softmax for more)", h.Link, len(h.Classes))
}

// checkNames checks that names are non-empty and unique.
func checkNames(what string, names []string) error {
	if len(names) == 0 {
		return fmt.Errorf("no %s names", what)
	}
	seen := make(map[string]bool, len(names))
	for i, n := range names {
		if n == "" {
			return fmt.Errorf("%s %d has an empty name", what, i)
		}
		if seen[n] {
			return fmt.Errorf("%s name %q appears twice", what, n)
		}
		seen[n] = true
	}
	return nil
}

// nested decodes a JSON array of arrays of T one T at a time, calling
// check on each before the next is read (i the outer index, j the inner).
// Every inner array must hold k values.
func nested[T any](b []byte, what string, k int, check func(v *T, i, j int) error) ([][]T, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	delim := func(want json.Delim) error {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		if tok != want {
			return fmt.Errorf("%s: %v where %v comes", what, tok, want)
		}
		return nil
	}
	if err := delim('['); err != nil {
		return nil, err
	}
	var out [][]T
	for i := 0; d.More(); i++ {
		if err := delim('['); err != nil {
			return nil, err
		}
		inner := make([]T, 0, k)
		for j := 0; d.More(); j++ {
			if j == k {
				return nil, fmt.Errorf("%s %d has more than %d trees", what, i, k)
			}
			var v T
			if err := d.Decode(&v); err != nil {
				return nil, fmt.Errorf("%s %d, %d: %w", what, i, j, err)
			}
			if err := check(&v, i, j); err != nil {
				return nil, fmt.Errorf("%s %d, %d: %w", what, i, j, err)
			}
			inner = append(inner, v)
		}
		if err := delim(']'); err != nil {
			return nil, err
		}
		if len(inner) != k {
			return nil, fmt.Errorf("%s %d has %d trees, want %d", what, i, len(inner), k)
		}
		out = append(out, inner)
	}
	if err := delim(']'); err != nil {
		return nil, err
	}
	return out, nil
}

// shape checks that the nodes of a binary tree with n nodes, children
// given by children(i) (ok false at a leaf), are each reached from node 0
// exactly once.
func shape(n int, children func(i int) (l, r int, split bool)) error {
	seen := make([]bool, n)
	seen[0] = true
	stack := []int{0}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		l, r, split := children(i)
		if !split {
			continue
		}
		for _, c := range [2]int{l, r} {
			switch {
			case c < 0 || c >= n:
				return fmt.Errorf("node %d: child %d outside [0, %d)", i, c, n)
			case seen[c]:
				return fmt.Errorf("node %d: child %d is reached twice (or is the root)", i, c)
			}
			seen[c] = true
			stack = append(stack, c)
		}
	}
	for i, ok := range seen {
		if !ok {
			return fmt.Errorf("node %d is not reached from the root", i)
		}
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// softmax writes the softmax of raw into p as scikit-learn computes it
// (subtract the max, exp, divide by the sum).
func softmax(raw, p []float64) {
	mx := raw[0]
	for _, v := range raw[1:] {
		mx = max(mx, v)
	}
	s := 0.0
	for k, v := range raw {
		p[k] = math.Exp(v - mx)
		s += p[k]
	}
	for k := range p {
		p[k] /= s
	}
}

// expit is scipy.special.expit.
func expit(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
