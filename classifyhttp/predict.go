package classifyhttp

import (
	"bytes"
	"errors"
	"math"
	"mime"
	"net/http"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/ml-production-service/classify"
)

// POST /predict answers one row given as named features, as the old service
// did: {"prediction": "setosa"}, followed by the class probabilities and the
// model's identity (fields the old clients ignore). POST /predict/batch
// takes {"instances": [row, ...]} and answers one result per row, in order:
// a prediction, or that row's validation errors. Feature names come from the
// serving model's schema, never from constants.

// work is one request's scratch space, pooled so that a prediction
// allocates next to nothing.
type work struct {
	body  bytes.Buffer
	doc   jsonDoc
	row   []float64
	proba []float64
	slots []int32 // node of each feature's value, -1 when absent
	out   []byte

	// A batch's valid rows back to back, their classes and probabilities,
	// and per instance its row (or -1) and its issues.
	rows    []float64
	classes []int
	probas  []float64
	rowOf   []int
	issues  [][]issue

	contribs []float64 // contributions, when asked for
}

var works = sync.Pool{New: func() any { return new(work) }}

func getWork() *work { return works.Get().(*work) }

func putWork(wk *work) {
	if wk.body.Cap() > 64<<10 || cap(wk.out) > 64<<10 || cap(wk.doc.nodes) > 4096 || cap(wk.rows) > 8<<10 || cap(wk.contribs) > 8<<10 {
		return // let a huge batch's buffers go
	}
	wk.doc.src = nil
	clear(wk.issues)
	works.Put(wk)
}

// readJSON reads and parses the request body into wk.doc. When the body is
// missing, not JSON, too large or malformed, it answers and returns false.
// Like FastAPI, it parses a body declared as JSON (or not declared at all)
// and treats any other content type as a non-object.
func readJSON(w http.ResponseWriter, r *http.Request, wk *work) (ok bool) {
	wk.body.Reset()
	if _, err := wk.body.ReadFrom(r.Body); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeStatusError(w, r.URL.Path, http.StatusRequestEntityTooLarge)
			return false
		}
		writeDetail(w, http.StatusBadRequest, "There was an error reading the body")
		return false
	}
	body := wk.body.Bytes()
	if len(body) == 0 {
		writeJSON(w, http.StatusUnprocessableEntity, validationError{[]issue{missingIssue([]any{"body"})}})
		return false
	}
	if !isJSONType(firstValue(r.Header["Content-Type"])) {
		writeJSON(w, http.StatusUnprocessableEntity, validationError{[]issue{dictIssue([]any{"body"})}})
		return false
	}
	if !utf8.Valid(body) {
		writeDetail(w, http.StatusBadRequest, "There was an error parsing the body")
		return false
	}
	if err := wk.doc.parse(body); err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, validationError{[]issue{jsonIssue(err, body)}})
		return false
	}
	return true
}

