package classifyhttp

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strings"

	"github.com/ml-production-service/classify"
	"github.com/prometheus/client_golang/prometheus"
)

// Contributions: why a tree model predicted what it did, per feature. A
// model that implements classify.Contributor gives, for a row, each
// feature's TreeSHAP contribution to each of its raw outputs (the class
// probabilities of a scikit-learn tree or forest, the margins of a boosted
// model) and the bias (expected value) they add to. They are answered only
// when asked for, so an old client's answer stays byte for byte what it
// was:
//
//   - POST /predict?contributions=true, POST /predict/batch?contributions=true,
//     or {"instances": [...], "contributions": true} in the batch envelope
//     (the /predict body is the row itself, whose keys are features: no
//     field is added there). Each answered row gains "contributions"
//     ({output: {feature: value}}), "expected_value" ({output: bias}) and
//     "raw_output" ({output: bias + the row's contributions}).
//   - /v2 infer: the output "contributions" in the request's outputs, or
//     its parameter {"contributions": true}: an FP64 tensor of shape
//     [N, outputs, features+1] (the bias last), its parameters naming the
//     axes.
//   - POST /models/{name}/importance: the mean |contribution| per output
//     and feature over the rows given, with the library's importances.
//
// A model that is not a Contributor (the heuristic), or a tree model whose
// artifact holds no node covers (the library's error wraps
// classify.ErrFormat), cannot explain: /predict answers 422 in the
// validation shape at the parameter's location, /v2 400.

// The names of the raw outputs' meanings, by kind (see contributionsInfo).
const (
	rawProbability = "probability"
	rawMargin      = "margin"
)

// outputContributions is the /v2 output holding contributions.
const outputContributions = "contributions"

// contributionsInfo is what GET /models says of a Contributor.
type contributionsInfo struct {
	// Outputs names the raw outputs the contributions are of, in order.
	Outputs []string `json:"outputs"`
	// RawOutput is what they are: "probability" (scikit-learn trees and
	// forests) or "margin" (boosted models, before the link function).
	RawOutput string `json:"raw_output"`
}

// importanceView is a TreeModel's classify.Importance as JSON, each keyed
// by feature in the model's feature order.
type importanceView struct {
	GainKind string           `json:"gain_kind"`
	Splits   ordered[int]     `json:"splits"`
	Gain     ordered[float64] `json:"gain"`
}

// ordered is an object of name → number, written in the order given
// (encoding/json would sort a map's keys).
type ordered[V int | float64] struct {
	keys []string
	vals []V
}

func (o ordered[V]) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, k := range o.keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(appendString(b, k), ':')
		switch v := any(o.vals[i]).(type) {
		case int:
			b = append(b, itoa(v)...)
		case float64:
			b = appendFloat(b, v)
		}
	}
	return append(b, '}'), nil
}

// explainer is a served model's contributions side, derived once per
// model: the model as a Contributor, and the JSON keys its answers use.
type explainer struct {
	model    classify.Contributor
	outputs  []string
	nf       int
	stride   int      // values per row: len(outputs)*(nf+1)
	outKeys  [][]byte // each output as a JSON key with its colon
	featKeys [][]byte // each feature likewise
	// outputsParam and featuresParam name the /v2 tensor's axes: JSON
	// arrays, as strings (a parameter is a string, number or boolean).
	outputsParam, featuresParam string
	info                        *contributionsInfo
	importance                  *importanceView // nil unless a classify.TreeModel
	explained                   prometheus.Counter
}

