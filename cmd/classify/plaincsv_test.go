package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/ml-production-service/classify"
)

// The tests of the fast paths for plain numeric CSV: each is checked
// against the general code it stands in for.

// csvNeedsQuotesRule is the rule csvNeedsQuotes implements, as it was
// first written.
func csvNeedsQuotesRule(f string) bool {
	if f == "" {
		return false
	}
	if f == `\.` || f[0] == ' ' || f[0] == '\t' {
		return true
	}
	return strings.ContainsAny(f, ",\"\r\n")
}

func FuzzCSVNeedsQuotes(f *testing.F) {
	for _, s := range []string{"", "plain", "a,b", `say "x"`, " lead", "\ttab", "two\nl", "cr\r", `\.`, `\.x`, "5.1", "é,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := csvNeedsQuotes(s), csvNeedsQuotesRule(s); got != want {
			t.Fatalf("csvNeedsQuotes(%q) = %v, want %v", s, got, want)
		}
	})
}

// floatEdgeCases are float64 values around the fast paths of appendFloat
// and parseDecimal.
func floatEdgeCases() []float64 {
	vs := []float64{0, math.Copysign(0, -1), 1, -1, 0.5, 1.0 / 3, 2.0 / 3, 0.1, 0.9, 1e-4, 9.99e-5, 1e21, 1e20,
		math.Nextafter(1, 0), math.Nextafter(1, 2), math.SmallestNonzeroFloat64, math.MaxFloat64,
		math.Inf(1), math.Inf(-1), math.NaN(), float64(float32(0.1)), 5e-324, 1 << 53, 1<<53 + 2}
	for i := 0; i <= 100; i++ {
		vs = append(vs, float64(i)/100, float64(i)/7, float64(float32(float64(i)/100)))
	}
	return vs
}

// appendFloat is strconv.AppendFloat(dst, v, 'g', -1, 64), byte for byte.
func FuzzAppendFloat(f *testing.F) {
	for _, v := range floatEdgeCases() {
		f.Add(math.Float64bits(v))
	}
	f.Fuzz(func(t *testing.T, bits uint64) {
		v := math.Float64frombits(bits)
		got := string(appendFloat([]byte("x,"), v))
		if want := string(strconv.AppendFloat([]byte("x,"), v, 'g', -1, 64)); got != want {
			t.Fatalf("appendFloat(%#x) = %q, want %q", bits, got, want)
		}
	})
}

func TestAppendFloatRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		v := math.Float64frombits(r.Uint64())
		if r.IntN(2) == 0 {
			v = r.Float64()
		}
		if got, want := string(appendFloat(nil, v)), strconv.FormatFloat(v, 'g', -1, 64); got != want {
			t.Fatalf("appendFloat(%v) = %q, want %q", v, got, want)
		}
	}
}

// csvRead is a record as a csvSource reads it, for comparisons.
type csvRead struct {
	line   int
	fields []string
	err    string
}

// readCSVRecords reads in through a csvSource limited to maxRecord bytes a
// record: the header, the records (plain ones split) and the error that
// ended the reading.
func readCSVRecords(in io.Reader, maxRecord int64) (header []string, recs []csvRead, err error) {
	src, err := newCSVSourceLimit("in", in, maxRecord)
	if err != nil {
		return nil, nil, err
	}
	for {
		var c chunk
		more, err := src.read(&c)
		c.split()
		for _, r := range c.recs {
			cr := csvRead{line: r.line, fields: r.fields}
			if r.err != nil {
				cr.err = r.err.Error()
			}
			recs = append(recs, cr)
		}
		if err != nil || !more {
			return src.header, recs, err
		}
	}
}

