package classify

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"math"
	"strings"
)

// Rules is a heuristic model: an ordered list of rules, each a conjunction of
// comparisons of one feature with a constant; the first rule whose
// comparisons all hold gives the class, and the default class answers when
// none does. Probabilities are one-hot. Comparisons are made in float64, as
// the Python evaluator that wrote the golden files makes them.
//
// A Rules is immutable after loading and safe for concurrent use.
type Rules struct {
	info  Info
	conds []condition // every rule's conditions, back to back
	rules []rule
	def   int // class index of the default
}

type rule struct {
	name       string
	start, end int // conds[start:end]
	class      int
}

// condition holds when lo <= row[feature] <= hi. Every comparison of the
// artifact becomes one: x < v is x <= the float64 below v, x > v is x >= the
// float64 above v, and the open side is an infinity. That is exact for
// float64 inputs and leaves the hot path one shape of test, with no switch.
type condition struct {
	feature int
	lo, hi  float64
}

// newCondition turns "x op v" into an interval.
func newCondition(feature int, op string, v float64) (condition, bool) {
	c := condition{feature: feature, lo: math.Inf(-1), hi: math.Inf(1)}
	switch op {
	case "<":
		c.hi = math.Nextafter(v, math.Inf(-1))
	case "<=":
		c.hi = v
	case ">":
		c.lo = math.Nextafter(v, math.Inf(1))
	case ">=":
		c.lo = v
	default:
		return c, false
	}
	return c, true
}

// rulesFile is the classify/rules v1 artifact (research/FORMATS.md).
type rulesFile struct {
	Format        string   `json:"format"`
	FormatVersion int      `json:"format_version"`
	Features      []string `json:"features"`
	Classes       []string `json:"classes"`
	Rules         []struct {
		Name string `json:"name"`
		When []struct {
			Feature string   `json:"feature"`
			Op      string   `json:"op"`
			Value   *float64 `json:"value"`
		} `json:"when"`
		Then string `json:"then"`
	} `json:"rules"`
	Default string `json:"default"`
	Source  string `json:"source"`
}

//go:embed models/heuristic.json
var irisRulesJSON []byte

// IrisRules returns the production Iris rules. The package embeds the
// registry's own models/heuristic.json (go:embed, so the same bytes) and
// IrisRules parses it on every call, returning a new *Rules each time;
// New(Heuristic, "") returns it, so it needs no file.
func IrisRules() *Rules { return mustLoadRules(irisRulesJSON) }

// mustLoadRules loads rules embedded in the package. The tests load the
// embedded artifact, so a release whose tests pass cannot panic here.
func mustLoadRules(b []byte) *Rules {
	r, err := LoadRules(bytes.NewReader(b))
	if err != nil {
		panic("classify: built-in Iris rules: " + err.Error())
	}
	return r
}

// LoadRules reads a classify/rules v1 artifact.
func LoadRules(r io.Reader) (*Rules, error) {
	b, err := readAll(r, "rules")
	if err != nil {
		return nil, err
	}
	var f rulesFile
	if err := decodeStrict(b, &f); err != nil {
		return nil, fmt.Errorf("%w: rules: %v", ErrFormat, err)
	}
	if err := checkFormat(f.Format, f.FormatVersion, "classify/rules", 1); err != nil {
		return nil, fmt.Errorf("%w: rules: %v", ErrFormat, err)
	}
	m := &Rules{info: Info{Kind: Heuristic, Features: f.Features, Classes: f.Classes}}
	features, err := indexNames("feature", f.Features)
	if err != nil {
		return nil, fmt.Errorf("%w: rules: %v", ErrFormat, err)
	}
	classes, err := indexNames("class", f.Classes)
	if err != nil {
		return nil, fmt.Errorf("%w: rules: %v", ErrFormat, err)
	}
	class := func(name string) (int, error) {
		i, ok := classes[name]
		if !ok {
			return 0, fmt.Errorf("unknown class %q", name)
		}
		return i, nil
	}
	if m.def, err = class(f.Default); err != nil {
		return nil, fmt.Errorf("%w: rules: default: %v", ErrFormat, err)
	}
	for i, fr := range f.Rules {
		where := fmt.Sprintf("rule %d (%s)", i, fr.Name)
		if fr.Name == "" || strings.TrimSpace(fr.Name) != fr.Name {
			return nil, fmt.Errorf("%w: rules: rule %d needs a name without surrounding spaces", ErrFormat, i)
		}
		ru := rule{name: fr.Name, start: len(m.conds)}
		if ru.class, err = class(fr.Then); err != nil {
			return nil, fmt.Errorf("%w: rules: %s: %v", ErrFormat, where, err)
		}
		if len(fr.When) == 0 {
			return nil, fmt.Errorf("%w: rules: %s has no conditions", ErrFormat, where)
		}
		for _, w := range fr.When {
			fi, ok := features[w.Feature]
			if !ok {
				return nil, fmt.Errorf("%w: rules: %s: unknown feature %q", ErrFormat, where, w.Feature)
			}
			if w.Value == nil {
				return nil, fmt.Errorf("%w: rules: %s: condition on %q has no value", ErrFormat, where, w.Feature)
			}
			c, ok := newCondition(fi, w.Op, *w.Value)
			if !ok {
				return nil, fmt.Errorf("%w: rules: %s: op %q is not one of <, <=, >, >=", ErrFormat, where, w.Op)
			}
			m.conds = append(m.conds, c)
		}
		ru.end = len(m.conds)
		m.rules = append(m.rules, ru)
	}
	return m, nil
}

