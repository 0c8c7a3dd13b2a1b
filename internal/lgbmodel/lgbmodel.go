// Package lgbmodel reads LightGBM's text model files (what
// Booster.save_model writes; research/FORMATS.md, "LightGBM") into one
// validated model, and predicts raw scores from it exactly as LightGBM
// does (Raw), as a reference for the engine that serves it.
//
// Parse accepts versions v2 to v4, the objectives binary, multiclass and
// multiclassova, numerical and categorical splits, every missing type and
// average_output (boosting=rf). It refuses, naming what it found: other
// versions and objectives, linear trees (is_linear=1), pandas categorical
// mappings (pandas_categorical other than null) and every malformed file:
// each count, length, child index, feature index, categorical bitset and
// decision type is checked, a tree must be a tree (every node reached from
// the root exactly once), and leaf values must be finite.
//
// Memory: Parse copies the input into a string once and reads every line
// and value as a substring of it; it allocates an array only after
// counting the values written for it (8 bytes at most per value of at
// least 2 bytes of text) and the trees' bookkeeping once, for as many
// trees as there are "Tree=" lines (under 200 bytes for a tree block of
// at least 33). What it allocates is thus bounded by its input, which the
// caller bounds: about 1.6 times on real models, under 7 times on files
// built to make it allocate (TestAllocBound holds it to 8).
package lgbmodel

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Limits on what a model may declare, independent of the file's size.
const (
	MaxFeatures = 1 << 16
	MaxClasses  = 1 << 16
)

// ZeroThreshold is LightGBM's kZeroThreshold (include/LightGBM/meta.h):
// 1e-35f as a double. A value within it of zero is zero to LightGBM.
const ZeroThreshold = float64(float32(1e-35))

// Missing types of a numerical split (decision_type bits 2-3).
const (
	MissingNone = 0
	MissingZero = 1
	MissingNaN  = 2
)

// Decision type bits.
const (
	Categorical = 1 // decision_type bit 0
	DefaultLeft = 2 // decision_type bit 1
)

// ErrFormat is wrapped by every error Parse returns.
var ErrFormat = errors.New("lgbmodel: invalid LightGBM model")

// Model is a validated LightGBM model. It is not modified after Parse
// returns and is safe for concurrent use.
type Model struct {
	Version   string  // "v2", "v3" or "v4"
	Objective string  // "binary", "multiclass" or "multiclassova"
	Sigmoid   float64 // binary and multiclassova: the objective's sigmoid parameter (1 when not written)
	// Classes is the number of classes: 2 for binary, num_class
	// otherwise. Groups is num_tree_per_iteration: 1 for binary, Classes
	// otherwise; tree i adds to raw score i % Groups.
	Classes, Groups int
	Features        int      // max_feature_idx + 1
	FeatureNames    []string // the file's feature_names, Features of them
	AverageOutput   bool     // boosting=rf: raw scores are divided by the iteration count
	Trees           []Tree   // a multiple of Groups, at least one iteration
}

// Tree is one tree as LightGBM stores it: split i (0 <= i < leaves-1) is
// the node numbered i, and a child c >= 0 is split c while c < 0 is leaf
// ^c. A tree of one leaf has no splits.
type Tree struct {
	SplitFeature []int32
	Threshold    []float64 // numerical: the threshold; categorical: the bitset's index, an integer
	DecisionType []uint8
	Left, Right  []int32
	LeafValue    []float64
	// CatBoundaries[k] .. CatBoundaries[k+1] are categorical bitset k's
	// 32-bit words in CatThreshold.
	CatBoundaries []int32
	CatThreshold  []uint32
	// Stats, for explanation and inspection, is nil when the tree block
	// has none of its arrays (prediction reads none). A pointer keeps a
	// tree's bookkeeping small (see Memory).
	Stats *Stats
}

// Stats are a tree's statistics: each split's split_gain and
// internal_count, each leaf's leaf_count (the counts are the covers
// LightGBM's TreeSHAP weighs by). An array the file leaves out is nil.
type Stats struct {
	SplitGain     []float64
	InternalCount []float64
	LeafCount     []float64
}

// MissingType returns split i's missing type (MissingNone, MissingZero or
// MissingNaN).
func (t *Tree) MissingType(i int) int { return int(t.DecisionType[i]>>2) & 3 }

