package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
)

// Input formats.
const (
	formatCSV   = "csv"
	formatJSONL = "jsonl"
)

// maxLineBytes bounds a JSON Lines record; a longer line is a bad row.
const maxLineBytes = 1 << 20

// input is an opened input file (or stdin) and what is known of it.
type input struct {
	name   string // for messages: the path, or "stdin"
	format string
	size   int64 // bytes, or -1 when unknown
	r      *countingReader
	close  func() error
}

// openInput opens path ("" or "-" for stdin) and settles its format:
// format when given, else the file's extension.
func openInput(path, format string, stdin io.Reader) (*input, error) {
	switch format {
	case "", formatCSV, formatJSONL:
	case "ndjson":
		format = formatJSONL
	default:
		return nil, usagef("-format %q: use csv or jsonl", format)
	}
	in := &input{name: path, format: format, size: -1, close: func() error { return nil }}
	if path == "" || path == "-" {
		in.name = "stdin"
		if format == "" {
			return nil, usagef("reading stdin needs -format csv or -format jsonl")
		}
		if f, ok := stdin.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
				in.size = st.Size()
			}
		}
		in.r = &countingReader{r: stdin}
		return in, nil
	}
	if format == "" {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".csv":
			in.format = formatCSV
		case ".jsonl", ".ndjson":
			in.format = formatJSONL
		default:
			return nil, usagef("cannot tell the format of %s from its extension: use -format csv or -format jsonl", path)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		in.size = st.Size()
	}
	in.r = &countingReader{r: f}
	in.close = f.Close
	return in, nil
}

// countingReader counts the bytes read through it, for the progress line.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// csvSource splits CSV input into records after its header row.
type csvSource struct {
	r      *csv.Reader
	header []string
}

func newCSVSource(r io.Reader) (*csvSource, error) {
	cr := csv.NewReader(bufio.NewReaderSize(r, 256<<10))
	cr.FieldsPerRecord = -1 // a wrong field count is a bad row, reported by the decoder
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("the input is empty: CSV needs a header row")
	}
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	header[0] = strings.TrimPrefix(header[0], "\ufeff") // a byte order mark, as spreadsheets write
	for i, h := range header {
		header[i] = strings.TrimSpace(h)
	}
	return &csvSource{r: cr, header: header}, nil
}

func (s *csvSource) read(c *chunk) (bool, error) {
	for len(c.recs) < chunkRows {
		fields, err := s.r.Read()
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return false, err
			}
			c.recs = append(c.recs, record{line: pe.StartLine, err: pe.Err})
			continue
		}
		line, _ := s.r.FieldPos(0)
		c.recs = append(c.recs, record{line: line, fields: fields})
	}
	return true, nil
}

// jsonlSource splits JSON Lines input into records, one per non-blank line.
type jsonlSource struct {
	r    *bufio.Reader
	line int
}

func newJSONLSource(r io.Reader) *jsonlSource {
	return &jsonlSource{r: bufio.NewReaderSize(r, 256<<10)}
}

var errLongLine = fmt.Errorf("line longer than %d bytes", maxLineBytes)

func (s *jsonlSource) read(c *chunk) (bool, error) {
	for len(c.recs) < chunkRows {
		start := len(c.arena)
		long := false
		var err error
		for {
			var b []byte
			b, err = s.r.ReadSlice('\n')
			if !long {
				c.arena = append(c.arena, b...)
				if len(c.arena)-start > maxLineBytes {
					long = true
					c.arena = c.arena[:start]
				}
			}
			if err != bufio.ErrBufferFull {
				break
			}
		}
		if err != nil && err != io.EOF {
			return false, err
		}
		atEOF := err == io.EOF
		line := c.arena[start:len(c.arena):len(c.arena)]
		if atEOF && len(line) == 0 && !long {
			return false, nil
		}
		s.line++
		switch {
		case long:
			c.recs = append(c.recs, record{line: s.line, err: errLongLine})
		case len(bytes.TrimSpace(line)) == 0:
			c.arena = c.arena[:start] // blank line
		default:
			c.recs = append(c.recs, record{line: s.line, raw: bytes.TrimSpace(line)})
		}
		if atEOF {
			return false, nil
		}
	}
	return true, nil
}
