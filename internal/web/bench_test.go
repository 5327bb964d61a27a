package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/identity"
	"netkeep/internal/mesh"
	"netkeep/internal/psk"
	"netkeep/internal/server/servertest"
)

// pageTimes measures the server time of GET path (the handler the server
// runs, without the network) for a signed-in session, and reports its
// 50th and 95th percentiles.
func pageTimes(b *testing.B, e *servertest.Env, cookie, path, mustHave string) {
	b.Helper()
	h := e.Server.Handler()
	var times []time.Duration
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.AddCookie(&http.Cookie{Name: api.SessionCookie, Value: cookie})
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, req)
		times = append(times, time.Since(start))
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), mustHave) {
			b.Fatalf("%s: %d, missing %q", path, rec.Code, mustHave)
		}
	}
	slices.Sort(times)
	pct := func(p int) float64 { return float64(times[(len(times)-1)*p/100].Microseconds()) / 1000 }
	b.ReportMetric(pct(50), "p50-ms")
	b.ReportMetric(pct(95), "p95-ms")
}

// BenchmarkPSKListPage: the front desk's list of 100,000 PSKs, paged:
// the first page, a search, a filter and the last page.
func BenchmarkPSKListPage(b *testing.B) {
	e := servertest.Start(b, "sqlite")
	e.CreateUser(b, "admin", "password1", identity.GroupAdmin, "A")
	var csv strings.Builder
	csv.WriteString("psk_id,description\n")
	for i := range 100_000 {
		fmt.Fprintf(&csv, "guest-%06d,Guest %d\n", i, i)
	}
	res, err := e.Server.PSKs.Import(context.Background(), principalOf(b, e, "admin"), servertest.Src, 0, strings.NewReader(csv.String()))
	if err != nil || res.PSKs != 100_000 {
		b.Fatalf("import: %v %v", res, err)
	}
	idOf := func(name string) string {
		page, err := e.Server.PSKs.List(context.Background(), principalOf(b, e, "admin"), psk.Filter{Prefix: name})
		if err != nil || page.Total != 1 {
			b.Fatalf("%s: %v %v", name, page, err)
		}
		return strconv.FormatInt(page.PSKs[0].ID, 10)
	}
	for _, c := range []struct{ name, path, has string }{
		{"first", "/ui/psks", "100000 PSKs"},
		{"search", "/ui/psks?search=guest-05432", "guest-054321"},
		{"search-name", "/ui/psks?search=guest%2054321", "guest-054321"},
		{"search-anywhere", "/ui/psks?search=54321&match=anywhere", "guest-054321"},
		{"active", "/ui/psks?state=enabled", "guest-000049"},
		{"active-middle", "/ui/psks?state=enabled&after=" + idOf("guest-049999"), "guest-050000"},
		{"last", "/ui/psks?after=" + idOf("guest-099949"), "guest-099999"},
	} {
		b.Run(c.name, func(b *testing.B) { pageTimes(b, e, session(b, e, "A"), c.path, c.has) })
	}
}

var sessions int // users made by session

// session is a browser session of a new GROUP_ADMIN of group: each
// benchmark its own, as each user has its own request budget
// (api.SessionLimits).
func session(b *testing.B, e *servertest.Env, group string) string {
	b.Helper()
	sessions++
	name := "admin-" + strconv.Itoa(sessions)
	e.CreateUser(b, name, "password1", identity.GroupAdmin, group)
	return e.WebSession(b, name, "password1")
}

// BenchmarkMeshPage: a mesh network of 10,000 nodes, paged: the first page
// and the last.
func BenchmarkMeshPage(b *testing.B) {
	e := servertest.Start(b, "sqlite")
	e.CreateUser(b, "admin", "password1", identity.GroupAdmin, "A")
	admin := principalOf(b, e, "admin")
	ctx := context.Background()
	rng := "10.99.0.0/16"
	if _, err := e.Server.Mesh.CreateNetwork(ctx, admin, servertest.Src, mesh.NetworkFields{NetID: "big", AddressRange: &rng}); err != nil {
		b.Fatal(err)
	}
	k, err := e.Server.Mesh.CreateKey(ctx, admin, servertest.Src, "big", mesh.KeyFields{Uses: 10_000})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 10_000 {
		join(b, e, "big", k.Value, fmt.Sprintf("02:00:00:00:%02x:%02x", i>>8, i&0xff))
	}
	for _, c := range []struct{ name, path, has string }{
		{"first", "/ui/mesh/big", "Nodes (10000"},
		{"last", "/ui/mesh/big?offset=9900", "02:00:00:00:27:0f"},
	} {
		b.Run(c.name, func(b *testing.B) { pageTimes(b, e, session(b, e, "A"), c.path, c.has) })
	}
}
