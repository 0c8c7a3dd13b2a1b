package main

import (
	"io"
	"os"
	"testing"
)

func TestQuickstart(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	main()
	os.Stdout = stdout
	w.Close()
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	// The README quotes this output.
	if got, want := string(out), "virginica [setosa versicolor virginica] [0 0 1]\n"; got != want {
		t.Fatalf("output %q, want %q", got, want)
	}
}
