package xgbmodel

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
)

// The UBJSON reader before it decoded documents directly: it transcoded
// UBJSON into JSON text for the JSON reader. Kept as the oracle of the
// differential tests: a UBJSON document must decode as its JSON text does
// (TestUBJSONMatchesJSON, TestSkip, FuzzUBJSON).

// transcoder transcodes UBJSON into JSON text. It runs twice: first counting the
// text's length (writing each piece into a small buffer it then empties),
// then writing the text into a buffer of exactly that length, so the text
// is allocated once.
type transcoder struct {
	b        []byte
	pos      int
	out      []byte
	limit    int
	counting bool
	n        int // counting: bytes of text so far
}

// transcode returns the JSON text of the single UBJSON value in data.
func transcode(data []byte) ([]byte, error) {
	limit := min(4*len(data), MaxJSONText) + 4096
	u := &transcoder{b: data, limit: limit, counting: true, out: make([]byte, 0, 256)}
	if err := u.document(); err != nil {
		return nil, err
	}
	u = &transcoder{b: data, limit: limit, out: make([]byte, 0, u.n)}
	if err := u.document(); err != nil {
		return nil, err
	}
	return u.out, nil
}

func (u *transcoder) document() error {
	if err := u.value(0); err != nil {
		return err
	}
	if u.pos != len(u.b) {
		return fmt.Errorf("%d unexpected bytes after the document at offset %d", len(u.b)-u.pos, u.pos)
	}
	return u.grow()
}

func (u *transcoder) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: %s", u.pos, fmt.Sprintf(format, args...))
}

func (u *transcoder) need(n int) error {
	if n < 0 || n > len(u.b)-u.pos {
		return u.errorf("needs %d bytes, %d left: %v", n, len(u.b)-u.pos, errShort)
	}
	return nil
}

// grow accounts for the text written so far and refuses text beyond the
// limit.
func (u *transcoder) grow() error {
	n := len(u.out)
	if u.counting {
		u.n += n
		n = u.n
		u.out = u.out[:0]
	}
	if n > u.limit {
		return u.errorf("the document expands beyond %d bytes of JSON", u.limit)
	}
	return nil
}

func (u *transcoder) marker() (byte, error) {
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

// transcodedSize returns the byte size of a fixed-size number marker, 0
// for the markers without a payload, -1 for the others. The decoder has
// its own (size): the oracle does not share the table it checks.
func transcodedSize(t byte) int {
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

// integer reads an integer of type t (its marker already read).
func (u *transcoder) integer(t byte) (int64, error) {
	n := transcodedSize(t)
	if t == 'd' || t == 'D' || t == 'C' || n <= 0 {
		return 0, u.errorf("marker %q is not an integer type", t)
	}
	if err := u.need(n); err != nil {
		return 0, err
	}
	b := u.b[u.pos : u.pos+n]
	u.pos += n
	switch t {
	case 'i':
		return int64(int8(b[0])), nil
	case 'U':
		return int64(b[0]), nil
	case 'I':
		return int64(int16(binary.BigEndian.Uint16(b))), nil
	case 'l':
		return int64(int32(binary.BigEndian.Uint32(b))), nil
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// length reads a length or count (an integer with its marker) and checks
// that the bytes left can hold that many items of at least per bytes each.
func (u *transcoder) length(per int) (int, error) {
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

// value transcodes one value.
func (u *transcoder) value(depth int) error {
	t, err := u.marker()
	if err != nil {
		return err
	}
	return u.typed(t, depth)
}

// typed transcodes one value whose type marker t is already read.
func (u *transcoder) typed(t byte, depth int) error {
	switch t {
	case 'Z':
		u.out = append(u.out, "null"...)
	case 'T':
		u.out = append(u.out, "true"...)
	case 'F':
		u.out = append(u.out, "false"...)
	case 'i', 'U', 'I', 'l', 'L':
		v, err := u.integer(t)
		if err != nil {
			return err
		}
		u.out = strconv.AppendInt(u.out, v, 10)
	case 'd', 'D':
		n := transcodedSize(t)
		if err := u.need(n); err != nil {
			return err
		}
		var v float64
		bits := 32
		if n == 4 {
			v = float64(math.Float32frombits(binary.BigEndian.Uint32(u.b[u.pos:])))
		} else {
			v, bits = math.Float64frombits(binary.BigEndian.Uint64(u.b[u.pos:])), 64
		}
		u.pos += n
		switch {
		case math.IsNaN(v) || math.IsInf(v, 1):
			// Not JSON. A number no float type holds: decoding it into
			// a field the model needs fails; an ignored field passes.
			u.out = append(u.out, "1e999"...)
		case math.IsInf(v, -1):
			u.out = append(u.out, "-1e999"...)
		default:
			u.out = strconv.AppendFloat(u.out, v, 'g', -1, bits)
		}
	case 'C':
		if err := u.need(1); err != nil {
			return err
		}
		u.pos++
		u.out = appendString(u.out, u.b[u.pos-1:u.pos])
	case 'S':
		n, err := u.length(1)
		if err != nil {
			return err
		}
		u.out = appendString(u.out, u.b[u.pos:u.pos+n])
		u.pos += n
	case '[', '{':
		if depth >= maxDepth {
			return u.errorf("nesting deeper than %d", maxDepth)
		}
		return u.container(t, depth+1)
	default: // 'H', high-precision numbers, among them: XGBoost never writes one
		return u.errorf("marker %q is not supported", t)
	}
	return u.grow()
}

// container transcodes an array or object whose opening marker is read.
func (u *transcoder) container(open byte, depth int) error {
	closing := byte(']')
	if open == '{' {
		closing = '}'
	}
	// Optional type ($) and count (#).
	elem := byte(0)
	count := -1
	if err := u.need(1); err != nil {
		return err
	}
	if u.b[u.pos] == '$' {
		u.pos++
		if err := u.need(1); err != nil {
			return err
		}
		elem = u.b[u.pos]
		u.pos++
		if transcodedSize(elem) < 0 && elem != 'S' {
			return u.errorf("element type %q is not supported", elem)
		}
		if err := u.need(1); err != nil {
			return err
		}
		if u.b[u.pos] != '#' {
			return u.errorf("typed container without a count")
		}
	}
	if u.b[u.pos] == '#' {
		u.pos++
		per := 1 // an element takes at least a marker
		if elem != 0 {
			per = max(transcodedSize(elem), 0)
		}
		if open == '{' {
			per++ // and a key takes at least its length's marker
		}
		n, err := u.length(per)
		if err != nil {
			return err
		}
		count = n
	}
	u.out = append(u.out, open)
	for i := 0; count < 0 || i < count; i++ {
		if count < 0 {
			c, err := u.marker()
			if err != nil {
				return err
			}
			if c == closing {
				break
			}
			u.pos-- // not the end: the marker starts the next entry
		}
		if i > 0 {
			u.out = append(u.out, ',')
		}
		if open == '{' {
			n, err := u.length(1)
			if err != nil {
				return err
			}
			u.out = appendString(u.out, u.b[u.pos:u.pos+n])
			u.pos += n
			u.out = append(u.out, ':')
		}
		var err error
		if elem != 0 {
			err = u.typed(elem, depth)
		} else {
			err = u.value(depth)
		}
		if err != nil {
			return err
		}
	}
	u.out = append(u.out, closing)
	return u.grow()
}

// appendString appends s as a JSON string. Bytes that are not UTF-8 pass
// through (encoding/json replaces them when it decodes).
func appendString(out, s []byte) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			out = append(out, '\\', c)
		case c < 0x20:
			out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			out = append(out, c)
		}
	}
	return append(out, '"')
}
