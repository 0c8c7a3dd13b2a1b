package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/ml-production-service/classify"
)

// explainCmd writes each row's feature contributions:
// `classify explain [flags] [FILE]`. It streams the input through the
// same pipeline as predict (chunks scored in parallel, written in order,
// constant memory), with the contributions computed in each chunk's batch.
func explainCmd(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("explain", "explain [flags] [FILE]\n\n"+
		"Explains every row of FILE (CSV with a header row, or JSON Lines; stdin when FILE is - or absent):\n"+
		"each feature's TreeSHAP contribution to each of the model's raw outputs (the class probabilities\n"+
		"of a decision tree or random forest, the margins of a boosted model; a binary boosted model has\n"+
		"one, its positive class), and the bias they add to. Only tree models explain.\n\n"+
		"CSV output: line (the input line of the row), the -keep columns, prediction, then per output O\n"+
		"the columns O:FEATURE for each feature, O:bias and O:raw_output (the bias plus the\n"+
		"contributions). JSON Lines output: one object per row,\n"+
		"{\"line\", the -keep keys, \"prediction\", \"contributions\": {O: {FEATURE: value}},\n"+
		"\"expected_value\": {O: bias}, \"raw_output\": {O: bias + contributions}}, as the HTTP server's\n"+
		"/predict?contributions=true answers."+recordLimitHelp, e.stdout)
	var f scanFlags
	f.register(fs)
	outPath := fs.String("o", "", "write the contributions to this `FILE` (default stdout)")
	outFormat := fs.String("output-format", "", "csv or jsonl (default: the input's format)")
	keep := fs.String("keep", "", "copy these input `COLUMNS` (comma-separated: an id, the label) into each output row")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	path, err := inputArg("explain", pos)
	if err != nil {
		return err
	}
	format, err := parseFormat("-output-format", *outFormat)
	if err != nil {
		return err
	}
	var kept []string
	if *keep != "" {
		for k := range strings.SplitSeq(*keep, ",") {
			k = strings.TrimSpace(k)
			if k == "" || slices.Contains(kept, k) {
				return usagef("-keep %q: name each column once, separated by commas", *keep)
			}
			if k == lineName || k == predictionName {
				return usagef("-keep %q: explain writes a %q column itself", *keep, k)
			}
			kept = append(kept, k)
		}
	}
	s, cm, err := openContribScan("explain", &f, given(fs), path, e)
	if err != nil {
		return err
	}
	info := s.model.Info()
	if format == "" {
		format = s.in.format
	}
	enc := newContribEncoder(info, cm.Outputs(), format, kept)
	if s.in.format == formatCSV {
		for _, k := range kept {
			i := slices.Index(s.header, k)
			if i < 0 {
				s.in.close()
				return fmt.Errorf("%s: -keep: the header has no column %s (it has: %s)", s.in.name, k, strings.Join(s.header, ", "))
			}
			enc.cols = append(enc.cols, i)
		}
	}

	out, err := openOutput("explain", *outPath, e.stdout)
	if err != nil {
		s.in.close()
		return err
	}
	if format == formatCSV {
		out.Write(appendCSVRecord(nil, enc.header()...))
	}
	stride := len(cm.Outputs()) * (len(info.Features) + 1)
	work := func(c *chunk) {
		if len(kept) > 0 {
			c.split() // keptValues reads the fields
		}
		c.batch.score(c, s.model, s.parser, info)
		c.batch.contribute(cm, info, stride)
		for i := range c.recs {
			rec := &c.recs[i]
			p, ok := c.batch.prediction(i, info)
			if !ok {
				c.addBad(rec.line, c.batch.errs[i])
				continue
			}
			j := c.batch.row[i]
			c.out = enc.append(c.out, rec, p, c.batch.contrib[j*stride:(j+1)*stride])
			c.scored++
		}
	}
	return out.finish(s.run(ctx, work, out.emit))
}

// lineName is the column (or key) explain writes each row's input line in.
const lineName = "line"

