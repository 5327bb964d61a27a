// Command loadgen sends RADIUS MAC-authentication Access-Requests (with
// Message-Authenticator) over many UDP sockets — the identifier is 8 bits,
// so one socket carries at most 256 requests in flight — and reports
// accepts per second and latency percentiles. It stops by itself after
// -duration. With -rate 0 it sends as fast as the server answers (each
// socket keeps -window requests in flight); otherwise it paces to -rate
// requests per second in all.
//
// Stations are 02:00:xx:xx:xx:xx for xx = 0 .. -stations-1, the entries
// bench/radius/run.sh loads into both servers.
package main

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/binary"
	"flag"
	"fmt"
	"hash"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:1812", "RADIUS server")
	secret := flag.String("secret", "bench-secret", "shared secret")
	sockets := flag.Int("sockets", 64, "UDP sockets")
	window := flag.Int("window", 16, "requests in flight per socket (max 256)")
	duration := flag.Duration("duration", 10*time.Second, "how long to send")
	rate := flag.Int("rate", 0, "requests per second in all; 0 = as fast as answered")
	stations := flag.Int("stations", 100000, "distinct station MACs")
	timeout := flag.Duration("timeout", 2*time.Second, "a request unanswered this long is lost")
	label := flag.String("label", "", "name printed with the results")
	wrongEvery := flag.Int("wrong-password-every", 0, "send every Nth request with a wrong User-Password (0: none); its accepts are reported as wrong-accepts")
	unknownEvery := flag.Int("unknown-every", 0, "send every Nth request for a station that is not loaded, 04:00:xx:xx:xx:xx (0: none); its accepts are reported as unknown-accepts")
	flag.Parse()
	if *window < 1 || *window > 256 {
		fmt.Fprintln(os.Stderr, "window must be 1..256")
		os.Exit(2)
	}
	raddr, err := net.ResolveUDPAddr("udp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var stats totals
	stop := time.Now().Add(*duration)
	var wg sync.WaitGroup
	perSocket := 0.0
	if *rate > 0 {
		perSocket = float64(*rate) / float64(*sockets)
	}
	for i := range *sockets {
		conn, err := net.DialUDP("udp", nil, raddr)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		s := &socket{conn: conn, secret: []byte(*secret), window: *window, stations: *stations,
			next: i * 7919, timeout: *timeout, perSecond: perSocket, stats: &stats, wrongEvery: *wrongEvery, unknownEvery: *unknownEvery,
			md5: md5.New(), hmac: hmac.New(md5.New, []byte(*secret)), check: md5.New(),
			rng: rand.NewChaCha8([32]byte{byte(i), byte(i >> 8), 'l', 'g'})}
		wg.Go(func() { s.run(stop) })
	}
	cpu0 := cpuTime()
	wg.Wait()
	stats.report(*label, *duration, cpuTime()-cpu0)
}

// cpuTime is the CPU time (user and system) this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type totals struct {
	sent, accepts, rejects, lost atomic.Int64
	wrongSent, wrongAccepts      atomic.Int64
	unknownSent, unknownAccepts  atomic.Int64
	goodRejects                  atomic.Int64 // a right station and password answered Access-Reject
	mu                           sync.Mutex
	latencies                    []time.Duration
}

// report prints the results; cpu is the load generator's own CPU time, so
// that the CPU left to the server on a shared machine can be judged.
func (t *totals) report(label string, d time.Duration, cpu time.Duration) {
	slices.Sort(t.latencies)
	pct := func(p float64) time.Duration {
		if len(t.latencies) == 0 {
			return 0
		}
		return t.latencies[min(len(t.latencies)-1, int(p*float64(len(t.latencies))))]
	}
	wrongReplies := t.wrongAccepts.Load() + t.unknownAccepts.Load() + t.goodRejects.Load()
	fmt.Printf("%s sent=%d accepts=%d rejects=%d lost=%d wrong-sent=%d wrong-accepts=%d unknown-sent=%d unknown-accepts=%d good-rejects=%d wrong-replies=%d accepts/s=%.0f p50=%v p99=%v p999=%v loadgen-cpu=%.2fs\n",
		label, t.sent.Load(), t.accepts.Load(), t.rejects.Load(), t.lost.Load(), t.wrongSent.Load(), t.wrongAccepts.Load(),
		t.unknownSent.Load(), t.unknownAccepts.Load(), t.goodRejects.Load(), wrongReplies,
		float64(t.accepts.Load())/d.Seconds(), pct(.50).Round(time.Microsecond), pct(.99).Round(time.Microsecond),
		pct(.999).Round(time.Microsecond), cpu.Seconds())
}

// socket is one UDP socket with its identifiers.
type socket struct {
	conn      *net.UDPConn
	secret    []byte
	window    int
	stations  int
	next      int
	timeout   time.Duration
	perSecond float64
	stats     *totals
	// wrongEvery makes every wrongEvery-th request carry a wrong password,
	// unknownEvery every unknownEvery-th ask for a station not loaded.
	wrongEvery, unknownEvery int
	md5                      hash.Hash // these three are the sender goroutine's
	hmac                     hash.Hash
	rng                      *rand.ChaCha8
	sum                      [md5.Size]byte
	check                    hash.Hash // the reader goroutine's, used under mu
	checkSum                 [md5.Size]byte

	mu       sync.Mutex
	inflight [256]int64 // send time (unix ns), 0: free
	auth     [256][16]byte
	wrong    [256]bool // the request in flight carries a wrong password
	unknown  [256]bool // the request in flight is for a station not loaded
}

