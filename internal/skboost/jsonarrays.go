package skboost

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The arrays a model keeps decode themselves, so that what they allocate
// is bounded by their text: encoding/json grows a slice by appending and
// converts each number to a string first (about 30 times the text of an
// array of one-digit numbers). Here an array of numbers is copied once
// into a string, counted, and parsed into a slice of exactly its length;
// an array of arrays or names is read one element at a time and refused
// beyond its limit.

// numbers parses b, a JSON array of numbers (encoding/json has checked it
// is valid JSON), with parse for each element; null gives nil, [] an
// empty slice. Anything but a number is refused by parse.
func numbers[T any](b []byte, what string, parse func(s string) (T, error)) ([]T, error) {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		return nil, nil
	}
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return nil, fmt.Errorf("%s: not an array", what)
	}
	body := strings.TrimSpace(s[1 : len(s)-1])
	if body == "" {
		return []T{}, nil
	}
	out := make([]T, strings.Count(body, ",")+1)
	for i := range out {
		tok, rest, _ := strings.Cut(body, ",")
		body = rest
		v, err := parse(strings.TrimSpace(tok))
		if err != nil {
			return nil, fmt.Errorf("%s: element %d %.20q: %w", what, i, tok, err)
		}
		out[i] = v
	}
	return out, nil
}

func parseFloat(s string) (float64, error) { return strconv.ParseFloat(s, 64) }

func parseInt32(s string) (int32, error) {
	v, err := strconv.ParseInt(s, 10, 32)
	return int32(v), err
}

func parseInt(s string) (int, error) {
	v, err := strconv.ParseInt(s, 10, 32)
	return int(v), err
}

func parseWord(s string) (uint32, error) {
	v, err := strconv.ParseUint(s, 10, 32)
	return uint32(v), err
}

func parseFlag(s string) (bool, error) {
	switch s {
	case "0":
		return false, nil
	case "1":
		return true, nil
	}
	return false, fmt.Errorf("not 0 or 1")
}

// floats is a JSON array of numbers; null decodes as nil.
type floats []float64

func (a *floats) UnmarshalJSON(b []byte) (err error) {
	*a, err = numbers(b, "array", parseFloat)
	return err
}

// int32s is a JSON array of integers in int32's range.
type int32s []int32

func (a *int32s) UnmarshalJSON(b []byte) (err error) {
	*a, err = numbers(b, "array", parseInt32)
	return err
}

// ints is a JSON array of integers in int32's range, as ints.
type ints []int

func (a *ints) UnmarshalJSON(b []byte) (err error) {
	*a, err = numbers(b, "array", parseInt)
	return err
}

// flags is a JSON array of 0 and 1.
type flags []bool

func (a *flags) UnmarshalJSON(b []byte) (err error) {
	*a, err = numbers(b, "flags", parseFlag)
	return err
}

// Bitset is scikit-learn's 256-bit category set: 8 words, category c is
// bit c%32 of word c/32.
type Bitset [8]uint32

func (s *Bitset) UnmarshalJSON(b []byte) error {
	v, err := numbers(b, "bitset", parseWord)
	if err != nil {
		return err
	}
	if len(v) != len(s) {
		return fmt.Errorf("a bitset of %d words, want %d", len(v), len(s))
	}
	copy(s[:], v)
	return nil
}

// Has reports whether category c (0 to 255) is in the set.
func (s *Bitset) Has(c uint8) bool { return s[c/32]>>(c%32)&1 != 0 }

// list decodes b, a JSON array, one element at a time, refusing more than
// limit elements.
func list[T any](b []byte, what string, limit int) ([]T, error) {
	if string(b) == "null" {
		return nil, nil
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if _, err := d.Token(); err != nil { // '[': encoding/json has checked b is an array
		return nil, err
	}
	out := []T{}
	for d.More() {
		if len(out) == limit {
			return nil, fmt.Errorf("more than %d %s", limit, what)
		}
		var v T
		if err := d.Decode(&v); err != nil {
			return nil, fmt.Errorf("%s %d: %w", what, len(out), err)
		}
		out = append(out, v)
	}
	return out, nil
}

// names is a JSON array of at most MaxFeatures strings.
type names []string

func (a *names) UnmarshalJSON(b []byte) (err error) {
	*a, err = list[string](b, "names", MaxFeatures)
	return err
}

// categoryLists is per feature null or its categories, at most
// MaxFeatures.
type categoryLists []floats

func (a *categoryLists) UnmarshalJSON(b []byte) (err error) {
	*a, err = list[floats](b, "category lists", MaxFeatures)
	return err
}

// bitsets is a JSON array of at most MaxFeatures bitsets.
type bitsets []Bitset

func (a *bitsets) UnmarshalJSON(b []byte) (err error) {
	*a, err = list[Bitset](b, "bitsets", MaxFeatures)
	return err
}
