package xgbmodel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// jsonModel is the part of XGBoost's JSON model (doc/model.schema) that
// prediction needs. Unknown fields are ignored, as XGBoost ignores them.
type jsonModel struct {
	Version []int `json:"version"`
	Learner *struct {
		Attributes      map[string]string `json:"attributes"`
		FeatureNames    []string          `json:"feature_names"`
		GradientBooster *struct {
			Name  string         `json:"name"`
			Model *jsonTreeModel `json:"model"`
		} `json:"gradient_booster"`
		LearnerModelParam *struct {
			BaseScore  string `json:"base_score"`
			NumClass   string `json:"num_class"`
			NumFeature string `json:"num_feature"`
			NumTarget  string `json:"num_target"`
		} `json:"learner_model_param"`
		Objective *struct {
			Name string `json:"name"`
		} `json:"objective"`
	} `json:"learner"`
}

type jsonTreeModel struct {
	Param struct {
		NumParallelTree string `json:"num_parallel_tree"`
		NumTrees        string `json:"num_trees"`
	} `json:"gbtree_model_param"`
	TreeInfo []int      `json:"tree_info"`
	Trees    []jsonTree `json:"trees"`
}

type jsonTree struct {
	Param struct {
		NumNodes       string `json:"num_nodes"`
		SizeLeafVector string `json:"size_leaf_vector"`
	} `json:"tree_param"`
	Left        []int32   `json:"left_children"`
	Right       []int32   `json:"right_children"`
	Split       []int64   `json:"split_indices"`
	Conditions  []float32 `json:"split_conditions"`
	DefaultLeft flags     `json:"default_left"`
	SplitType   flags     `json:"split_type"`
}

// flags is an array of booleans written as 0/1 (XGBoost 1.6 on; UBJSON
// as uint8) or true/false: default_left, and split_type (0 numerical, 1
// categorical). It decodes itself: encoding/json would take a
// []uint8 for base64 text.
type flags []bool

func (f *flags) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*f = nil
		return nil
	}
	if len(b) < 2 || b[0] != '[' || b[len(b)-1] != ']' {
		return errors.New("not an array of flags")
	}
	inner := bytes.TrimSpace(b[1 : len(b)-1])
	out := make([]bool, 0, len(inner)/2+1)
	if len(inner) == 0 {
		*f = out
		return nil
	}
	for _, tok := range bytes.Split(inner, []byte{','}) {
		switch tok = bytes.TrimSpace(tok); string(tok) {
		case "0", "false":
			out = append(out, false)
		case "1", "true": // split_type 1: a categorical split
			out = append(out, true)
		default:
			return fmt.Errorf("flag %q is not 0, 1, true or false", clip(string(tok)))
		}
	}
	*f = out
	return nil
}

// parseJSON reads a JSON model.
func parseJSON(data []byte) (*Model, error) {
	m, err := decodeJSON(data)
	if err != nil {
		return nil, fmt.Errorf("JSON model: %w", err)
	}
	m.Format = FormatJSON
	return m, nil
}

func decodeJSON(data []byte) (*Model, error) {
	var doc jsonModel
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the model")
	}
	return doc.model()
}

// atoi parses one of the decimal strings XGBoost writes for its
// parameters, within [lo, hi].
func atoi(s, what string, lo, hi int) (int, error) {
	v, err := strconv.Atoi(s)
	if err != nil || v < lo || v > hi {
		return 0, fmt.Errorf("%s %q is not a number in [%d, %d]", what, clip(s), lo, hi)
	}
	return v, nil
}

