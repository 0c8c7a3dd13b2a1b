//go:build unix

package classifyhttp

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process has used so far, user and system,
// for benchmarks to report a cost that other processes on a busy machine
// inflate far less than wall time; 0 when it cannot be read.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