// IsCategorical reports whether split i is a categorical split.
func (t *Tree) IsCategorical(i int) bool { return t.DecisionType[i]&Categorical != 0 }

// DefaultLeft reports whether split i sends its missing values left.
func (t *Tree) DefaultLeft(i int) bool { return t.DecisionType[i]&DefaultLeft != 0 }

// Bitset returns categorical split i's bitset words.
func (t *Tree) Bitset(i int) []uint32 {
	k := int(t.Threshold[i])
	return t.CatThreshold[t.CatBoundaries[k]:t.CatBoundaries[k+1]]
}

// InBitset reports whether a categorical split with bitset words sends x
// left: NaN, negative categories (after truncation toward zero, as C++'s
// static_cast<int>) and categories beyond int32 or beyond the bitset go
// right (LightGBM's CategoricalDecision and Common::FindInBitset).
func InBitset(words []uint32, x float64) bool {
	if !(x > -1 && x < 1<<31) { // NaN, c < 0, beyond int (x86-64: INT_MIN, so right)
		return false
	}
	c := uint32(x) // truncation toward zero
	return int(c/32) < len(words) && words[c/32]>>(c%32)&1 != 0
}

// errorf returns an error wrapping ErrFormat.
func errorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))
}

// lines iterates over the lines of a text, without the line break and a
// trailing '\r': substrings of the text, so that reading a line allocates
// nothing.
type lines struct {
	text string
	pos  int
	num  int // the number of the line last returned, from 1
}

func (l *lines) next() (string, bool) {
	if l.pos >= len(l.text) {
		return "", false
	}
	rest := l.text[l.pos:]
	i := strings.IndexByte(rest, '\n')
	if i < 0 {
		i = len(rest)
		l.pos = len(l.text)
	} else {
		l.pos += i + 1
	}
	l.num++
	return strings.TrimSuffix(rest[:i], "\r"), true
}

// Parse reads and validates a LightGBM text model.
func Parse(data []byte) (*Model, error) {
	l := &lines{text: string(data)} // one copy: every line and value is a substring of it
	if first, _ := l.next(); first != "tree" {
		return nil, errorf("not a LightGBM text model: the first line is %q, not \"tree\"", clip(first))
	}
	head, line, err := readHeader(l)
	if err != nil {
		return nil, err
	}
	m, err := head.model()
	if err != nil {
		return nil, err
	}
	// Every tree's bookkeeping is allocated once, for as many trees as
	// the file has "Tree=" lines.
	m.Trees = make([]Tree, 0, bytes.Count(data, []byte("\nTree=")))
	var block block
	for strings.HasPrefix(line, "Tree=") {
		if !treeNumber(line[len("Tree="):], len(m.Trees)) {
			return nil, errorf("line %d: %q where \"Tree=%d\" comes", l.num, clip(line), len(m.Trees))
		}
		block, line, err = readBlock(l, block[:0])
		if err != nil {
			return nil, errorf("tree %d: %v", len(m.Trees), err)
		}
		t, err := parseTree(block, m.Features)
		if err != nil {
			return nil, errorf("tree %d: %v", len(m.Trees), err)
		}
		m.Trees = append(m.Trees, t)
	}
	if line != "end of trees" {
		return nil, errorf("line %d: %q where a tree or \"end of trees\" comes (a truncated file?)", l.num, clip(line))
	}
	if len(m.Trees) == 0 {
		return nil, errorf("no trees")
	}
	if len(m.Trees)%m.Groups != 0 {
		return nil, errorf("%d trees is not a whole number of iterations of %d trees", len(m.Trees), m.Groups)
	}
	for {
		s, ok := l.next()
		if !ok {
			break
		}
		if v, ok := strings.CutPrefix(s, "pandas_categorical:"); ok && v != "null" {
			return nil, errorf("the model was trained on a pandas DataFrame with category columns (pandas_categorical:%s): "+
				"LightGBM maps those categories to codes in Python, which classify does not see; train on numeric codes", clip(v))
		}
	}
	return m, nil
}

// treeNumber reports whether s is the decimal number i, without sign or
// leading zeros, as LightGBM writes it.
func treeNumber(s string, i int) bool {
	v, err := strconv.Atoi(s)
	return err == nil && v == i && s[0] != '+' && s[0] != '-' && (s[0] != '0' || len(s) == 1)
}

// header holds the header lines Parse reads; other header lines are
// ignored, as LightGBM ignores them.
type header map[string]string

