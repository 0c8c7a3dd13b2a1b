package xgbmodel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// The JSON model's arrays decode themselves, so that what a document can
// make the reader allocate stays proportional to its size: encoding/json
// would grow a slice by appending (allocating several times its final
// size) and give every element of an array of objects its whole struct,
// however few bytes the element takes ("{}" is a tree of 2 bytes).
// Numbers go into slices of exactly their count; names and attributes are
// streamed with a cap on their count; trees are streamed and checked one by
// one, so each one kept has the nodes its arrays describe.

// numbers parses a JSON array of numbers into a slice of exactly its
// length, each element with parse.
func numbers[T any](b []byte, what string, parse func([]byte) (T, error)) ([]T, error) {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil, nil
	}
	if len(b) < 2 || b[0] != '[' || b[len(b)-1] != ']' {
		return nil, fmt.Errorf("%s is not an array", what)
	}
	inner := bytes.TrimSpace(b[1 : len(b)-1])
	if len(inner) == 0 {
		return []T{}, nil
	}
	out := make([]T, 0, bytes.Count(inner, []byte{','})+1)
	for len(inner) > 0 {
		tok := inner
		if i := bytes.IndexByte(inner, ','); i >= 0 {
			tok, inner = inner[:i], inner[i+1:]
		} else {
			inner = nil
		}
		v, err := parse(bytes.TrimSpace(tok))
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a valid element", what, clip(string(tok)))
		}
		out = append(out, v)
	}
	return out, nil
}

type (
	int32s   []int32
	features []uint32 // split_indices
	float32s []float32
)

func (a *int32s) UnmarshalJSON(b []byte) (err error) {
	*a, err = numbers(b, "integer array", func(s []byte) (int32, error) {
		v, err := atoi64(s, 32)
		return int32(v), err
	})
	return err
}

// UnmarshalJSON reads split indices; one outside [0, 2^32) becomes 2^32-1,
// refused if a reachable split has it (deleted nodes have 2^31-1).
func (a *features) UnmarshalJSON(b []byte) (err error) {
	*a, err = numbers(b, "integer array", func(s []byte) (uint32, error) {
		v, err := atoi64(s, 64)
		return featureIndex(v), err
	})
	return err
}

// featureIndex returns split index v as both readers keep it: one outside
// [0, 2^32) becomes 2^32-1, which addTree refuses at a reachable split.
func featureIndex(v int64) uint32 {
	if v < 0 || v > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(v)
}

var errInteger = errors.New("not an integer")

// atoi64 parses a decimal integer of at most bits bits without
// converting s to a string (which would allocate for every element).
func atoi64(s []byte, bits uint) (int64, error) {
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 19 || (len(s) > 1 && s[0] == '0') {
		return 0, errInteger
	}
	var v uint64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, errInteger
		}
		v = v*10 + uint64(c-'0')
	}
	limit := uint64(1) << (bits - 1) // magnitude of the most negative value
	if v > limit || (!neg && v == limit) {
		return 0, errInteger
	}
	if neg {
		return -int64(v), nil
	}
	return int64(v), nil
}

// UnmarshalJSON parses float32 values as XGBoost writes them; a number out
// of float32's range is an error (as a non-finite value is in UBJSON).
func (a *float32s) UnmarshalJSON(b []byte) (err error) {
	// encoding/json has checked that every element is a JSON value, so
	// what ParseFloat takes beyond JSON numbers (inf, 0x1p3) cannot occur.
	*a, err = numbers(b, "number array", func(s []byte) (float32, error) {
		v, err := strconv.ParseFloat(string(s), 32)
		return float32(v), err
	})
	return err
}

// flags is an array of booleans written as 0/1 (XGBoost 1.6 on; UBJSON
// as uint8, ubjson.go) or true/false: default_left, and split_type (0 numerical, 1
// categorical).
type flags []bool

