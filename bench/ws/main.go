// Command ws measures netkeep's live event stream (GET /api/v1/ws) at scale:
// it starts a real server on loopback and connects -conns authenticated
// WebSocket subscribers to it from a child process (so the server's memory
// is measured alone), then reports
//
//   - the server's memory per idle connection (Go heap and stacks, and
//     resident set growth), and
//   - for each of -events notifications posted through the API
//     (POST /api/v1/webhooks/notify), the time until every subscriber had
//     it, and the per-subscriber delivery latency.
//
// Usage:
//
//	go run ./bench/ws -conns 10000 -events 20
//
// Subscribers connect from distinct loopback source addresses
// (127.1.x.y), at most three per address, since the stream allows three
// connections per address in 30 seconds. The open-files limit is raised to
// its hard limit in both processes.
package main

import (
	"flag"
	"fmt"
	"os"
	"syscall"
)

func main() {
	conns := flag.Int("conns", 10000, "subscribers")
	events := flag.Int("events", 20, "notifications to time")
	users := flag.Int("users", 25, "users whose access tokens the subscribers share (a user's session budget is 500 requests a minute)")
	profile := flag.String("cpuprofile", "", "write the server's CPU profile of the events phase to this file")
	client := flag.String("client", "", "internal: run as the subscribers' process against this base URL")
	flag.Parse()
	if err := raiseOpenFiles(); err != nil {
		fmt.Fprintln(os.Stderr, "raising the open-files limit:", err)
	}
	var err error
	if *client != "" {
		err = runClients(*client, *conns)
	} else {
		err = runServer(*conns, *events, *users, *profile)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ws:", err)
		os.Exit(1)
	}
}

// raiseOpenFiles lifts the soft open-files limit to the hard one: every
// connection is a descriptor on each side.
func raiseOpenFiles() error {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return err
	}
	l.Cur = l.Max
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
}
