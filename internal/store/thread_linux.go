package store

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// onOwnThread runs f on an OS thread of its own, so threadCPU measures
// f's work alone, at the lowest scheduling priority (nice 19) when
// lowPriority is set, and returns f's error. The thread is never given
// back to the Go runtime: it ends with f's goroutine, so no other goroutine
// ever runs at that priority. If the priority cannot be changed, f runs
// anyway.
func onOwnThread(lowPriority bool, f func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // not unlocked: the thread exits with this goroutine
		if lowPriority {
			_ = unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), 19)
		}
		done <- f()
	}()
	return <-done
}

// threadCPU is the CPU time the calling thread has used (meaningful on a
// thread of onOwnThread): the pacing of a copy counts the work done, not
// the time spent waiting for a core.
func threadCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
