package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
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
	l := newLogWriter(&out)
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
	l := newLogWriter(&out)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.flushEvery(ctx, 10*time.Millisecond); close(done) }()
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
	l := newLogWriter(&out)
	_, err := l.Write([]byte("x\n"))
	require.NoError(t, err)
	assert.EqualError(t, l.Flush(), "disk full")
	_, err = l.Write([]byte("y\n"))
	assert.EqualError(t, err, "disk full")
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