// newExplainer returns m's explainer, or nil when m is not a
// classify.Contributor.
func newExplainer(m classify.Model) *explainer {
	cm, ok := m.(classify.Contributor)
	if !ok {
		return nil
	}
	info := m.Info()
	e := &explainer{model: cm, outputs: cm.Outputs(), nf: len(info.Features)}
	e.stride = len(e.outputs) * (e.nf + 1)
	for _, o := range e.outputs {
		e.outKeys = append(e.outKeys, append(appendString(nil, o), ':'))
	}
	for _, f := range info.Features {
		e.featKeys = append(e.featKeys, append(appendString(nil, f), ':'))
	}
	outs, _ := json.Marshal(e.outputs)
	feats, _ := json.Marshal(append(append([]string{}, info.Features...), "bias"))
	e.outputsParam, e.featuresParam = string(outs), string(feats)
	e.info = &contributionsInfo{Outputs: e.outputs, RawOutput: rawOutputOf(info.Kind)}
	if tm, ok := m.(classify.TreeModel); ok {
		e.importance = importanceOf(tm.Importance())
	}
	return e
}

// newExplainer is newExplainer for a served variant, counting its
// explained rows in mps_contributions_rows_total.
func (h *Handler) newExplainer(c *served) *explainer {
	e := newExplainer(c.model)
	if e != nil {
		e.explained = h.metrics.contributions.WithLabelValues(c.variant, c.name)
	}
	return e
}

func importanceOf(imp classify.Importance) *importanceView {
	return &importanceView{GainKind: imp.GainKind,
		Splits: ordered[int]{keys: imp.Features, vals: imp.Splits},
		Gain:   ordered[float64]{keys: imp.Features, vals: imp.Gain}}
}

// describe is what GET /models says of the model; nil for one that cannot
// explain.
func (e *explainer) describe() (*contributionsInfo, *importanceView) {
	if e == nil {
		return nil, nil
	}
	return e.info, e.importance
}

// rawOutputOf says what a kind's raw outputs are: the probabilities of a
// scikit-learn tree or forest, the margins of every boosted kind.
func rawOutputOf(k classify.Kind) string {
	if k == classify.DecisionTree || k == classify.RandomForest {
		return rawProbability
	}
	return rawMargin
}

// appendRow appends one row's members "contributions", "expected_value"
// and "raw_output" (with their leading commas) from vals, the row's
// e.stride values as Contributions writes them. The raw output is the
// bias plus the contributions, summed in feature order.
func (e *explainer) appendRow(out []byte, vals []float64) []byte {
	nf := e.nf
	out = append(out, `,"contributions":{`...)
	for o, key := range e.outKeys {
		if o > 0 {
			out = append(out, ',')
		}
		out = append(append(out, key...), '{')
		row := vals[o*(nf+1) : (o+1)*(nf+1)]
		for f, fk := range e.featKeys {
			if f > 0 {
				out = append(out, ',')
			}
			out = appendFloat(append(out, fk...), row[f])
		}
		out = append(out, '}')
	}
	out = append(out, `},"expected_value":{`...)
	for o, key := range e.outKeys {
		if o > 0 {
			out = append(out, ',')
		}
		out = appendFloat(append(out, key...), vals[o*(nf+1)+nf])
	}
	out = append(out, `},"raw_output":{`...)
	for o, key := range e.outKeys {
		if o > 0 {
			out = append(out, ',')
		}
		out = appendFloat(append(out, key...), rawOutput(vals[o*(nf+1):(o+1)*(nf+1)]))
	}
	return append(out, '}')
}

// rawOutput is the raw output one output's contributions and bias (last)
// add to.
func rawOutput(vals []float64) float64 {
	s := vals[len(vals)-1]
	for _, v := range vals[:len(vals)-1] {
		s += v
	}
	return s
}

// boolQuery reads the last value of the query parameter name as pydantic
// v1 reads a bool (true, 1, yes, on, t, y and their opposites, in any
// case). present is false when the parameter is absent; ok is false for
// a value that is not a boolean.
func boolQuery(r *http.Request, name string) (value, present, ok bool) {
	v, found := queryValue(r.URL.RawQuery, name)
	if !found {
		return false, false, true
	}
	switch strings.ToLower(v) {
	case "1", "on", "t", "true", "y", "yes":
		return true, true, true
	case "0", "off", "f", "false", "n", "no":
		return false, true, true
	}
	return false, true, false
}

