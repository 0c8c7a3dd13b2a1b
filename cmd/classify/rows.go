package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Names predict adds to its output.
const (
	predictionName    = "prediction"
	probabilitiesName = "probabilities" // JSON Lines: an object of class → probability
	probabilityPrefix = "probability_"  // CSV: one column per class
)

// rowParser turns a record into the model's feature values, in schema
// order, and its label when one was asked for. Its errors are bad-row
// messages. It is safe for concurrent use.
type rowParser interface {
	parse(rec *record, row []float64) (label string, err error)
}

// csvColumns maps the model's features (and the label) to CSV columns.
type csvColumns struct {
	features []string
	cols     []int // cols[i]: the column of features[i]
	label    int   // the label's column, or -1
	nfields  int   // the header's field count
	rules    valueRules
	// byCol[j]: the feature in column j, or -1; nil when plain records
	// cannot be parsed without their fields (a label column).
	byCol []int
}

// errUnsplit is what csvColumns.parse returns for a plain record whose
// fields it needs: the caller splits the chunk (chunk.split) and asks again.
var errUnsplit = errors.New("the record's fields are not split")

// valueRules says which feature values a row may hold.
type valueRules struct {
	// missing: the model takes missing values (NaN).
	missing bool
	// nonPositive: values <= 0 are accepted (-allow-non-positive). By
	// default they are refused, as the HTTP server refuses them (the old
	// Python service's validation); a missing value the model takes is
	// exempt.
	nonPositive bool
}

// newCSVColumns finds each feature, and the label column when label is not
// empty, in header. rules says which values the rows may hold.
func newCSVColumns(header, features []string, label string, rules valueRules) (*csvColumns, error) {
	c := &csvColumns{features: features, label: -1, nfields: len(header), rules: rules}
	var missing []string
	for _, f := range features {
		i := slices.Index(header, f)
		if i < 0 {
			missing = append(missing, f)
		}
		c.cols = append(c.cols, i)
	}
	if label != "" {
		if c.label = slices.Index(header, label); c.label < 0 {
			missing = append(missing, label+" (the label, -label)")
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("the header has no column %s (it has: %s)",
			strings.Join(missing, ", "), strings.Join(header, ", "))
	}
	if label == "" {
		c.byCol = make([]int, len(header))
		for j := range c.byCol {
			c.byCol[j] = -1
		}
		for i, j := range c.cols {
			if c.byCol[j] >= 0 { // two features of one name
				c.byCol = nil
				break
			}
			c.byCol[j] = i
		}
	}
	return c, nil
}

func (c *csvColumns) parse(rec *record, row []float64) (string, error) {
	if rec.err != nil {
		return "", rec.err
	}
	if rec.fields == nil { // a plain record, not split
		if c.parsePlain(rec.raw, row) {
			return "", nil
		}
		return "", errUnsplit
	}
	if len(rec.fields) != c.nfields {
		return "", fmt.Errorf("%d fields, the header has %d", len(rec.fields), c.nfields)
	}
	for i, col := range c.cols {
		v, err := parseValue(c.features[i], rec.fields[col], c.rules)
		if err != nil {
			return "", err
		}
		row[i] = v
	}
	if c.label < 0 {
		return "", nil
	}
	label := strings.TrimSpace(rec.fields[c.label])
	if label == "" {
		return "", errors.New("the label is missing")
	}
	return label, nil
}

// parsePlain reads the feature values of a plain record from its line in
// one pass, without making its fields, when each is a positive decimal
// parseDecimal reads and the line has the header's field count: the values
// parse would find from its fields. Otherwise it returns false, and the
// record is left to parse, whose messages say what is wrong with it.
func (c *csvColumns) parsePlain(line []byte, row []float64) bool {
	if c.byCol == nil {
		return false
	}
	col, from := 0, 0
	for i := 0; ; i++ {
		if i < len(line) && line[i] != ',' {
			continue
		}
		if col == len(c.byCol) {
			return false // more fields than the header
		}
		if f := c.byCol[col]; f >= 0 {
			v, ok := parseDecimal(line[from:i])
			if !ok || !(v > 0) {
				return false
			}
			row[f] = v
		}
		col++
		if i == len(line) {
			return col == len(c.byCol)
		}
		from = i + 1
	}
}

// takesNone ends the message for a missing value given to a model that
// takes none.
const takesNone = " (the model takes no missing values)"

// parseValue reads a feature value written as text. An empty field and NaN
// (in any case) are a missing value: NaN for a model that takes missing
// values (rules.missing), a bad row otherwise. A value <= 0 (0 and -0
// included, -Inf too) is a bad row unless rules.nonPositive is set, as the
// HTTP server's gt=0 rule has it; infinities are bad rows anyway.
func parseValue(name, s string, rules valueRules) (float64, error) {
	if v, ok := parseDecimal(s); ok && v > 0 {
		return v, nil // what the rest would make of s
	}
	t := strings.TrimSpace(s)
	if t == "" {
		if rules.missing {
			return math.NaN(), nil
		}
		return 0, fmt.Errorf("%s: missing value%s", name, takesNone)
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%s: %q is not a number", name, s)
	}
	if math.IsNaN(v) {
		if rules.missing {
			return v, nil
		}
		return 0, fmt.Errorf("%s: missing value %q%s", name, s, takesNone)
	}
	if !rules.nonPositive && !(v > 0) {
		return 0, fmt.Errorf("%s: ensure this value is greater than 0: %q (-allow-non-positive accepts it)", name, s)
	}
	if math.IsInf(v, 0) {
		return 0, fmt.Errorf("%s: %q is not a finite number", name, s)
	}
	return v, nil
}

// pow10 are the powers of ten a float64 holds exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseDecimal reads the common spelling of a feature value, digits with
// at most one decimal point ("5.1", "12", ".5", "3."), as
// strconv.ParseFloat(s, 64) does, for several times less; ok is false
// for anything else (a sign, an exponent, spaces, more than 2^53 as an
// integer once the point is dropped), which is left to ParseFloat. The
// value is m / 10^k for integers m < 2^53 and k <= 22, both exact in a
// float64, so the one rounding of the division gives the float64 nearest
// the decimal value, which is ParseFloat's answer (the same fast path as
// its own, Clinger's).
func parseDecimal[T string | []byte](s T) (v float64, ok bool) {
	var m uint64
	digits, k := 0, -1 // k: digits after the point, -1 before it
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if m >= 1<<53/10 {
				return 0, false // 10m + 9 may not be below 2^53
			}
			m = m*10 + uint64(c-'0')
			digits++
			if k >= 0 {
				k++
			}
		case c == '.' && k < 0:
			k = 0
		default:
			return 0, false
		}
	}
	if digits == 0 || k > 22 {
		return 0, false
	}
	return float64(m) / pow10[max(k, 0)], true
}

