package classifyhttp

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// This file reads request bodies the way the Python service did (json.loads
// behind FastAPI), so clients get the same answers and the same error
// positions: NaN, Infinity and -Infinity are accepted as numbers, a
// duplicated key keeps its last value, and a syntax error is reported with
// Python's message, line, column and character position. It parses into a
// flat tape of nodes without reflection, which keeps the hot path cheap.

// jkind is the type of a JSON value on the tape.
type jkind uint8

const (
	jNull jkind = iota
	jFalse
	jTrue
	jNumber // start:end is the literal, NaN/Infinity/-Infinity included
	jString // start:end excludes the quotes
	jObject // followed by key, value pairs
	jArray  // followed by its elements
)

// node is one JSON value. size counts the nodes of its subtree, itself
// included, so the next sibling of node i is at i+size; for an object, the
// keys are nodes too (strings), each followed by its value.
type node struct {
	kind       jkind
	escaped    bool // a string holding backslash escapes
	start, end int32
	size       int32
	count      int32 // members of an object, elements of an array
}

// jsonDoc is a parsed body. Reuse one with parse to avoid allocating.
type jsonDoc struct {
	src   []byte
	nodes []node
	depth int
}

// maxDepth bounds nesting (Python gives up near 1000 with RecursionError).
const maxDepth = 256

// decodeError is Python's json.JSONDecodeError.
type decodeError struct {
	msg    string // e.g. "Expecting value"
	pos    int    // character (not byte) offset, as Python counts
	lineno int
	colno  int
}

func (e *decodeError) Error() string {
	return fmt.Sprintf("%s: line %d column %d (char %d)", e.msg, e.lineno, e.colno, e.pos)
}

// parse reads src as one JSON document. It returns a *decodeError for
// malformed input. src must be valid UTF-8 (the caller checks), and stays
// referenced by the document.
func (d *jsonDoc) parse(src []byte) *decodeError {
	d.src = src
	d.nodes = d.nodes[:0]
	d.depth = 0
	i := skipSpace(src, 0)
	end, err := d.value(i)
	if err != nil {
		return err
	}
	end = skipSpace(src, end)
	if end != len(src) {
		return d.fail("Extra data", end)
	}
	return nil
}

func (d *jsonDoc) fail(msg string, bytePos int) *decodeError {
	src := d.src[:bytePos]
	pos := utf8.RuneCount(src)
	line, lastNL := 1, -1
	for i, c := range src {
		if c == '\n' {
			line++
			lastNL = i
		}
	}
	col := pos + 1
	if lastNL >= 0 {
		col = utf8.RuneCount(src[lastNL+1:]) + 1
	}
	return &decodeError{msg: msg, pos: pos, lineno: line, colno: col}
}

