// Command wsecho measures WebSocket echo round trips: -conns connections
// each send a 64-byte message and wait for its echo, for -d; it prints
// messages per second and the 50th and 99th percentile round trip.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"slices"
	"sync"
	"time"

	"github.com/coder/websocket"
)

func main() {
	url := flag.String("url", "ws://127.0.0.1:18001/ws", "WebSocket URL")
	conns := flag.Int("conns", 32, "connections")
	d := flag.Duration("d", 10*time.Second, "duration")
	flag.Parse()
	ctx := context.Background()
	msg := make([]byte, 64)
	var (
		mu  sync.Mutex
		rtt []time.Duration
		wg  sync.WaitGroup
	)
	deadline := time.Now().Add(*d)
	for range *conns {
		c, _, err := websocket.Dial(ctx, *url, nil)
		if err != nil {
			log.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.CloseNow()
			var mine []time.Duration
			for time.Now().Before(deadline) {
				start := time.Now()
				if err := c.Write(ctx, websocket.MessageBinary, msg); err != nil {
					log.Fatal(err)
				}
				if _, _, err := c.Read(ctx); err != nil {
					log.Fatal(err)
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			rtt = append(rtt, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(rtt)
	pct := func(p float64) time.Duration { return rtt[int(float64(len(rtt)-1)*p)] }
	fmt.Printf("%.0f %s %s\n", float64(len(rtt))/d.Seconds(), pct(0.5), pct(0.99))
}
