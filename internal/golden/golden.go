// Package golden reads classify/golden files (research/FORMATS.md), the
// reference library's own answers for a model: golden predictions (version
// 1) and the parity files an exporter writes beside an artifact (version 2,
// which adds missing input values, the artifact's kind and file name, and a
// tolerance). Check runs a classify.Model over a file's cases and reports
// how far it is from the reference.
//
// Read validates a file whole: a file that Read accepted has a case name
// for every case (unique), an input of one value per feature, a label that
// is one of the classes and one probability per class. It never panics on
// any input.
package golden

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/ml-production-service/classify"
)

// Format is the value of a golden file's "format" field.
const Format = "classify/golden"

// Version is the newest format_version Read reads; it reads every older one.
const Version = 2

// MaxBytes bounds what Read reads: a larger file is refused, not read into
// memory whole.
const MaxBytes = 64 << 20

// ErrFormat is wrapped by every error Read returns for a file that is not a
// valid golden file (as opposed to one that could not be read).
var ErrFormat = errors.New("golden: invalid golden file")

// File is a golden file as Read returns it.
type File struct {
	FormatVersion  int
	Model          string // the manifest name the answers were written for, "" when absent
	ArtifactSHA256 string // lower-case hex, "" when absent
	Reference      string // the library and version that produced the answers
	// Version 2 only; zero when absent.
	Kind      classify.Kind // "" when absent
	Artifact  string        // relative to the file, in slash form; "" when absent
	Tolerance *float64      // the largest probability difference the writer promises
	Features  []string
	Classes   []string
	Cases     []Case
}

// Case is one row and the reference library's answer for it.
type Case struct {
	Name  string
	Input []float64 // NaN for a missing value (JSON null, version 2)
	Label string
	Proba []float64
}

// MissingCases counts the cases whose input holds a missing value.
func (f *File) MissingCases() int {
	n := 0
	for _, c := range f.Cases {
		for _, v := range c.Input {
			if v != v {
				n++
				break
			}
		}
	}
	return n
}

// ReadFile reads and validates the golden file at path.
func ReadFile(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("golden: %w", err)
	}
	defer fh.Close()
	f, err := Read(fh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// wire is the file as JSON spells it. Inputs are pointers so that null
// (a missing value) is told from a number: encoding/json leaves a float64
// untouched for null, which would read as 0.
type wire struct {
	Format         *string         `json:"format"`
	FormatVersion  *int            `json:"format_version"`
	Model          string          `json:"model"`
	ArtifactSHA256 string          `json:"artifact_sha256"`
	Reference      string          `json:"reference"`
	Kind           *string         `json:"kind"`
	Artifact       *string         `json:"artifact"`
	Tolerance      json.RawMessage `json:"tolerance"`
	Features       []string        `json:"features"`
	Classes        []string        `json:"classes"`
	Cases          []struct {
		Name  string     `json:"name"`
		Input []*float64 `json:"input"`
		Label string     `json:"label"`
		Proba []*float64 `json:"proba"`
	} `json:"cases"`
}

// Read reads and validates one golden file, version 1 or 2, from r. Unknown
// fields are ignored (writers add their own, such as an XGBoost objective).
// Every error but a read error wraps ErrFormat and says what is wrong, with
// the case's name or index where one is at fault.
func Read(r io.Reader) (*File, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("golden: read: %w", err)
	}
	if len(b) > MaxBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrFormat, MaxBytes)
	}
	var w wire
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, jsonError(err, b))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrFormat)
	}
	return w.file()
}

// jsonError turns a decoding error into a message with a line number.
func jsonError(err error, b []byte) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("line %d: %v", line(b, se.Offset), err)
	case errors.As(err, &te):
		if te.Field == "" {
			return fmt.Sprintf("the file holds a JSON %s, not an object", te.Value)
		}
		return fmt.Sprintf("line %d: %s: %s where %s is expected", line(b, te.Offset), te.Field, te.Value, te.Type)
	case errors.Is(err, io.EOF):
		return "empty file"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of the file"
	}
	return err.Error()
}

func line(b []byte, off int64) int {
	off = min(max(off, 0), int64(len(b)))
	return bytes.Count(b[:off], []byte{'\n'}) + 1
}

func errf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrFormat}, args...)...)
}

