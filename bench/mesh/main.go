// Command mesh measures netkeep's mesh engine at scale, in process: a
// network of -nodes simulated nodes (stored, then loaded as a server start
// loads them) with -subscribers connected streams, each consumed by a
// simulated agent. It reports one node's view time, the time to apply a
// join and a leave and to deliver them to every subscriber, idle CPU,
// memory per node and per subscriber, the naive full-recompute baseline of
// shared/notes/mesh.md, delivery over real WebSocket streams of a real
// server, and the join rate through the HTTP API, both on loopback.
// Everything stops by itself; results go to stdout for bench/README.md.
//
//	go run ./bench/mesh -nodes 10000 -subscribers 10000
//	go run ./bench/mesh -nodes 100000 -subscribers 100000 -api=false -baseline=false
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"time"
)

func main() {
	nodes := flag.Int("nodes", 10_000, "nodes in the network")
	subscribers := flag.Int("subscribers", 10_000, "connected streams (at most -nodes)")
	agents := flag.Int("agents", 50, "subscribers that decode and apply every message (the others only count them)")
	changes := flag.Int("changes", 5, "joins and leaves to time")
	idle := flag.Duration("idle", 10*time.Second, "how long to measure idle CPU")
	baseline := flag.Bool("baseline", true, "run the naive full-recompute baseline")
	apiJoins := flag.Int("api-joins", 2000, "joins through the HTTP API (0: skip)")
	apiWorkers := flag.Int("api-workers", 16, "concurrent API clients")
	ws := flag.Int("ws", 2000, "WebSocket streams on loopback against a real server (0: skip; two file descriptors each)")
	postgres := flag.String("postgres", os.Getenv("NETKEEP_TEST_POSTGRES_URL"), "PostgreSQL URL for the API join rate too (empty: SQLite only)")
	flag.Parse()
	if *subscribers > *nodes {
		*subscribers = *nodes
	}
	log.SetFlags(0)
	ctx := context.Background()
	fmt.Printf("# netkeep mesh scale run: %d nodes, %d subscribers (%d decoding agents), GOMAXPROCS=%d, %s\n",
		*nodes, *subscribers, *agents, runtime.GOMAXPROCS(0), time.Now().UTC().Format(time.RFC3339))

	if err := runScale(ctx, scaleConfig{nodes: *nodes, subscribers: *subscribers, agents: *agents, changes: *changes, idle: *idle}); err != nil {
		log.Fatalf("scale: %v", err)
	}
	if *baseline {
		runBaseline(*nodes)
	}
	if *ws > 0 {
		if err := runWebSockets(ctx, *nodes, min(*ws, *nodes), *changes); err != nil {
			log.Fatalf("websockets: %v", err)
		}
	}
	if *apiJoins > 0 {
		for _, withPassword := range []bool{false, true} {
			if err := runJoinRate(ctx, "sqlite", "", *apiJoins, *apiWorkers, withPassword); err != nil {
				log.Fatalf("join rate: %v", err)
			}
			if *postgres != "" {
				if err := runJoinRate(ctx, "postgres", *postgres, *apiJoins, *apiWorkers, withPassword); err != nil {
					log.Fatalf("join rate (postgres): %v", err)
				}
			}
		}
	}
}
