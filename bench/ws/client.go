package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// receipt is one subscriber's receipt of event seq.
type receipt struct {
	seq     int
	latency time.Duration
}

// runClients is the subscribers' process: it reads access tokens from
// stdin, opens conns subscribers (three per source address), reports when
// they are all authenticated, then reports each notification once every
// subscriber has it. It ends when the parent kills it.
func runClients(base string, conns int) error {
	var tokens []string
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if t := strings.TrimSpace(in.Text()); t != "" {
			tokens = append(tokens, t)
		}
	}
	if len(tokens) == 0 {
		return fmt.Errorf("no tokens on stdin")
	}
	out := json.NewEncoder(os.Stdout)
	url := "ws" + strings.TrimPrefix(base, "http") + "/api/v1/ws"
	receipts := make(chan receipt, 4*conns)

	start := time.Now()
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := range conns {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ws, err := subscribe(url, tokens[i%len(tokens)], net.IPv4(127, 1, byte(i/3/256), byte(i/3%256)))
			if err != nil {
				if failed.Add(1) <= 3 {
					fmt.Fprintln(os.Stderr, "subscriber:", err)
				}
				return
			}
			ok.Add(1)
			go listen(ws, receipts)
		})
	}
	wg.Wait()
	ready := int(ok.Load())
	if err := out.Encode(report{Ready: ready, Failed: int(failed.Load()), Seconds: time.Since(start).Seconds()}); err != nil {
		return err
	}

	got := map[int][]time.Duration{}
	for r := range receipts {
		got[r.seq] = append(got[r.seq], r.latency)
		if len(got[r.seq]) < ready {
			continue
		}
		l := got[r.seq]
		delete(got, r.seq)
		slices.Sort(l)
		if err := out.Encode(report{Seq: r.seq, Received: len(l), ReachedAll: int64(l[len(l)-1]),
			P50: int64(l[(len(l)-1)*50/100]), P99: int64(l[(len(l)-1)*99/100]), CPU: int64(cpuTime())}); err != nil {
			return err
		}
	}
	return nil
}

// subscribe opens one authenticated subscriber from source address from.
func subscribe(url, token string, from net.IP) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: from}}
	hc := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	auth, _ := json.Marshal(map[string]any{"type": "auth", "data": map[string]string{"token": token}})
	if err := ws.Write(ctx, websocket.MessageText, auth); err != nil {
		return nil, err
	}
	for _, want := range []string{"auth_success", "hello"} {
		_, b, err := ws.Read(ctx)
		if err != nil {
			return nil, err
		}
		var m struct{ Type string }
		if err := json.Unmarshal(b, &m); err != nil || m.Type != want {
			return nil, fmt.Errorf("got %s, want %s", b, want)
		}
	}
	return ws, nil
}

// listen reports the latency of every bench notification ws receives.
func listen(ws *websocket.Conn, receipts chan<- receipt) {
	for {
		_, b, err := ws.Read(context.Background())
		if err != nil {
			return
		}
		at := time.Now()
		var m struct {
			Type string
			Data struct {
				Data struct {
					Seq    int   `json:"seq"`
					SentAt int64 `json:"sentAt"`
				} `json:"data"`
			}
		}
		if json.Unmarshal(b, &m) == nil && m.Type == "webhook" {
			receipts <- receipt{seq: m.Data.Data.Seq, latency: at.Sub(time.Unix(0, m.Data.Data.SentAt))}
		}
	}
}
