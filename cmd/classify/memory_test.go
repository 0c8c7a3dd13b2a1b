//go:build linux

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"syscall"
	"testing"
)

// rowsReader generates n CSV rows of Iris-like values on the fly, so the
// input never exists in memory whole.
type rowsReader struct {
	n, i int
	buf  bytes.Buffer
}

func (r *rowsReader) Read(p []byte) (int, error) {
	for r.buf.Len() < len(p) && r.i <= r.n {
		if r.i == 0 {
			r.buf.WriteString("sepal_length,sepal_width,petal_length,petal_width,id\n")
		} else {
			fmt.Fprintf(&r.buf, "%.1f,%.1f,%.1f,%.1f,%d\n", 4.3+float64(r.i%36)/10, 2+float64(r.i%24)/10, 1+float64(r.i%59)/10, 0.1+float64(r.i%24)/10, r.i)
		}
		r.i++
	}
	if r.buf.Len() == 0 {
		return 0, io.EOF
	}
	return r.buf.Read(p)
}

// Streaming: a million rows go through the built command in constant
// memory, every row out, in order.
func TestPredictConstantMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("a million rows: not in -short")
	}
	const n = 1_000_000
	cmd := exec.Command(bin, "predict", "-format", "csv", "-model", "decision_tree")
	cmd.Stdin = &rowsReader{n: n}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	lines := 0
	for sc.Scan() {
		if lines > 0 && lines%99_991 == 0 {
			if want := fmt.Sprintf(",%d,", lines); !bytes.Contains(sc.Bytes(), []byte(want)) {
				t.Errorf("output line %d is %q: out of order", lines+1, sc.Text())
			}
		}
		lines++
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	if lines != n+1 {
		t.Errorf("%d lines out, want %d", lines, n+1)
	}
	// Maxrss counts the test process's own peak too: the child is started
	// with vfork, sharing this process's memory until exec. So the tests
	// that run before this one (the files sorted before memory_test.go) must
	// stay light, under -race as well.
	maxRSS := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB on Linux
	t.Logf("%d rows: peak RSS %d KiB; %s", n, maxRSS, stderr.String())
	if maxRSS > 64<<10 {
		t.Errorf("peak RSS %d KiB for %d rows: memory grows with the input", maxRSS, n)
	}
}