// jsonFields reads the model's features (and the label) from JSON objects.
type jsonFields struct {
	features []string
	label    string // "" for none
	refuse   []string
	rules    valueRules
}

func (j *jsonFields) parse(rec *record, row []float64) (string, error) {
	if rec.err != nil {
		return "", rec.err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(nanToNull(rec.raw), &obj); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return "", fmt.Errorf("not a JSON object but %s", ute.Value)
		}
		return "", fmt.Errorf("not a JSON object: %v", err)
	}
	if obj == nil {
		return "", errors.New("not a JSON object but null")
	}
	for _, k := range j.refuse {
		if _, ok := obj[k]; ok {
			return "", fmt.Errorf("the object already has a %q key", k)
		}
	}
	for i, f := range j.features {
		raw, ok := obj[f]
		if !ok {
			return "", fmt.Errorf("%s: no such key", f)
		}
		v, err := jsonValue(f, raw, j.rules)
		if err != nil {
			return "", err
		}
		row[i] = v
	}
	if j.label == "" {
		return "", nil
	}
	raw, ok := obj[j.label]
	if !ok || string(raw) == "null" {
		return "", errors.New("the label is missing")
	}
	var label string
	if err := json.Unmarshal(raw, &label); err != nil {
		return "", fmt.Errorf("the label %s is not a string", raw)
	}
	if label = strings.TrimSpace(label); label == "" {
		return "", errors.New("the label is missing")
	}
	return label, nil
}

