package main

import "context"

// chunkRows is how many records a chunk holds: large enough that handing
// chunks between goroutines costs little, small enough that the chunks in
// flight take a few MiB at most.
const chunkRows = 1024

// record is one input record as the reader split it off, not yet parsed.
type record struct {
	line   int      // line number where the record starts, from 1
	fields []string // CSV: the record's fields (for a plain record, once the chunk is split)
	raw    []byte   // JSON Lines: the line, without its newline; CSV: a plain record's line
	err    error    // a syntax error the reader found: the record is a bad row
}

// badRow is a row that could not be scored.
type badRow struct {
	line int
	msg  string
	// When it was found: len(chunk.out), the output of the rows before it,
	// and chunk.scored, how many rows before it were scored.
	off, scored int
}

// chunk is a run of consecutive records. A reader fills it, one worker
// processes it, and the emitter consumes it in input order.
type chunk struct {
	recs  []record
	arena []byte // backing store for the records' raw bytes
	// plain counts the plain CSV records not split yet: lines without a
	// double quote, whose fields are the text between their commas. The
	// reader leaves them unsplit (their fields nil, raw their line); their
	// lines are all of arena, back to back. The csvColumns parser reads
	// most from their lines; split makes the fields of all of them when
	// something needs them.
	plain  int
	fields []string // backing store for the plain records' fields
	out    []byte   // output of the scored rows, in order
	bad    []badRow
	scored int
	// eval: one entry per scored row
	labels []string
	preds  []int
	batch  batch // the parsed rows and their predictions, reused

	done chan struct{} // closed when the worker has processed the chunk
}

func (c *chunk) reset() {
	clear(c.recs) // drop references to the fields of the last use
	c.recs = c.recs[:0]
	c.arena = c.arena[:0]
	c.plain = 0
	c.fields = c.fields[:0] // overwritten by the next split
	c.out = c.out[:0]
	c.bad = c.bad[:0]
	c.scored = 0
	clear(c.labels)
	c.labels = c.labels[:0]
	c.preds = c.preds[:0]
}

// split makes the fields of c's plain records: slices of one string
// holding all their lines, so that a chunk costs two allocations rather than
// two a row. Once is enough: later calls do nothing.
func (c *chunk) split() {
	if c.plain == 0 {
		return
	}
	lines := string(c.arena)
	for i := range c.recs {
		r := &c.recs[i]
		if r.fields != nil || r.raw == nil {
			continue
		}
		line := lines[:len(r.raw)]
		lines = lines[len(r.raw):]
		start := len(c.fields)
		from := 0
		for j := 0; j < len(line); j++ { // fields are short: no IndexByte
			if line[j] == ',' {
				c.fields = append(c.fields, line[from:j])
				from = j + 1
			}
		}
		c.fields = append(c.fields, line[from:])
		r.fields = c.fields[start:len(c.fields):len(c.fields)]
	}
	c.plain = 0
}

// addBad records a bad row found while processing c.
func (c *chunk) addBad(line int, msg string) {
	c.bad = append(c.bad, badRow{line: line, msg: msg, off: len(c.out), scored: c.scored})
}

// pipeline reads chunks sequentially, processes them on workers goroutines
// and emits them in the order they were read. At most 3*workers+1 chunks
// exist at once, so memory does not grow with the input.
type pipeline struct {
	workers int
	// read fills c.recs (c is empty) and reports whether more input may
	// follow. It runs on one goroutine, chunk after chunk.
	read func(c *chunk) (more bool, err error)
	// work processes one chunk; calls run in parallel on distinct chunks.
	work func(c *chunk)
	// emit consumes the chunks in input order; an error stops the pipeline.
	emit func(c *chunk) error
}

// run runs the pipeline until the input ends, emit fails, reading fails or
// ctx is done, and returns the first error in input order: an emit error
// for a chunk comes before a read error found after it.
func (p *pipeline) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := max(p.workers, 1)
	// Emitted chunks are kept for reuse, with the buffers they have grown
	// (a sync.Pool would drop them at every garbage collection).
	free := make(chan *chunk, 3*workers+1)
	jobs := make(chan *chunk, workers)
	ordered := make(chan *chunk, 2*workers)
	readErr := make(chan error, 1)

	go func() {
		defer close(jobs)
		defer close(ordered)
		for {
			var c *chunk
			select {
			case c = <-free:
			default:
				c = &chunk{recs: make([]record, 0, chunkRows)}
			}
			c.reset()
			more, err := p.read(c)
			if len(c.recs) > 0 {
				c.done = make(chan struct{})
				select {
				case ordered <- c:
				case <-ctx.Done():
					readErr <- ctx.Err()
					return
				}
				select {
				case jobs <- c:
				case <-ctx.Done():
					readErr <- ctx.Err()
					return
				}
			}
			if err != nil || !more {
				readErr <- err
				return
			}
		}
	}()
	for range workers {
		go func() {
			for c := range jobs {
				p.work(c)
				close(c.done)
			}
		}()
	}
	for c := range ordered {
		select {
		case <-c.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := p.emit(c); err != nil {
			return err
		}
		select {
		case free <- c:
		default:
		}
	}
	return <-readErr
}