// openContribScan is openScan for the rows of path with the model as
// contributor checks it, for command cmd. A model that cannot explain
// fails before the input is opened: another -model is the fix, whatever
// the input holds.
func openContribScan(cmd string, f *scanFlags, set map[string]bool, path string, e env) (*scan, classify.Contributor, error) {
	cm, err := loadContributor(cmd, f, set, e)
	if err != nil {
		return nil, nil, err
	}
	s, err := openScanModel(cmd, f, cm, path, "", nil, e)
	if err != nil {
		return nil, nil, err
	}
	return s, cm, nil
}

// loadContributor loads the model the flags select, for command cmd, as
// contributor checks it.
func loadContributor(cmd string, f *scanFlags, set map[string]bool, e env) (classify.Contributor, error) {
	m, err := f.loadModel(cmd, set, e)
	if err != nil {
		return nil, err
	}
	return contributor(cmd, m)
}

// contributor returns m as a classify.Contributor, after checking that
// its artifact can explain (a tree dump without node covers cannot: the
// library's error wraps ErrFormat), or an error for command cmd. A model
// that is not one is a usage error: another -model is the fix.
func contributor(cmd string, m classify.Model) (classify.Contributor, error) {
	info := m.Info()
	cm, ok := m.(classify.Contributor)
	if !ok {
		return nil, usagef("%s: model %s (%s) cannot explain contributions: only tree models can (decision_tree, random_forest, xgboost, "+
			"lightgbm, hist_gradient_boosting, gradient_boosting)", cmd, modelLabel(info), info.Kind)
	}
	row := make([]float64, len(info.Features))
	for i := range row {
		row[i] = 1
	}
	err := cm.Contributions(row, make([]float64, len(cm.Outputs())*(len(row)+1)))
	if errors.Is(err, classify.ErrFormat) {
		return nil, libraryErr(cmd, "model "+modelLabel(info)+" cannot explain contributions", err)
	}
	return cm, nil
}

// modelLabel names a model in messages: its registry name, or its kind.
func modelLabel(info classify.Info) string {
	if info.Name != "" {
		return info.Name
	}
	return string(info.Kind)
}

// contribute computes the contributions of the rows parse (or score)
// parsed and the model accepted, into b.contrib (stride values a row); a
// row the model refuses becomes a bad row, as in score.
func (b *batch) contribute(m classify.Contributor, info classify.Info, stride int) {
	nf := len(info.Features)
	rows := b.rows
	b.contrib = resize(b.contrib, len(rows)/nf*stride)
	if m.ContributionsBatch(rows, b.contrib) == nil {
		return
	}
	for i, j := range b.row {
		if j < 0 {
			continue
		}
		if err := m.Contributions(rows[j*nf:(j+1)*nf], b.contrib[j*stride:(j+1)*stride]); err != nil {
			b.errs[i], b.row[i] = predictError(err, info.Features), -1
		}
	}
}

// contribEncoder appends an explained record to the output.
type contribEncoder struct {
	csv      bool
	features []string
	outputs  []string
	kept     []string
	cols     []int    // CSV input: the column of each kept name
	labels   [][]byte // JSON: each class as a JSON string
	outKeys  [][]byte // JSON: each output as a key with its colon
	featKeys [][]byte // JSON: each feature likewise
	keptKeys [][]byte // JSON: each kept name likewise
}

func newContribEncoder(info classify.Info, outputs []string, format string, kept []string) *contribEncoder {
	e := &contribEncoder{csv: format == formatCSV, features: info.Features, outputs: outputs, kept: kept}
	key := func(s string) []byte {
		k, _ := json.Marshal(s)
		return append(k, ':')
	}
	for _, c := range info.Classes {
		l, _ := json.Marshal(c)
		e.labels = append(e.labels, l)
	}
	for _, o := range outputs {
		e.outKeys = append(e.outKeys, key(o))
	}
	for _, f := range info.Features {
		e.featKeys = append(e.featKeys, key(f))
	}
	for _, k := range kept {
		e.keptKeys = append(e.keptKeys, key(k))
	}
	return e
}

