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

// openInput opens path ("" or "-" for stdin) for command cmd and settles
// its format: format when given, else the file's extension. A directory,
// as path or as stdin, is an error (exit status 1), whatever the format.
func openInput(cmd, path, format string, stdin io.Reader) (*input, error) {
	format, err := parseFormat("-format", format)
	if err != nil {
		return nil, err
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
			} else if err == nil && st.IsDir() {
				return nil, fmt.Errorf("%s: stdin is a directory", cmd)
			}
		}
		in.r = &countingReader{r: stdin}
		return in, nil
	}
	if err := notDirectory(cmd, path, path); err != nil {
		return nil, err
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

// parseFormat checks the value of a format flag (named flag in the
// message): "" (unset), csv or jsonl, ndjson being jsonl.
func parseFormat(flag, format string) (string, error) {
	switch format {
	case "", formatCSV, formatJSONL:
		return format, nil
	case "ndjson":
		return formatJSONL, nil
	}
	return "", usagef("%s %q: use csv or jsonl", flag, format)
}

// inputArg is the input file among the positional arguments pos of
// command cmd: "" (stdin) when there is none, a usage error for more
// than one.
func inputArg(cmd string, pos []string) (string, error) {
	switch len(pos) {
	case 0:
		return "", nil
	case 1:
		return pos[0], nil
	}
	return "", usagef("%s takes one input file, got %d", cmd, len(pos))
}

// output is where predict and explain write: the -o file, or stdout.
type output struct {
	*bufio.Writer
	file *os.File // nil for stdout
}

// openOutput opens -o path for command cmd: stdout when path is "" or "-".
func openOutput(cmd, path string, stdout io.Writer) (*output, error) {
	o := &output{}
	w := stdout
	if path != "" && path != "-" {
		if err := notDirectory(cmd, "-o "+path, path); err != nil {
			return nil, err
		}
		f, err := os.Create(path)
		if err != nil {
			return nil, err
		}
		o.file, w = f, f
	}
	o.Writer = bufio.NewWriterSize(w, 256<<10)
	return o, nil
}

// emit writes the output before off of c: a scan's emit function.
func (o *output) emit(c *chunk, _, off int) error {
	return writeTo(o.Writer, c.out[:off])
}

// finish flushes and closes the output after a scan that returned err: a
// write error replaces nil or errSkipped, not another error.
func (o *output) finish(err error) error {
	if ferr := o.Flush(); err == nil || err == errSkipped {
		if ferr != nil {
			err = ferr
		}
	}
	if o.file != nil {
		if cerr := o.file.Close(); cerr != nil && (err == nil || err == errSkipped) {
			err = cerr
		}
	}
	return err
}

// notDirectory returns an error when path names a directory where command
// cmd wants a file; what names the path in the message ("PATH", "-o PATH").
// Any other trouble with path is left to the code that opens it.
func notDirectory(cmd, what, path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("%s: %s is a directory", cmd, what)
	}
	return nil
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

// maxRecordBytes bounds a CSV record: the bytes from the end of the record
// before it to the end of its own last line (a quoted field may span lines).
// A longer record is a fatal error, not a bad row: it is most likely an
// unterminated quoted field, which would run on to the end of the file, and
// nothing after it can be trusted to be split into the right records.
const maxRecordBytes = maxLineBytes

// csvBufferSize is the size of the buffer between the input and the
// csv.Reader: how far the reader may have read ahead of the record it parses.
const csvBufferSize = 256 << 10

// csvSource splits CSV input into records after its header row.
//
// A line without a double quote, the whole of a numeric file, is a record
// whose fields are the text between its commas: encoding/csv reads nothing
// else from it. The source takes such lines from its buffer itself, copying
// them to the chunk as plain records (chunk.split makes their fields). Any
// other line, and one not whole in the buffer yet, is left to the
// csv.Reader, which reads from the same buffer a line at a time
// (lineFeeder), so that it never holds input the source has not given it.
// The two paths agree on every byte of every field, on line numbers and on
// offsets, so the records are those encoding/csv alone would read.
type csvSource struct {
	name       string // for messages
	br         *bufio.Reader
	feed       *lineFeeder // br, for r
	r          *csv.Reader
	lim        *recordLimiter
	maxRecord  int64 // see maxRecordBytes
	start      int64 // input offset where the next record starts
	plainLines int   // lines the source read itself (plain records, blank lines)
	plainBytes int64 // their bytes
	// clean is how many of the buffered bytes are known to hold no double
	// quote; quote, whether a quote follows them.
	clean  int
	quote  bool
	header []string
}

func newCSVSource(name string, r io.Reader) (*csvSource, error) {
	return newCSVSourceLimit(name, r, maxRecordBytes)
}

// newCSVSourceLimit is newCSVSource with records bounded to maxRecord bytes.
func newCSVSourceLimit(name string, r io.Reader, maxRecord int64) (*csvSource, error) {
	lim := &recordLimiter{r: r, limit: maxRecord + csvBufferSize}
	br := bufio.NewReaderSize(lim, csvBufferSize)
	feed := &lineFeeder{br: br}
	cr := csv.NewReader(feed)
	cr.FieldsPerRecord = -1 // a wrong field count is a bad row, reported by the decoder
	s := &csvSource{name: name, br: br, feed: feed, r: cr, lim: lim, maxRecord: maxRecord}
	header, err := s.next()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: the input is empty: CSV needs a header row", name)
	}
	if err != nil {
		var tl *recordTooLongError
		if errors.As(err, &tl) {
			return nil, err
		}
		return nil, fmt.Errorf("%s: header: %w", name, err)
	}
	header[0] = strings.TrimPrefix(header[0], "\ufeff") // a byte order mark, as spreadsheets write
	for i, h := range header {
		header[i] = strings.TrimSpace(h)
	}
	s.header = header
	return s, nil
}

