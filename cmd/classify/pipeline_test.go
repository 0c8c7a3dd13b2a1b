package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// counter is a pipeline source of n records numbered from 1, read in
// chunks of up to per records.
func counter(n, per int) func(c *chunk) (bool, error) {
	next := 1
	return func(c *chunk) (bool, error) {
		for len(c.recs) < per && next <= n {
			c.recs = append(c.recs, record{line: next})
			next++
		}
		return next <= n, nil
	}
}

// Chunks are emitted in input order whatever order the workers finish in.
func TestPipelineKeepsOrder(t *testing.T) {
	for _, workers := range []int{1, 2, 8, 64} {
		t.Run(fmt.Sprint(workers), func(t *testing.T) {
			const n = 5000
			var inFlight, most atomic.Int64
			next := 1
			p := &pipeline{
				workers: workers,
				read:    counter(n, 7),
				work: func(c *chunk) {
					cur := inFlight.Add(1)
					for {
						m := most.Load()
						if cur <= m || most.CompareAndSwap(m, cur) {
							break
						}
					}
					time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
					for _, r := range c.recs {
						c.out = fmt.Appendf(c.out, "%d\n", r.line)
					}
					inFlight.Add(-1)
				},
				emit: func(c *chunk) error {
					for _, l := range strings.Fields(string(c.out)) {
						if l != fmt.Sprint(next) {
							return fmt.Errorf("got record %s, want %d", l, next)
						}
						next++
					}
					return nil
				},
			}
			if err := p.run(context.Background()); err != nil {
				t.Fatal(err)
			}
			if next != n+1 {
				t.Errorf("emitted %d records, want %d", next-1, n)
			}
			if most.Load() > int64(workers) {
				t.Errorf("%d chunks in work at once with %d workers", most.Load(), workers)
			}
		})
	}
}

// An emit error stops the pipeline and is returned; a read error comes
// after the chunks read before it.
func TestPipelineErrors(t *testing.T) {
	boom := errors.New("boom")
	emitted := 0
	p := &pipeline{
		workers: 4,
		read:    counter(100000, 10),
		work:    func(c *chunk) {},
		emit: func(c *chunk) error {
			emitted++
			if emitted == 4 {
				return boom
			}
			return nil
		},
	}
	if err := p.run(context.Background()); !errors.Is(err, boom) || emitted != 4 {
		t.Errorf("emit error: %v after %d chunks, want boom after 4", err, emitted)
	}

	emitted = 0
	read := counter(25, 10)
	p = &pipeline{
		workers: 3,
		read: func(c *chunk) (bool, error) {
			more, _ := read(c)
			if !more {
				return false, boom
			}
			return true, nil
		},
		work: func(c *chunk) {},
		emit: func(c *chunk) error { emitted += len(c.recs); return nil },
	}
	if err := p.run(context.Background()); !errors.Is(err, boom) || emitted != 25 {
		t.Errorf("read error: %v after %d records, want boom after 25", err, emitted)
	}

	// A cancelled context stops a pipeline whose input never ends.
	emitted = 0
	ctx, cancel := context.WithCancel(context.Background())
	p = &pipeline{
		workers: 2,
		read:    counter(1<<62, 10),
		work:    func(c *chunk) {},
		emit: func(c *chunk) error {
			if emitted++; emitted == 11 {
				cancel()
			}
			return nil
		},
	}
	if err := p.run(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}

	// An empty input emits nothing.
	p = &pipeline{workers: 2, read: counter(0, 10), work: func(c *chunk) {}, emit: func(c *chunk) error {
		return errors.New("emitted a chunk of an empty input")
	}}
	if err := p.run(context.Background()); err != nil {
		t.Error(err)
	}
}

// The whole command keeps order with many workers and tiny chunks' worth
// of rows: every row of a long input comes out where it went in.
func TestPredictKeepsOrderWithManyWorkers(t *testing.T) {
	var in strings.Builder
	in.WriteString("id,sepal_length,sepal_width,petal_length,petal_width\n")
	const n = 20000
	for i := range n {
		fmt.Fprintf(&in, "%d,%.1f,%.1f,%.1f,%.1f\n", i, 4+float64(i%40)/10, 2+float64(i%25)/10, 1+float64(i%60)/10, 0.1+float64(i%25)/10)
	}
	r := inProcess(t, in.String(), "predict", "-format", "csv", "-workers", "16", "-model", "random_forest")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != n+1 {
		t.Fatalf("%d lines, want %d", len(lines), n+1)
	}
	for i, l := range lines[1:] {
		if !strings.HasPrefix(l, fmt.Sprint(i)+",") {
			t.Fatalf("line %d is %q: out of order", i+2, l)
		}
	}
	one := inProcess(t, in.String(), "predict", "-format", "csv", "-workers", "1", "-model", "random_forest")
	if one.stdout != r.stdout {
		t.Error("1 worker and 16 workers write different output")
	}
}

func TestProgress(t *testing.T) {
	var w bytes.Buffer
	in := &input{size: 1000, r: &countingReader{}}
	in.r.n.Store(250)
	p := newProgress(&w, "always", in)
	p.add(1234567)
	if got, want := p.line(2*time.Second), "[######..................]  25%  1,234,567 rows  617,283 rows/s  2s"; got != want {
		t.Errorf("line %q, want %q", got, want)
	}
	in.size = -1
	if got, want := p.line(time.Second), "1,234,567 rows  1,234,567 rows/s  1s"; got != want {
		t.Errorf("line %q, want %q", got, want)
	}
	p.start()
	p.draw()
	p.printf("a message\n")
	p.draw()
	p.stop()
	if got := w.String(); !strings.Contains(got, "\r\033[K1,234,567 rows") || !strings.Contains(got, "\r\033[Ka message\n") || !strings.HasSuffix(got, "\r\033[K") {
		t.Errorf("progress output %q", got)
	}
	if newProgress(&w, "auto", in).enabled {
		t.Error("a buffer is not a terminal")
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	if newProgress(pw, "auto", in).enabled {
		t.Error("a pipe is not a terminal")
	}
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", -1234567: "-1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// -progress=always draws on a stream that is no terminal, and the output
// is the same.
func TestPredictProgressAlways(t *testing.T) {
	plain := inProcess(t, "", "predict", irisCSV)
	r := inProcess(t, "", "predict", "-progress", "always", irisCSV)
	if r.stdout != plain.stdout || r.code != 0 || !strings.HasSuffix(r.stderr, "classify: predict: 150 rows scored, 0 skipped, TIME\n") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestRoundDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		1234 * time.Nanosecond:    "1µs",
		1234567 * time.Nanosecond: "1.23ms",
		1234567890:                "1.23s",
		12345678901:               "12.3s",
		0:                         "0s",
	} {
		if got := roundDuration(d).String(); got != want {
			t.Errorf("roundDuration(%v) = %s, want %s", d, got, want)
		}
	}
	if rate(10, 0) != "-" || rate(10, time.Second) != "10" {
		t.Error("rate")
	}
}

func TestCSVQuoting(t *testing.T) {
	for f, want := range map[string]string{
		"":        "",
		"plain":   "plain",
		"a,b":     `"a,b"`,
		`say "x"`: `"say ""x"""`,
		" lead":   `" lead"`,
		"\ttab":   "\"\ttab\"",
		"two\nl":  "\"two\nl\"",
		`\.`:      `"\."`,
	} {
		if got := string(appendCSVField(nil, f)); got != want {
			t.Errorf("appendCSVField(%q) = %s, want %s", f, got, want)
		}
	}
}
