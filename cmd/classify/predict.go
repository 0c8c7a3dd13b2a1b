package main

import (
	"bytes"
	"context"
	"encoding/json"

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
	path, err := inputArg("predict", pos)
	if err != nil {
		return err
	}
	refuse := func(info classify.Info) []string {
		return append(outputColumns(info), probabilitiesName)
	}
	s, err := openScan("predict", &f, given(fs), path, "", refuse, e)
	if err != nil {
		return err
	}

	out, err := openOutput("predict", *outPath, e.stdout)
	if err != nil {
		s.in.close()
		return err
	}
	info := s.model.Info()
	enc := newPredictionEncoder(info, s.in.format)
	if s.in.format == formatCSV {
		header := append(append([]string{}, s.header...), outputColumns(info)...)
		out.Write(appendCSVRecord(nil, header...))
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
	return out.finish(s.run(ctx, work, out.emit))
}

// predictionEncoder appends a scored record to the output.
type predictionEncoder struct {
	csv    bool
	cells  [][]byte // CSV: each class as a field
	keys   [][]byte // JSON Lines: each class as a quoted JSON key with its colon
	labels [][]byte // JSON Lines: each class as a JSON string
}

func newPredictionEncoder(info classify.Info, format string) *predictionEncoder {
	e := &predictionEncoder{csv: format == formatCSV}
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