// queryValue returns the last value of the parameter name in the raw
// query, as url.ParseQuery would read it, without building the whole map.
func queryValue(raw, name string) (value string, found bool) {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		if strings.ContainsAny(k, "%+") {
			if u, err := url.QueryUnescape(k); err == nil {
				k = u
			}
		}
		if k != name {
			continue
		}
		if strings.ContainsAny(v, "%+") {
			if u, err := url.QueryUnescape(v); err == nil {
				v = u
			}
		}
		value, found = v, true
	}
	return value, found
}

var queryContributions = []any{"query", "contributions"}

// askedContributions reads ?contributions= for /predict and
// /predict/batch. It answers 422 and returns ok false for a value that is
// not a boolean, and for true when c cannot explain.
func (h *Handler) askedContributions(w http.ResponseWriter, r *http.Request, c *served) (want, ok bool) {
	want, _, ok = boolQuery(r, "contributions")
	if !ok {
		writeJSON(w, http.StatusUnprocessableEntity, validationError{[]issue{{Loc: queryContributions,
			Msg: "value could not be parsed to a boolean", Type: "type_error.bool"}}})
		return false, false
	}
	if want && c.explain == nil {
		cannotExplain(w, c, queryContributions)
		return false, false
	}
	return want, true
}

// cannotExplainMsg says that c's model is not a Contributor.
func cannotExplainMsg(c *served) string {
	return "model " + quote(c.name) + " (" + string(c.info.Kind) + ") cannot explain contributions: only tree models can " +
		"(decision_tree, random_forest, xgboost, lightgbm, hist_gradient_boosting, gradient_boosting)"
}

func quote(s string) string { return string(appendString(nil, s)) }

// cannotExplain answers 422: c's model is not a Contributor; at is where
// contributions were asked for.
func cannotExplain(w http.ResponseWriter, c *served, at []any) {
	writeJSON(w, http.StatusUnprocessableEntity, validationError{[]issue{{Loc: at, Msg: cannotExplainMsg(c),
		Type: "value_error.contributions.unsupported"}}})
}

// contributionsFailed answers a Contributions error that is not the row's
// fault: a model whose artifact cannot explain (ErrFormat: no node covers,
// say) is 422 at the parameter, anything else 500.
func (h *Handler) contributionsFailed(w http.ResponseWriter, r *http.Request, c *served, err error, at []any) {
	if errors.Is(err, classify.ErrFormat) {
		h.log.Warn("contributions unavailable", "model", c.name, "error", err.Error())
		writeJSON(w, http.StatusUnprocessableEntity, validationError{[]issue{{Loc: at,
			Msg:  "model " + quote(c.name) + " cannot explain contributions: " + strings.TrimPrefix(err.Error(), "classify: "),
			Type: "value_error.contributions.unavailable"}}})
		return
	}
	h.log.Error("contributions failed", "model", c.name, "error", err.Error())
	writeStatusError(w, r.URL.Path, http.StatusInternalServerError)
}

// contributeRows writes the contributions of the rows back to back in
// rows into wk.contribs, for every instance whose slot is not -1, and
// returns them. A row the model refuses gets its issues in wk.issues and
// its slot -1, as predictFailed places them. On any other failure it
// answers and returns ok false.
func (h *Handler) contributeRows(w http.ResponseWriter, r *http.Request, c *served, wk *work, slot []int, rows []float64, at []any, itemsAt []any) ([]float64, bool) {
	e := c.explain
	nf := e.nf
	n := len(rows) / max(nf, 1)
	wk.contribs = grow(wk.contribs, n*e.stride)
	err := e.model.ContributionsBatch(rows, wk.contribs)
	if err == nil {
		e.explained.Add(float64(n))
		return wk.contribs, true
	}
	if !errors.Is(err, classify.ErrInput) {
		h.contributionsFailed(w, r, c, err, at)
		return nil, false
	}
	// A row the model refuses stops the batch: explain one by one, so
	// that each refused row gets its own detail.
	done := 0
	for i, j := range slot {
		if j < 0 {
			continue
		}
		row := rows[j*nf : (j+1)*nf]
		err := e.model.Contributions(row, wk.contribs[j*e.stride:(j+1)*e.stride])
		switch {
		case err == nil:
			done++
			continue
		case !errors.Is(err, classify.ErrInput):
			h.contributionsFailed(w, r, c, err, at)
			return nil, false
		}
		if wk.issues[i] = h.predictFailed(w, r, c, row, err, loc(itemsAt, i)); wk.issues[i] == nil {
			return nil, false
		}
		slot[i] = -1
	}
	e.explained.Add(float64(done))
	return wk.contribs, true
}

