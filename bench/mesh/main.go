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
//	go run ./bench/mesh -nodes 10000 -storm 10000        # the reconnect storm (storm.go)
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"
)

func main() {
	nodes := flag.Int("nodes", 10_000, "nodes in the network")
	subscribers := flag.Int("subscribers", 10_000, "connected streams (at most -nodes)")
	agents := flag.Int("agents", 50, "subscribers that decode and apply every message (the others only count them)")
	changes := flag.Int("changes", 5, "joins and leaves to time")
	idle := flag.Duration("idle", 10*time.Second, "how long to measure idle CPU")
	baseline := flag.Bool("baseline", true, "run the naive full-recompute baseline")
	scale := flag.Bool("scale", true, "run the in-process scale run (state, views, delivery)")
	apiJoins := flag.Int("api-joins", 2000, "joins through the HTTP API (0: skip)")
	apiWorkers := flag.Int("api-workers", 16, "concurrent API clients")
	apiBase := flag.Int("api-base", 10_000, "nodes already in the network the API joins go to")
	apiPasswords := flag.String("api-passwords", "none,machine,human", "join-rate runs by node password: none, machine (what agents send), human (short, argon2id)")
	ws := flag.Int("ws", 2000, "WebSocket streams on loopback against a real server (0: skip; two file descriptors each)")
	postgres := flag.String("postgres", os.Getenv("NETKEEP_TEST_POSTGRES_URL"), "PostgreSQL URL for the API join rate too (empty: SQLite only)")
	storm := flag.Int("storm", 0, "run only the reconnect storm with this many streams (at most -nodes)")
	stormRefs := flag.Int("storm-refs", 20, "streams of the storm that are full simulated agents, checked against the server")
	stormChanges := flag.Int("storm-changes", 10, "nodes changed while the storm's server is down")
	stormDigest := flag.Bool("storm-digest", true, "agents offer the digest of the view they hold when they reconnect")
	stormServe := flag.String("storm-serve", "", "internal: serve the storm's database in this directory")
	stormAddr := flag.String("storm-addr", "", "internal: the storm server's address")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	if *stormServe != "" {
		if *cpuprofile != "" {
			heapProfile = *cpuprofile + ".heap"
		}
		if err := childServe(*stormServe, *stormAddr); err != nil {
			log.Fatalf("storm server: %v", err)
		}
		return
	}
	if *storm > 0 {
		childProfile = *cpuprofile
		log.SetFlags(0)
		fmt.Printf("# netkeep mesh reconnect storm, GOMAXPROCS=%d, %s\n", runtime.GOMAXPROCS(0), time.Now().UTC().Format(time.RFC3339))
		c := stormConfig{nodes: *nodes, streams: min(*storm, *nodes), refs: *stormRefs, changes: *stormChanges, digest: *stormDigest}
		if err := runStorm(context.Background(), c); err != nil {
			log.Fatalf("storm: %v", err)
		}
		return
	}
	if *subscribers > *nodes {
		*subscribers = *nodes
	}
	log.SetFlags(0)
	ctx := context.Background()
	fmt.Printf("# netkeep mesh scale run: %d nodes, %d subscribers (%d decoding agents), GOMAXPROCS=%d, %s\n",
		*nodes, *subscribers, *agents, runtime.GOMAXPROCS(0), time.Now().UTC().Format(time.RFC3339))

	if *scale {
		if err := runScale(ctx, scaleConfig{nodes: *nodes, subscribers: *subscribers, agents: *agents, changes: *changes, idle: *idle}); err != nil {
			log.Fatalf("scale: %v", err)
		}
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
		for _, pw := range strings.Split(*apiPasswords, ",") {
			if pw == "none" {
				pw = noPassword
			}
			if err := runJoinRate(ctx, "sqlite", "", *apiBase, *apiJoins, *apiWorkers, pw); err != nil {
				log.Fatalf("join rate: %v", err)
			}
			if *postgres != "" {
				if err := runJoinRate(ctx, "postgres", *postgres, *apiBase, *apiJoins, *apiWorkers, pw); err != nil {
					log.Fatalf("join rate (postgres): %v", err)
				}
			}
		}
	}
}