// recordTooLongError is a CSV record longer than the limit: fatal.
type recordTooLongError struct {
	name string // the input
	line int    // where the record starts; 0: only blank lines since the last record
	max  int64
}

func (e *recordTooLongError) Error() string {
	if e.line == 0 {
		return fmt.Sprintf("%s: more than %d bytes of blank lines", e.name, e.max)
	}
	return fmt.Sprintf("%s:%d: CSV record longer than %d bytes (an unterminated quoted field?): "+
		"stopped, as the rest of the input cannot be split into records reliably", e.name, e.line, e.max)
}

// offset is the input offset of the next byte to read.
func (s *csvSource) offset() int64 { return s.feed.n + s.plainBytes }

// ended records that a record ends at offset end: it is fatal when it is
// longer than s.maxRecord bytes (counting the blank lines before it), and
// the limiter may let the reading run to maxRecord bytes past it.
func (s *csvSource) ended(end int64, line int) error {
	if s.lim.tripped || end-s.start > s.maxRecord {
		return &recordTooLongError{name: s.name, line: line, max: s.maxRecord}
	}
	s.start = end
	s.lim.limit = end + s.maxRecord + csvBufferSize
	return nil
}

// next reads the next record with the csv.Reader: its fields, a
// *csv.ParseError for a record with a syntax error (a bad row), io.EOF, or
// a fatal error. A record longer than s.maxRecord bytes is fatal, whether or
// not it parsed. The csv.Reader counts only the lines it read; line numbers
// here (and in the ParseError) count them all.
func (s *csvSource) next() ([]string, error) {
	s.clean, s.quote = 0, false // the buffer moves on
	fields, err := s.r.Read()
	var pe *csv.ParseError
	if err != nil && !errors.As(err, &pe) {
		if s.lim.tripped { // only blank lines since the last record
			return nil, &recordTooLongError{name: s.name, max: s.maxRecord}
		}
		return nil, err
	}
	line := 0
	if pe != nil {
		pe.StartLine += s.plainLines
		pe.Line += s.plainLines
		line = pe.StartLine
	} else {
		line, _ = s.r.FieldPos(0)
		line += s.plainLines
	}
	if err := s.ended(s.offset(), line); err != nil {
		return nil, err
	}
	return fields, err
}

