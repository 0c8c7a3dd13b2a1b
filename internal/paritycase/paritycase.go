// Package paritycase reads the cases of a classify/golden parity file for
// the tests of the internal model parsers, which cannot import
// internal/golden (it imports the root package, which imports them). It
// checks nothing: internal/golden is the validating reader.
package paritycase

import (
	"encoding/json"
	"math"
	"os"
)

// File is a parity file's classes and cases.
type File struct {
	Classes []string `json:"classes"`
	Cases   []Case   `json:"cases"`
}

// Case is one row, NaN for a missing value, and the reference's answer.
type Case struct {
	Name  string     `json:"name"`
	Input []*float64 `json:"input"`
	Label string     `json:"label"`
	Proba []float64  `json:"proba"`
}

// Row returns the case's input with NaN for each missing value.
func (c *Case) Row() []float64 {
	row := make([]float64, len(c.Input))
	for i, v := range c.Input {
		row[i] = math.NaN()
		if v != nil {
			row[i] = *v
		}
	}
	return row
}

// Read reads the parity file at path.
func Read(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	return &f, nil
}