var headerKeys = map[string]bool{
	"version": true, "num_class": true, "num_tree_per_iteration": true, "max_feature_idx": true,
	"objective": true, "average_output": true, "feature_names": true,
}

// readHeader reads the header lines up to the first tree or "end of
// trees", and returns that line.
func readHeader(l *lines) (header, string, error) {
	h := header{}
	for {
		s, ok := l.next()
		if !ok {
			return nil, "", errorf("the file ends in its header (no \"end of trees\")")
		}
		if strings.HasPrefix(s, "Tree=") || s == "end of trees" {
			return h, s, nil
		}
		k, v, _ := strings.Cut(s, "=")
		if !headerKeys[k] {
			continue
		}
		if _, dup := h[k]; dup {
			return nil, "", errorf("line %d: %s appears twice", l.num, k)
		}
		h[k] = v
	}
}

// model checks the header and returns the model it describes, without
// trees.
func (h header) model() (*Model, error) {
	m := &Model{Version: h["version"], Sigmoid: 1}
	switch m.Version {
	case "v2", "v3", "v4":
	case "":
		return nil, errorf("no version line")
	default:
		return nil, errorf("version %q is not supported (this package reads v2 to v4)", clip(m.Version))
	}
	obj, ok := h["objective"]
	if !ok {
		return nil, errorf("no objective line: a model trained with a custom objective cannot be served (its link is not in the file)")
	}
	words := strings.Fields(obj)
	if len(words) == 0 {
		return nil, errorf("empty objective")
	}
	m.Objective = words[0]
	params := map[string]string{}
	for _, w := range words[1:] {
		k, v, _ := strings.Cut(w, ":")
		params[k] = v
	}
	numClass, err := atoi(h, "num_class", 1, MaxClasses)
	if err != nil {
		return nil, err
	}
	perIter, err := atoi(h, "num_tree_per_iteration", 1, MaxClasses)
	if err != nil {
		return nil, err
	}
	maxIdx, err := atoi(h, "max_feature_idx", 0, MaxFeatures-1)
	if err != nil {
		return nil, err
	}
	m.Features = maxIdx + 1
	if s, ok := params["sigmoid"]; ok {
		m.Sigmoid, err = strconv.ParseFloat(s, 64)
		if err != nil || !(m.Sigmoid > 0) || math.IsInf(m.Sigmoid, 0) {
			return nil, errorf("objective %s: sigmoid %q is not a positive number", m.Objective, clip(s))
		}
	}
	if s, ok := params["num_class"]; ok && s != strconv.Itoa(numClass) {
		return nil, errorf("objective %s: num_class:%s, but num_class=%d", m.Objective, clip(s), numClass)
	}
	switch m.Objective {
	case "binary":
		if numClass != 1 || perIter != 1 {
			return nil, errorf("objective binary with num_class=%d and num_tree_per_iteration=%d (want 1 and 1)", numClass, perIter)
		}
		m.Classes, m.Groups = 2, 1
	case "multiclass", "multiclassova":
		if numClass < 2 || perIter != numClass {
			return nil, errorf("objective %s with num_class=%d and num_tree_per_iteration=%d (want equal, at least 2)", m.Objective, numClass, perIter)
		}
		m.Classes, m.Groups = numClass, numClass
	default:
		return nil, errorf("objective %q is not supported (only binary, multiclass and multiclassova: classify serves classifiers)", clip(m.Objective))
	}
	if v, ok := h["average_output"]; ok {
		if v != "" {
			return nil, errorf("average_output=%q: LightGBM writes a bare average_output line", clip(v))
		}
		m.AverageOutput = true
	}
	names, ok := h["feature_names"]
	if !ok {
		return nil, errorf("no feature_names line")
	}
	if n := strings.Count(names, " ") + 1; n != m.Features {
		return nil, errorf("%d feature names for max_feature_idx=%d", n, maxIdx)
	}
	m.FeatureNames = strings.Split(names, " ")
	for i, n := range m.FeatureNames {
		if n == "" {
			return nil, errorf("feature %d has an empty name", i)
		}
	}
	return m, nil
}