func (a *flags) UnmarshalJSON(b []byte) (err error) {
	*a, err = numbers(b, "flag array", func(s []byte) (bool, error) {
		switch string(s) {
		case "0", "false":
			return false, nil
		case "1", "true":
			return true, nil
		}
		return false, errors.New("not a flag")
	})
	return err
}

// stream calls each for every element of the JSON array b, stopping with
// an error after limit elements.
func stream(b []byte, what string, limit int, each func(dec *json.Decoder, i int) error) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		if tok == nil && err == nil {
			return nil // null
		}
		return fmt.Errorf("%s is not an array", what)
	}
	for i := 0; dec.More(); i++ {
		if i >= limit {
			return fmt.Errorf("%s has more than %d elements", what, limit)
		}
		if err := each(dec, i); err != nil {
			return err
		}
	}
	return nil
}

// names is learner.feature_names: at most MaxFeatures strings.
type names []string

func (a *names) UnmarshalJSON(b []byte) error {
	var out []string
	err := stream(b, "feature_names", MaxFeatures, func(dec *json.Decoder, _ int) error {
		var s string
		if err := dec.Decode(&s); err != nil {
			return fmt.Errorf("feature_names: %v", err)
		}
		out = append(out, s)
		return nil
	})
	*a = out
	return err
}

// maxAttributes bounds learner.attributes; XGBoost and its scikit-learn
// wrapper store a handful (scikit_learn, best_iteration, ...).
const maxAttributes = 1024

// attributes is learner.attributes, of which only scikit_learn is kept.
type attributes struct {
	sklearn string
	has     bool
}

func (a *attributes) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		if tok == nil && err == nil {
			return nil
		}
		return errors.New("attributes is not an object")
	}
	for i := 0; dec.More(); i++ {
		if i >= maxAttributes {
			return fmt.Errorf("attributes has more than %d entries", maxAttributes)
		}
		key, err := dec.Token()
		if err != nil {
			return fmt.Errorf("attributes: %v", err)
		}
		var v string
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("attributes: %v", err)
		}
		if key == "scikit_learn" {
			a.sklearn, a.has = v, true
		}
	}
	return nil
}

// trees is the gbtree model's trees, each checked as soon as it is read.
// They are kept by pointer: a jsonTree is 248 bytes, and a slice of them
// grown by append allocated several times that per tree (a document of
// many one-node trees made either reader allocate 10 times its size).
type trees []*jsonTree

func (a *trees) UnmarshalJSON(b []byte) error {
	var out []*jsonTree
	// A checked tree has num_nodes >= 1 and arrays of that length: more
	// than 100 bytes of JSON.
	limit := len(b)/100 + 1
	err := elements(b, "trees", func(elem []byte, t int) error {
		if t >= limit {
			return fmt.Errorf("trees has more than %d elements for %d bytes", limit, len(b))
		}
		jt := new(jsonTree)
		if err := jt.decode(elem); err != nil {
			return fmt.Errorf("tree %d: %v", t, err)
		}
		if err := jt.check(t); err != nil {
			return err
		}
		out = append(out, jt)
		return nil
	})
	*a = out
	return err
}

// decode reads one tree of the trees array, which encoding/json has
// checked is valid JSON: as json.Unmarshal would (keys matched without
// regard to case, unknown keys ignored, a later duplicate winning, each
// array's UnmarshalJSON given the raw value, null leaving the zero
// value), without scanning the tree again to validate it and again to
// skip each array (on a 2,000-tree model, json.Unmarshal per tree took
// half the load).
func (jt *jsonTree) decode(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if b[0] != '{' {
		return errors.New("not an object")
	}
	return fields(b, func(key, v []byte) error {
		// The keys as the UBJSON reader's tree matches them.
		switch keyIndex(key, "tree_param", "left_children", "right_children", "split_indices",
			"split_conditions", "default_left", "split_type", "sum_hessian", "loss_changes") {
		case 0:
			return json.Unmarshal(v, &jt.Param)
		case 1:
			return jt.Left.UnmarshalJSON(v)
		case 2:
			return jt.Right.UnmarshalJSON(v)
		case 3:
			return jt.Split.UnmarshalJSON(v)
		case 4:
			return jt.Conditions.UnmarshalJSON(v)
		case 5:
			return jt.DefaultLeft.UnmarshalJSON(v)
		case 6:
			return jt.SplitType.UnmarshalJSON(v)
		case 7:
			return jt.SumHessian.UnmarshalJSON(v)
		case 8:
			return jt.LossChanges.UnmarshalJSON(v)
		}
		return nil
	})
}

