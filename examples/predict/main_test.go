package main

import (
	"bytes"
	"testing"
)

func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "virginica (rule \"default\")\n"; got != want {
		t.Fatalf("output %q, want %q", got, want)
	}
}
