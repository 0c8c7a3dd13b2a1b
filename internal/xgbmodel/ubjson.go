package xgbmodel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// UBJSON (Universal Binary JSON, ubjson.org, draft 12) is decoded directly
// into the JSON reader's document types (jsonModel and the types under it),
// as encoding/json would decode the same document written as JSON text:
// keys matched without regard to case, unknown keys skipped (and checked
// as UBJSON), a later duplicate winning, null leaving a string or object
// as it is and an array empty. The decoded document then goes through the
// JSON reader's checks (jsonTree.check as each tree is read, then
// jsonModel.model): one schema, one set of checks. What differs is only
// what the binary form makes possible: typed arrays of numbers ([$l#n,
// [$d#n, [$U#n: XGBoost writes every node array that way) are decoded in
// bulk, a number keeps its type (an integer array refuses a float), and a
// float64 in a float32 array is rounded to float32 directly, not through
// its shortest decimal (the two differ only on a float64 exactly halfway
// between two float32 values; XGBoost writes float32 arrays).
//
// The reader is bounded: every length and count is checked against the
// bytes left before anything is allocated or copied, nesting is limited to
// maxDepth, and the JSON text the document stands for, counted at the
// fewest bytes each value can take (a number 1 digit, null 4 bytes, plus
// the separators), may not grow beyond 4 times the input (and beyond
// MaxJSONText) plus 4 KiB: XGBoost's documents stand for about their own
// size; only a document of nulls and booleans could come near.
const maxDepth = 64

// MaxJSONText bounds the JSON text a UBJSON document stands for, each value
// counted at the fewest bytes of JSON it takes: a document that would be
// larger than the 64 MiB classify reads of a JSON model even so is refused,
// as that JSON model would be.
const MaxJSONText = 64 << 20

// errElementType is what an array element of the wrong type gives: the
// JSON reader's parse of its text would have failed too, except for a
// float with an integral value in an integer array, which UBJSON says is a
// float.
var errElementType = errors.New("wrong element type")

// parseUBJSON reads a UBJSON model.
func parseUBJSON(data []byte) (*Model, error) {
	doc, err := decodeUBJSON(data)
	if err != nil {
		return nil, fmt.Errorf("UBJSON model: %w", err)
	}
	m, err := doc.model()
	if err != nil {
		return nil, fmt.Errorf("UBJSON model: %w", err)
	}
	m.Format = FormatUBJSON
	return m, nil
}

// decodeUBJSON decodes the single UBJSON value in data, an object, into a
// document, checking each tree as it is read.
func decodeUBJSON(data []byte) (*jsonModel, error) {
	u := newUBJ(data)
	var doc jsonModel
	t, err := u.marker()
	if err != nil {
		return nil, err
	}
	if err := u.object(t, "the document", 0, func(key []byte, t byte, depth int) error {
		switch keyIndex(key, "version", "learner") {
		case 0:
			return u.int32s(t, "version", depth, (*[]int32)(&doc.Version))
		case 1:
			return decodePtr(u, t, depth, &doc.Learner, u.learner)
		}
		return u.skip(t, depth)
	}); err != nil {
		return nil, err
	}
	if err := u.end(); err != nil {
		return nil, err
	}
	return &doc, nil
}

// ubj reads UBJSON.
type ubj struct {
	b     []byte
	pos   int
	text  int // JSON text the values read so far stand for, at the least
	limit int // the most text allowed
}

func newUBJ(data []byte) *ubj {
	return &ubj{b: data, limit: min(4*len(data), MaxJSONText) + 4096}
}

// end checks that the document is all of the input.
func (u *ubj) end() error {
	if u.pos != len(u.b) {
		return fmt.Errorf("%d unexpected bytes after the document at offset %d", len(u.b)-u.pos, u.pos)
	}
	return nil
}

func (u *ubj) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: %s", u.pos, fmt.Sprintf(format, args...))
}

func (u *ubj) need(n int) error {
	if n < 0 || n > len(u.b)-u.pos {
		return u.errorf("needs %d bytes, %d left: %v", n, len(u.b)-u.pos, errShort)
	}
	return nil
}

// take returns the next n bytes and moves past them.
func (u *ubj) take(n int) ([]byte, error) {
	if err := u.need(n); err != nil {
		return nil, err
	}
	u.pos += n
	return u.b[u.pos-n : u.pos], nil
}