// atoi reads header key k as an integer in [lo, hi].
func atoi(h header, k string, lo, hi int) (int, error) {
	s, ok := h[k]
	if !ok {
		return 0, errorf("no %s line", k)
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < lo || v > hi {
		return 0, errorf("%s=%q is not an integer in [%d, %d]", k, clip(s), lo, hi)
	}
	return v, nil
}

// block is a tree's key=value lines, in file order. Tree blocks hold a
// score of keys, so a slice searched in order costs less than a map (and
// is reused from tree to tree).
type block []struct{ key, val string }

// get returns the value of key k.
func (b block) get(k string) (string, bool) {
	for _, kv := range b {
		if kv.key == k {
			return kv.val, true
		}
	}
	return "", false
}

// readBlock reads a tree's key=value lines into b up to the next tree or
// "end of trees" (blank lines skipped) and returns that line.
func readBlock(l *lines, b block) (block, string, error) {
	for {
		s, ok := l.next()
		if !ok {
			return nil, "", fmt.Errorf("the file ends in the tree (no \"end of trees\")")
		}
		if strings.HasPrefix(s, "Tree=") || s == "end of trees" {
			return b, s, nil
		}
		if s == "" {
			continue
		}
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return nil, "", fmt.Errorf("line %d: %q is not key=value", l.num, clip(s))
		}
		if _, dup := b.get(k); dup {
			return nil, "", fmt.Errorf("line %d: %s appears twice", l.num, clip(k))
		}
		b = append(b, struct{ key, val string }{k, v})
	}
}

// parseTree validates one tree block.
func parseTree(b block, features int) (Tree, error) {
	var t Tree
	if v, _ := b.get("is_linear"); v != "" && v != "0" {
		return t, fmt.Errorf("is_linear=%s: linear trees (linear_tree=true) are not supported", clip(v))
	}
	s, ok := b.get("num_leaves")
	if !ok {
		return t, fmt.Errorf("no num_leaves")
	}
	leaves, err := strconv.Atoi(s)
	if err != nil || leaves < 1 {
		return t, fmt.Errorf("num_leaves=%q is not a positive integer", clip(s))
	}
	if t.LeafValue, err = floats(b, "leaf_value", leaves); err != nil {
		return t, err
	}
	var gain, internal, leaf []float64
	if leaf, err = optFloats(b, "leaf_count", leaves); err != nil {
		return t, err
	}
	for i, v := range t.LeafValue {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return t, fmt.Errorf("leaf %d: value %v", i, v)
		}
	}
	numCat := 0
	if s, ok := b.get("num_cat"); ok {
		if numCat, err = strconv.Atoi(s); err != nil || numCat < 0 || numCat >= leaves {
			return t, fmt.Errorf("num_cat=%q is not an integer in [0, %d)", clip(s), leaves)
		}
	}
	splits := leaves - 1
	if t.SplitFeature, err = ints(b, "split_feature", splits, 0, features-1); err != nil {
		return t, err
	}
	if t.Threshold, err = floats(b, "threshold", splits); err != nil {
		return t, err
	}
	if gain, err = optFloats(b, "split_gain", splits); err != nil {
		return t, err
	}
	if internal, err = optFloats(b, "internal_count", splits); err != nil {
		return t, err
	}
	if gain != nil || internal != nil || leaf != nil {
		t.Stats = &Stats{SplitGain: gain, InternalCount: internal, LeafCount: leaf}
	}
	dt, err := ints(b, "decision_type", splits, 0, 15)
	if err != nil {
		return t, err
	}
	t.DecisionType = make([]uint8, splits)
	for i, d := range dt {
		t.DecisionType[i] = uint8(d)
		if t.MissingType(i) == 3 {
			return t, fmt.Errorf("split %d: decision_type %d has missing type 3 (LightGBM knows 0 to 2)", i, d)
		}
	}
	if t.Left, err = ints(b, "left_child", splits, -leaves, splits-1); err != nil {
		return t, err
	}
	if t.Right, err = ints(b, "right_child", splits, -leaves, splits-1); err != nil {
		return t, err
	}
	if numCat > 0 {
		if t.CatBoundaries, err = ints(b, "cat_boundaries", numCat+1, 0, math.MaxInt32); err != nil {
			return t, err
		}
		words, err := uints(b, "cat_threshold")
		if err != nil {
			return t, err
		}
		t.CatThreshold = words
		if t.CatBoundaries[0] != 0 || int(t.CatBoundaries[numCat]) != len(words) {
			return t, fmt.Errorf("cat_boundaries %d..%d do not span cat_threshold's %d words", t.CatBoundaries[0], t.CatBoundaries[numCat], len(words))
		}
		for k := 1; k <= numCat; k++ {
			if t.CatBoundaries[k] < t.CatBoundaries[k-1] {
				return t, fmt.Errorf("cat_boundaries decrease at %d", k)
			}
		}
	}
	for i := range splits {
		switch {
		case math.IsNaN(t.Threshold[i]):
			return t, fmt.Errorf("split %d: threshold is NaN", i)
		case t.IsCategorical(i):
			if k := t.Threshold[i]; k != math.Trunc(k) || k < 0 || k >= float64(numCat) {
				return t, fmt.Errorf("split %d: categorical split's threshold %v is not a bitset index in [0, %d)", i, k, numCat)
			}
		}
	}
	return t, t.checkShape()
}

