package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"

	"github.com/ml-production-service/classify"
)

// predictCmd scores a file: `classify predict [flags] [FILE]`.
func predictCmd(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("predict", "predict [flags] [FILE]\n\n"+
		"Scores FILE (CSV with a header row, or JSON Lines; stdin when FILE is - or absent)\n"+
		"and writes it back with each row's prediction and class probabilities."+recordLimitHelp, e.stdout)
	var f scanFlags
	f.register(fs)
	outPath := fs.String("o", "", "write predictions to this `FILE` (default stdout)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("predict takes one input file, got %d", len(pos))
	}
	path := ""
	if len(pos) == 1 {
		path = pos[0]
	}
	refuse := func(info classify.Info) []string {
		return append(outputColumns(info), probabilitiesName)
	}
	s, err := openScan("predict", &f, given(fs), path, "", refuse, e)
	if err != nil {
		return err
	}

	out := e.stdout
	var file *os.File
	if *outPath != "" && *outPath != "-" {
		if err := notDirectory("predict", "-o "+*outPath, *outPath); err != nil {
			s.in.close()
			return err
		}
		if file, err = os.Create(*outPath); err != nil {
			s.in.close()
			return err
		}
		out = file
	}
	bw := bufio.NewWriterSize(out, 256<<10)
	info := s.model.Info()
	enc := newPredictionEncoder(info, s.in.format)
	if s.in.format == formatCSV {
		header := append(append([]string{}, s.header...), outputColumns(info)...)
		bw.Write(appendCSVRecord(nil, header...))
	}
	work := func(c *chunk) {
		c.batch.score(c, s.model, s.parser, info)
		for i := range c.recs {
			rec := &c.recs[i]
			p, ok := c.batch.prediction(i, info)
			if !ok {
				c.addBad(rec.line, c.batch.errs[i])
				continue
			}
			c.out = enc.append(c.out, rec, p)
			c.scored++
		}
	}
	emit := func(c *chunk, _, off int) error {
		return writeTo(bw, c.out[:off])
	}
	err = s.run(ctx, work, emit)
	if ferr := bw.Flush(); err == nil || err == errSkipped {
		if ferr != nil {
			err = ferr
		}
	}
	if file != nil {
		if cerr := file.Close(); cerr != nil && (err == nil || err == errSkipped) {
			err = cerr
		}
	}
	return err
}

// predictionEncoder appends a scored record to the output.
type predictionEncoder struct {
	csv     bool
	classes []string
	cells   [][]byte // CSV: each class as a field
	keys    [][]byte // JSON Lines: each class as a quoted JSON key with its colon
	labels  [][]byte // JSON Lines: each class as a JSON string
}

func newPredictionEncoder(info classify.Info, format string) *predictionEncoder {
	e := &predictionEncoder{csv: format == formatCSV, classes: info.Classes}
	for _, c := range info.Classes {
		e.cells = append(e.cells, appendCSVField(nil, c))
		k, _ := json.Marshal(c)
		e.labels = append(e.labels, k)
		e.keys = append(e.keys, append(append([]byte{}, k...), ':'))
	}
	return e
}

func (e *predictionEncoder) append(dst []byte, rec *record, p classify.Prediction) []byte {
	if e.csv {
		switch {
		case rec.fields != nil:
			for _, f := range rec.fields {
				dst = appendCSVField(dst, f)
				dst = append(dst, ',')
			}
		case !plainNeedsQuotes(rec.raw): // a plain record: its fields as appendCSVField writes them
			dst = append(append(dst, rec.raw...), ',')
		default:
			for f := range bytes.SplitSeq(rec.raw, []byte{','}) {
				dst = appendCSVField(dst, f)
				dst = append(dst, ',')
			}
		}
		dst = append(dst, e.cells[p.Class]...)
		for _, v := range p.Probabilities {
			dst = appendFloat(append(dst, ','), v)
		}
		return append(dst, '\n')
	}
	// The object as it came, with the two keys added before its closing brace.
	obj := rec.raw[:len(rec.raw)-1]
	dst = append(dst, obj...)
	if len(bytes.TrimSpace(obj)) > 1 {
		dst = append(dst, ',')
	}
	dst = append(dst, `"`+predictionName+`":`...)
	dst = append(dst, e.labels[p.Class]...)
	dst = append(dst, `,"`+probabilitiesName+`":{`...)
	for i, v := range p.Probabilities {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, e.keys[i]...)
		dst = appendFloat(dst, v)
	}
	return append(dst, "}}\n"...)
}

// outputColumns are the CSV columns predict adds: the prediction, then one
// probability per class.
func outputColumns(info classify.Info) []string {
	names := []string{predictionName}
	for _, c := range info.Classes {
		names = append(names, probabilityPrefix+c)
	}
	return names
}