func (s *socket) run(stop time.Time) {
	slots := make(chan byte, s.window)
	for i := range s.window {
		slots <- byte(i)
	}
	done := make(chan struct{})
	var lat []time.Duration
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			_ = s.conn.SetReadDeadline(time.Now().Add(s.timeout))
			n, err := s.conn.Read(buf)
			now := time.Now().UnixNano()
			if err != nil {
				// Timeout: everything still in flight is lost.
				s.mu.Lock()
				for id, at := range s.inflight {
					if at != 0 && now-at >= int64(s.timeout) {
						s.inflight[id] = 0
						s.stats.lost.Add(1)
						slots <- byte(id)
					}
				}
				idle := time.Now().After(stop)
				s.mu.Unlock()
				if idle {
					return
				}
				continue
			}
			if n < 20 {
				continue
			}
			id := buf[1]
			s.mu.Lock()
			at := s.inflight[id]
			ok := at != 0 && s.authentic(buf[:n], s.auth[id][:])
			wrong, unknown := s.wrong[id], s.unknown[id]
			if ok {
				s.inflight[id] = 0
			}
			s.mu.Unlock()
			if !ok {
				continue
			}
			lat = append(lat, time.Duration(now-at))
			switch buf[0] {
			case 2:
				s.stats.accepts.Add(1)
				if wrong {
					s.stats.wrongAccepts.Add(1)
				}
				if unknown {
					s.stats.unknownAccepts.Add(1)
				}
			case 3:
				s.stats.rejects.Add(1)
				if !wrong && !unknown {
					s.stats.goodRejects.Add(1)
				}
			}
			slots <- id
		}
	}()
	pkt := make([]byte, 0, 128)
	start := time.Now()
	sent := 0
	wait := time.NewTimer(s.timeout)
	for time.Now().Before(stop) {
		if s.perSecond > 0 {
			due := start.Add(time.Duration(float64(sent) / s.perSecond * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
		}
		var id byte
		wait.Reset(s.timeout)
		select {
		case id = <-slots:
		case <-wait.C:
			continue
		}
		mac := 0x020000000000 + uint64(s.next%s.stations)
		s.next++
		unknown := s.unknownEvery > 0 && s.next%s.unknownEvery == 0
		if unknown {
			mac = 0x040000000000 + uint64(s.next%s.stations)
		}
		wrong := !unknown && s.wrongEvery > 0 && s.next%s.wrongEvery == 0
		var auth [16]byte
		_, _ = s.rng.Read(auth[:])
		pkt = s.build(pkt[:0], id, auth, mac, wrong)
		if wrong {
			s.stats.wrongSent.Add(1)
		}
		if unknown {
			s.stats.unknownSent.Add(1)
		}
		s.mu.Lock()
		s.auth[id] = auth
		s.wrong[id] = wrong
		s.unknown[id] = unknown
		s.inflight[id] = time.Now().UnixNano()
		s.mu.Unlock()
		if _, err := s.conn.Write(pkt); err != nil {
			s.mu.Lock()
			s.inflight[id] = 0
			s.mu.Unlock()
			slots <- id
			continue
		}
		sent++
		s.stats.sent.Add(1)
	}
	<-done
	s.stats.mu.Lock()
	s.stats.latencies = append(s.stats.latencies, lat...)
	s.stats.mu.Unlock()
}

// build encodes an Access-Request as hostapd sends it for MAC
// authentication: User-Name and User-Password the MAC, Calling-Station-Id,
// Called-Station-Id, NAS-Port-Type, Service-Type, Message-Authenticator.
// With wrong, the User-Password is not the MAC.
func (s *socket) build(b []byte, id byte, auth [16]byte, mac uint64, wrong bool) []byte {
	var m [12]byte
	const hexd = "0123456789abcdef"
	for i := range 12 {
		m[i] = hexd[mac>>(44-4*i)&15]
	}
	b = append(b, 1, id, 0, 0)
	b = append(b, auth[:]...)
	b = append(b, 80, 18)
	maOff := len(b)
	b = append(b, make([]byte, 16)...)
	b = append(b, 1, 14)
	b = append(b, m[:]...)
	// User-Password: the MAC padded to 16 bytes, xor MD5(secret | authenticator).
	h := s.md5
	h.Reset()
	h.Write(s.secret)
	h.Write(auth[:])
	var pw [16]byte
	copy(pw[:], m[:])
	if wrong {
		copy(pw[:], "not-the-station")
	}
	sum := h.Sum(s.sum[:0])
	for i := range pw {
		pw[i] ^= sum[i]
	}
	b = append(b, 2, 18)
	b = append(b, pw[:]...)
	b = append(b, 31, 19)
	for i := range 6 {
		if i > 0 {
			b = append(b, '-')
		}
		b = append(b, m[2*i]-32*boolByte(m[2*i] >= 'a'), m[2*i+1]-32*boolByte(m[2*i+1] >= 'a'))
	}
	called := "02-00-00-00-00-01:bench"
	b = append(b, 30, byte(2+len(called)))
	b = append(b, called...)
	b = append(b, 61, 6, 0, 0, 0, 19) // NAS-Port-Type Wireless-802.11
	b = append(b, 6, 6, 0, 0, 0, 10)  // Service-Type Call-Check
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	s.hmac.Reset()
	s.hmac.Write(b)
	copy(b[maOff:], s.hmac.Sum(s.sum[:0]))
	return b
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// authentic checks the Response Authenticator against the request's; the
// caller holds s.mu.
func (s *socket) authentic(resp, reqAuth []byte) bool {
	h := s.check
	h.Reset()
	h.Write(resp[:4])
	h.Write(reqAuth)
	h.Write(resp[20:])
	h.Write(s.secret)
	return hmac.Equal(h.Sum(s.checkSum[:0]), resp[4:20])
}
