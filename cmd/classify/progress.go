package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"
)

// progressInterval is how often the progress line is redrawn.
const progressInterval = 200 * time.Millisecond

// progress draws a one-line progress report on a terminal: rows done, rows
// per second and, when the input's size is known, the share of it read.
// Messages printed through it clear the line first, so they never mix with
// it. When disabled it only passes messages through.
type progress struct {
	w       io.Writer
	enabled bool
	in      *input
	begin   time.Time
	rows    atomic.Int64

	mu    sync.Mutex
	drawn bool // the line is on screen
	quit  chan struct{}
	done  chan struct{}
}

// newProgress enables the line for mode "always", and for "auto" when w is
// a terminal.
func newProgress(w io.Writer, mode string, in *input) *progress {
	enabled := mode == "always"
	if mode == "auto" {
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			enabled = true
		}
	}
	return &progress{w: w, enabled: enabled, in: in}
}

func (p *progress) start() {
	p.begin = time.Now()
	if !p.enabled {
		return
	}
	p.quit, p.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(p.done)
		t := time.NewTicker(progressInterval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				p.draw()
			case <-p.quit:
				return
			}
		}
	}()
}

// add counts rows done.
func (p *progress) add(n int) { p.rows.Add(int64(n)) }

// stop removes the line.
func (p *progress) stop() {
	if !p.enabled {
		return
	}
	close(p.quit)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
}

// printf writes a message on its own line.
func (p *progress) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	fmt.Fprintf(p.w, format, args...)
}

func (p *progress) clear() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

func (p *progress) draw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprint(p.w, "\r\033[K"+p.line(time.Since(p.begin)))
	p.drawn = true
}

// line is the progress report after elapsed.
func (p *progress) line(elapsed time.Duration) string {
	rows := int(p.rows.Load())
	s := fmt.Sprintf("%s rows  %s rows/s  %s", thousands(rows), thousands(int(float64(rows)/max(elapsed.Seconds(), 1e-9))), elapsed.Round(time.Second))
	if p.in.size > 0 {
		frac := min(float64(p.in.r.n.Load())/float64(p.in.size), 1)
		const width = 24
		n := int(frac * width)
		s = fmt.Sprintf("[%s%s] %3.0f%%  %s", strings.Repeat("#", n), strings.Repeat(".", width-n), 100*frac, s)
	}
	return s
}

// thousands writes n with commas between groups of three digits.
func thousands(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