func skipSpace(s []byte, i int) int {
	for i < len(s) {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// value parses the value starting at i (no leading space) and returns the
// offset just after it.
func (d *jsonDoc) value(i int) (int, *decodeError) {
	s := d.src
	if i >= len(s) {
		return 0, d.fail("Expecting value", i)
	}
	switch c := s[i]; {
	case c == '"':
		return d.str(i)
	case c == '{':
		return d.object(i)
	case c == '[':
		return d.array(i)
	case c == 'n' && hasPrefixAt(s, i, "null"):
		d.leaf(jNull, i, i+4)
		return i + 4, nil
	case c == 't' && hasPrefixAt(s, i, "true"):
		d.leaf(jTrue, i, i+4)
		return i + 4, nil
	case c == 'f' && hasPrefixAt(s, i, "false"):
		d.leaf(jFalse, i, i+5)
		return i + 5, nil
	case c == 'N' && hasPrefixAt(s, i, "NaN"):
		d.leaf(jNumber, i, i+3)
		return i + 3, nil
	case c == 'I' && hasPrefixAt(s, i, "Infinity"):
		d.leaf(jNumber, i, i+8)
		return i + 8, nil
	case c == '-' && hasPrefixAt(s, i, "-Infinity"):
		d.leaf(jNumber, i, i+9)
		return i + 9, nil
	case c == '-' || '0' <= c && c <= '9':
		if end := scanNumber(s, i); end > i {
			d.leaf(jNumber, i, end)
			return end, nil
		}
	}
	return 0, d.fail("Expecting value", i)
}

func hasPrefixAt(s []byte, i int, p string) bool {
	return len(s)-i >= len(p) && string(s[i:i+len(p)]) == p
}

// scanNumber matches Python's NUMBER_RE, (-?(?:0|[1-9]\d*))(\.\d+)?([eE][-+]?\d+)?,
// and returns the end of the match, or i when nothing matches.
func scanNumber(s []byte, i int) int {
	j := i
	if j < len(s) && s[j] == '-' {
		j++
	}
	switch {
	case j < len(s) && s[j] == '0':
		j++
	case j < len(s) && '1' <= s[j] && s[j] <= '9':
		for j < len(s) && isDigit(s[j]) {
			j++
		}
	default:
		return i
	}
	if j+1 < len(s) && s[j] == '.' && isDigit(s[j+1]) {
		j += 2
		for j < len(s) && isDigit(s[j]) {
			j++
		}
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && isDigit(s[k]) {
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			j = k
		}
	}
	return j
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func (d *jsonDoc) leaf(k jkind, start, end int) {
	d.nodes = append(d.nodes, node{kind: k, start: int32(start), end: int32(end), size: 1})
}

// str parses the string whose opening quote is at i.
func (d *jsonDoc) str(i int) (int, *decodeError) {
	s := d.src
	escaped := false
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			d.nodes = append(d.nodes, node{kind: jString, escaped: escaped, start: int32(i + 1), end: int32(j), size: 1})
			return j + 1, nil
		case c == '\\':
			escaped = true
			j++
			if j >= len(s) {
				return 0, d.fail("Unterminated string starting at", i)
			}
			switch s[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(s) || !isHex4(s[j+1:j+5]) {
					return 0, d.fail("Invalid \\uXXXX escape", j-1)
				}
				j += 4
			default:
				return 0, d.fail("Invalid \\escape", j-1)
			}
		case c < 0x20:
			return 0, d.fail("Invalid control character at", j)
		}
	}
	return 0, d.fail("Unterminated string starting at", i)
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func (d *jsonDoc) open(k jkind, i int) (int, *decodeError) {
	if d.depth++; d.depth > maxDepth {
		return 0, d.fail("Nesting too deep", i)
	}
	d.nodes = append(d.nodes, node{kind: k, start: int32(i)})
	return len(d.nodes) - 1, nil
}

func (d *jsonDoc) close(at, end, count int) {
	d.depth--
	n := &d.nodes[at]
	n.end, n.size, n.count = int32(end), int32(len(d.nodes)-at), int32(count)
}

func (d *jsonDoc) object(i int) (int, *decodeError) {
	at, err := d.open(jObject, i)
	if err != nil {
		return 0, err
	}
	s := d.src
	j := skipSpace(s, i+1)
	if j < len(s) && s[j] == '}' {
		d.close(at, j+1, 0)
		return j + 1, nil
	}
	for count := 1; ; count++ {
		if j >= len(s) || s[j] != '"' {
			return 0, d.fail("Expecting property name enclosed in double quotes", j)
		}
		if j, err = d.str(j); err != nil {
			return 0, err
		}
		j = skipSpace(s, j)
		if j >= len(s) || s[j] != ':' {
			return 0, d.fail("Expecting ':' delimiter", j)
		}
		if j, err = d.value(skipSpace(s, j+1)); err != nil {
			return 0, err
		}
		j = skipSpace(s, j)
		if j < len(s) && s[j] == '}' {
			d.close(at, j+1, count)
			return j + 1, nil
		}
		if j >= len(s) || s[j] != ',' {
			return 0, d.fail("Expecting ',' delimiter", j)
		}
		j = skipSpace(s, j+1)
	}
}

func (d *jsonDoc) array(i int) (int, *decodeError) {
	at, err := d.open(jArray, i)
	if err != nil {
		return 0, err
	}
	s := d.src
	j := skipSpace(s, i+1)
	if j < len(s) && s[j] == ']' {
		d.close(at, j+1, 0)
		return j + 1, nil
	}
	for count := 1; ; count++ {
		if j, err = d.value(j); err != nil {
			return 0, err
		}
		j = skipSpace(s, j)
		if j < len(s) && s[j] == ']' {
			d.close(at, j+1, count)
			return j + 1, nil
		}
		if j >= len(s) || s[j] != ',' {
			return 0, d.fail("Expecting ',' delimiter", j)
		}
		j = skipSpace(s, j+1)
	}
}

// raw returns the bytes of node n (for strings, without the quotes).
func (d *jsonDoc) raw(n int) []byte {
	return d.src[d.nodes[n].start:d.nodes[n].end]
}

// text returns the decoded value of string node n.
func (d *jsonDoc) text(n int) string {
	nd := d.nodes[n]
	if !nd.escaped {
		return string(d.raw(n))
	}
	var s string
	// The scanner has checked the escapes; encoding/json decodes them.
	if err := json.Unmarshal(d.src[nd.start-1:nd.end+1], &s); err != nil {
		return string(d.raw(n))
	}
	return s
}

// number returns the value of number node n as Python's json.loads gives
// it (NaN and the infinities included; literals beyond float64 give an
// infinity).
func (d *jsonDoc) number(n int) float64 {
	b := d.raw(n)
	switch string(b) {
	case "NaN":
		return nan
	case "Infinity":
		return posInf
	case "-Infinity":
		return negInf
	}
	v, _ := strconv.ParseFloat(string(b), 64) // ErrRange still gives ±Inf
	return v
}