// jsonValue reads a feature value: a JSON number, or a string holding one.
// null (and NaN, which nanToNull made null) is a missing value, as in
// parseValue, and so are the values refused.
func jsonValue(name string, raw json.RawMessage, rules valueRules) (float64, error) {
	if string(raw) == "null" {
		if rules.missing {
			return math.NaN(), nil
		}
		return 0, fmt.Errorf("%s: missing value (null)%s", name, takesNone)
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, fmt.Errorf("%s: %s is not a number", name, raw)
		}
		return parseValue(name, s, rules)
	}
	if raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9' {
		return parseValue(name, string(raw), rules)
	}
	return 0, fmt.Errorf("%s: %s is not a number", name, raw)
}

// nanToNull returns line with every NaN outside a string (the literal
// Python's json.dumps writes for a missing value) turned into null, which
// encoding/json reads; a line without one comes back as it is.
func nanToNull(line []byte) []byte {
	if !bytes.Contains(line, []byte("NaN")) {
		return line
	}
	out := make([]byte, 0, len(line)+4)
	inString := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case inString && c == '\\' && i+1 < len(line):
			out = append(out, c, line[i+1])
			i++
			continue
		case c == '"':
			inString = !inString
		case !inString && c == 'N' && bytes.HasPrefix(line[i:], []byte("NaN")):
			out = append(out, "null"...)
			i += 2
			continue
		}
		out = append(out, c)
	}
	return out
}

// appendCSVRecord appends fields as one CSV line, quoted as encoding/csv
// quotes them.
func appendCSVRecord(dst []byte, fields ...string) []byte {
	for i, f := range fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendCSVField(dst, f)
	}
	return append(dst, '\n')
}

func appendCSVField[T string | []byte](dst []byte, f T) []byte {
	if !csvNeedsQuotes(f) {
		return append(dst, f...)
	}
	dst = append(dst, '"')
	for i := 0; i < len(f); i++ {
		dst = append(dst, f[i])
		if f[i] == '"' {
			dst = append(dst, '"')
		}
	}
	return append(dst, '"')
}

func csvNeedsQuotes[T string | []byte](f T) bool {
	if len(f) == 0 {
		return false
	}
	if string(f) == `\.` || f[0] == ' ' || f[0] == '\t' {
		return true
	}
	// A loop rather than strings.ContainsAny, which costs several times as
	// much on the short fields of a numeric CSV file.
	for i := 0; i < len(f); i++ {
		switch f[i] {
		case ',', '"', '\r', '\n':
			return true
		}
	}
	return false
}

// plainNeedsQuotes reports whether csvNeedsQuotes holds for any field of
// the line of a plain CSV record: its fields are the text between its
// commas, and none holds a double quote or a line break.
func plainNeedsQuotes(line []byte) bool {
	start := true // at the start of a field
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c > ',' { // digits, '.', letters: nothing to quote but a field `\.`
			if start && c == '\\' && i+1 < len(line) && line[i+1] == '.' && (i+2 == len(line) || line[i+2] == ',') {
				return true
			}
			start = false
			continue
		}
		switch {
		case c == ',':
			start = true
			continue
		case c == '\r':
			return true
		case start && (c == ' ' || c == '\t'):
			return true
		}
		start = false
	}
	return false
}

// appendFloat writes v in the shortest form that parses back to v:
// strconv.AppendFloat(dst, v, 'g', -1, 64), byte for byte. 0 and 1, the
// probabilities of most rows of a pure leaf, are written without it.
func appendFloat(dst []byte, v float64) []byte {
	switch math.Float64bits(v) {
	case 0: // +0; -0 is "-0"
		return append(dst, '0')
	case 0x3ff0000000000000: // 1
		return append(dst, '1')
	}
	return strconv.AppendFloat(dst, v, 'g', -1, 64)
}

// predictError is the bad-row message for a row the model refused, with
// the feature named rather than numbered.
func predictError(err error, features []string) string {
	msg := strings.TrimPrefix(err.Error(), "classify: ")
	for i, f := range features {
		if t := fmt.Sprintf("feature %d ", i); strings.Contains(msg, t) {
			return strings.Replace(msg, t, f+" ", 1)
		}
	}
	return msg
}
