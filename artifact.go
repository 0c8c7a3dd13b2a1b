package classify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// decodeStrict decodes one JSON value into v, refusing unknown fields and
// trailing data, so that a misspelt field fails loudly instead of loading a
// model that ignores it.
func decodeStrict(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// checkFormat checks an artifact's format name and version.
func checkFormat(format string, version int, want string, maxVersion int) error {
	if format != want {
		return fmt.Errorf("format is %q, want %q", format, want)
	}
	if version < 1 || version > maxVersion {
		return fmt.Errorf("%s version %d is not supported (this package reads 1 to %d)", want, version, maxVersion)
	}
	return nil
}

// indexNames checks that names is non-empty and holds unique, non-empty
// names, and maps each to its position.
func indexNames(what string, names []string) (map[string]int, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("no %s names", what)
	}
	idx := make(map[string]int, len(names))
	for i, n := range names {
		if n == "" {
			return nil, fmt.Errorf("%s %d has an empty name", what, i)
		}
		if _, dup := idx[n]; dup {
			return nil, fmt.Errorf("%s name %q appears twice", what, n)
		}
		idx[n] = i
	}
	return idx, nil
}
