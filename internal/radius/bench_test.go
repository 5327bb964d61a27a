package radius

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"netkeep/internal/event"
	"netkeep/internal/radius/nas"
)

// BenchmarkMACAuth is one MAC-authentication Access-Request through the
// whole packet path (authentication, lookup, reply, signing), without
// sockets, among 100,000 and 1,000,000 endpoints; the requests ask for
// 65,536 stations spread over all of them, so the lookups are not served
// from a warm cache.
func BenchmarkMACAuth(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			e := newEnv(b, nasClient(b, 1, "192.0.2.0/24", secret, nas.Hostapd))
			for i := range n {
				e.src.put(PSK{ID: int64(i + 1), GroupID: 1, Passphrase: fmt.Sprintf("passphrase-%08d", i), VLAN: 100, Enabled: true})
				e.src.putEndpoint(Endpoint{ID: int64(i + 1), GroupID: 1, MAC: MAC(0x020000000000 + i), PSKID: int64(i + 1), Enabled: true})
			}
			e.start(b)
			reqs := make([][]byte, 1<<16)
			for i := range reqs {
				reqs[i] = macAuth(b, secret, MAC(0x020000000000+(i*7919)%n).String(), true)
			}
			w := e.server.newWorker()
			in := make([]byte, maxPacketLen)
			e.server.dedup = newDedup(0) // every request is new
			b.ReportAllocs()
			i := 0
			c0 := cpuTime()
			for b.Loop() {
				req := reqs[i%len(reqs)]
				i++
				copy(in, req)
				if resp := w.packet(nil, testAddr, in[:len(req)], true); resp == nil || resp[0] != codeAccessAccept {
					b.Fatal("not accepted")
				}
			}
			b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkHandshake identifies a station's PSK from its handshake among
// 100,000 PSKs on one SSID (issue "DPSK at 100,000 keys"), through the
// handshake worker's code (no sockets; BenchmarkHandshakeBurst has them):
// first contact (a search; the match at a random place), a foreign PSK
// (every key tried), a second device of a PSK that just matched (recent
// matches first), each with the search alone on one goroutine (shares=1)
// and split across the cores (shares=GOMAXPROCS); and repeat contact by
// the bound MAC.
func BenchmarkHandshake(b *testing.B) {
	const n = 100_000
	e, passes := handshakeBenchEnv(b, n)
	build := func(i int, pass string) []byte { return hostapdHandshake(b, MAC(0x0a0000000000+i), pass) }
	client := e.index.Client(mustAddr("127.0.0.1"))
	station := 0
	for _, shares := range []int{1, runtime.GOMAXPROCS(0)} {
		for _, c := range []struct {
			name   string
			pass   func(i int) string
			want   byte
			recent bool
		}{
			{"first-contact", func(i int) string { return passes[(i*7919)%n] }, codeAccessAccept, false},
			{"foreign", func(int) string { return "a passphrase nobody has" }, codeAccessReject, false},
			{"second-device-recent", func(int) string { return passes[12345] }, codeAccessAccept, true},
		} {
			b.Run(fmt.Sprintf("%s/shares=%d", c.name, shares), func(b *testing.B) {
				e.server.shares = shares
				var lat []time.Duration
				var cpu time.Duration
				w := e.server.newWorker()
				if c.recent {
					w.identifyBench(b, build(station, c.pass(station)), client, e.now) // the first device
					station++
				}
				for b.Loop() {
					b.StopTimer()
					// A new station and, for first contact, a PSK not
					// matched before (not among the recent matches).
					req := build(station, c.pass(station))
					station++
					b.StartTimer()
					start, c0 := time.Now(), cpuTime()
					resp := w.identifyBench(b, req, client, e.now)
					lat = append(lat, time.Since(start))
					cpu += cpuTime() - c0
					if resp[0] != c.want {
						b.Fatalf("code %d, want %d", resp[0], c.want)
					}
				}
				reportPercentiles(b, lat)
				b.ReportMetric(float64(cpu.Microseconds())/float64(len(lat)), "cpu-µs/op")
			})
		}
	}
	b.Run("repeat-bound-mac", func(b *testing.B) {
		reqs := make([][]byte, 512)
		for i := range reqs {
			reqs[i] = build(i, passes[(i*7919)%n])
			e.index.Bind(1, MAC(0x0a0000000000+i), e.index.cred(int64((i*7919)%n+1)))
		}
		e.server.dedup = newDedup(0)
		w := e.server.newWorker()
		in := make([]byte, maxPacketLen)
		var lat []time.Duration
		from := netip.AddrPortFrom(mustAddr("127.0.0.1"), 40000)
		i := 0
		for b.Loop() {
			req := reqs[i%len(reqs)]
			i++
			copy(in, req)
			start := time.Now()
			resp := w.packet(nil, from, in[:len(req)], true)
			lat = append(lat, time.Since(start))
			if resp == nil || resp[0] != codeAccessAccept {
				b.Fatal("bound station not answered on the fast path")
			}
		}
		reportPercentiles(b, lat)
	})
}

// identifyBench parses req and runs the search.
func (w *worker) identifyBench(tb testing.TB, req []byte, c *Client, now time.Time) []byte {
	if !w.req.parse(req, w.scratch[:]) {
		tb.Fatal("parse")
	}
	return w.identify(c, now)
}

// handshakeBenchEnv is an index with n PSKs whose PMKs are loaded without
// PBKDF2 (64 hex digits are the PMK itself; the search costs the same).
func handshakeBenchEnv(b *testing.B, n int) (*env, []string) {
	e := newEnv(b, nasClient(b, 1, "127.0.0.0/8", secret, nas.Hostapd, hsSSID))
	passes := make([]string, n)
	for i := range n {
		passes[i] = fmt.Sprintf("%064x", i+1)
		e.src.put(PSK{ID: int64(i + 1), GroupID: 1, Passphrase: passes[i], Enabled: true})
	}
	e.start(b)
	eventually(b, time.Minute, func() bool { return e.index.Candidates(1, []byte(hsSSID)).Len() == n }, "keys not loaded")
	return e, passes
}

// BenchmarkHandshakeBurst is 16 stations making first contact at the same
// moment (a stadium gate), each from its own UDP socket, against the real
// server on loopback (readers, handshake workers, split searches) with
// 100,000 PSKs on one SSID: one op is one burst; the percentiles are over
// every station of every burst, from send to answer.
func BenchmarkHandshakeBurst(b *testing.B) {
	const n, burst = 100_000, 16
	e, passes := handshakeBenchEnv(b, n)
	conn := listen(b)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.server.Serve(ctx, []*net.UDPConn{conn}, nil) }()
	b.Cleanup(func() { cancel(); <-done })
	e.server.now = time.Now
	socks := make([]*net.UDPConn, burst)
	for i := range socks {
		c, err := net.DialUDP("udp", nil, conn.LocalAddr().(*net.UDPAddr))
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		socks[i] = c
	}
	for _, c := range []struct {
		name string
		pass func(i int) string
		want byte
	}{
		{"first-contact", func(i int) string { return passes[(i*7919)%n] }, codeAccessAccept},
		{"foreign", func(int) string { return "a passphrase nobody has" }, codeAccessReject},
	} {
		b.Run(c.name, func(b *testing.B) {
			var lat []time.Duration
			var cpu time.Duration
			station := 0
			for b.Loop() {
				b.StopTimer()
				reqs := make([][]byte, burst)
				for i := range reqs {
					reqs[i] = hostapdHandshake(b, MAC(0x0d0000000000+station), c.pass(station))
					station++
				}
				b.StartTimer()
				c0 := cpuTime()
				var wg sync.WaitGroup
				got := make([]time.Duration, burst)
				codes := make([]byte, burst)
				for i := range burst {
					wg.Go(func() {
						buf := make([]byte, maxPacketLen)
						start := time.Now()
						if _, err := socks[i].Write(reqs[i]); err != nil {
							return
						}
						_ = socks[i].SetReadDeadline(time.Now().Add(10 * time.Second))
						if k, err := socks[i].Read(buf); err == nil && k > 0 {
							got[i], codes[i] = time.Since(start), buf[0]
						}
					})
				}
				wg.Wait()
				cpu += cpuTime() - c0
				for i := range burst {
					if codes[i] != c.want {
						b.Fatalf("station %d: code %d, want %d", i, codes[i], c.want)
					}
				}
				lat = append(lat, got...)
			}
			reportPercentiles(b, lat)
			// The process's CPU for a burst (server and the 16 clients):
			// divided by the cores, the wall time of the burst's last
			// answer on a machine with nothing else to run.
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N)/1e3, "cpu-ms/burst")
		})
	}
}