// fields calls each for every member of the JSON object b, valid JSON,
// with its key unquoted and its value's bytes.
func fields(b []byte, each func(key, v []byte) error) error {
	i := 1 // after '{'
	for {
		i = skipSpace(b, i)
		if i >= len(b) || b[i] == '}' {
			return nil
		}
		end := stringEnd(b, i)
		raw := b[i:end]
		key := raw[1 : len(raw)-1]
		if bytes.IndexByte(raw, '\\') >= 0 {
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return err
			}
			key = []byte(s)
		}
		i = skipSpace(b, end) + 1 // past ':'
		i = skipSpace(b, i)
		vend := valueEnd(b, i)
		if err := each(key, b[i:vend]); err != nil {
			return err
		}
		i = skipSpace(b, vend)
		if i < len(b) && b[i] == ',' {
			i++
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index after the JSON string starting at b[i].
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// valueEnd returns the index after the JSON value starting at b[i].
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '[', '{':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = stringEnd(b, i) - 1
			case '[', '{':
				depth++
			case ']', '}':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
		i++
	}
	return i
}

// elements calls each for every element of the JSON array b, which
// encoding/json has already checked is valid JSON, without copying it.
func elements(b []byte, what string, each func(elem []byte, i int) error) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	if len(b) < 2 || b[0] != '[' {
		return fmt.Errorf("%s is not an array", what)
	}
	depth, start, n := 0, 1, 0
	inString := false
	for i := 1; i < len(b); i++ {
		c := b[i]
		switch {
		case inString:
			if c == '\\' {
				i++
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
		case (c == ']' || c == '}') && depth > 0:
			depth--
		case c == ',' && depth == 0, c == ']' && depth == 0:
			if elem := bytes.TrimSpace(b[start:i]); len(elem) > 0 {
				if err := each(elem, n); err != nil {
					return err
				}
				n++
			}
			start = i + 1
		}
	}
	return nil
}

// check validates the shape of tree t: its node count and that every
// array has one entry per node.
func (jt *jsonTree) check(t int) error {
	lv := int64(0)
	if s := jt.Param.SizeLeafVector; s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("tree %d: size_leaf_vector %q is not a number", t, clip(s))
		}
		lv = v
	}
	if err := checkLeafVector(lv, t); err != nil {
		return err
	}
	n, err := atoi(jt.Param.NumNodes, "num_nodes", 1, 1<<31-1)
	if err != nil {
		return fmt.Errorf("tree %d: %w", t, err)
	}
	for _, a := range []struct {
		name string
		len  int
	}{
		{"left_children", len(jt.Left)}, {"right_children", len(jt.Right)},
		{"split_indices", len(jt.Split)}, {"split_conditions", len(jt.Conditions)},
		{"default_left", len(jt.DefaultLeft)},
	} {
		if a.len != n {
			return fmt.Errorf("tree %d: %s has %d entries for %d nodes", t, a.name, a.len, n)
		}
	}
	// Optional arrays: split_type (XGBoost 1.6 on), and the statistics
	// (every XGBoost writes them; a file without them predicts and cannot
	// explain).
	for _, a := range []struct {
		name string
		len  int
	}{{"split_type", len(jt.SplitType)}, {"sum_hessian", len(jt.SumHessian)}, {"loss_changes", len(jt.LossChanges)}} {
		if a.len != 0 && a.len != n {
			return fmt.Errorf("tree %d: %s has %d entries for %d nodes", t, a.name, a.len, n)
		}
	}
	return nil
}