// header is the CSV output's header row.
func (e *contribEncoder) header() []string {
	h := append(append([]string{lineName}, e.kept...), predictionName)
	for _, o := range e.outputs {
		for _, f := range e.features {
			h = append(h, o+":"+f)
		}
		h = append(h, o+":bias", o+":raw_output")
	}
	return h
}

func (e *contribEncoder) append(dst []byte, rec *record, p classify.Prediction, vals []float64) []byte {
	kept := e.keptValues(rec)
	nf := len(e.features)
	if e.csv {
		dst = append(dst, strconv.Itoa(rec.line)...)
		for _, k := range kept {
			dst = appendCSVField(append(dst, ','), k)
		}
		dst = appendCSVField(append(dst, ','), p.Label)
		for o := range e.outputs {
			row := vals[o*(nf+1) : (o+1)*(nf+1)]
			for _, v := range row {
				dst = appendFloat(append(dst, ','), v)
			}
			dst = appendFloat(append(dst, ','), rawOutput(row))
		}
		return append(dst, '\n')
	}
	dst = append(dst, `{"`+lineName+`":`...)
	dst = append(dst, strconv.Itoa(rec.line)...)
	for i, k := range kept {
		dst = append(append(append(dst, ','), e.keptKeys[i]...), k...)
	}
	dst = append(dst, `,"`+predictionName+`":`...)
	dst = append(dst, e.labels[p.Class]...)
	dst = append(dst, `,"contributions":{`...)
	for o, ok := range e.outKeys {
		if o > 0 {
			dst = append(dst, ',')
		}
		dst = append(append(dst, ok...), '{')
		for f, fk := range e.featKeys {
			if f > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONFloat(append(dst, fk...), vals[o*(nf+1)+f])
		}
		dst = append(dst, '}')
	}
	dst = append(dst, `},"expected_value":{`...)
	for o, ok := range e.outKeys {
		if o > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONFloat(append(dst, ok...), vals[o*(nf+1)+nf])
	}
	dst = append(dst, `},"raw_output":{`...)
	for o, ok := range e.outKeys {
		if o > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONFloat(append(dst, ok...), rawOutput(vals[o*(nf+1):(o+1)*(nf+1)]))
	}
	return append(dst, "}}\n"...)
}

// rawOutput is an output's raw value from its contributions row (the
// features' values, then the bias): the bias plus the contributions, in
// that order, as the server's raw_output.
func rawOutput(row []float64) float64 {
	nf := len(row) - 1
	sum := row[nf]
	for _, v := range row[:nf] {
		sum += v
	}
	return sum
}

// keptValues returns the record's -keep values: CSV fields as they are,
// JSON values as raw JSON (null for a key the object lacks).
func (e *contribEncoder) keptValues(rec *record) []string {
	if len(e.kept) == 0 {
		return nil
	}
	vals := make([]string, len(e.kept))
	if rec.fields != nil {
		for i, col := range e.cols {
			vals[i] = rec.fields[col]
		}
		if !e.csv { // CSV input, JSON output: the fields as JSON strings
			for i, v := range vals {
				q, _ := json.Marshal(v)
				vals[i] = string(q)
			}
		}
		return vals
	}
	var obj map[string]json.RawMessage
	_ = json.Unmarshal(nanToNull(rec.raw), &obj) // the row parsed already
	for i, k := range e.kept {
		raw, ok := obj[k]
		switch {
		case !ok:
			vals[i] = "null"
			if e.csv {
				vals[i] = ""
			}
		case e.csv && len(raw) > 0 && raw[0] == '"':
			var s string
			_ = json.Unmarshal(raw, &s)
			vals[i] = s
		default:
			vals[i] = string(raw)
		}
	}
	return vals
}

// appendJSONFloat appends v as a JSON number, null when it has none.
func appendJSONFloat(dst []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(dst, "null"...)
	}
	return appendFloat(dst, v)
}
