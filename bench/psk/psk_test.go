package pskbench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/config"
	"netkeep/internal/event"
	"netkeep/internal/identity"
	"netkeep/internal/psk"
	"netkeep/internal/secret"
	"netkeep/internal/server/servertest"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// kinds are the databases benchmarked: SQLite always, PostgreSQL when
// NETKEEP_TEST_POSTGRES_URL is set.
func kinds() []config.DatabaseKind { return storetest.Kinds() }

// admin starts a server and returns it with a GROUP_ADMIN's bearer header
// value and group.
func admin(b *testing.B, kind config.DatabaseKind) (*servertest.Env, string, int64) {
	b.Helper()
	e := servertest.Start(b, kind)
	u := e.CreateUser(b, "bench", "bench-password", identity.GroupAdmin, "bench")
	access, _ := e.Login(b, "bench", "bench-password")
	return e, "Bearer " + access, u.GroupID
}

func call(b *testing.B, e *servertest.Env, method, path, auth string, body []byte) []byte {
	req, err := http.NewRequest(method, e.URL+path, bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Type", "application/json")
	res, err := e.Client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		b.Fatalf("%s %s: %d %.300s", method, path, res.StatusCode, out)
	}
	return out
}

// BenchmarkBulkCreate creates 100,000 PSKs through POST /api/v1/psks/bulk,
// 100 requests of 1,000 (psk_id given, passphrase generated, VLAN and
// expiry set), one after another. One op is the 100,000.
func BenchmarkBulkCreate(b *testing.B) {
	for _, kind := range kinds() {
		b.Run(string(kind), func(b *testing.B) {
			e, auth, _ := admin(b, kind)
			bodies := make([][]byte, 0, 100)
			round := 0
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				round++
				bodies = bodies[:0]
				for r := range 100 {
					items := make([]map[string]any, 1000)
					for i := range items {
						items[i] = map[string]any{"psk_id": fmt.Sprintf("r%d-%03d-%03d", round, r, i), "vlan_id": 100, "expires_in_hours": 24,
							"description": "Conference guest"}
					}
					body, _ := json.Marshal(map[string]any{"psks": items})
					bodies = append(bodies, body)
				}
				b.StartTimer()
				for _, body := range bodies {
					call(b, e, "POST", "/api/v1/psks/bulk", auth, body)
				}
			}
			b.ReportMetric(float64(100_000*b.N)/b.Elapsed().Seconds(), "psks/s")
		})
	}
}

// BenchmarkBulkCreateDomain is BenchmarkBulkCreate without HTTP and without
// subscribers: psk.Service.CreateBulk, 100 calls of 1,000, over the store
// and an in-process bus nobody listens to. The difference to
// BenchmarkBulkCreate is the transport and what the server's subscribers
// (the RADIUS index) do with the events.
func BenchmarkBulkCreateDomain(b *testing.B) {
	for _, kind := range kinds() {
		b.Run(string(kind), func(b *testing.B) {
			ctx := context.Background()
			db := storetest.Open(b, kind)
			g := &identity.Group{Name: "bench"}
			if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateGroup(ctx, g) }); err != nil {
				b.Fatal(err)
			}
			keys, err := secret.Derive(bytes.Repeat([]byte{1}, 32))
			if err != nil {
				b.Fatal(err)
			}
			bus := event.NewLocal()
			defer bus.Close()
			svc := psk.NewService(store.For[psk.Tx](db), keys, bus)
			p := &authz.Principal{Kind: authz.KindUser, UserID: 1, Role: authz.GroupAdmin, GroupID: g.ID}
			vlan, hours := 100, 24
			round := 0
			for b.Loop() {
				round++
				for r := range 100 {
					items := make([]psk.NewPSK, 1000)
					for i := range items {
						items[i] = psk.NewPSK{PSKID: fmt.Sprintf("r%d-%03d-%03d", round, r, i), VLANID: &vlan, ExpiresInHours: &hours,
							Description: "Conference guest"}
					}
					if _, err := svc.CreateBulk(ctx, p, audit.Source{Actor: "bench"}, 0, items); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(100_000*b.N)/b.Elapsed().Seconds(), "psks/s")
		})
	}
}

// seed inserts n PSKs into group with the store's multi-row INSERT, in
// transactions of 10,000, bypassing the API (no audit, no events). The
// sealed passphrases are placeholders: listings never open them.
func seed(b *testing.B, db *store.DB, group int64, n int) {
	b.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	expires := now.Add(30 * 24 * time.Hour)
	sealed := bytes.Repeat([]byte{0xa5}, 12+12+16)
	vlan := 100
	const tx = 10_000
	rows := make([]*psk.Row, tx)
	for start := 0; start < n; start += tx {
		for i := range rows {
			k := start + i
			rows[i] = &psk.Row{PSK: psk.PSK{GroupID: group, PSKID: fmt.Sprintf("seed-%07d", k), Description: "Seeded guest",
				VLANID: &vlan, Enabled: k%10 != 0, Expires: &expires, CreatedAt: now, UpdatedAt: now},
				Sealed: sealed, SealID: fmt.Sprintf("%024x", k)}
		}
		err := db.InTx(ctx, func(t *store.Tx) error { return t.InsertPSKs(ctx, rows[:min(tx, n-start)]) })
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkList measures GET /api/v1/psks with 1,000,000 PSKs in the
// caller's group (and 1,000 in another), one request per op over loopback
// HTTP with keep-alive.
func BenchmarkList(b *testing.B) {
	const n = 1_000_000
	for _, kind := range kinds() {
		b.Run(string(kind), func(b *testing.B) {
			e, auth, group := admin(b, kind)
			other := e.CreateUser(b, "other", "bench-password", identity.GroupAdmin, "other")
			start := time.Now()
			seed(b, e.DB, group, n)
			seed(b, e.DB, other.GroupID, 1000)
			if kind == config.Postgres {
				if _, err := e.DB.SQL().Exec(`ANALYZE psks`); err != nil {
					b.Fatal(err)
				}
			}
			b.Logf("%s: seeded %d PSKs in %v", kind, n+1000, time.Since(start))
			// What the total would cost without the per-group counter.
			b.Run("count(*)", func(b *testing.B) {
				for b.Loop() {
					var got int
					if err := e.DB.SQL().QueryRow(`SELECT count(*) FROM psks WHERE group_id = $1`, group).Scan(&got); err != nil || got != n {
						b.Fatalf("count = %d (want %d), %v", got, n, err)
					}
				}
			})
			for _, c := range []struct{ name, query string }{
				{"limit=100", "?limit=100"},
				{"limit=1000", "?limit=1000"},
				{"offset=500000", "?limit=100&offset=500000"},
				{"enabled=true", "?limit=100&enabled=true"},
				{"search", "?limit=100&search=seed-09999"},
			} {
				b.Run(c.name, func(b *testing.B) {
					var out struct {
						PSKs  []json.RawMessage `json:"psks"`
						Total int               `json:"total"`
					}
					for b.Loop() {
						raw := call(b, e, "GET", "/api/v1/psks"+c.query, auth, nil)
						b.StopTimer()
						if err := json.Unmarshal(raw, &out); err != nil || out.Total == 0 {
							b.Fatalf("list: %v %.200s", err, raw)
						}
						b.StartTimer()
					}
				})
			}
		})
	}
}