// BenchmarkPMKDerivation derives the PMKs of 100,000 new PSKs (real
// passphrases, PBKDF2) in the background while a client sends MAC
// authentications over loopback at 500/s (a steady stream of stations
// joining), and reports how long the derivation took and the MAC
// authentications' latency during it. One op is the whole derivation.
func BenchmarkPMKDerivation(b *testing.B) {
	const n = 100_000
	for b.Loop() {
		e := newEnv(b, nasClient(b, 1, "127.0.0.0/8", secret, nas.Hostapd, hsSSID))
		for i := range n {
			e.src.put(PSK{ID: int64(i + 1), GroupID: 1, Passphrase: fmt.Sprintf("passphrase-%08d", i), VLAN: 100, Enabled: true})
			e.src.putEndpoint(Endpoint{ID: int64(i + 1), GroupID: 1, MAC: MAC(0x020000000000 + i), PSKID: int64(i + 1), Enabled: true})
		}
		conn := listen(b)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		e.server.now = time.Now
		go func() { done <- e.server.Serve(ctx, []*net.UDPConn{conn}, nil) }()
		cli, err := net.DialUDP("udp", nil, conn.LocalAddr().(*net.UDPAddr))
		if err != nil {
			b.Fatal(err)
		}
		start, c0 := time.Now(), cpuTime()
		e.start(b)
		var lat []time.Duration
		buf := make([]byte, maxPacketLen)
		tick := time.NewTicker(2 * time.Millisecond)
		i := 0
		for e.index.Candidates(1, []byte(hsSSID)).Len() < n {
			<-tick.C
			req := macAuth(b, secret, MAC(0x020000000000+(i*7919)%n).String(), true)
			i++
			t0 := time.Now()
			if _, err := cli.Write(req); err != nil {
				b.Fatal(err)
			}
			_ = cli.SetReadDeadline(time.Now().Add(2 * time.Second))
			if k, err := cli.Read(buf); err != nil || k == 0 || buf[0] != codeAccessAccept {
				b.Fatalf("MAC authentication during the derivation: %v", err)
			}
			lat = append(lat, time.Since(t0))
		}
		took, cpu := time.Since(start), cpuTime()-c0
		tick.Stop()
		cli.Close()
		cancel()
		<-done
		b.ReportMetric(took.Seconds(), "s-derivation")
		b.ReportMetric(cpu.Seconds(), "cpu-s-derivation")
		b.ReportMetric(float64(len(lat)), "mac-auths")
		reportPercentiles(b, lat)
	}
}