// Info implements Model.
func (m *Rules) Info() Info { return m.info }

// classify returns the class and the index of the rule that fired (-1 for the
// default). row must have been checked.
func (m *Rules) classify(row []float64) (class, fired int) {
	for i := range m.rules {
		r := &m.rules[i]
		j := r.start
		for ; j < r.end; j++ {
			c := &m.conds[j]
			if x := row[c.feature]; x < c.lo || x > c.hi {
				break
			}
		}
		if j == r.end {
			return r.class, i
		}
	}
	return m.def, -1
}

// Predict implements Model.
func (m *Rules) Predict(row []float64, proba []float64) (Prediction, error) {
	if !rowOK(row, len(m.info.Features), false, false) {
		return Prediction{}, rowError(row, len(m.info.Features), false, false)
	}
	c, _ := m.classify(row)
	p := probaBuffer(proba, len(m.info.Classes))
	oneHot(p, c)
	// The literal rather than m.answer: returning answer's Prediction made
	// the compiler build it on the stack and copy it, and the profile showed
	// that copy stalling on store-to-load forwarding.
	return Prediction{Class: c, Label: m.info.Classes[c], Probabilities: p}, nil
}

func (m *Rules) answer(c int, p []float64) Prediction {
	oneHot(p, c)
	return Prediction{Class: c, Label: m.info.Classes[c], Probabilities: p}
}

// oneHot writes 1 for class c and 0 elsewhere. A loop rather than clear: for
// a handful of classes a call to memclr costs more than the stores.
func oneHot(p []float64, c int) {
	for i := range p {
		p[i] = 0
		if i == c {
			p[i] = 1
		}
	}
}

// PredictBatch implements Model.
func (m *Rules) PredictBatch(rows []float64, classes []int, proba []float64) error {
	nf, nc := len(m.info.Features), len(m.info.Classes)
	if err := checkBatch(rows, classes, proba, nf, nc); err != nil {
		return err
	}
	for i := range classes {
		row := rows[i*nf : (i+1)*nf]
		if !rowOK(row, nf, false, false) {
			return fmt.Errorf("row %d: %w", i, rowError(row, nf, false, false))
		}
		classes[i], _ = m.classify(row)
		if proba != nil {
			m.answer(classes[i], proba[i*nc:(i+1)*nc])
		}
	}
	return nil
}

// Explain reports which rule fired for row: its name, or "default" when no
// rule matched.
func (m *Rules) Explain(row []float64) (Explanation, error) {
	if err := checkRow(row, len(m.info.Features), false, false); err != nil {
		return Explanation{}, err
	}
	c, fired := m.classify(row)
	e := Explanation{Prediction: m.answer(c, make([]float64, len(m.info.Classes))), Rule: "default"}
	if fired >= 0 {
		e.Rule = m.rules[fired].name
	}
	return e, nil
}