func (doc *jsonModel) model() (*Model, error) {
	l := doc.Learner
	if l == nil || l.LearnerModelParam == nil || l.Objective == nil || l.GradientBooster == nil {
		return nil, errors.New(`not an XGBoost model: "learner" with "learner_model_param", "objective" and "gradient_booster" is missing`)
	}
	m := &Model{}
	for i := 0; i < len(doc.Version) && i < 3; i++ {
		m.Version[i] = doc.Version[i]
	}
	p := l.LearnerModelParam
	var err error
	if m.NumFeature, err = atoi(p.NumFeature, "num_feature", 1, MaxFeatures); err != nil {
		return nil, err
	}
	if m.NumClass, err = atoi(p.NumClass, "num_class", 0, MaxClasses); err != nil {
		return nil, err
	}
	if p.NumTarget != "" {
		nt, err := atoi(p.NumTarget, "num_target", 0, MaxClasses)
		if err != nil {
			return nil, err
		}
		if nt > 1 {
			return nil, fmt.Errorf("num_target %d: multi-target models are not supported (a classifier has one target)", nt)
		}
	}
	m.NumGroups = max(m.NumClass, 1)
	if err := m.setBaseScore(p.BaseScore); err != nil {
		return nil, err
	}
	m.Objective = l.Objective.Name
	if len(m.Objective) > maxName {
		return nil, fmt.Errorf("objective name of %d bytes", len(m.Objective))
	}
	m.Booster = l.GradientBooster.Name
	if err := checkBooster(m.Booster); err != nil {
		return nil, err
	}
	if n := len(l.FeatureNames); n != 0 {
		if n != m.NumFeature {
			return nil, fmt.Errorf("%d feature names for %d features", n, m.NumFeature)
		}
		m.FeatureNames = l.FeatureNames
	}
	if s, ok := l.Attributes["scikit_learn"]; ok {
		if m.Classes, err = sklearnClasses(s, m.NumGroups); err != nil {
			return nil, err
		}
	}

	g := l.GradientBooster.Model
	if g == nil {
		return nil, errors.New(`gradient_booster has no "model"`)
	}
	numTrees, err := atoi(g.Param.NumTrees, "num_trees", 1, math.MaxInt32)
	if err != nil {
		return nil, err
	}
	if numTrees != len(g.Trees) {
		return nil, fmt.Errorf("num_trees is %d, the model has %d trees", numTrees, len(g.Trees))
	}
	if m.ParallelTrees, err = atoi(g.Param.NumParallelTree, "num_parallel_tree", 1, numTrees); err != nil {
		return nil, err
	}
	m.Groups = g.TreeInfo
	m.Trees = make([]Tree, 0, numTrees)
	for t := range g.Trees {
		if err := m.jsonTree(&g.Trees[t], t); err != nil {
			return nil, err
		}
		g.Trees[t] = jsonTree{} // let the collector have it
	}
	if err := m.checkGroups(); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Model) jsonTree(jt *jsonTree, t int) error {
	lv := int64(0)
	if s := jt.Param.SizeLeafVector; s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("tree %d: size_leaf_vector %q is not a number", t, clip(s))
		}
		lv = v
	}
	if err := checkLeafVector(lv, fmt.Sprintf("tree %d", t)); err != nil {
		return err
	}
	n, err := atoi(jt.Param.NumNodes, fmt.Sprintf("tree %d: num_nodes", t), 1, math.MaxInt32)
	if err != nil {
		return err
	}
	for _, a := range []struct {
		name string
		len  int
	}{
		{"left_children", len(jt.Left)}, {"right_children", len(jt.Right)},
		{"split_indices", len(jt.Split)}, {"split_conditions", len(jt.Conditions)},
		{"default_left", len(jt.DefaultLeft)},
	} {
		if a.len != n {
			return fmt.Errorf("tree %d: %s has %d entries for %d nodes", t, a.name, a.len, n)
		}
	}
	if len(jt.SplitType) != 0 && len(jt.SplitType) != n {
		return fmt.Errorf("tree %d: split_type has %d entries for %d nodes", t, len(jt.SplitType), n)
	}
	raw := &rawTree{
		left:        jt.Left,
		right:       jt.Right,
		feature:     make([]uint32, n),
		value:       jt.Conditions,
		defaultLeft: func(i int) bool { return jt.DefaultLeft[i] },
	}
	for i, f := range jt.Split {
		raw.feature[i] = math.MaxUint32 // out of range: refused if a reachable split has it
		if f >= 0 && f <= math.MaxUint32 {
			raw.feature[i] = uint32(f)
		}
	}
	if len(jt.SplitType) != 0 {
		raw.categorical = func(i int) bool { return jt.SplitType[i] }
	}
	return m.addTree(raw, t)
}

// sklearnClasses reads the class labels from the scikit_learn attribute
// the wrapper stores: XGBoost 1.x writes classes_ (with Python's NaN for
// missing in the same object, which is not JSON); 2.x and 3.x store only
// the estimator type, and this returns nil. want is the model's class
// count (2 for a binary model).
func sklearnClasses(s string, groups int) ([]string, error) {
	var attr struct {
		Classes []json.RawMessage `json:"classes_"`
	}
	if err := json.Unmarshal(pythonJSON(s), &attr); err != nil || attr.Classes == nil {
		return nil, nil // not the wrapper's, or no classes: the model is still whole
	}
	want := max(groups, 2)
	if len(attr.Classes) != want {
		return nil, fmt.Errorf("scikit_learn attribute names %d classes, model has %d", len(attr.Classes), want)
	}
	out := make([]string, len(attr.Classes))
	for i, c := range attr.Classes {
		var str string
		if json.Unmarshal(c, &str) == nil {
			out[i] = str
			continue
		}
		var f float64
		if err := json.Unmarshal(c, &f); err != nil {
			return nil, fmt.Errorf("scikit_learn attribute: class %d is %s, not a string or number", i, clip(string(c)))
		}
		out[i] = strconv.FormatFloat(f, 'g', -1, 64) // 0.0 reads "0", as numpy prints int labels
	}
	return out, nil
}

// pythonJSON replaces the NaN, Infinity and -Infinity tokens Python's json
// module writes outside strings with null.
func pythonJSON(s string) []byte {
	out := make([]byte, 0, len(s))
	inString := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inString:
			out = append(out, c)
			if c == '\\' && i+1 < len(s) {
				i++
				out = append(out, s[i])
			} else if c == '"' {
				inString = false
			}
			continue
		case c == '"':
			inString = true
		case strings.HasPrefix(s[i:], "NaN"):
			out, i = append(out, "null"...), i+2
			continue
		case strings.HasPrefix(s[i:], "-Infinity"):
			out, i = append(out, "null"...), i+8
			continue
		case strings.HasPrefix(s[i:], "Infinity"):
			out, i = append(out, "null"...), i+7
			continue
		}
		out = append(out, c)
	}
	return out
}