// readCSVRecordsReference is readCSVRecords done the way csvSource did it
// before it read plain lines itself: every record by encoding/csv.
func readCSVRecordsReference(in io.Reader, maxRecord int64) (header []string, recs []csvRead, err error) {
	lim := &recordLimiter{r: in, limit: maxRecord + csvBufferSize}
	r := csv.NewReader(bufio.NewReaderSize(lim, csvBufferSize))
	r.FieldsPerRecord = -1
	var start int64
	next := func() ([]string, error) {
		fields, err := r.Read()
		var pe *csv.ParseError
		if err != nil && !errors.As(err, &pe) {
			if lim.tripped {
				return nil, &recordTooLongError{name: "in", max: maxRecord}
			}
			return nil, err
		}
		end := r.InputOffset()
		if lim.tripped || end-start > maxRecord {
			line := 0
			if pe != nil {
				line = pe.StartLine
			} else {
				line, _ = r.FieldPos(0)
			}
			return nil, &recordTooLongError{name: "in", line: line, max: maxRecord}
		}
		start = end
		lim.limit = end + maxRecord + csvBufferSize
		return fields, err
	}
	header, err = next()
	if err == io.EOF {
		return nil, nil, errors.New("in: the input is empty: CSV needs a header row")
	}
	if err != nil {
		var tl *recordTooLongError
		if errors.As(err, &tl) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("in: header: %w", err)
	}
	header[0] = strings.TrimPrefix(header[0], "\ufeff")
	for i, h := range header {
		header[i] = strings.TrimSpace(h)
	}
	for {
		fields, err := next()
		if err == io.EOF {
			return header, recs, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return header, recs, err
			}
			recs = append(recs, csvRead{line: pe.StartLine, err: pe.Err.Error()})
			continue
		}
		line, _ := r.FieldPos(0)
		recs = append(recs, csvRead{line: line, fields: fields})
	}
}

// checkCSVSource compares the csvSource on in with the reference, reading
// in whole and a few bytes at a time (lines cut at the buffer's end).
func checkCSVSource(t *testing.T, in string, maxRecord int64) {
	t.Helper()
	wantH, want, wantErr := readCSVRecordsReference(strings.NewReader(in), maxRecord)
	for name, r := range map[string]io.Reader{
		"whole":    strings.NewReader(in),
		"one byte": iotest.OneByteReader(strings.NewReader(in)),
		"half":     iotest.HalfReader(strings.NewReader(in)),
	} {
		gotH, got, gotErr := readCSVRecords(r, maxRecord)
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Fatalf("%s: %q: error %v, want %v", name, in, gotErr, wantErr)
		}
		if !reflect.DeepEqual(gotH, wantH) {
			t.Fatalf("%s: %q: header %q, want %q", name, in, gotH, wantH)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: %q: records\n%+v\nwant\n%+v", name, in, got, want)
		}
	}
}

var csvSourceCases = []string{
	"",
	"\n",
	"h\n",
	"a,b\n1,2\n3,4",
	"a,b\r\n1,2\r\n\r\n3,4\r",
	"a,b\n1,2\n\n\n3,4\n5\n6,7,8\n",
	"a,b\n1,\"2\"\n3,4\n\"x\ny\",5\n6,7\n",
	"a,b\n1,2\"\n3,4\n",
	"a,b\n1,\"2\n",
	"a,b\n\"1\"\"\",2\n3,4\n",
	"\ufeff a ,b\n 1,\t2\n\\.,x\n",
	"a\n1\r2\n\r\n\r\r\n3\n",
	"a,b\n,\n,,\n",
	"a\n" + strings.Repeat("x", 63) + "\n" + strings.Repeat("y", 64) + "\nz\n",
	"a\n" + strings.Repeat("\n", 70) + "z\n",
	"a\n\"" + strings.Repeat("q\n", 40) + "\"\nz\n",
	"sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n6.3,3.3,6,2.5\n",
}

func TestCSVSourceMatchesEncodingCSV(t *testing.T) {
	for _, in := range csvSourceCases {
		checkCSVSource(t, in, 64)
		checkCSVSource(t, in, maxRecordBytes)
	}
	// Many chunks, quoted records among plain ones, a buffer's worth and
	// more of lines.
	var b strings.Builder
	b.WriteString("a,b,c\n")
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 3*chunkRows + 17 {
		switch r.IntN(20) {
		case 0:
			fmt.Fprintf(&b, "\"%d\n\",x,y\n", i)
		case 1:
			b.WriteString("\r\n")
		case 2:
			fmt.Fprintf(&b, "%d,\"b\"\"\",c\r\n", i)
		default:
			fmt.Fprintf(&b, "%d.5,%d,%s\n", i, r.IntN(100), strings.Repeat("z", r.IntN(300)))
		}
	}
	checkCSVSource(t, b.String(), maxRecordBytes)
	checkCSVSource(t, b.String(), 200)
}

func FuzzCSVSource(f *testing.F) {
	for _, in := range csvSourceCases {
		f.Add(in, uint8(64))
	}
	f.Fuzz(func(t *testing.T, in string, max uint8) {
		checkCSVSource(t, in, int64(max%128)+1)
	})
}