func (s *csvSource) read(c *chunk) (bool, error) {
	for {
		if err := s.readPlain(c); err != nil {
			return false, err
		}
		if len(c.recs) >= chunkRows {
			return true, nil
		}
		// The next line holds a quote or is not whole in the buffer.
		fields, err := s.next()
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
		c.recs = append(c.recs, record{line: line + s.plainLines, fields: fields})
	}
}

// readPlain adds to c, while it has room, the plain records of the whole
// lines in the buffer, up to the first line that holds a double quote. It
// does what the csv.Reader would: a line's "\r\n" is a line break as "\n"
// is, and blank lines are skipped.
func (s *csvSource) readPlain(c *chunk) error {
	buf, _ := s.br.Peek(s.br.Buffered())
	if !s.quote && s.clean < len(buf) { // one search a buffer, not one a line
		if q := bytes.IndexByte(buf[s.clean:], '"'); q >= 0 {
			s.clean, s.quote = s.clean+q, true
		} else {
			s.clean = len(buf)
		}
	}
	buf = buf[:s.clean] // the lines that end before a quote are plain
	pos := 0
	defer func() {
		s.br.Discard(pos)
		s.clean -= pos
	}()
	for len(c.recs) < chunkRows {
		i := bytes.IndexByte(buf[pos:], '\n')
		if i < 0 {
			return nil
		}
		line := buf[pos : pos+i]
		pos += i + 1
		s.plainLines++
		s.plainBytes += int64(i + 1)
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if len(line) == 0 {
			continue
		}
		if err := s.ended(s.offset(), s.feed.lines+s.plainLines); err != nil {
			return err
		}
		c.arena = append(c.arena, line...)
		c.recs = append(c.recs, record{line: s.feed.lines + s.plainLines, raw: c.arena[len(c.arena)-len(line) : len(c.arena) : len(c.arena)]})
		c.plain++
	}
	return nil
}

// lineFeeder is the csv.Reader's input: the csvSource's buffer, given a
// line at most at a time, so that the csv.Reader's own buffer never holds
// more than the line it is reading. Once it returns a record the
// csv.Reader has read nothing past it, and the source reads on from there.
type lineFeeder struct {
	br      *bufio.Reader
	pending []byte // the rest of the line being given, in br's buffer
	err     error  // br's error, returned once pending is given
	n       int64  // bytes given
	lines   int    // line breaks given
}

func (f *lineFeeder) Read(p []byte) (int, error) {
	if len(f.pending) == 0 {
		if f.err != nil {
			return 0, f.err
		}
		line, err := f.br.ReadSlice('\n')
		if err != nil && err != bufio.ErrBufferFull {
			f.err = err
		}
		if len(line) == 0 {
			return 0, f.err
		}
		f.pending = line
	}
	n := copy(p, f.pending)
	f.pending = f.pending[n:]
	f.n += int64(n)
	if len(f.pending) == 0 && p[n-1] == '\n' {
		f.lines++
	}
	return n, nil
}

// recordLimiter keeps a csv.Reader from reading far past the start of the
// record it is parsing, so that an unterminated quoted field cannot make it
// read the whole input into memory. Once limit bytes have been read it
// reports the end of the input and sets tripped. The csvSource moves limit
// on after each record to the record's end plus the record limit plus the
// read-ahead of the buffer in between: reading past it means the record
// being parsed is longer than the record limit.
type recordLimiter struct {
	r       io.Reader
	n       int64 // bytes read
	limit   int64
	tripped bool
}

func (l *recordLimiter) Read(p []byte) (int, error) {
	if l.n >= l.limit {
		l.tripped = true
		return 0, io.EOF
	}
	if int64(len(p)) > l.limit-l.n {
		p = p[:l.limit-l.n]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
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
