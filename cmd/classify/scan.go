package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/ml-production-service/classify"
)

// recordLimitHelp ends the synopsis of predict and eval; it states
// maxRecordBytes and maxLineBytes.
const recordLimitHelp = "\n\n" +
	"A CSV record (a row, with the line breaks inside its quoted fields) may be at most 1 MiB:\n" +
	"a longer one, most likely an unterminated quoted field, stops the run with exit status 1\n" +
	"whatever -on-error says, as the rest of the file cannot be split into rows reliably.\n" +
	"A JSON line longer than 1 MiB is a bad row."

// scanFlags are the flags predict and eval share: the input and what to do
// with bad rows.
type scanFlags struct {
	modelFlags
	format     string
	onError    string
	showErrors int
	progress   string
	workers    int
	// allowNonPositive accepts feature values <= 0, which the HTTP
	// server refuses unless it runs with -allow-non-positive.
	allowNonPositive bool
}

func (s *scanFlags) register(fs *flag.FlagSet) {
	s.modelFlags.register(fs)
	fs.StringVar(&s.format, "format", "", "input format, csv or jsonl (default: from the file's extension; needed for stdin)")
	fs.StringVar(&s.onError, "on-error", "skip", "a bad row is skipped and counted (skip) or stops the run (fail)")
	fs.IntVar(&s.showErrors, "show-errors", 100, "report at most `N` bad rows on stderr (negative: all); the summary counts them all")
	fs.StringVar(&s.progress, "progress", "auto", "progress line on stderr: auto (when stderr is a terminal), always or never")
	fs.IntVar(&s.workers, "workers", runtime.GOMAXPROCS(0), "scoring goroutines: one per core (GOMAXPROCS) by default")
	fs.BoolVar(&s.allowNonPositive, "allow-non-positive", false, "accept feature values <= 0; by default a row holding one is a bad row\n"+
		"(\"ensure this value is greater than 0\"), as cmd/serve answers 422 for them (its -allow-non-positive);\n"+
		"a missing value the model takes is exempt")
}

func (s *scanFlags) check() error {
	switch s.onError {
	case "skip", "fail":
	default:
		return usagef("-on-error %q: use skip or fail", s.onError)
	}
	switch s.progress {
	case "auto", "always", "never":
	default:
		return usagef("-progress %q: use auto, always or never", s.progress)
	}
	if s.workers < 1 {
		return usagef("-workers %d: use 1 or more", s.workers)
	}
	return nil
}

// scan streams one input through a model: a reader splitting records, the
// workers parsing and scoring them, and an emitter consuming the results in
// input order while reporting bad rows.
type scan struct {
	flags  *scanFlags
	e      env
	cmd    string
	in     *input
	model  classify.Model
	read   func(c *chunk) (bool, error)
	parser rowParser
	header []string // CSV input: the header row

	scored, skipped int
	shown           int
	prog            *progress
}

// openScan loads the model and opens the input at path, reading the CSV
// header. label is the column or key the parser returns as a row's label
// ("" for none).
func openScan(cmd string, f *scanFlags, set map[string]bool, path string, label string, refuse func(classify.Info) []string, e env) (*scan, error) {
	model, err := f.loadModel(cmd, set, e)
	if err != nil {
		return nil, err
	}
	return openScanModel(cmd, f, model, path, label, refuse, e)
}

// loadModel checks the flags and loads the model they select, for command
// cmd: what a scan does before it touches the input.
func (f *scanFlags) loadModel(cmd string, set map[string]bool, e env) (classify.Model, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	return f.load(cmd, set, e.newModel)
}

// openScanModel is openScan with the model loaded already.
func openScanModel(cmd string, f *scanFlags, model classify.Model, path string, label string, refuse func(classify.Info) []string, e env) (*scan, error) {
	in, err := openInput(cmd, path, f.format, e.stdin)
	if err != nil {
		return nil, err
	}
	s := &scan{flags: f, e: e, cmd: cmd, in: in, model: model}
	info := model.Info()
	rules := valueRules{missing: info.Missing, nonPositive: f.allowNonPositive}
	var taken []string
	if refuse != nil {
		taken = refuse(info)
	}
	switch in.format {
	case formatCSV:
		src, err := newCSVSource(in.name, in.r)
		if err != nil {
			in.close()
			return nil, err
		}
		for _, t := range taken {
			for _, h := range src.header {
				if h == t {
					in.close()
					return nil, fmt.Errorf("%s: the input already has a column %q, which %s writes; rename it", in.name, t, cmd)
				}
			}
		}
		cols, err := newCSVColumns(src.header, info.Features, label, rules)
		if err != nil {
			in.close()
			return nil, fmt.Errorf("%s: %w", in.name, err)
		}
		s.read, s.parser, s.header = src.read, cols, src.header
	default:
		src := newJSONLSource(in.r)
		s.read, s.parser = src.read, &jsonFields{features: info.Features, label: label, refuse: taken, rules: rules}
	}
	return s, nil
}

// run streams the input. work scores a chunk, emit consumes it in order;
// bad rows are reported and counted around emit, which consumes the
// first rows scored rows of c and the output before off (all of them but
// for a run stopped by a bad row).
func (s *scan) run(ctx context.Context, work func(c *chunk), emit func(c *chunk, rows, off int) error) error {
	defer s.in.close()
	s.prog = newProgress(s.e.stderr, s.flags.progress, s.in)
	start := time.Now()
	s.prog.start()
	p := &pipeline{
		workers: s.flags.workers,
		read:    s.read,
		work:    work,
		emit: func(c *chunk) error {
			if s.flags.onError == "fail" && len(c.bad) > 0 {
				b := c.bad[0]
				if err := emit(c, b.scored, b.off); err != nil {
					return err
				}
				s.scored += b.scored
				return fmt.Errorf("%s:%d: %s (stopped: -on-error=fail)", s.in.name, b.line, b.msg)
			}
			if err := emit(c, c.scored, len(c.out)); err != nil {
				return err
			}
			s.scored += c.scored
			s.skipped += len(c.bad)
			for _, b := range c.bad {
				s.reportBad(b)
			}
			s.prog.add(len(c.recs))
			return nil
		},
	}
	err := p.run(ctx)
	s.prog.stop()
	elapsed := time.Since(start)
	fmt.Fprintf(s.e.stderr, "classify: %s: %d rows scored, %d skipped, %s (%s rows/s)\n",
		s.cmd, s.scored, s.skipped, roundDuration(elapsed), rate(s.scored+s.skipped, elapsed))
	if err != nil {
		return err
	}
	if s.skipped > 0 {
		return errSkipped
	}
	return nil
}

func (s *scan) reportBad(b badRow) {
	limit := s.flags.showErrors
	switch {
	case limit < 0 || s.shown < limit:
		s.prog.printf("%s:%d: %s (skipped)\n", s.in.name, b.line, b.msg)
	case s.shown == limit:
		s.prog.printf("classify: more bad rows: not reported, counted in the summary (-show-errors)\n")
	}
	s.shown++
}

// rate formats n rows over d as rows per second.
func rate(n int, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", float64(n)/d.Seconds())
}

// writeTo writes b to w, for emitters.
func writeTo(w io.Writer, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	_, err := w.Write(b)
	return err
}

// roundDuration keeps three significant digits or so.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
