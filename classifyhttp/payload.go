package classifyhttp

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of the zero PayloadLogOptions.
const (
	defaultPayloadMaxBytes = 64 << 20 // rotate at 64 MiB
	defaultPayloadMaxFiles = 10       // rotated files kept
	defaultPayloadQueue    = 4096     // records waiting to be written
	payloadFileName        = "payloads.jsonl"
)

// PayloadLogOptions configure a PayloadLog. The zero value is sensible:
// every prediction is logged, files rotate at 64 MiB, ten rotated files are
// kept, up to 4096 records wait to be written.
type PayloadLogOptions struct {
	// Sample is the share of predicted rows logged, in (0, 1]; 0 means 1
	// (all of them).
	Sample float64
	// MaxBytes is the size at which the file is rotated (default 64 MiB).
	MaxBytes int64
	// MaxFiles is how many rotated files are kept beside the current one;
	// the oldest beyond it is removed (default 10).
	MaxFiles int
	// Queue bounds the records waiting to be written (default 4096): a
	// record that finds it full is dropped and counted, never waited for.
	Queue int
	// Rand returns numbers uniform in [0, 1) for sampling (default
	// math/rand/v2's Float64); Now the time of a record (default
	// time.Now), which also names the file it rotates. Both are called on
	// the goroutines that predict, so they must be safe for concurrent
	// use. Tests inject both.
	Rand func() float64
	Now  func() time.Time
}

// A PayloadLog writes predictions as JSON Lines for drift analysis: one
// object per predicted row, {"time", "request_id", "model", "variant",
// "version", "input": {feature: value, ...} (null for a missing value),
// "prediction", "probabilities": {class: p, ...}}. Records are handed to a
// goroutine of its own through a bounded queue, so writing never slows an
// answer: a record that finds the queue full is dropped and counted
// (Dropped; mps_payload_records_total{result="dropped"} when a Handler has
// it). The file is rotated by size: payloads.jsonl (or the file named)
// becomes payloads-<UTC time>.jsonl (20061102T150405.000Z) and a new one
// is started. Make one with OpenPayloadLog and give it to a Handler in
// Options.PayloadLog; Close it after the server has stopped. A PayloadLog
// is safe for concurrent use.
type PayloadLog struct {
	opts    PayloadLogOptions
	path    string
	queue   chan payloadRecord
	done    chan struct{}
	file    *os.File
	w       *bufio.Writer
	size    int64
	err     error // the last write error, reported by Close
	closing sync.Once
	mu      sync.Mutex // guards sending against Close
	closed  bool

	written, dropped, failed atomic.Uint64
}

// payloadRecord is one predicted row waiting to be written.
type payloadRecord struct {
	time                    time.Time
	requestID               string
	model, variant, version string
	features, classes       []string
	row, proba              []float64 // owned by the record
	label                   string
}

// OpenPayloadLog opens (appending) the payload log at path: a file, or a
// directory (existing, or named with a trailing slash) to hold
// payloads.jsonl.
func OpenPayloadLog(path string, opts PayloadLogOptions) (*PayloadLog, error) {
	if path == "" {
		return nil, errors.New("classifyhttp: payload log: no path")
	}
	if !(opts.Sample >= 0 && opts.Sample <= 1) {
		return nil, fmt.Errorf("classifyhttp: payload log: sample %v is not in [0, 1]", opts.Sample)
	}
	if opts.Sample == 0 {
		opts.Sample = 1
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = defaultPayloadMaxBytes
	}
	if opts.MaxFiles <= 0 {
		opts.MaxFiles = defaultPayloadMaxFiles
	}
	if opts.Queue <= 0 {
		opts.Queue = defaultPayloadQueue
	}
	if opts.Rand == nil {
		opts.Rand = rand.Float64
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() || strings.HasSuffix(path, "/") {
		if err := os.MkdirAll(path, 0o755); err != nil {
			return nil, fmt.Errorf("classifyhttp: payload log: %w", err)
		}
		path = filepath.Join(path, payloadFileName)
	}
	p := &PayloadLog{opts: opts, path: path, queue: make(chan payloadRecord, opts.Queue), done: make(chan struct{})}
	if err := p.open(); err != nil {
		return nil, err
	}
	go p.run()
	return p, nil
}

// Path is the file being written now.
func (p *PayloadLog) Path() string { return p.path }

// Written, Dropped and Failed count records written, dropped because the
// queue was full, and lost to a write error.
func (p *PayloadLog) Written() uint64 { return p.written.Load() }
func (p *PayloadLog) Dropped() uint64 { return p.dropped.Load() }
func (p *PayloadLog) Failed() uint64  { return p.failed.Load() }

// Close writes the records queued, closes the file and returns the last
// write error, if any. Records offered after Close are dropped.
func (p *PayloadLog) Close() error {
	p.closing.Do(func() {
		p.mu.Lock()
		p.closed = true
		close(p.queue)
		p.mu.Unlock()
		<-p.done
	})
	return p.err
}

// sampled reports whether the next row is to be logged.
func (p *PayloadLog) sampled() bool { return p.opts.Sample >= 1 || p.opts.Rand() < p.opts.Sample }

// offer queues rec unless the queue is full (then it is counted dropped).
func (p *PayloadLog) offer(rec payloadRecord) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		p.dropped.Add(1)
		return
	}
	select {
	case p.queue <- rec:
	default:
		p.dropped.Add(1)
	}
}

