package store

import (
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// onOwnThread runs f on an OS thread of its own, so threadCPU measures
// f's work alone, and returns f's error. The thread is never given back to
// the Go runtime: it ends with f's goroutine.
func onOwnThread(f func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // not unlocked: the thread exits with this goroutine
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

// ioprioIdle is the idle I/O class (IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT)
// and ioprioWhoProcess names one thread by its id (linux/ioprio.h).
const (
	ioprioIdle       = 3 << 13
	ioprioWhoProcess = 1
)

// lowerPriority puts every thread of the process in the idle scheduling
// class (SCHED_IDLE: it gets a core only when no other task wants it, and a
// waking task of any normal priority takes the core from it at once) and
// the idle I/O class, falling back to nice 19 where SCHED_IDLE is refused.
// Threads the Go runtime starts later are cloned from these and inherit
// both; the task list is walked until a pass finds no thread left to
// lower, so one started during a pass is caught by the next. Only a
// process that runs nothing else calls it: the whole process is lowered.
func lowerPriority() error {
	done := map[int]bool{}
	for {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		lowered := 0
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil || done[tid] {
				continue
			}
			done[tid] = true
			lowered++
			err = unix.SchedSetAttr(tid, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_IDLE, Nice: 19}, 0)
			if err != nil {
				if err := unix.Setpriority(unix.PRIO_PROCESS, tid, 19); err != nil && err != unix.ESRCH {
					return err
				}
			}
			// The I/O class is advice: schedulers without classes ignore it.
			_, _, _ = unix.Syscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, uintptr(tid), ioprioIdle)
		}
		if lowered == 0 {
			return nil
		}
	}
}

// startWriteback starts the disk writes of f's dirty pages without waiting
// for them (sync_file_range, SYNC_FILE_RANGE_WRITE): a copy written in
// steps goes to the disk in steps too, not all in its final sync. It is
// advice: an error changes nothing the final sync does not redo.
func startWriteback(f *os.File) {
	_ = unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
}

// dropCache asks the kernel to drop the file at path from the page cache
// (posix_fadvise DONTNEED; its pages are clean once synced). It is advice:
// errors change nothing.
func dropCache(path string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	_ = unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}

// childProcAttr makes a child process die with the thread that started it
// (run it on a thread of onOwnThread that waits for it): a backup child
// never outlives a killed server.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
