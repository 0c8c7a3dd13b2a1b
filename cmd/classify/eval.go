package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/ml-production-service/classify"
)

// evalCmd scores a labelled file and reports accuracy and the confusion
// matrix: `classify eval [flags] [FILE]`.
func evalCmd(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("eval", "eval [flags] [FILE]\n\n"+
		"Scores a labelled FILE (CSV or JSON Lines; stdin when FILE is - or absent) and prints\n"+
		"the accuracy, the confusion matrix and per-class precision and recall."+recordLimitHelp, e.stdout)
	var f scanFlags
	f.register(fs)
	label := fs.String("label", "species", "the `COLUMN` (or JSON key) holding the true class")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	path, err := inputArg("eval", pos)
	if err != nil {
		return err
	}
	if *label == "" {
		return usagef("-label must name a column")
	}
	s, err := openScan("eval", &f, given(fs), path, *label, nil, e)
	if err != nil {
		return err
	}
	info := s.model.Info()
	cm := newConfusion(info.Classes)
	work := func(c *chunk) {
		c.batch.score(c, s.model, s.parser, info)
		for i := range c.recs {
			p, ok := c.batch.prediction(i, info)
			if !ok {
				c.addBad(c.recs[i].line, c.batch.errs[i])
				continue
			}
			c.labels = append(c.labels, c.batch.labels[i])
			c.preds = append(c.preds, p.Class)
			c.scored++
		}
	}
	emit := func(c *chunk, rows, _ int) error {
		for i := range rows {
			cm.add(c.labels[i], c.preds[i])
		}
		return nil
	}
	err = s.run(ctx, work, emit)
	if err != nil && err != errSkipped {
		return err
	}
	rep := cm.report(info, s.in.name, s.skipped)
	var werr error
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		werr = enc.Encode(rep)
	} else {
		werr = rep.writeTable(e.stdout)
	}
	if werr != nil {
		return werr
	}
	return err
}

// confusion counts (true label, predicted class) pairs. Its rows are the
// model's classes, then labels the model does not know, in order of first
// appearance; its columns are the model's classes.
type confusion struct {
	classes int
	labels  []string
	index   map[string]int
	counts  [][]int // [row][predicted class]
}

func newConfusion(classes []string) *confusion {
	c := &confusion{index: map[string]int{}, classes: len(classes)}
	for _, l := range classes {
		c.row(l)
	}
	return c
}

func (c *confusion) row(label string) int {
	i, ok := c.index[label]
	if !ok {
		i = len(c.labels)
		c.index[label] = i
		c.labels = append(c.labels, label)
		c.counts = append(c.counts, make([]int, c.classes))
	}
	return i
}

func (c *confusion) add(label string, pred int) {
	c.counts[c.row(label)][pred]++
}

// evalReport is what eval prints.
type evalReport struct {
	Model     modelRef     `json:"model"`
	Input     string       `json:"input"`
	Rows      int          `json:"rows"`
	Skipped   int          `json:"skipped"`
	Correct   int          `json:"correct"`
	Accuracy  float64      `json:"accuracy"`
	Labels    []string     `json:"labels"`    // confusion rows: true labels
	Classes   []string     `json:"classes"`   // confusion columns: predicted classes
	Confusion [][]int      `json:"confusion"` // [true][predicted]
	PerClass  []classScore `json:"per_class"`
}

type modelRef struct {
	Name    string `json:"name,omitempty"`
	Kind    string `json:"kind"`
	Version string `json:"version,omitempty"`
}

type classScore struct {
	Class     string  `json:"class"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"`
}

func (c *confusion) report(info classify.Info, input string, skipped int) *evalReport {
	nc := len(info.Classes)
	r := &evalReport{
		Model:   modelRef{Name: info.Name, Kind: string(info.Kind), Version: info.Version},
		Input:   input,
		Skipped: skipped,
		Labels:  slices.Clone(c.labels),
		Classes: info.Classes,
	}
	predicted := make([]int, nc)
	for i := range c.labels {
		row := slices.Clone(c.counts[i])
		r.Confusion = append(r.Confusion, row)
		for j, n := range row {
			r.Rows += n
			predicted[j] += n
			if i == j {
				r.Correct += n
			}
		}
	}
	if r.Rows > 0 {
		r.Accuracy = float64(r.Correct) / float64(r.Rows)
	}
	for j, class := range info.Classes {
		tp, support := r.Confusion[j][j], 0
		for _, n := range r.Confusion[j] {
			support += n
		}
		cs := classScore{Class: class, Support: support}
		if predicted[j] > 0 {
			cs.Precision = float64(tp) / float64(predicted[j])
		}
		if support > 0 {
			cs.Recall = float64(tp) / float64(support)
		}
		if cs.Precision+cs.Recall > 0 {
			cs.F1 = 2 * cs.Precision * cs.Recall / (cs.Precision + cs.Recall)
		}
		r.PerClass = append(r.PerClass, cs)
	}
	return r
}

func (r *evalReport) writeTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	name := r.Model.Kind
	if r.Model.Name != "" {
		name = fmt.Sprintf("%s (%s %s)", r.Model.Name, r.Model.Kind, r.Model.Version)
	}
	fmt.Fprintf(tw, "model\t%s\n", name)
	fmt.Fprintf(tw, "input\t%s\n", r.Input)
	fmt.Fprintf(tw, "rows\t%d scored, %d skipped\n", r.Rows, r.Skipped)
	fmt.Fprintf(tw, "accuracy\t%.4f (%d of %d)\n", r.Accuracy, r.Correct, r.Rows)
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(w, "\nconfusion matrix (rows: true label, columns: predicted)\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	// Names left-aligned: padded to one width, right alignment leaves them be.
	width := 0
	for _, l := range append(slices.Clone(r.Labels), "class") {
		width = max(width, len(l))
	}
	fmt.Fprintf(tw, "%*s\t%s\t\n", width, "", strings.Join(r.Classes, "\t"))
	for i, l := range r.Labels {
		fmt.Fprintf(tw, "%-*s\t", width, l)
		for _, n := range r.Confusion[i] {
			fmt.Fprintf(tw, "%d\t", n)
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-*s\tprecision\trecall\tf1\tsupport\t\n", width, "class")
	for _, c := range r.PerClass {
		fmt.Fprintf(tw, "%-*s\t%.4f\t%.4f\t%.4f\t%d\t\n", width, c.Class, c.Precision, c.Recall, c.F1, c.Support)
	}
	return tw.Flush()
}