// cpuTime is the CPU time this process used so far (see the wpa
// benchmarks: on a shared machine it measures the code where the wall
// clock also measures the queue for the CPU).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	if len(lat) == 0 {
		return
	}
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds()), "p99-µs")
}

// BenchmarkIndexMemory reports the live heap the directory holds for
// 100,000 PSKs with one endpoint each (the source's own copy excluded),
// measured with runtime.MemStats after collections around Start. One op
// is one load.
func BenchmarkIndexMemory(b *testing.B) {
	const n = 100_000
	src := newFakeSource()
	for i := range n {
		src.put(PSK{ID: int64(i + 1), GroupID: 1, Name: fmt.Sprintf("st-%d", i),
			Passphrase: fmt.Sprintf("passphrase-%08d", i), VLAN: 100 + i%100, Enabled: true})
		src.putEndpoint(Endpoint{ID: int64(i + 1), GroupID: 1, MAC: MAC(0x020000000000 + i), PSKID: int64(i + 1), Enabled: true})
	}
	clients := &fakeClients{cs: []*nas.Client{nasClient(b, 1, "192.0.2.0/24", secret, nas.Hostapd)}}
	var held uint64
	for b.Loop() {
		bus := event.NewLocal()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		x := NewIndex(src, clients, bus, WithIndexLogger(discard()))
		if err := x.Start(b.Context()); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		held = after.HeapAlloc - before.HeapAlloc
		x.Close()
		bus.Close()
	}
	b.ReportMetric(float64(held)/(1<<20), "MiB")
	b.ReportMetric(float64(held)/n, "B/station")
}

// BenchmarkIndexLoad is a full load of 1,000,000 PSKs with one endpoint
// each from a source in memory: the directory's own share of a restart or
// of the reload after an import (the database's scan and the passphrases'
// decryption come on top). It reports the CPU time and the live heap the
// directory holds. One op is one load.
func BenchmarkIndexLoad(b *testing.B) {
	const n = 1_000_000
	src := newFakeSource()
	for i := range n {
		src.put(PSK{ID: int64(i + 1), GroupID: 1, Passphrase: fmt.Sprintf("passphrase-%08d", i), VLAN: 100 + i%100, Enabled: true})
		src.putEndpoint(Endpoint{ID: int64(i + 1), GroupID: 1, MAC: MAC(0x020000000000 + i), PSKID: int64(i + 1), Enabled: true})
	}
	clients := &fakeClients{cs: []*nas.Client{nasClient(b, 1, "192.0.2.0/24", secret, nas.Hostapd)}}
	var held uint64
	var cpu time.Duration
	for b.Loop() {
		bus := event.NewLocal()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		c0 := cpuTime()
		x := NewIndex(src, clients, bus, WithIndexLogger(discard()))
		if err := x.Start(b.Context()); err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - c0
		runtime.GC()
		runtime.ReadMemStats(&after)
		held = after.HeapAlloc - before.HeapAlloc
		x.Close()
		bus.Close()
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/load")
	b.ReportMetric(float64(held)/(1<<20), "MiB")
	b.ReportMetric(float64(held)/n, "B/station")
}
