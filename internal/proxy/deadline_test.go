package proxy_test

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestStreamsOutliveServerTimeouts: the server's read and write deadlines
// are lifted for an answer that streams (here Server-Sent Events lasting
// several times the server's timeouts), and only then: a plain answer is
// served with the deadlines in place.
func TestStreamsOutliveServerTimeouts(t *testing.T) {
	t.Parallel()
	const serverTimeout = 300 * time.Millisecond
	const events = 12 // at 100 ms each: four times the timeout
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/events" {
			_, _ = io.WriteString(w, "plain")
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := range events {
			if _, err := io.WriteString(w, "data: "+string(rune('a'+i))+"\n\n"); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			<-tick.C
		}
	}))
	defer up.Close()
	base := "http://" + serveAppTimeouts(t, up.URL, nil, serverTimeout) + "/apps/app"

	res, err := http.Get(base + "/plain")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != "plain" {
		t.Fatalf("plain answer: %d %q", res.StatusCode, body)
	}

	res, err = http.Get(base + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got := 0
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "data: ") {
			got++
		}
	}
	if got != events {
		t.Fatalf("%d of %d events arrived before the stream ended (%v)", got, events, sc.Err())
	}
}
