//go:build race

package flat

// raceEnabled: the race detector is on, and sync.Pool drops a share of
// what is put back, so allocation guards on pooled paths do not hold.
const raceEnabled = true
