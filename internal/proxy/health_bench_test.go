package proxy_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/catalog"
	"netkeep/internal/proxy"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// BenchmarkHealthCheck1000 checks 1,000 routes (spread over 20 upstreams)
// once per iteration, as one health interval does, and reports the CPU
// time a round takes (user + system, of the whole process: the upstreams
// answering are counted too, so it overstates netkeep's share) and what
// that is of one core at the default 30 s interval.
func BenchmarkHealthCheck1000(b *testing.B) {
	ctx := context.Background()
	db := storetest.Open(b, "sqlite")
	g, err := db.Read().GroupByName(ctx, "default")
	if err != nil {
		b.Fatal(err)
	}
	var ups []*httptest.Server
	for range 20 {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
		defer s.Close()
		ups = append(ups, s)
	}
	routes := make([]catalog.RouteInput, 1000)
	for i := range routes {
		id, to := fmt.Sprintf("app-%d", i), ups[i%len(ups)].URL+fmt.Sprintf("/health/%d", i)
		routes[i] = catalog.RouteInput{AppID: &id, To: &to}
	}
	cat := catalog.NewService(store.For[catalog.Tx](db), nil)
	if err := cat.Start(ctx); err != nil {
		b.Fatal(err)
	}
	if err := cat.LoadFile(ctx, audit.Source{}, routes, g.ID); err != nil {
		b.Fatal(err)
	}
	client := proxy.NewClient()
	hc := catalog.HealthCheck{Timeout: 5 * time.Second}
	cat.CheckAll(ctx, client, hc) // warm the pools, as every round after the first finds them
	before := cpu()
	b.ResetTimer()
	for b.Loop() {
		cat.CheckAll(ctx, client, hc)
	}
	b.StopTimer()
	perRound := (cpu() - before) / time.Duration(b.N)
	b.ReportMetric(float64(perRound.Microseconds())/1000, "cpu-ms/round")
	b.ReportMetric(100*perRound.Seconds()/30, "%core@30s")
	if h := cat.HealthOf("app-999"); h.Status != catalog.HealthHealthy {
		b.Fatalf("app-999: %+v", h)
	}
}

func cpu() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