// checkShape checks that every split and leaf is reached from the root
// exactly once.
func (t *Tree) checkShape() error {
	splits := len(t.SplitFeature)
	if splits == 0 {
		return nil
	}
	seenSplit := make([]bool, splits)
	seenLeaf := make([]bool, splits+1)
	seenSplit[0] = true
	stack := []int32{0}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, c := range [2]int32{t.Left[i], t.Right[i]} {
			if c >= 0 {
				if seenSplit[c] {
					return fmt.Errorf("split %d is reached twice (or is the root)", c)
				}
				seenSplit[c] = true
				stack = append(stack, c)
				continue
			}
			if seenLeaf[^c] {
				return fmt.Errorf("leaf %d is reached twice", ^c)
			}
			seenLeaf[^c] = true
		}
	}
	for i, ok := range seenSplit {
		if !ok {
			return fmt.Errorf("split %d is not reached from the root", i)
		}
	}
	for i, ok := range seenLeaf {
		if !ok {
			return fmt.Errorf("leaf %d is not reached from the root", i)
		}
	}
	return nil
}

// values iterates over a space-separated array value: substrings of the
// line, so nothing is allocated for them.
type values struct{ s string }

func (v *values) next() string {
	w, rest, _ := strings.Cut(v.s, " ")
	v.s = rest
	return w
}

// fields returns the count of a space-separated array value, refusing a
// count other than n (n < 0: any count), and its values.
func fields(b block, k string, n int) (int, values, error) {
	s, ok := b.get(k)
	if !ok {
		if n == 0 {
			return 0, values{}, nil
		}
		return 0, values{}, fmt.Errorf("no %s", k)
	}
	got := 0
	if s != "" {
		got = strings.Count(s, " ") + 1
	}
	if n >= 0 && got != n {
		return 0, values{}, fmt.Errorf("%s has %d values, want %d", k, got, n)
	}
	return got, values{s}, nil
}

func floats(b block, k string, n int) ([]float64, error) {
	got, next, err := fields(b, k, n)
	if err != nil || got == 0 {
		return nil, err
	}
	out := make([]float64, got)
	for i := range out {
		s := next.next()
		if out[i], err = strconv.ParseFloat(s, 64); err != nil {
			return nil, fmt.Errorf("%s: value %d %q is not a number", k, i, clip(s))
		}
	}
	return out, nil
}

// optFloats is floats for an array the file may leave out (nil then).
func optFloats(b block, k string, n int) ([]float64, error) {
	if _, ok := b.get(k); !ok {
		return nil, nil
	}
	return floats(b, k, n)
}

func ints(b block, k string, n, lo, hi int) ([]int32, error) {
	got, next, err := fields(b, k, n)
	if err != nil || got == 0 {
		return nil, err
	}
	out := make([]int32, got)
	for i := range out {
		s := next.next()
		v, err := strconv.ParseInt(s, 10, 32)
		if err != nil || int(v) < lo || int(v) > hi {
			return nil, fmt.Errorf("%s: value %d %q is not an integer in [%d, %d]", k, i, clip(s), lo, hi)
		}
		out[i] = int32(v)
	}
	return out, nil
}

func uints(b block, k string) ([]uint32, error) {
	got, next, err := fields(b, k, -1)
	if err != nil || got == 0 {
		return nil, err
	}
	out := make([]uint32, got)
	for i := range out {
		s := next.next()
		v, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%s: value %d %q is not a 32-bit word", k, i, clip(s))
		}
		out[i] = uint32(v)
	}
	return out, nil
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