// account adds n bytes to the JSON text the document stands for and
// refuses text beyond the limit.
func (u *ubj) account(n int) error {
	if u.text += n; u.text > u.limit {
		return u.errorf("the document expands beyond %d bytes of JSON", u.limit)
	}
	return nil
}

// marker reads a value's type marker, skipping no-ops.
func (u *ubj) marker() (byte, error) {
	for {
		if err := u.need(1); err != nil {
			return 0, err
		}
		c := u.b[u.pos]
		u.pos++
		if c != 'N' { // no-op
			return c, nil
		}
	}
}

// size returns the byte size of a fixed-size number marker, 0 for the
// markers without a payload, -1 for the others.
func size(t byte) int {
	switch t {
	case 'Z', 'T', 'F':
		return 0
	case 'i', 'U', 'C':
		return 1
	case 'I':
		return 2
	case 'l', 'd':
		return 4
	case 'L', 'D':
		return 8
	}
	return -1
}

// minText returns the fewest bytes of JSON text an element of type t
// stands for, with its separator.
func minText(t byte) int {
	switch t {
	case 'Z', 'T':
		return 5 // null, true,
	case 'F':
		return 6
	case 'C', 'S':
		return 3 // "",
	}
	return 2 // a digit and a comma; brackets and braces are counted when opened
}

// isInteger reports whether t is an integer marker.
func isInteger(t byte) bool {
	return t == 'i' || t == 'U' || t == 'I' || t == 'l' || t == 'L'
}

// intAt returns the integer of type t (an integer marker) in p.
func intAt(t byte, p []byte) int64 {
	switch t {
	case 'i':
		return int64(int8(p[0]))
	case 'U':
		return int64(p[0])
	case 'I':
		return int64(int16(binary.BigEndian.Uint16(p)))
	case 'l':
		return int64(int32(binary.BigEndian.Uint32(p)))
	}
	return int64(binary.BigEndian.Uint64(p))
}

// integer reads an integer of type t (its marker already read).
func (u *ubj) integer(t byte) (int64, error) {
	if !isInteger(t) {
		return 0, u.errorf("marker %q is not an integer type", t)
	}
	p, err := u.take(size(t))
	if err != nil {
		return 0, err
	}
	return intAt(t, p), nil
}

// length reads a length or count (an integer with its marker) and checks
// that the bytes left can hold that many items of at least per bytes each.
func (u *ubj) length(per int) (int, error) {
	t, err := u.marker()
	if err != nil {
		return 0, err
	}
	n, err := u.integer(t)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, u.errorf("negative length %d", n)
	}
	if per > 0 && n > int64((len(u.b)-u.pos)/per) {
		return 0, u.errorf("length %d is more than the %d bytes left can hold", n, len(u.b)-u.pos)
	}
	if n > int64(u.limit) {
		return 0, u.errorf("length %d is too large", n)
	}
	return int(n), nil
}

// bytesOf reads the payload of a string (S) or char (C) whose marker is
// read.
func (u *ubj) bytesOf(t byte) ([]byte, error) {
	n := 1
	if t == 'S' {
		var err error
		if n, err = u.length(1); err != nil {
			return nil, err
		}
	}
	b, err := u.take(n)
	if err != nil {
		return nil, err
	}
	if err := u.account(n + 3); err != nil {
		return nil, err
	}
	return b, nil
}

// header reads the optional type ($) and count (#) of a container whose
// opening marker is read: elem is 0 for an untyped container, count -1 for
// one without a count. A count is checked against the bytes left, each
// element taking at least its marker (or its typed size) and, in an
// object, its key's length marker.
func (u *ubj) header(object bool) (elem byte, count int, err error) {
	count = -1
	if err := u.need(1); err != nil {
		return 0, 0, err
	}
	if u.b[u.pos] == '$' {
		u.pos++
		if err := u.need(1); err != nil {
			return 0, 0, err
		}
		elem = u.b[u.pos]
		u.pos++
		if size(elem) < 0 && elem != 'S' {
			return 0, 0, u.errorf("element type %q is not supported", elem)
		}
		if err := u.need(1); err != nil {
			return 0, 0, err
		}
		if u.b[u.pos] != '#' {
			return 0, 0, u.errorf("typed container without a count")
		}
	}
	if u.b[u.pos] == '#' {
		u.pos++
		per := 1 // an element takes at least a marker
		if elem != 0 {
			per = max(size(elem), 0)
		}
		if object {
			per++ // and a key takes at least its length's marker
		}
		if count, err = u.length(per); err != nil {
			return 0, 0, err
		}
	}
	return elem, count, u.account(2)
}

