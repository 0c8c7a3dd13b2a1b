package xgbmodel

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// jsonModel is the part of XGBoost's JSON model (doc/model.schema) that
// prediction needs. Unknown fields are ignored, as XGBoost ignores them.
// The UBJSON reader decodes into the same types, and both readers' results
// go through the same checks: jsonTree.check as each tree is read, then
// jsonModel.model.
type jsonModel struct {
	Version int32s       `json:"version"`
	Learner *jsonLearner `json:"learner"`
}

type jsonLearner struct {
	Attributes        attributes        `json:"attributes"`
	FeatureNames      names             `json:"feature_names"`
	GradientBooster   *jsonBooster      `json:"gradient_booster"`
	LearnerModelParam *jsonLearnerParam `json:"learner_model_param"`
	Objective         *jsonObjective    `json:"objective"`
}

type jsonBooster struct {
	Name  string         `json:"name"`
	Model *jsonTreeModel `json:"model"`
}

type jsonLearnerParam struct {
	BaseScore  string `json:"base_score"`
	NumClass   string `json:"num_class"`
	NumFeature string `json:"num_feature"`
	NumTarget  string `json:"num_target"`
}

type jsonObjective struct {
	Name string `json:"name"`
}

type jsonTreeModel struct {
	Param    jsonTreeModelParam `json:"gbtree_model_param"`
	TreeInfo int32s             `json:"tree_info"`
	Trees    trees              `json:"trees"`
}

type jsonTreeModelParam struct {
	NumParallelTree string `json:"num_parallel_tree"`
	NumTrees        string `json:"num_trees"`
}

type jsonTree struct {
	Param       jsonTreeParam `json:"tree_param"`
	Left        int32s        `json:"left_children"`
	Right       int32s        `json:"right_children"`
	Split       features      `json:"split_indices"`
	Conditions  float32s      `json:"split_conditions"`
	DefaultLeft flags         `json:"default_left"`
	SplitType   flags         `json:"split_type"`
	SumHessian  float32s      `json:"sum_hessian"`
	LossChanges float32s      `json:"loss_changes"`
}

type jsonTreeParam struct {
	NumNodes       string `json:"num_nodes"`
	SizeLeafVector string `json:"size_leaf_vector"`
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
	if err := json.Unmarshal(data, &doc); err != nil { // refuses data after the model too
		return nil, err
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
		m.Version[i] = int(doc.Version[i])
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
		m.FeatureNames = []string(l.FeatureNames)
	}
	if l.Attributes.has {
		if m.Classes, err = sklearnClasses(l.Attributes.sklearn, m.NumGroups); err != nil {
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
	m.ParallelTrees = 1 // not stored before XGBoost 1.6
	if p := g.Param.NumParallelTree; p != "" {
		if m.ParallelTrees, err = atoi(p, "num_parallel_tree", 1, numTrees); err != nil {
			return nil, err
		}
	}
	m.Groups = []int32(g.TreeInfo)
	m.Trees = make([]Tree, 0, numTrees)
	for t := range g.Trees {
		if err := m.jsonTree(g.Trees[t], t); err != nil {
			return nil, err
		}
		g.Trees[t] = nil // let the collector have it
	}
	if err := m.checkGroups(); err != nil {
		return nil, err
	}
	return m, nil
}

// jsonTree converts tree t, whose shape check has validated.
func (m *Model) jsonTree(jt *jsonTree, t int) error {
	raw := &rawTree{
		left:        jt.Left,
		right:       jt.Right,
		feature:     jt.Split,
		value:       jt.Conditions,
		defaultLeft: func(i int) bool { return jt.DefaultLeft[i] },
	}
	if len(jt.SplitType) != 0 {
		raw.categorical = func(i int) bool { return jt.SplitType[i] }
	}
	if len(jt.SumHessian) != 0 {
		raw.stats = func(i int) (float32, float32) {
			gain := float32(0)
			if len(jt.LossChanges) != 0 {
				gain = jt.LossChanges[i]
			}
			return jt.SumHessian[i], gain
		}
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
