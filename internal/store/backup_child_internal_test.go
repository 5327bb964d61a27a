package store

import (
	"context"
	"fmt"
	"os"
	"testing"
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