// items reads the elements of an array whose header (elem, count) is
// read, calling each with every element's index, marker and depth (the
// array's depth+1); each reads the element.
func (u *ubj) items(elem byte, count, depth int, each func(i int, t byte, depth int) error) error {
	for i := 0; count < 0 || i < count; i++ {
		t := elem
		if t == 0 {
			var err error
			if t, err = u.marker(); err != nil {
				return err
			}
			if count < 0 && t == ']' {
				return nil
			}
		}
		if err := each(i, t, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// open checks that t opens a container at depth (the depth of the value)
// and reads its header.
func (u *ubj) open(t byte, depth int) (elem byte, count int, err error) {
	if depth >= maxDepth {
		return 0, 0, u.errorf("nesting deeper than %d", maxDepth)
	}
	return u.header(t == '{')
}

// object reads the object whose marker t is read (null: nothing), calling
// each with every key, the marker of its value and the value's depth; each
// reads the value.
func (u *ubj) object(t byte, what string, depth int, each func(key []byte, t byte, depth int) error) error {
	if t == 'Z' {
		return u.account(4)
	}
	if t != '{' {
		return fmt.Errorf("%s is not an object", what)
	}
	elem, count, err := u.open(t, depth)
	if err != nil {
		return err
	}
	for i := 0; count < 0 || i < count; i++ {
		if count < 0 {
			c, err := u.marker()
			if err != nil {
				return err
			}
			if c == '}' {
				break
			}
			u.pos-- // not the end: the marker starts the key's length
		}
		key, err := u.bytesOf('S')
		if err != nil {
			return err
		}
		v := elem
		if v == 0 {
			if v, err = u.marker(); err != nil {
				return err
			}
		}
		if err := each(key, v, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// array reads the array whose marker t is read (null: nothing), calling
// each with every element's index, marker and depth; each reads the
// element.
func (u *ubj) array(t byte, what string, depth int, each func(i int, t byte, depth int) error) error {
	if t == 'Z' {
		return u.account(4)
	}
	if t != '[' {
		return fmt.Errorf("%s is not an array", what)
	}
	elem, count, err := u.open(t, depth)
	if err != nil {
		return err
	}
	return u.items(elem, count, depth, each)
}

// skip reads a value the model does not need, whose marker t is read,
// checking it as UBJSON.
func (u *ubj) skip(t byte, depth int) error {
	switch t {
	case 'Z', 'T', 'F', 'i', 'U', 'I', 'l', 'L', 'd', 'D':
		if _, err := u.take(size(t)); err != nil {
			return err
		}
		return u.account(minText(t))
	case 'C', 'S':
		_, err := u.bytesOf(t)
		return err
	case '{':
		return u.object(t, "", depth, func(_ []byte, t byte, depth int) error { return u.skip(t, depth) })
	case '[':
		elem, count, err := u.open(t, depth)
		if err != nil {
			return err
		}
		if n := size(elem); n >= 0 {
			// Typed numbers: all at once (header has checked the bytes).
			u.pos += n * count
			return u.account(minText(elem) * count)
		}
		return u.items(elem, count, depth, func(_ int, t byte, depth int) error { return u.skip(t, depth) })
	}
	// 'H', high-precision numbers, among them: XGBoost never writes one
	return u.errorf("marker %q is not supported", t)
}

// keyIndex returns the index of the name key matches, as encoding/json
// matches a struct's fields: exactly, else without regard to case; -1 for
// none.
func keyIndex(key []byte, names ...string) int {
	for i, name := range names {
		if string(key) == name {
			return i
		}
	}
	for i, name := range names {
		if bytes.EqualFold(key, []byte(name)) {
			return i
		}
	}
	return -1
}

// decodePtr decodes into *p, as encoding/json decodes into a pointer to a
// struct: null sets it to nil, an object is decoded into the struct it
// points to (a new one if nil).
func decodePtr[T any](u *ubj, t byte, depth int, p **T, decode func(t byte, depth int, v *T) error) error {
	if t == 'Z' {
		*p = nil
		return u.account(4)
	}
	if *p == nil {
		*p = new(T)
	}
	return decode(t, depth, *p)
}

// str decodes a string into *s; null leaves it as it is.
func (u *ubj) str(t byte, what string, s *string) error {
	switch t {
	case 'Z':
		return u.account(4)
	case 'S', 'C':
		b, err := u.bytesOf(t)
		if err != nil {
			return err
		}
		*s = jsonString(b)
		return nil
	}
	return fmt.Errorf("%s: marker %q is not a string", what, t)
}

// jsonString returns b as encoding/json decodes the same bytes in a JSON
// string: each byte that is not part of valid UTF-8 becomes U+FFFD.
func jsonString(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var s strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			s.WriteRune(utf8.RuneError)
		} else {
			s.Write(b[:n])
		}
		b = b[n:]
	}
	return s.String()
}

func (u *ubj) learner(t byte, depth int, l *jsonLearner) error {
	return u.object(t, "learner", depth, func(key []byte, t byte, depth int) error {
		switch keyIndex(key, "attributes", "feature_names", "gradient_booster", "learner_model_param", "objective") {
		case 0:
			return u.attributes(t, depth, &l.Attributes)
		case 1:
			return u.names(t, depth, &l.FeatureNames)
		case 2:
			return decodePtr(u, t, depth, &l.GradientBooster, u.booster)
		case 3:
			return decodePtr(u, t, depth, &l.LearnerModelParam, u.learnerParam)
		case 4:
			return decodePtr(u, t, depth, &l.Objective, func(t byte, depth int, o *jsonObjective) error {
				return u.object(t, "objective", depth, func(key []byte, t byte, depth int) error {
					if keyIndex(key, "name") == 0 {
						return u.str(t, "objective.name", &o.Name)
					}
					return u.skip(t, depth)
				})
			})
		}
		return u.skip(t, depth)
	})
}

func (u *ubj) learnerParam(t byte, depth int, p *jsonLearnerParam) error {
	return u.strFields(t, "learner_model_param", depth, []string{"base_score", "num_class", "num_feature", "num_target"},
		&p.BaseScore, &p.NumClass, &p.NumFeature, &p.NumTarget)
}

// strFields decodes an object of string fields (the params), the value of
// keys[i] into *fields[i]; other keys are skipped.
func (u *ubj) strFields(t byte, what string, depth int, keys []string, fields ...*string) error {
	return u.object(t, what, depth, func(key []byte, t byte, depth int) error {
		if i := keyIndex(key, keys...); i >= 0 {
			return u.str(t, keys[i], fields[i])
		}
		return u.skip(t, depth)
	})
}

func (u *ubj) booster(t byte, depth int, g *jsonBooster) error {
	return u.object(t, "gradient_booster", depth, func(key []byte, t byte, depth int) error {
		switch keyIndex(key, "name", "model") {
		case 0:
			return u.str(t, "gradient_booster.name", &g.Name)
		case 1:
			return decodePtr(u, t, depth, &g.Model, u.treeModel)
		}
		return u.skip(t, depth)
	})
}

func (u *ubj) treeModel(t byte, depth int, g *jsonTreeModel) error {
	return u.object(t, "model", depth, func(key []byte, t byte, depth int) error {
		switch keyIndex(key, "gbtree_model_param", "tree_info", "trees") {
		case 0:
			return u.strFields(t, "gbtree_model_param", depth, []string{"num_parallel_tree", "num_trees"},
				&g.Param.NumParallelTree, &g.Param.NumTrees)
		case 1:
			return u.int32s(t, "tree_info", depth, (*[]int32)(&g.TreeInfo))
		case 2:
			return u.trees(t, depth, &g.Trees)
		}
		return u.skip(t, depth)
	})
}

// trees decodes the trees, checking each as soon as it is read (as the
// JSON reader does), so that each one kept has the nodes its arrays
// describe.
func (u *ubj) trees(t byte, depth int, out *trees) error {
	var ts trees
	err := u.array(t, "trees", depth, func(i int, t byte, depth int) error {
		jt := new(jsonTree)
		if err := u.tree(t, depth, jt); err != nil {
			return fmt.Errorf("tree %d: %w", i, err)
		}
		if err := jt.check(i); err != nil {
			return err
		}
		ts = append(ts, jt)
		return nil
	})
	*out = ts
	return err
}

func (u *ubj) tree(t byte, depth int, jt *jsonTree) error {
	if t != '{' && t != 'Z' {
		return errors.New("not an object")
	}
	return u.object(t, "tree", depth, func(key []byte, t byte, depth int) error {
		switch keyIndex(key, "tree_param", "left_children", "right_children", "split_indices",
			"split_conditions", "default_left", "split_type", "sum_hessian", "loss_changes") {
		case 0:
			return u.strFields(t, "tree_param", depth, []string{"num_nodes", "size_leaf_vector"},
				&jt.Param.NumNodes, &jt.Param.SizeLeafVector)
		case 1:
			return u.int32s(t, "left_children", depth, (*[]int32)(&jt.Left))
		case 2:
			return u.int32s(t, "right_children", depth, (*[]int32)(&jt.Right))
		case 3:
			return u.features(t, "split_indices", depth, (*[]uint32)(&jt.Split))
		case 4:
			return u.float32s(t, "split_conditions", depth, (*[]float32)(&jt.Conditions))
		case 5:
			return u.flags(t, "default_left", depth, (*[]bool)(&jt.DefaultLeft))
		case 6:
			return u.flags(t, "split_type", depth, (*[]bool)(&jt.SplitType))
		case 7:
			return u.float32s(t, "sum_hessian", depth, (*[]float32)(&jt.SumHessian))
		case 8:
			return u.float32s(t, "loss_changes", depth, (*[]float32)(&jt.LossChanges))
		}
		return u.skip(t, depth)
	})
}

// names decodes learner.feature_names: at most MaxFeatures strings.
func (u *ubj) names(t byte, depth int, out *names) error {
	var ns []string
	err := u.array(t, "feature_names", depth, func(i int, t byte, _ int) error {
		if i >= MaxFeatures {
			return fmt.Errorf("feature_names has more than %d elements", MaxFeatures)
		}
		var s string
		if err := u.str(t, "feature_names", &s); err != nil {
			return err
		}
		ns = append(ns, s)
		return nil
	})
	*out = ns
	return err
}

// attributes decodes learner.attributes, keeping only scikit_learn: at
// most maxAttributes entries, each a string.
func (u *ubj) attributes(t byte, depth int, a *attributes) error {
	i := 0
	return u.object(t, "attributes", depth, func(key []byte, t byte, _ int) error {
		if i++; i > maxAttributes {
			return fmt.Errorf("attributes has more than %d entries", maxAttributes)
		}
		var v string
		if err := u.str(t, "attributes", &v); err != nil {
			return err
		}
		if string(key) == "scikit_learn" {
			a.sklearn, a.has = v, true
		}
		return nil
	})
}

// The arrays of numbers. Each is read into a slice of exactly its length:
// a typed array (what XGBoost writes) all at once, with a loop over its
// bytes for the type XGBoost writes; any other array element by element,
// each element converted by the array's conversion, which refuses a value
// the JSON reader would refuse in the same place.

// readNumbers decodes the array whose marker t is read into *out (null: nil),
// each element with conv (its marker and payload), or with fast for a
// typed array of fastType.
func readNumbers[T any](u *ubj, t byte, what string, depth int, out *[]T,
	conv func(t byte, p []byte) (T, error), fastType byte, fast func(p []byte, out []T) error) error {
	if t == 'Z' {
		*out = nil
		return u.account(4)
	}
	if t != '[' {
		return fmt.Errorf("%s is not an array", what)
	}
	elem, count, err := u.open(t, depth)
	if err != nil {
		return err
	}
	if elem != 0 && elem != 'S' && elem != 'C' {
		// Typed fixed-size elements: header has checked the bytes, and
		// the text they stand for bounds a count of payload-less ones.
		if err := u.account(minText(elem) * count); err != nil {
			return err
		}
		n := size(elem)
		p := u.b[u.pos : u.pos+n*count]
		s := make([]T, count)
		if elem == fastType {
			if err := fast(p, s); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
		} else {
			for i := range s {
				if s[i], err = conv(elem, p[n*i:n*i+n]); err != nil {
					return fmt.Errorf("%s: element %d: %w", what, i, err)
				}
			}
		}
		u.pos += n * count
		*out = s
		return nil
	}
	// Elements with markers take at least 2 bytes (1 for true and false).
	s := make([]T, 0, min(max(count, 0), (len(u.b)-u.pos)/2))
	if err := u.items(elem, count, depth, func(i int, t byte, _ int) error {
		n := size(t)
		if n < 0 || t == 'C' {
			return fmt.Errorf("%s: element %d: marker %q: %w", what, i, t, errElementType)
		}
		p, err := u.take(n)
		if err != nil {
			return err
		}
		x, err := conv(t, p)
		if err != nil {
			return fmt.Errorf("%s: element %d: %w", what, i, err)
		}
		s = append(s, x)
		return u.account(minText(t))
	}); err != nil {
		return err
	}
	*out = s
	return nil
}

func notA(t byte, what string) error {
	return fmt.Errorf("marker %q is not %s: %w", t, what, errElementType)
}

// int32s decodes an array of int32 (children, tree_info, version).
func (u *ubj) int32s(t byte, what string, depth int, out *[]int32) error {
	return readNumbers(u, t, what, depth, out, func(t byte, p []byte) (int32, error) {
		if !isInteger(t) {
			return 0, notA(t, "an integer")
		}
		v := intAt(t, p)
		if v < math.MinInt32 || v > math.MaxInt32 {
			return 0, fmt.Errorf("%d is outside int32's range", v)
		}
		return int32(v), nil
	}, 'l', func(p []byte, out []int32) error {
		for i := range out {
			out[i] = int32(binary.BigEndian.Uint32(p[4*i:]))
		}
		return nil
	})
}

// features decodes split_indices, each as featureIndex keeps it (as the
// JSON reader does).
func (u *ubj) features(t byte, what string, depth int, out *[]uint32) error {
	return readNumbers(u, t, what, depth, out, func(t byte, p []byte) (uint32, error) {
		if !isInteger(t) {
			return 0, notA(t, "an integer")
		}
		return featureIndex(intAt(t, p)), nil
	}, 'l', func(p []byte, out []uint32) error {
		for i := range out {
			out[i] = featureIndex(int64(int32(binary.BigEndian.Uint32(p[4*i:]))))
		}
		return nil
	})
}

// float32s decodes an array of float32: integers are rounded to float32, a
// float64 too; a value that is not finite (or beyond float32's range) is
// an error, as the JSON reader's parse of its text is.
func (u *ubj) float32s(t byte, what string, depth int, out *[]float32) error {
	return readNumbers(u, t, what, depth, out, func(t byte, p []byte) (float32, error) {
		var v float32
		switch t {
		case 'd':
			v = math.Float32frombits(binary.BigEndian.Uint32(p))
		case 'D':
			v = float32(math.Float64frombits(binary.BigEndian.Uint64(p)))
		default:
			if !isInteger(t) {
				return 0, notA(t, "a number")
			}
			v = float32(intAt(t, p))
		}
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return 0, fmt.Errorf("%v is not a finite float32", v)
		}
		return v, nil
	}, 'd', func(p []byte, out []float32) error {
		for i := range out {
			b := binary.BigEndian.Uint32(p[4*i:])
			if b&0x7f800000 == 0x7f800000 { // NaN or infinite
				return fmt.Errorf("element %d: %v is not a finite float32", i, math.Float32frombits(b))
			}
			out[i] = math.Float32frombits(b)
		}
		return nil
	})
}

// flags decodes an array of booleans written as 0/1 or true/false.
func (u *ubj) flags(t byte, what string, depth int, out *[]bool) error {
	return readNumbers(u, t, what, depth, out, func(t byte, p []byte) (bool, error) {
		switch {
		case t == 'T':
			return true, nil
		case t == 'F':
			return false, nil
		case !isInteger(t):
			return false, notA(t, "a flag")
		}
		switch v := intAt(t, p); v {
		case 0, 1:
			return v == 1, nil
		default:
			return false, fmt.Errorf("%d is not a flag (0 or 1)", v)
		}
	}, 'U', func(p []byte, out []bool) error {
		for i, c := range p {
			if c > 1 {
				return fmt.Errorf("element %d: %d is not a flag (0 or 1)", i, c)
			}
			out[i] = c == 1
		}
		return nil
	})
}