// isJSONType reports whether FastAPI would parse a body of content type ct
// as JSON: no type at all, application/json or application/*+json.
func isJSONType(ct string) bool {
	if ct == "" || ct == jsonType {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == jsonType || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}

func (h *Handler) noModel(w http.ResponseWriter, r *http.Request) {
	writeStatusError(w, r.URL.Path, http.StatusServiceUnavailable)
}

func (h *Handler) handlePredict(w http.ResponseWriter, r *http.Request) {
	c := h.route(w, r, h.view())
	if c == nil {
		h.noModel(w, r)
		return
	}
	explain, ok := h.askedContributions(w, r, c)
	if !ok {
		return
	}
	wk := getWork()
	defer putWork(wk)
	if !readJSON(w, r, wk) {
		return
	}
	if wk.doc.nodes[0].kind != jObject {
		writeJSON(w, http.StatusUnprocessableEntity, validationError{[]issue{dictIssue([]any{"body"})}})
		return
	}
	issues := h.readRow(c, wk, 0, nil)
	var p classify.Prediction
	if len(issues) == 0 {
		var err error
		if p, err = c.model.Predict(wk.row, wk.proba); err != nil {
			issues = h.predictFailed(w, r, c, wk.row, err, nil)
			if issues == nil {
				return
			}
		}
	}
	if len(issues) == 0 && explain {
		wk.contribs = grow(wk.contribs, c.explain.stride)
		if err := c.explain.model.Contributions(wk.row, wk.contribs); err != nil {
			if !errors.Is(err, classify.ErrInput) {
				h.contributionsFailed(w, r, c, err, queryContributions)
				return
			}
			if issues = h.predictFailed(w, r, c, wk.row, err, nil); issues == nil {
				return
			}
		} else {
			c.explain.explained.Inc()
		}
	}
	if len(issues) > 0 {
		writeJSON(w, http.StatusUnprocessableEntity, validationError{issues})
		return
	}
	c.counters[p.Class].Inc()
	h.observeShadow(c, wk.row, p)
	if h.opts.PayloadLog != nil {
		h.logPayload(responseRequestID(w), c, wk.row, p.Class, p.Probabilities)
	}
	out := append(wk.out[:0], '{')
	out = appendPrediction(out, c, p)
	if explain {
		out = c.explain.appendRow(out, wk.contribs)
	}
	out = append(append(out, `,"model":`...), c.identity...)
	wk.out = append(out, '}')
	writeBody(w, http.StatusOK, wk.out)
}

// appendPrediction appends the members "prediction" and "probabilities".
func appendPrediction(out []byte, c *served, p classify.Prediction) []byte {
	out = append(out, `"prediction":`...)
	out = append(out, c.classes[p.Class]...)
	out = append(out, `,"probabilities":{`...)
	for i, v := range p.Probabilities {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(append(out, c.classes[i]...), ':')
		out = appendFloat(out, v)
	}
	return append(out, '}')
}

// readRow reads the object at node obj into wk.row, in schema order, and
// returns the issues found, located under prefix (nil for ["body"]).
func (h *Handler) readRow(c *served, wk *work, obj int, prefix []any) []issue {
	nf := len(c.info.Features)
	wk.row = grow(wk.row, nf)
	wk.proba = grow(wk.proba, len(c.info.Classes))
	if cap(wk.slots) < nf {
		wk.slots = make([]int32, nf)
	}
	slots := wk.slots[:nf]
	for i := range slots {
		slots[i] = -1
	}
	d := &wk.doc
	members := int(d.nodes[obj].count)
	k := obj + 1
	for range members {
		v := k + 1
		i, ok := -1, false
		if d.nodes[k].escaped {
			i, ok = c.index[d.text(k)]
		} else {
			i, ok = c.index[string(d.raw(k))]
		}
		if ok {
			slots[i] = int32(v) // a repeated key keeps its last value, as in Python
		}
		k = v + int(d.nodes[v].size)
	}
	var issues []issue
	positive := !h.opts.AllowNonPositive
	for i, name := range c.info.Features {
		f := failMissing
		if slots[i] >= 0 {
			wk.row[i], f = floatValue(d, int(slots[i]), positive, c.info.Missing)
		}
		if f != accepted {
			if prefix == nil {
				prefix = []any{"body"}
			}
			issues = append(issues, f.issueAt(loc(prefix, name)))
		}
	}
	return issues
}

func growInts(b []int, n int) []int {
	if cap(b) < n {
		return make([]int, n)
	}
	return b[:n]
}

func grow(b []float64, n int) []float64 {
	if cap(b) < n {
		return make([]float64, n)
	}
	return b[:n]
}

// predictFailed turns a Predict error into issues located under prefix:
// the library refuses infinities and values too large for the model's
// float32 arithmetic. Any other error is the server's fault: it answers 500
// and returns nil.
func (h *Handler) predictFailed(w http.ResponseWriter, r *http.Request, c *served, row []float64, err error, prefix []any) []issue {
	if prefix == nil {
		prefix = []any{"body"}
	}
	if !errors.Is(err, classify.ErrInput) {
		h.log.Error("predict failed", "model", c.name, "error", err.Error())
		writeStatusError(w, r.URL.Path, http.StatusInternalServerError)
		return nil
	}
	// The library's *InputError carries the model's own limit (float32's
	// for the tree models, float64's for rules); report every value beyond
	// it, as pydantic reports every field. A model of another package that
	// returns a bare ErrInput gets its non-finite values placed, and the
	// error itself reported on the body otherwise.
	limit := math.Inf(1)
	var ie *classify.InputError
	if errors.As(err, &ie) {
		limit = ie.Limit
	}
	var issues []issue
	for i, v := range row {
		at := loc(prefix, c.info.Features[i])
		switch {
		case math.IsNaN(v) && c.info.Missing: // a missing value the model takes
		case math.IsNaN(v) || math.IsInf(v, 0):
			issues = append(issues, notFiniteIssue(at))
		case math.Abs(v) > limit:
			issues = append(issues, notLeIssue(at, limit))
		}
	}
	if len(issues) == 0 {
		issues = append(issues, issue{Loc: prefix, Msg: err.Error(), Type: "value_error"})
	}
	return issues
}

func (h *Handler) handlePredictBatch(w http.ResponseWriter, r *http.Request) {
	c := h.route(w, r, h.view()) // one variant answers the whole batch
	if c == nil {
		h.noModel(w, r)
		return
	}
	explain, ok := h.askedContributions(w, r, c)
	if !ok {
		return
	}
	wk := getWork()
	defer putWork(wk)
	slot, rows, asked, ok := h.readInstances(w, r, c, wk)
	if !ok {
		return
	}
	explainAt := queryContributions
	if asked && !explain {
		explainAt = bodyContributions
		if c.explain == nil {
			cannotExplain(w, c, explainAt)
			return
		}
		explain = true
	}
	at := []any{"body", "instances"}
	nf, nc := len(c.info.Features), len(c.info.Classes)
	valid := len(rows) / nf
	wk.classes = growInts(wk.classes, valid)
	wk.probas = grow(wk.probas, valid*nc)
	if err := c.model.PredictBatch(rows, wk.classes, wk.probas); err != nil {
		// A row the model refuses stops the batch: predict one by one,
		// so that each refused row gets its own detail.
		for i, j := range slot {
			if j < 0 {
				continue
			}
			row := rows[j*nf : (j+1)*nf]
			p, err := c.model.Predict(row, wk.probas[j*nc:(j+1)*nc])
			if err == nil {
				wk.classes[j] = p.Class
				continue
			}
			if wk.issues[i] = h.predictFailed(w, r, c, row, err, loc(at, i)); wk.issues[i] == nil {
				return
			}
			slot[i] = -1
		}
	}
	var contribs []float64
	if explain {
		if contribs, ok = h.contributeRows(w, r, c, wk, slot, rows, explainAt, at); !ok {
			return
		}
	}
	out := append(wk.out[:0], `{"predictions":[`...)
	failed := 0
	for i, j := range slot {
		if i > 0 {
			out = append(out, ',')
		}
		if j < 0 {
			failed++
			out = append(out, `{"detail":`...)
			out = appendJSON(out, wk.issues[i])
			out = append(out, '}')
			continue
		}
		class := wk.classes[j]
		p := classify.Prediction{Class: class, Label: c.info.Classes[class], Probabilities: wk.probas[j*nc : (j+1)*nc]}
		c.counters[class].Inc()
		h.observeShadow(c, rows[j*nf:(j+1)*nf], p)
		if h.opts.PayloadLog != nil {
			h.logPayload(responseRequestID(w), c, rows[j*nf:(j+1)*nf], class, p.Probabilities)
		}
		out = appendPrediction(append(out, '{'), c, p)
		if explain {
			out = c.explain.appendRow(out, contribs[j*c.explain.stride:(j+1)*c.explain.stride])
		}
		out = append(out, '}')
	}
	out = append(out, `],"errors":`...)
	out = append(out, itoa(failed)...)
	out = append(append(out, `,"model":`...), c.identity...)
	wk.out = append(out, '}')
	writeBody(w, http.StatusOK, wk.out)
}

var bodyContributions = []any{"body", "contributions"}

// readInstances reads a batch envelope, {"instances": [row, ...]} with 1
// to MaxBatch rows and optionally "contributions": a boolean, and
// validates every instance against c's schema. It returns per instance
// its row among rows (the valid ones, back to back) or -1, whose issues
// are then in wk.issues[i], and whether the envelope asked for
// contributions. When the body or the envelope is not valid, it answers
// and returns ok false.
func (h *Handler) readInstances(w http.ResponseWriter, r *http.Request, c *served, wk *work) (slot []int, rows []float64, contributions, ok bool) {
	if !readJSON(w, r, wk) {
		return nil, nil, false, false
	}
	d := &wk.doc
	fail := func(is issue) {
		writeJSON(w, http.StatusUnprocessableEntity, validationError{[]issue{is}})
	}
	if d.nodes[0].kind != jObject {
		fail(dictIssue([]any{"body"}))
		return nil, nil, false, false
	}
	list := -1
	k := 1
	for range int(d.nodes[0].count) {
		switch d.text(k) {
		case "instances":
			list = k + 1
		case "contributions":
			switch d.nodes[k+1].kind {
			case jTrue:
				contributions = true
			case jFalse, jNull:
				contributions = false
			default:
				fail(issue{Loc: bodyContributions, Msg: "value could not be parsed to a boolean", Type: "type_error.bool"})
				return nil, nil, false, false
			}
		}
		k += 1 + int(d.nodes[k+1].size)
	}
	at := []any{"body", "instances"}
	switch {
	case list < 0:
		fail(missingIssue(at))
		return nil, nil, false, false
	case d.nodes[list].kind != jArray:
		fail(listIssue(at))
		return nil, nil, false, false
	case d.nodes[list].count == 0:
		fail(issue{Loc: at, Msg: "ensure this value has at least 1 items", Type: "value_error.list.min_items",
			Ctx: map[string]any{"limit_value": 1}})
		return nil, nil, false, false
	case int(d.nodes[list].count) > h.opts.MaxBatch:
		fail(issue{Loc: at, Msg: "ensure this value has at most " + itoa(h.opts.MaxBatch) + " items",
			Type: "value_error.list.max_items", Ctx: map[string]any{"limit_value": h.opts.MaxBatch}})
		return nil, nil, false, false
	}
	// Validate every instance, gathering the valid rows back to back, so
	// that the caller predicts them with one PredictBatch call (the
	// model's batch path) and answers in order, each failed row's detail
	// in its place.
	n := int(d.nodes[list].count)
	nf := len(c.info.Features)
	wk.rows = grow(wk.rows, n*nf)
	wk.issues = wk.issues[:0]
	if cap(wk.rowOf) < n {
		wk.rowOf = make([]int, n)
	}
	slot = wk.rowOf[:n]
	valid := 0
	k = list + 1
	for i := range n {
		slot[i] = -1
		if d.nodes[k].kind != jObject {
			wk.issues = append(wk.issues, []issue{dictIssue(loc(at, i))})
		} else if issues := h.readRow(c, wk, k, loc(at, i)); len(issues) > 0 {
			wk.issues = append(wk.issues, issues)
		} else {
			copy(wk.rows[valid*nf:], wk.row)
			slot[i] = valid
			valid++
			wk.issues = append(wk.issues, nil)
		}
		k += int(d.nodes[k].size)
	}
	return slot, wk.rows[:valid*nf], contributions, true
}