// file validates w and converts it.
func (w *wire) file() (*File, error) {
	switch {
	case w.Format == nil:
		return nil, errf("no \"format\" field: not a %s file", Format)
	case *w.Format != Format:
		return nil, errf("format %q, want %q", *w.Format, Format)
	case w.FormatVersion == nil:
		return nil, errf("no \"format_version\" field")
	case *w.FormatVersion > Version:
		return nil, errf("format_version %d is newer than this reader, which reads 1 to %d", *w.FormatVersion, Version)
	case *w.FormatVersion < 1:
		return nil, errf("format_version %d: versions start at 1", *w.FormatVersion)
	}
	f := &File{FormatVersion: *w.FormatVersion, Model: w.Model, ArtifactSHA256: w.ArtifactSHA256,
		Reference: w.Reference, Features: w.Features, Classes: w.Classes}
	v2 := f.FormatVersion >= 2
	if !v2 && (w.Kind != nil || w.Artifact != nil || w.Tolerance != nil) {
		return nil, errf("kind, artifact and tolerance are format_version 2 fields; this file is version 1")
	}
	if f.Reference == "" {
		return nil, errf("no \"reference\": the library and version that produced the answers")
	}
	if s := f.ArtifactSHA256; s != "" {
		if !isSHA256(s) {
			return nil, errf("artifact_sha256 %q is not 64 lower-case hex digits", s)
		}
	}
	if w.Kind != nil {
		k, err := classify.ParseKind(*w.Kind)
		if err != nil || string(k) != *w.Kind {
			return nil, errf("kind %q is not one of %s", *w.Kind, kindList())
		}
		f.Kind = k
	}
	if w.Artifact != nil {
		a := *w.Artifact
		if a == "" || !filepath.IsLocal(filepath.FromSlash(a)) || filepath.ToSlash(filepath.Clean(filepath.FromSlash(a))) != a {
			return nil, errf("artifact %q: want a clean file name relative to the golden file, with no \"..\"", a)
		}
		f.Artifact = a
	}
	if w.Tolerance != nil {
		var t float64
		if err := json.Unmarshal(w.Tolerance, &t); err != nil || t < 0 || math.IsInf(t, 0) {
			return nil, errf("tolerance %s is not a number from 0 up", w.Tolerance)
		}
		f.Tolerance = &t
	}
	if err := names("features", f.Features); err != nil {
		return nil, err
	}
	if err := names("classes", f.Classes); err != nil {
		return nil, err
	}
	if len(w.Cases) == 0 {
		return nil, errf("no cases")
	}
	seen := make(map[string]int, len(w.Cases))
	f.Cases = make([]Case, len(w.Cases))
	for i, wc := range w.Cases {
		c := &f.Cases[i]
		if wc.Name == "" {
			return nil, errf("case %d has no name", i)
		}
		if j, dup := seen[wc.Name]; dup {
			return nil, errf("case %d: the name %q is case %d's too", i, wc.Name, j)
		}
		seen[wc.Name] = i
		at := fmt.Sprintf("case %q", wc.Name)
		if len(wc.Input) != len(f.Features) {
			return nil, errf("%s: input has %d values, the file has %d features", at, len(wc.Input), len(f.Features))
		}
		c.Name, c.Label = wc.Name, wc.Label
		c.Input = make([]float64, len(wc.Input))
		for j, v := range wc.Input {
			switch {
			case v != nil:
				c.Input[j] = *v
			case !v2:
				return nil, errf("%s: input %d (%s) is null; missing values need format_version 2", at, j, f.Features[j])
			default:
				c.Input[j] = math.NaN()
			}
		}
		if !slices.Contains(f.Classes, c.Label) {
			return nil, errf("%s: label %q is not one of the classes", at, c.Label)
		}
		if len(wc.Proba) != len(f.Classes) {
			return nil, errf("%s: proba has %d values, the file has %d classes", at, len(wc.Proba), len(f.Classes))
		}
		c.Proba = make([]float64, len(wc.Proba))
		for j, p := range wc.Proba {
			if p == nil || !(*p >= 0 && *p <= 1) {
				return nil, errf("%s: proba[%d] is %s, not a probability", at, j, show(p))
			}
			c.Proba[j] = *p
		}
	}
	return f, nil
}

// names checks a list of feature or class names: at least one, none
// empty, no repeats.
func names(what string, list []string) error {
	if len(list) == 0 {
		return errf("no %s", what)
	}
	for i, n := range list {
		if n == "" {
			return errf("%s[%d] is empty", what, i)
		}
		if j := slices.Index(list[:i], n); j >= 0 {
			return errf("%s[%d] %q repeats %s[%d]", what, i, n, what, j)
		}
	}
	return nil
}

// isSHA256 reports whether s is 64 lower-case hex digits.
func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// show formats a value that may be null.
func show(p *float64) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

func kindList() string {
	var s string
	for i, k := range classify.Kinds() {
		if i > 0 {
			s += ", "
		}
		s += string(k)
	}
	return s
}

// DefaultTolerance is the largest probability difference the design allows
// a model of kind k when the file promises none: 1e-6 for XGBoost, whose
// reference sums in float32, and 1e-9 for every other kind (scikit-learn's
// float64 arithmetic and the rules' one-hot answers).
func DefaultTolerance(k classify.Kind) float64 {
	if k == classify.XGBoost {
		return 1e-6
	}
	return 1e-9
}
