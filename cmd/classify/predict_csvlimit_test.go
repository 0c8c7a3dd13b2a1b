package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// readAllCSV reads every record of in through a csvSource limited to maxRecord
// bytes a record: the lines of the records read, and the error that ended
// the reading (nil at the end of the input).
func readAllCSV(t *testing.T, in io.Reader, maxRecord int64) (lines []int, bad []int, err error) {
	t.Helper()
	src, err := newCSVSourceLimit("in", in, maxRecord)
	if err != nil {
		return nil, nil, err
	}
	for {
		var c chunk
		more, err := src.read(&c)
		for _, r := range c.recs {
			if r.err != nil {
				bad = append(bad, r.line)
			} else {
				lines = append(lines, r.line)
			}
		}
		if err != nil || !more {
			return lines, bad, err
		}
	}
}

// The limit is exact: a record of max bytes (its newline included) is read,
// one byte more is a fatal error naming the line where the record starts,
// whether it parses or not.
func TestCSVRecordLimit(t *testing.T) {
	const max = 64
	row := func(n int) string { return strings.Repeat("x", n-1) + "\n" }
	quoted := func(n int) string {
		return `"` + strings.Repeat("y\n", (n-3)/2) + strings.Repeat("y", (n-3)%2) + "\"\n"
	}
	if len(quoted(max)) != max || len(quoted(max+1)) != max+1 {
		t.Fatal("quoted: wrong length")
	}
	cases := []struct {
		name  string
		in    string
		lines []int // records read
		bad   []int // bad rows
		err   string
	}{
		{"at the limit", "h\n" + row(max) + "a\n", []int{2, 3}, nil, ""},
		{"over the limit", "h\n" + row(max) + row(max+1) + "a\n", []int{2}, nil, "in:3: CSV record longer than 64 bytes"},
		{"quoted at the limit", "h\n" + quoted(max) + "a\n", []int{2, 2 + (max-3)/2 + 1}, nil, ""},
		{"quoted over the limit", "h\n" + quoted(max+1) + "a\n", []int{}, nil, "in:2: CSV record longer than 64 bytes"},
		{"header over the limit", row(max+1) + "a\n", nil, nil, "in:1: CSV record longer than 64 bytes"},
		{"small syntax error", "h\na\"b\nc\n", []int{3}, []int{2}, ""},
		{"bad record over the limit", "h\na\"" + row(max) + "c\n", nil, nil, "in:2: CSV record longer than 64 bytes"},
		{"unterminated at the end", "h\na\n\"b\nc\n", []int{2}, []int{3}, ""},
		{"blank lines", "h\n" + strings.Repeat("\n", 2*max+csvBufferSize) + "a\n", nil, nil, "in: more than 64 bytes of blank lines"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lines, bad, err := readAllCSV(t, strings.NewReader(tc.in), max)
			if tc.err == "" {
				if err != nil {
					t.Fatalf("error %v", err)
				}
			} else {
				var tl *recordTooLongError
				if err == nil || !errors.As(err, &tl) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want a *recordTooLongError containing %q", err, tc.err)
				}
			}
			if tc.lines != nil && fmt.Sprint(lines) != fmt.Sprint(tc.lines) {
				t.Errorf("records at lines %v, want %v", lines, tc.lines)
			}
			if fmt.Sprint(bad) != fmt.Sprint(tc.bad) {
				t.Errorf("bad rows at lines %v, want %v", bad, tc.bad)
			}
		})
	}
}

// strayQuoteReader is a CSV input of size bytes whose line 2 opens a quoted
// field that never closes, made on the fly; n counts the bytes read.
type strayQuoteReader struct {
	size, n int
	buf     bytes.Buffer
}

func (r *strayQuoteReader) Read(p []byte) (int, error) {
	if r.n == 0 && r.buf.Len() == 0 {
		r.buf.WriteString("sepal_length,sepal_width,petal_length,petal_width\n5.1,\"3.5,1.4,0.2\n")
	}
	for r.buf.Len() < len(p) && r.n+r.buf.Len() < r.size {
		r.buf.WriteString("5.1,3.5,1.4,0.2\n")
	}
	if r.buf.Len() == 0 {
		return 0, io.EOF
	}
	n, err := r.buf.Read(p)
	r.n += n
	return n, err
}

// A stray quote on line 2 of 2 MiB of CSV stops the run at once, exit 1,
// naming line 2, whatever -on-error says; rather than one bad row that
// swallows the rest of the file.
func TestPredictUnterminatedQuote(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stray.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.Copy(f, &strayQuoteReader{size: 2 << 20})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	want := path + ":2: CSV record longer than 1048576 bytes (an unterminated quoted field?)"
	for _, args := range [][]string{
		{"predict", path},
		{"predict", "-on-error", "fail", path},
		{"eval", "-label", "sepal_length", path},
	} {
		r := runCLI(t, "", args...)
		if r.code != exitFailure || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "0 rows scored, 0 skipped") {
			t.Errorf("classify %v: exit %d, stderr %q; want exit 1 and %q", args, r.code, r.stderr, want)
		}
	}
}

// Reading a stray quote is bounded: of 256 MiB on stdin the command reads
// little more than the record limit before it stops.
func TestPredictUnterminatedQuoteStreaming(t *testing.T) {
	in := &strayQuoteReader{size: 256 << 20}
	cmd := exec.Command(bin, "predict", "-format", "csv")
	cmd.Stdin = in
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitFailure || !strings.Contains(stderr.String(), "stdin:2: CSV record longer than") {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	// The command reads at most the limit plus its buffer; the pipe and the
	// copying goroutine hold some more.
	if limit := maxRecordBytes + csvBufferSize + 1<<20; in.n > limit {
		t.Errorf("read %d bytes of the input before stopping, want at most %d", in.n, limit)
	}
	t.Logf("read %d bytes of %d", in.n, in.size)
}

// The help of predict and eval states the limits as they are.
func TestHelpStatesRecordLimit(t *testing.T) {
	if maxRecordBytes != 1<<20 || maxLineBytes != 1<<20 {
		t.Fatalf("the limits are %d and %d bytes: update recordLimitHelp and the package doc", maxRecordBytes, maxLineBytes)
	}
	for _, cmd := range []string{"predict", "eval"} {
		r := runCLI(t, "", cmd, "-h")
		if !strings.Contains(r.stdout, "A CSV record (a row, with the line breaks inside its quoted fields) may be at most 1 MiB") {
			t.Errorf("classify %s -h does not state the record limit:\n%s", cmd, r.stdout)
		}
	}
}
