package pskbench

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"netkeep/internal/identity"
)

// importCSV is n rows named prefix-NNNNNN with a passphrase, VLAN 100 and
// one MAC each.
func importCSV(prefix string, n int) []byte {
	var b bytes.Buffer
	b.WriteString("psk_id,psk_value,vlan_id,mac_address\n")
	for i := range n {
		fmt.Fprintf(&b, "%s-%06d,passphrase-%06d,100,02:%02x:%02x:%02x:%02x:01\n", prefix, i, i, len(prefix), i>>16&0xff, i>>8&0xff, i&0xff)
	}
	return b.Bytes()
}

// BenchmarkImportContention imports 100,000 PSKs with one endpoint each
// (POST /api/v1/psks/import, text/csv over loopback) while a GROUP_ADMIN
// of another group creates PSKs one after another (POST /api/v1/psks). One
// op is one import. It reports the import's duration and how long the
// other group's creates took meanwhile: the median, the 99th percentile
// and the longest, which is the longest the import kept the writer.
func BenchmarkImportContention(b *testing.B) {
	const n = 100_000
	for _, kind := range kinds() {
		b.Run(string(kind), func(b *testing.B) {
			e, auth, _ := admin(b, kind)
			e.CreateUser(b, "other", "bench-password", identity.GroupAdmin, "other")
			access, _ := e.Login(b, "other", "bench-password")
			other := "Bearer " + access
			var waits []time.Duration
			var importTime time.Duration
			round := 0
			for b.Loop() {
				b.StopTimer()
				round++
				body := importCSV(fmt.Sprintf("i%d", round), n)
				var done atomic.Bool
				result := make(chan error, 1)
				b.StartTimer()
				start := time.Now()
				go func() {
					defer done.Store(true)
					req, _ := http.NewRequest("POST", e.URL+"/api/v1/psks/import", bytes.NewReader(body))
					req.Header.Set("Authorization", auth)
					req.Header.Set("Content-Type", "text/csv")
					res, err := e.Client.Do(req)
					if err != nil {
						result <- err
						return
					}
					out, _ := io.ReadAll(res.Body)
					res.Body.Close()
					if res.StatusCode != http.StatusCreated {
						err = fmt.Errorf("import: %d %.300s", res.StatusCode, out)
					}
					importTime += time.Since(start)
					result <- err
				}()
				for k := 0; !done.Load(); k++ {
					t0 := time.Now()
					call(b, e, "POST", "/api/v1/psks", other, fmt.Appendf(nil, `{"psk_id":"other-%d-%d"}`, round, k))
					waits = append(waits, time.Since(t0))
				}
				if err := <-result; err != nil {
					b.Fatal(err)
				}
			}
			slices.Sort(waits)
			at := func(q float64) float64 {
				return float64(waits[int(q*float64(len(waits)-1))]) / float64(time.Millisecond)
			}
			b.ReportMetric(importTime.Seconds()/float64(b.N), "s/import")
			b.ReportMetric(float64(len(waits))/float64(b.N), "creates/import")
			b.ReportMetric(at(0.5), "p50-ms")
			b.ReportMetric(at(0.99), "p99-ms")
			b.ReportMetric(at(1), "max-ms")
		})
	}
}
