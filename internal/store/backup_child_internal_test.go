package store

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestMain lets the test binary be its own backup child: run with
// "backup-child" first, it is what `netkeep backup copy` is; with
// "lower-priority", it lowers itself, starts threads, and prints the
// scheduling policy of each of its threads.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "backup-child":
			if err := ServeBackupChild(context.Background(), os.Args[2:], os.Stdin, os.Stdout); err != nil {
				fmt.Fprintln(os.Stderr, "netkeep: "+err.Error())
				os.Exit(1)
			}
			os.Exit(0)
		case "lower-priority":
			os.Exit(reportPriority())
		}
	}
	os.Exit(m.Run())
}

// reportPriority lowers the process, then makes the runtime start threads
// (goroutines locked to threads blocked in sleeps), then prints one policy
// per thread, the threads counted before and after.
func reportPriority() int {
	if err := lowerPriority(); err != nil {
		fmt.Println("error", err)
		return 1
	}
	before, _ := os.ReadDir("/proc/self/task")
	release := make(chan struct{})
	for range 4 {
		go func() {
			runtime.LockOSThread()
			<-release
		}()
	}
	time.Sleep(50 * time.Millisecond) // let the runtime start threads for them
	tasks, _ := os.ReadDir("/proc/self/task")
	fmt.Println("threads", len(before), len(tasks))
	for _, t := range tasks {
		tid, _ := strconv.Atoi(t.Name())
		a, err := unix.SchedGetAttr(tid, 0)
		if err != nil {
			fmt.Println("thread", tid, "error", err)
			continue
		}
		fmt.Println("thread", tid, "policy", a.Policy)
	}
	close(release)
	return 0
}
