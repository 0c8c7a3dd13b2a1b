package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/ml-production-service/classify"
)

// importanceCmd prints a tree model's importances:
// `classify importance [flags] [FILE]`. With FILE, it streams the rows
// through predict's pipeline and adds the mean |contribution| of each
// feature to each raw output over them.
func importanceCmd(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("importance", "importance [flags] [FILE]\n\n"+
		"Prints the model's feature importances as its library reports them: the number of splits on\n"+
		"each feature and its gain (XGBoost's total_gain, LightGBM's gain, scikit-learn's normalised\n"+
		"impurity decrease). With FILE (CSV or JSON Lines; - for stdin), also the mean absolute\n"+
		"contribution (mean |SHAP|) of each feature to each raw output over FILE's rows, and the bias.\n"+
		"Only tree models have them."+recordLimitHelp, e.stdout)
	var f scanFlags
	f.register(fs)
	asJSON := fs.Bool("json", false, "print JSON (as POST /models/{name}/importance answers) instead of tables")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("importance takes at most one input file, got %d", len(pos))
	}
	var imp *importanceReport
	if len(pos) == 0 {
		cm, err := loadContributor("importance", &f, given(fs), e)
		if err != nil {
			return err
		}
		imp = newImportanceReport(cm)
	} else {
		s, cm, err := openContribScan("importance", &f, given(fs), pos[0], e)
		if err != nil {
			return err
		}
		imp = newImportanceReport(cm)
		info := s.model.Info()
		nf := len(info.Features)
		stride := len(cm.Outputs()) * (nf + 1)
		imp.sums = make([]float64, stride)
		work := func(c *chunk) {
			c.batch.parse(c, s.parser, info) // contribute checks the rows as Predict would
			c.batch.contribute(cm, info, stride)
			c.batch.sums = resize(c.batch.sums, stride)
			clear(c.batch.sums)
			for i := range c.recs {
				j := c.batch.row[i]
				if j < 0 {
					c.addBad(c.recs[i].line, c.batch.errs[i])
					continue
				}
				for k, v := range c.batch.contrib[j*stride : (j+1)*stride] {
					if k%(nf+1) != nf {
						v = math.Abs(v)
					}
					c.batch.sums[k] += v
				}
				c.scored++
			}
		}
		// The chunks' sums are added in input order, so the result does
		// not depend on -workers.
		emit := func(c *chunk, _, _ int) error {
			for k, v := range c.batch.sums {
				imp.sums[k] += v
			}
			imp.rows += c.scored
			return nil
		}
		err = s.run(ctx, work, emit)
		if err != nil && err != errSkipped {
			return err
		}
		if imp.rows == 0 {
			return fmt.Errorf("importance: %s: no row could be explained", s.in.name)
		}
		if werr := imp.write(e.stdout, *asJSON); werr != nil {
			return werr
		}
		return err // nil, or errSkipped: exit status 3, as predict's
	}
	return imp.write(e.stdout, *asJSON)
}

// importanceReport is what importance prints.
type importanceReport struct {
	info    classify.Info
	outputs []string
	raw     string
	imp     *classify.Importance // nil when the model is not a TreeModel
	rows    int
	sums    []float64 // per output, per feature: the sum of |contribution|; the bias's sum last
}

func newImportanceReport(m classify.Contributor) *importanceReport {
	r := &importanceReport{info: m.Info(), outputs: m.Outputs(), raw: "margin"}
	if k := r.info.Kind; k == classify.DecisionTree || k == classify.RandomForest {
		r.raw = "probability"
	}
	if tm, ok := m.(classify.TreeModel); ok {
		imp := tm.Importance()
		r.imp = &imp
	}
	return r
}

// mean is output o's mean for feature f (f = len(Features): the bias).
func (r *importanceReport) mean(o, f int) float64 {
	return r.sums[o*(len(r.info.Features)+1)+f] / float64(r.rows)
}

func (r *importanceReport) write(w io.Writer, asJSON bool) error {
	if asJSON {
		return r.writeJSON(w)
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "model %s (%s, version %s)\n", modelLabel(r.info), r.info.Kind, orDash(r.info.Version))
	width := len("FEATURE")
	for _, f := range r.info.Features {
		width = max(width, len(f))
	}
	if r.imp != nil {
		fmt.Fprintf(bw, "\nimportance (gain: %s)\n", r.imp.GainKind)
		fmt.Fprintf(bw, "%-*s  %8s  %s\n", width, "FEATURE", "SPLITS", "GAIN")
		for i, f := range r.imp.Features {
			fmt.Fprintf(bw, "%-*s  %8d  %.6g\n", width, f, r.imp.Splits[i], r.imp.Gain[i])
		}
	}
	if r.imp == nil && r.sums == nil {
		fmt.Fprintln(bw, "\nno importances: the library reports none for this model; give a FILE for the mean |contribution| over its rows")
	}
	if r.sums != nil {
		fmt.Fprintf(bw, "\nmean |contribution| over %d rows (raw output: %s)\n", r.rows, r.raw)
		fmt.Fprintf(bw, "%-*s", width, "FEATURE")
		for _, o := range r.outputs {
			fmt.Fprintf(bw, "  %12s", o)
		}
		fmt.Fprintln(bw)
		for f, name := range append(append([]string{}, r.info.Features...), "(bias)") {
			fmt.Fprintf(bw, "%-*s", width, name)
			for o := range r.outputs {
				fmt.Fprintf(bw, "  %12.6g", r.mean(o, f))
			}
			fmt.Fprintln(bw)
		}
	}
	return bw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// writeJSON writes the report as one JSON object, keys in the model's
// order: the shape POST /models/{name}/importance answers.
func (r *importanceReport) writeJSON(w io.Writer) error {
	str := func(s string) []byte { b, _ := json.Marshal(s); return b }
	features := r.info.Features
	b := append([]byte(`{"model":{"kind":`), str(string(r.info.Kind))...)
	b = append(append(b, `,"name":`...), str(modelLabel(r.info))...)
	b = append(append(b, `,"version":`...), str(r.info.Version)...)
	b = append(append(b, `},"raw_output":`...), str(r.raw)...)
	if r.imp != nil {
		b = append(append(b, `,"importance":{"gain_kind":`...), str(r.imp.GainKind)...)
		b = append(b, `,"splits":{`...)
		for i, f := range r.imp.Features {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(append(append(b, str(f)...), ':'), strconv.Itoa(r.imp.Splits[i])...)
		}
		b = append(b, `},"gain":{`...)
		for i, f := range r.imp.Features {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONFloat(append(append(b, str(f)...), ':'), r.imp.Gain[i])
		}
		b = append(b, "}}"...)
	}
	if r.sums != nil {
		b = append(append(b, `,"rows":`...), strconv.Itoa(r.rows)...)
		b = append(b, `,"mean_abs_contributions":{`...)
		for o, out := range r.outputs {
			if o > 0 {
				b = append(b, ',')
			}
			b = append(append(b, str(out)...), ":{"...)
			for f, name := range features {
				if f > 0 {
					b = append(b, ',')
				}
				b = appendJSONFloat(append(append(b, str(name)...), ':'), r.mean(o, f))
			}
			b = append(b, '}')
		}
		b = append(b, `},"expected_value":{`...)
		for o, out := range r.outputs {
			if o > 0 {
				b = append(b, ',')
			}
			b = appendJSONFloat(append(append(b, str(out)...), ':'), r.mean(o, len(features)))
		}
		b = append(b, '}')
	}
	_, err := w.Write(append(b, "}\n"...))
	return err
}