// parseDecimal answers what strconv.ParseFloat answers, or declines.
func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"", ".", "5.1", "0", "0.0", "12", ".5", "3.", "1e5", "-1", "+1", " 1", "1_0", "0x1p3",
		"9007199254740991", "9007199254740992", "900719925474099.1", "0.0000000000000000000001", "0.00000000000000000000001",
		"1.2.3", "00000000000000000000000000001.5", "nan", "inf", "0.30000000000000004", "123456789012345.6"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := parseDecimal(s)
		if !ok {
			return
		}
		want, err := strconv.ParseFloat(s, 64)
		if err != nil || math.Float64bits(v) != math.Float64bits(want) {
			t.Fatalf("parseDecimal(%q) = %v, want %v, %v", s, v, want, err)
		}
	})
}

func TestParseDecimalRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	taken := 0
	for range 200_000 {
		digits := 1 + r.IntN(17)
		b := make([]byte, 0, 20)
		for range digits {
			b = append(b, byte('0'+r.IntN(10)))
		}
		if p := r.IntN(digits + 2); p <= digits {
			b = append(b[:p], append([]byte{'.'}, b[p:]...)...)
		}
		s := string(b)
		v, ok := parseDecimal(s)
		if !ok {
			continue
		}
		taken++
		if want, err := strconv.ParseFloat(s, 64); err != nil || math.Float64bits(v) != math.Float64bits(want) {
			t.Fatalf("parseDecimal(%q) = %v, want %v, %v", s, v, want, err)
		}
	}
	if taken < 100_000 {
		t.Errorf("parseDecimal took %d of 200,000 decimals: the fast path is hardly taken", taken)
	}
}

// plainNeedsQuotes is csvNeedsQuotes of any of the line's fields.
func FuzzPlainNeedsQuotes(f *testing.F) {
	for _, s := range []string{"", ",", "5.1,3.5", " a,b", "a, b", "a,\tb", `\.`, `a,\.`, `\.,a`, `\.a`, `a\.`, `\`, `a,\`, "a\rb", ",,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if strings.ContainsAny(line, "\"\n") {
			return // not a plain record
		}
		want := false
		for _, field := range strings.Split(line, ",") {
			want = want || csvNeedsQuotes(field)
		}
		if got := plainNeedsQuotes([]byte(line)); got != want {
			t.Fatalf("plainNeedsQuotes(%q) = %v, want %v", line, got, want)
		}
	})
}

// quoteFields rewrites every line of in without a double quote, outside
// a quoted field, as the same fields, each quoted: the record
// encoding/csv reads from it is the same, on the same line, but no line
// is plain any more. A line inside a quoted field is part of a field and
// stays as it is.
func quoteFields(in string) string {
	var b strings.Builder
	inField := false // the line starts inside a quoted field
	for line := range strings.SplitAfterSeq(in, "\n") {
		content, br := strings.CutSuffix(line, "\n")
		if br {
			if c, ok := strings.CutSuffix(content, "\r"); ok {
				content, line = c, "\r\n"
			} else {
				line = "\n"
			}
		} else {
			line = ""
		}
		quoted := inField
		inField = endsInQuotedField(content, inField)
		if !quoted && content != "" && !strings.Contains(content, `"`) && !strings.HasSuffix(content, "\r") {
			content = `"` + strings.ReplaceAll(content, ",", `","`) + `"`
		}
		b.WriteString(content + line)
	}
	return b.String()
}

// endsInQuotedField reports whether encoding/csv, reading line (without
// its line break) from the start of a record, or from inside a quoted
// field when inField is set, is inside a quoted field at its end. A quote
// it refuses ends the record with the line.
func endsInQuotedField(line string, inField bool) bool {
	start := !inField // at the start of a field
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case inField:
			if c != '"' {
				continue
			}
			switch {
			case i+1 < len(line) && line[i+1] == '"': // an escaped quote
				i++
			case i+1 == len(line) || line[i+1] == ',': // the field ends
				inField = false
			default:
				return false // ErrQuote
			}
		case c == '"' && start:
			inField, start = true, false
		case c == '"':
			return false // ErrBareQuote
		default:
			start = c == ','
		}
	}
	return inField
}

