package store

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

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