func (p *PayloadLog) open() error {
	f, err := os.OpenFile(p.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("classifyhttp: payload log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("classifyhttp: payload log: %w", err)
	}
	p.file, p.size = f, st.Size()
	if p.w == nil {
		p.w = bufio.NewWriterSize(f, 64<<10)
	} else {
		p.w.Reset(f)
	}
	return nil
}

// run writes records until the queue is closed, flushing whenever it is
// empty, and rotating by size.
func (p *PayloadLog) run() {
	defer close(p.done)
	var line []byte
	for rec := range p.queue {
		line = rec.appendJSON(line[:0])
		if p.size > 0 && p.size+int64(len(line)) > p.opts.MaxBytes {
			p.rotate(rec.time)
		}
		if p.file == nil {
			p.failed.Add(1)
			continue
		}
		n, err := p.w.Write(line)
		p.size += int64(n)
		if err != nil {
			p.err = err
			p.failed.Add(1)
		} else {
			p.written.Add(1)
		}
		if len(p.queue) == 0 {
			if err := p.w.Flush(); err != nil {
				p.err = err
			}
		}
	}
	if p.file != nil {
		if err := p.w.Flush(); err != nil {
			p.err = err
		}
		if err := p.file.Close(); err != nil && p.err == nil {
			p.err = err
		}
	}
}

// rotate renames the current file to its name stamped with now (the time
// of the record that did not fit), opens a new one and removes the oldest
// rotated files beyond MaxFiles.
func (p *PayloadLog) rotate(now time.Time) {
	_ = p.w.Flush()
	_ = p.file.Close()
	p.file = nil
	ext := filepath.Ext(p.path)
	base := strings.TrimSuffix(p.path, ext)
	stamp := now.UTC().Format("20060102T150405.000Z")
	if err := os.Rename(p.path, base+"-"+stamp+ext); err != nil {
		p.err = err
	}
	if err := p.open(); err != nil {
		p.err = err
		return
	}
	old, _ := filepath.Glob(base + "-*" + ext)
	slices.Sort(old) // the time stamps sort as the times do
	for len(old) > p.opts.MaxFiles {
		_ = os.Remove(old[0])
		old = old[1:]
	}
}

// appendJSON appends rec as one JSON line.
func (rec *payloadRecord) appendJSON(b []byte) []byte {
	b = append(b, `{"time":`...)
	b = strconv.AppendQuote(b, rec.time.UTC().Format(time.RFC3339Nano))
	b = append(b, `,"request_id":`...)
	b = appendString(b, rec.requestID)
	b = append(b, `,"model":`...)
	b = appendString(b, rec.model)
	b = append(b, `,"variant":`...)
	b = appendString(b, rec.variant)
	b = append(b, `,"version":`...)
	b = appendString(b, rec.version)
	b = append(b, `,"input":{`...)
	for i, f := range rec.features {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(appendString(b, f), ':')
		b = appendFloat(b, rec.row[i])
	}
	b = append(b, `},"prediction":`...)
	b = appendString(b, rec.label)
	b = append(b, `,"probabilities":{`...)
	for i, c := range rec.classes {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(appendString(b, c), ':')
		b = appendFloat(b, rec.proba[i])
	}
	return append(b, "}}\n"...)
}

// logPayload offers one predicted row to the payload log, if there is one
// and the row is sampled. row and proba are copied.
func (h *Handler) logPayload(requestID string, c *served, row []float64, class int, proba []float64) {
	p := h.opts.PayloadLog
	if p == nil || !p.sampled() {
		return
	}
	own := make([]float64, len(row)+len(proba))
	copy(own, row)
	copy(own[len(row):], proba)
	p.offer(payloadRecord{time: p.opts.Now(), requestID: requestID, model: c.name, variant: c.variant, version: c.info.Version,
		features: c.info.Features, classes: c.info.Classes, row: own[:len(row)], proba: own[len(row):], label: c.info.Classes[class]})
}
