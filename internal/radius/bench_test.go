package radius

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"netkeep/internal/event"
	"netkeep/internal/radius/nas"
	"netkeep/internal/radius/wpa/wpatest"
)

// BenchmarkMACAuth is one MAC-authentication Access-Request through the
// whole packet path (authentication, lookup among 100,000 endpoints, reply,
// signing), without sockets.
func BenchmarkMACAuth(b *testing.B) {
	e := newEnv(b, nasClient(b, 1, "192.0.2.0/24", secret, nas.Hostapd))
	for i := range 100_000 {
		e.src.put(PSK{ID: int64(i + 1), GroupID: 1, Passphrase: fmt.Sprintf("passphrase-%08d", i), VLAN: 100, Enabled: true})
		e.src.putEndpoint(Endpoint{ID: int64(i + 1), GroupID: 1, MAC: MAC(0x020000000000 + i), PSKID: int64(i + 1), Enabled: true})
	}
	e.start(b)
	reqs := make([][]byte, 1024)
	for i := range reqs {
		reqs[i] = macAuth(b, secret, MAC(0x020000000000+i*97).String(), true)
	}
	w := e.server.newWorker()
	in := make([]byte, maxPacketLen)
	e.server.dedup = newDedup(0) // every request is new
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		req := reqs[i%len(reqs)] // 1,024 distinct requests: never a duplicate
		i++
		copy(in, req)
		if resp := w.packet(nil, testAddr, in[:len(req)], true); resp == nil || resp[0] != codeAccessAccept {
			b.Fatal("not accepted")
		}
	}
}

// BenchmarkHandshake identifies a station's PSK from its handshake among
// 10,000 PSKs on one SSID: first contact (a search; the match is at a
// random place, so on average half the candidates are checked and the p99
// reports close to all of them) and repeat contact by the bound MAC. Run
// with -cpu 1 for the one-core figures.
func BenchmarkHandshake(b *testing.B) {
	const n = 10_000
	e := newEnv(b, nasClient(b, 1, "192.0.2.0/24", secret, nas.Hostapd, hsSSID))
	passes := make([]string, n)
	for i := range n {
		// 64 hex digits are the PMK itself: the index loads 10,000 keys
		// without 10,000 PBKDF2 runs; the search costs the same.
		passes[i] = fmt.Sprintf("%064x", i+1)
		e.src.put(PSK{ID: int64(i + 1), GroupID: 1, Passphrase: passes[i], Enabled: true})
	}
	e.start(b)
	eventually(b, time.Minute, func() bool { return e.index.Candidates(1, []byte(hsSSID)).Len() == n }, "keys not loaded")

	build := func(i int, pass string) []byte {
		frame := hsStation(MAC(0x0a0000000000+i).Bytes()).Message2(wpatest.PMK(pass, hsSSID), wpatest.RSNE)
		return buildRequest(b, secret, true, func(p *radius.Packet) {
			_ = rfc2865.CallingStationID_SetString(p, MAC(0x0a0000000000+i).String())
			_ = rfc2865.CalledStationID_SetString(p, "02-00-00-00-00-01:"+hsSSID)
			evs := func(typ byte, val []byte) radius.Attribute {
				return append([]byte{evsExtendedType, 0, 0, 0, 0x2c, 0x50, typ}, val...)
			}
			p.Add(attrExtendedVS5, evs(frAnonce, hsANonce))
			p.Add(attrExtendedVS5, evs(frEAPOLKeyMsg, frame))
		})
	}

	b.Run("first-contact", func(b *testing.B) {
		var lat []time.Duration
		w := e.server.newWorker()
		i := 0
		for b.Loop() {
			b.StopTimer()
			req := build(i, passes[(i*7919)%n])
			i++
			if !w.req.parse(req, w.scratch[:]) {
				b.Fatal("parse")
			}
			b.StartTimer()
			start := time.Now()
			resp := w.identify(e.index.Client(testAddr.Addr()), e.now)
			lat = append(lat, time.Since(start))
			if resp[0] != codeAccessAccept {
				b.Fatal("no match")
			}
		}
		reportPercentiles(b, lat)
	})
	b.Run("repeat-bound-mac", func(b *testing.B) {
		// Stations were bound by first contact above or are bound now.
		reqs := make([][]byte, 512)
		for i := range reqs {
			reqs[i] = build(i, passes[(i*7919)%n])
			if g, ok := e.index.ByMAC(1, MAC(0x0a0000000000+i)); !ok || g.Cred.Passphrase != passes[(i*7919)%n] {
				e.index.Bind(1, MAC(0x0a0000000000+i), e.index.cred(int64((i*7919)%n+1)))
			}
		}
		e.server.dedup = newDedup(0)
		w := e.server.newWorker()
		in := make([]byte, maxPacketLen)
		var lat []time.Duration
		i := 0
		for b.Loop() {
			req := reqs[i%len(reqs)]
			i++
			copy(in, req)
			start := time.Now()
			resp := w.packet(nil, testAddr, in[:len(req)], true)
			lat = append(lat, time.Since(start))
			if resp == nil || resp[0] != codeAccessAccept {
				b.Fatal("bound station not answered on the fast path")
			}
		}
		reportPercentiles(b, lat)
	})
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