// handleImportance answers POST /models/{name}/importance: over the rows
// of a batch envelope, the mean |contribution| of each feature to each raw
// output, with the library's split and gain importances. Every row must be
// valid: an aggregate over the rows that happened to validate would
// mislead, so any invalid row answers 422 with every row's issues.
func (h *Handler) handleImportance(w http.ResponseWriter, r *http.Request) {
	c := h.named(w, r, r.PathValue("name"))
	if c == nil {
		return
	}
	bodyAt := []any{"body"}
	if c.explain == nil {
		cannotExplain(w, c, bodyAt)
		return
	}
	wk := getWork()
	defer putWork(wk)
	slot, rows, _, ok := h.readInstances(w, r, c, wk)
	if !ok {
		return
	}
	invalid := func() bool {
		var all []issue
		for _, is := range wk.issues {
			all = append(all, is...)
		}
		if len(all) > 0 {
			writeJSON(w, http.StatusUnprocessableEntity, validationError{all})
			return true
		}
		return false
	}
	if invalid() {
		return
	}
	vals, ok := h.contributeRows(w, r, c, wk, slot, rows, bodyAt, []any{"body", "instances"})
	if !ok || invalid() {
		return
	}
	e := c.explain
	n := len(slot)
	no, nf := len(e.outputs), e.nf
	sums := make([]float64, no*(nf+1))
	for j := range n {
		for k, v := range vals[j*e.stride : (j+1)*e.stride] {
			if k%(nf+1) == nf {
				sums[k] += v // the bias: its mean
			} else {
				sums[k] += math.Abs(v)
			}
		}
	}
	for k := range sums {
		sums[k] /= float64(n)
	}
	out := append(wk.out[:0], `{"rows":`...)
	out = append(out, itoa(n)...)
	out = append(out, `,"raw_output":`...)
	out = appendString(out, e.info.RawOutput)
	out = append(out, `,"mean_abs_contributions":{`...)
	for o, key := range e.outKeys {
		if o > 0 {
			out = append(out, ',')
		}
		out = append(append(out, key...), '{')
		for f, fk := range e.featKeys {
			if f > 0 {
				out = append(out, ',')
			}
			out = appendFloat(append(out, fk...), sums[o*(nf+1)+f])
		}
		out = append(out, '}')
	}
	out = append(out, `},"expected_value":{`...)
	for o, key := range e.outKeys {
		if o > 0 {
			out = append(out, ',')
		}
		out = appendFloat(append(out, key...), sums[o*(nf+1)+nf])
	}
	out = append(out, '}')
	if e.importance != nil {
		out = appendJSON(append(out, `,"importance":`...), e.importance)
	}
	out = append(append(out, `,"model":`...), c.identity...)
	wk.out = append(out, '}')
	writeBody(w, http.StatusOK, wk.out)
}

// named returns the served model name addresses (a variant's name, or a
// model's: see lookup); otherwise it answers 404 or 503 in the
// {"detail": ...} shape and returns nil.
func (h *Handler) named(w http.ResponseWriter, r *http.Request, name string) *served {
	c, err := h.lookup(name, "")
	if err != nil {
		var ie *InferError
		if errors.As(err, &ie) {
			writeDetail(w, ie.Status, ie.Message)
		} else {
			writeStatusError(w, r.URL.Path, http.StatusInternalServerError)
		}
		return nil
	}
	noteServed(w, c)
	return c
}
