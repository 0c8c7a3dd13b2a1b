package jsonlog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/slogtest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type countingWriter struct {
	bytes.Buffer
	writes int
	err    error
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes++
	if c.err != nil {
		return 0, c.err
	}
	return c.Buffer.Write(p)
}

func TestLogWriterBatches(t *testing.T) {
	var out countingWriter
	l := NewWriter(&out)
	for range 10 {
		_, err := l.Write([]byte("{\"msg\":\"x\"}\n"))
		require.NoError(t, err)
	}
	assert.Equal(t, 0, out.writes, "lines wait for a flush")
	require.NoError(t, l.Flush())
	assert.Equal(t, 1, out.writes)
	assert.Equal(t, strings.Repeat("{\"msg\":\"x\"}\n", 10), out.String())
	require.NoError(t, l.Flush())
	assert.Equal(t, 1, out.writes, "nothing to flush")

	// A full batch goes out by itself; a line larger than a batch goes straight through.
	line := strings.Repeat("a", 1000) + "\n"
	for range maxBatch/len(line) + 1 {
		_, _ = l.Write([]byte(line))
	}
	assert.Equal(t, 2, out.writes)
	big := strings.Repeat("b", maxBatch+1)
	_, _ = l.Write([]byte(big))
	assert.Equal(t, 4, out.writes, "the batch, then the big line")
	assert.True(t, strings.HasSuffix(out.String(), big))
}

func TestLogWriterFlushesOnTicks(t *testing.T) {
	var out syncBuffer
	l := NewWriter(&out)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.FlushEvery(ctx, 10*time.Millisecond); close(done) }()
	_, _ = l.Write([]byte("line\n"))
	assert.Eventually(t, func() bool {
		out.mu.Lock()
		defer out.mu.Unlock()
		return out.b.String() == "line\n"
	}, 5*time.Second, 5*time.Millisecond)
	cancel()
	<-done
}

func TestLogWriterReportsErrors(t *testing.T) {
	out := countingWriter{err: errors.New("disk full")}
	l := NewWriter(&out)
	_, err := l.Write([]byte("x\n"))
	require.NoError(t, err)
	assert.EqualError(t, l.Flush(), "disk full")
	_, err = l.Write([]byte("y\n"))
	assert.EqualError(t, err, "disk full")
}

// The fast path must write exactly what slog.JSONHandler writes.
func TestJSONLinesMatchesSlog(t *testing.T) {
	at := time.Date(2026, 11, 27, 4, 43, 9, 185509173, time.UTC)
	strs := []string{"", "plain", `q"uote`, `back\slash`, "new\nline\r\t", "ctl\x01\x1f\x7f", "é✓日本", "bad\xffutf8",
		"sep\u2028\u2029", "<html>&amp;", strings.Repeat("long", 100)}
	var records []slog.Record
	for i, s := range strs {
		r := slog.NewRecord(at.Add(time.Duration(i)*time.Millisecond), slog.Level(i%12-4), s, 0)
		r.AddAttrs(slog.String("method", s), slog.Int("status", 200+i), slog.Int64("neg", -int64(i)),
			slog.Uint64("u", uint64(i)), slog.Bool("ok", i%2 == 0), slog.String(s+"k", "v"))
		records = append(records, r)
	}
	records = append(records, slog.NewRecord(time.Time{}, slog.LevelInfo, "no time", 0))
	for i, r := range records {
		var want, got bytes.Buffer
		require.NoError(t, slog.NewJSONHandler(&want, nil).Handle(context.Background(), r))
		require.NoError(t, NewHandler(&got, nil).Handle(context.Background(), r))
		assert.Equal(t, want.String(), got.String(), "record %d", i)
	}
}

func TestJSONLinesDelegates(t *testing.T) {
	var buf bytes.Buffer
	h := NewHandler(&buf, slog.LevelWarn)
	assert.False(t, h.Enabled(context.Background(), slog.LevelInfo))
	assert.True(t, h.Enabled(context.Background(), slog.LevelError))
	l := slog.New(h)
	l.Warn("other kinds", "f", 1.5, "d", time.Second, "err", errors.New("x"), slog.Group("g", "a", 1), "", "empty key")
	l.With("k", "v").WithGroup("grp").Warn("derived", "a", 1)
	assert.Contains(t, buf.String(), `"msg":"other kinds","f":1.5,"d":1000000000,"err":"x","g":{"a":1},"":"empty key"}`)
	assert.Contains(t, buf.String(), `"msg":"derived","k":"v","grp":{"a":1}}`)
	// A year slog refuses to format in RFC 3339 goes to slog, which says so.
	buf.Reset()
	r := slog.NewRecord(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), slog.LevelError, "future", 0)
	require.NoError(t, h.Handle(context.Background(), r))
	assert.Contains(t, buf.String(), "year outside of range")
}

func TestJSONLinesConformsToSlogtest(t *testing.T) {
	var buf bytes.Buffer
	err := slogtest.TestHandler(NewHandler(&buf, nil), func() []map[string]any {
		var out []map[string]any
		for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
			var m map[string]any
			require.NoError(t, json.Unmarshal(line, &m))
			out = append(out, m)
		}
		return out
	})
	require.NoError(t, err)
}

func BenchmarkRequestLogLine(b *testing.B) {
	for _, tc := range []struct {
		name string
		h    slog.Handler
	}{
		{"slog.JSONHandler", slog.NewJSONHandler(io.Discard, nil)},
		{"Handler", NewHandler(io.Discard, nil)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				// As instrument logs: a record without a PC, to the handler.
				r := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
				r.AddAttrs(slog.String("method", "POST"), slog.String("path", "/predict"), slog.Int("status", 200),
					slog.Int64("duration_us", 123), slog.String("model", "heuristic"),
					slog.String("request_id", "16bc8ebc7c864a73aa706dfd92eae5dd"), slog.Int("bytes", 147),
					slog.String("remote", "127.0.0.1:43262"))
				_ = tc.h.Handle(ctx, r)
			}
		})
	}
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
