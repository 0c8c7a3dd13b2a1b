package classifyhttp

import (
	"math"
	"strconv"
	"strings"
)

// This file reproduces the old service's request validation: a pydantic v1
// model whose fields are floats constrained to be greater than 0. Its error
// items have FastAPI's shape, {"loc": [...], "msg": ..., "type": ...}, and
// its coercions are pydantic's: numbers, numeric strings ("5.1") and
// booleans (true is 1.0) are accepted as floats.

var (
	nan    = math.NaN()
	posInf = math.Inf(1)
	negInf = math.Inf(-1)
)

// issue is one item of a 422 answer's "detail" list.
type issue struct {
	Loc  []any  `json:"loc"`
	Msg  string `json:"msg"`
	Type string `json:"type"`
	Ctx  any    `json:"ctx,omitempty"`
}

// validationError is the body of a 422 answer.
type validationError struct {
	Detail []issue `json:"detail"`
}

// The messages and types pydantic v1 gives.
func missingIssue(loc []any) issue {
	return issue{Loc: loc, Msg: "field required", Type: "value_error.missing"}
}

func floatIssue(loc []any) issue {
	return issue{Loc: loc, Msg: "value is not a valid float", Type: "type_error.float"}
}

func noneIssue(loc []any) issue {
	return issue{Loc: loc, Msg: "none is not an allowed value", Type: "type_error.none.not_allowed"}
}

func notGtIssue(loc []any) issue {
	return issue{Loc: loc, Msg: "ensure this value is greater than 0", Type: "value_error.number.not_gt",
		Ctx: map[string]any{"limit_value": 0}}
}

func notFiniteIssue(loc []any) issue {
	return issue{Loc: loc, Msg: "ensure this value is a finite number", Type: "value_error.number.not_finite_number"}
}

func notLeIssue(loc []any, limit float64) issue {
	return issue{Loc: loc, Msg: "ensure this value is less than or equal to " + strconv.FormatFloat(limit, 'g', -1, 64),
		Type: "value_error.number.not_le", Ctx: map[string]any{"limit_value": limit}}
}

func dictIssue(loc []any) issue {
	return issue{Loc: loc, Msg: "value is not a valid dict", Type: "type_error.dict"}
}

func listIssue(loc []any) issue {
	return issue{Loc: loc, Msg: "value is not a valid list", Type: "type_error.list"}
}

func jsonIssue(e *decodeError, body []byte) issue {
	// Python's JSONDecodeError attributes, in its order.
	type ctx struct {
		Msg    string `json:"msg"`
		Doc    string `json:"doc"`
		Pos    int    `json:"pos"`
		Lineno int    `json:"lineno"`
		Colno  int    `json:"colno"`
	}
	return issue{Loc: []any{"body", e.pos}, Msg: e.Error(), Type: "value_error.jsondecode",
		Ctx: ctx{e.msg, string(body), e.pos, e.lineno, e.colno}}
}

// loc returns a fresh location path: prefix then more.
func loc(prefix []any, more ...any) []any {
	l := make([]any, 0, len(prefix)+len(more))
	return append(append(l, prefix...), more...)
}

// failure says why a value was refused; zero means it was not.
type failure uint8

const (
	accepted failure = iota
	failMissing
	failNone
	failFloat
	failNotGt
)

// issueAt builds the issue for f at location at.
func (f failure) issueAt(at []any) issue {
	switch f {
	case failMissing:
		return missingIssue(at)
	case failNone:
		return noneIssue(at)
	case failNotGt:
		return notGtIssue(at)
	}
	return floatIssue(at)
}

// floatValue converts node n as pydantic v1's float validator does, then
// applies the gt=0 constraint when positive is set. When missing is set
// (the model takes missing values), null, NaN and a string holding NaN are
// a missing value: NaN, accepted, exempt from the gt=0 constraint. When it
// is not, they fail exactly as they did in the old service.
func floatValue(d *jsonDoc, n int, positive, missing bool) (float64, failure) {
	var v float64
	if missing && d.nodes[n].kind == jNull {
		return nan, accepted
	}
	switch d.nodes[n].kind {
	case jNumber:
		v = d.number(n)
	case jTrue:
		v = 1
	case jFalse:
		v = 0
	case jString:
		f, ok := pythonFloat(d.text(n))
		if !ok {
			return 0, failFloat
		}
		v = f
	case jNull:
		return 0, failNone
	default:
		return 0, failFloat
	}
	if missing && v != v {
		return v, accepted
	}
	if positive && !(v > 0) { // NaN fails too, as in Python
		return 0, failNotGt
	}
	return v, accepted
}

// pythonFloat parses s as Python's float(str) does: surrounding whitespace,
// a sign, "inf", "infinity" and "nan" in any case, and underscores between
// digits are accepted; hexadecimal is not.
func pythonFloat(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	body := s
	if body[0] == '+' || body[0] == '-' {
		body = body[1:]
	}
	switch strings.ToLower(body) {
	case "inf", "infinity":
		if s[0] == '-' {
			return negInf, true
		}
		return posInf, true
	case "nan":
		return nan, true
	}
	if strings.ContainsRune(body, '_') {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if s[i] == '_' {
				if i == 0 || i == len(s)-1 || !isDigit(s[i-1]) || !isDigit(s[i+1]) {
					return 0, false
				}
				continue
			}
			b.WriteByte(s[i])
		}
		s = b.String()
	}
	// Python's grammar: digits, one point, an exponent; nothing else.
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isDigit(c) || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
			return 0, false
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return v, true // Python gives inf or 0 too
		}
		return 0, false
	}
	return v, true
}
