package main

import (
	"fmt"
	"runtime"
	"time"

	"netkeep/internal/meshwire"
)

// runBaseline measures the naive approach of shared/notes/mesh.md: after a
// change, rebuild every node's full peer list as a list of lists. The lists
// hold pointers to shared peer records, the cheapest such representation (no
// copies, no encoding), so the baseline is as generous as it can be. netkeep
// never does this; it is the yardstick.
func runBaseline(n int) {
	if n > 20_000 {
		fmt.Printf("\n## Naive baseline skipped at %d nodes: %d peer records per change (it grows as N²)\n", n, n*(n-1))
		return
	}
	peers := make([]meshwire.Peer, n)
	for i := range peers {
		peers[i] = meshwire.Peer{ID: int64(i + 1), Name: fmt.Sprint("node-", i), MACAddress: macOf(i), PublicKey: randomKey(),
			Endpoint: "198.51.100.1", ListenPort: 51821, Address: "10.0.0.1", AllowedIPs: []string{"10.0.0.1/32"}}
	}
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	start := time.Now()
	all := make([][]*meshwire.Peer, n)
	for i := range peers {
		list := make([]*meshwire.Peer, 0, n-1)
		for j := range peers {
			if j != i {
				list = append(list, &peers[j])
			}
		}
		all[i] = list
	}
	d := time.Since(start)
	runtime.ReadMemStats(&m1)
	fmt.Printf("\n## Naive baseline: every node's peer list rebuilt after one change, %d nodes\n", n)
	fmt.Printf("%v and %.0f MB allocated per change (%d peer records)\n", d.Round(time.Millisecond), float64(m1.TotalAlloc-m0.TotalAlloc)/1e6, n*(n-1))
	runtime.KeepAlive(all)
}