// plainCases are inputs for predict with plain lines of every kind: values
// parsePlain reads and values it leaves to parseValue, bad rows, fields to
// quote on output, quoted records among them.
var plainCases = []string{
	"sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n6.3,3.3,6,2.5\n\n5.9,3.0,5.1,1.8\r\n",
	"petal_width,id,sepal_length,petal_length,sepal_width\n0.2,a,5.1,1.4,3.5\n1.8, b ,5.9,5.1,3.0\n2.5,\\.,6.3,6,3.3\n2.5,\tx,6.3,6,3.3\n2.5,x\ry,6.3,6,3.3\n",
	"sepal_length,sepal_width,petal_length,petal_width\n1e0,+3.5,1.40,.2\n5.,3.5, 1.4,0.2\n0,3.5,1.4,0.2\n-1,3.5,1.4,0.2\nx,3.5,1.4,0.2\n,3.5,1.4,0.2\nNaN,3.5,1.4,0.2\n1e400,1,1,1\n",
	"sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4\n5.1,3.5,1.4,0.2,9\n5.1,\"3.5\",1.4,0.2\n5.1,3\"5,1.4,0.2\n7,3.2,4.7,1.4",
	"sepal_length,sepal_width,petal_length,petal_width,sepal_length\n5.1,3.5,1.4,0.2,9\n",
	"sepal_length,sepal_width,petal_length,petal_width\n12345678901234567890,3.5,1.4,0.2\n0.00000000000000000000000001,3.5,1.4,0.2\n3.4028236e38,1,1,1\n",
}

// plainModels holds the models checkPlainPredict has loaded, by kind and
// path: loading them was nine tenths of its time, ten times per input.
var plainModels sync.Map

// plainModel is classify.New, once per kind and path.
func plainModel(kind classify.Kind, path string) (classify.Model, error) {
	key := string(kind) + "\x00" + path
	if m, ok := plainModels.Load(key); ok {
		return m.(classify.Model), nil
	}
	m, err := classify.New(kind, path)
	if err != nil {
		return nil, err
	}
	m2, _ := plainModels.LoadOrStore(key, m)
	return m2.(classify.Model), nil
}

// checkPlainPredict runs predict and eval on in and on quoteFields(in)
// with each set of flags and wants the same results. The models are the
// registries' artifacts, loaded once (plainModel).
func checkPlainPredict(t *testing.T, in string) {
	t.Helper()
	quoted := quoteFields(in)
	run := func(stdin string, args []string) result {
		var stdout, stderr bytes.Buffer
		err := runEnv(context.Background(), args, env{getenv: func(string) string { return "" },
			stdin: strings.NewReader(stdin), stdout: &stdout, stderr: &stderr, newModel: plainModel})
		return result{exitCode(err, &stderr), stdout.String(), timing.ReplaceAllString(stderr.String(), ", TIME")}
	}
	const (
		tree   = "../../models/decision_tree.json"
		xgb    = "../../models/xgboost.json"
		forest = "../../models/random_forest.json"
	)
	for _, args := range [][]string{
		{"predict", "-format", "csv", "-artifact", tree, "-kind", "decision_tree"},
		{"predict", "-format", "csv", "-artifact", xgb, "-kind", "xgboost", "-allow-non-positive"},
		{"predict", "-format", "csv", "-artifact", compatTree, "-kind", "decision_tree", "-on-error", "fail"},
		{"eval", "-format", "csv", "-artifact", forest, "-kind", "random_forest", "-label", "sepal_length"},
		{"explain", "-format", "csv", "-artifact", tree, "-kind", "decision_tree", "-keep", "sepal_length"},
	} {
		got, want := run(in, args), run(quoted, args)
		if got != want {
			t.Fatalf("classify %v on %q:\n%+v\nwith every field quoted (%q):\n%+v", args, in, got, quoted, want)
		}
	}
}

func TestPredictPlainMatchesQuoted(t *testing.T) {
	if q := quoteFields("a,b\n\nc\r\n\"d\",e\nf"); q != "\"a\",\"b\"\n\n\"c\"\r\n\"d\",e\n\"f\"" {
		t.Fatalf("quoteFields: %q", q)
	}
	for _, in := range plainCases {
		checkPlainPredict(t, in)
		// Each line alone too: the first line parsePlain declines has the
		// chunk split, and the lines after it parsed from their fields.
		header, body, _ := strings.Cut(in, "\n")
		for line := range strings.SplitAfterSeq(body, "\n") {
			checkPlainPredict(t, header+"\n"+line)
		}
	}
	// More than a chunk, one unusual value among plain ones.
	var b strings.Builder
	b.WriteString("sepal_length,sepal_width,petal_length,petal_width\n")
	for i := range 2*chunkRows + 5 {
		if i == chunkRows+3 {
			b.WriteString("5e0,3.5,1.4,0.2\n")
		}
		fmt.Fprintf(&b, "%d.%d,3.%d,%d.4,0.%d\n", 4+i%4, i%10, i%7, 1+i%6, 1+i%9)
	}
	checkPlainPredict(t, b.String())
}

func FuzzPredictPlain(f *testing.F) {
	for _, in := range plainCases {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if strings.Count(in, "\n") > 50 {
			return
		}
		checkPlainPredict(t, in)
	})
}
