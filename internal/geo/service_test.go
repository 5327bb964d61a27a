package geo_test

import (
	"context"
	"encoding/json"
	"net/netip"
	"testing"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/geo"
	"netkeep/internal/geo/geotest"
	"netkeep/internal/identity"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// The test database: documentation networks standing for three countries.
var countries = map[string]string{
	"198.51.100.0/24": "DE",
	"203.0.113.0/24":  "RU",
	"2001:db8::/32":   "FR",
}

func openMMDB(t *testing.T) *geo.MMDB {
	t.Helper()
	m, err := geo.OpenMMDB(geotest.WriteMMDB(t, countries))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func TestMMDBCountry(t *testing.T) {
	m := openMMDB(t)
	for _, c := range []struct{ addr, want string }{
		{"198.51.100.7", "DE"},
		{"203.0.113.200", "RU"},
		{"2001:db8::1", "FR"},
		{"192.0.2.1", ""}, // not in the database
		{"10.0.0.1", ""},
	} {
		got, err := m.Country(netip.MustParseAddr(c.addr))
		if err != nil || got != c.want {
			t.Errorf("Country(%s) = %q, %v; want %q", c.addr, got, err, c.want)
		}
	}
}

func TestOpenMMDBRefusesAnotherFile(t *testing.T) {
	if _, err := geo.OpenMMDB("policy.go"); err == nil {
		t.Fatal("a Go file opened as a GeoIP database")
	}
}

var super = &authz.Principal{Kind: authz.KindMaster}

func newGroup(t *testing.T, db *store.DB, name string) int64 {
	t.Helper()
	g := &identity.Group{Name: name}
	if err := db.InTx(context.Background(), func(tx *store.Tx) error { return tx.CreateGroup(context.Background(), g) }); err != nil {
		t.Fatal(err)
	}
	return g.ID
}

func denials(t *testing.T, db *store.DB) []map[string]any {
	t.Helper()
	es, err := db.Read().ListAudit(context.Background(), audit.Query{Action: "geo-fence.deny", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]map[string]any, len(es))
	for i, e := range es {
		if err := json.Unmarshal([]byte(e.Details), &out[i]); err != nil {
			t.Fatal(err)
		}
		out[i]["_ip"], out[i]["_group"] = e.IP, e.GroupID
	}
	return out
}

func TestAdmit(t *testing.T) {
	ptr := func(m geo.Mode) *geo.Mode { return &m }
	on := true
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := geo.NewService(store.For[geo.Tx](db), openMMDB(t))
		a, b := newGroup(t, db, "a"), newGroup(t, db, "b")

		// Off until set: everyone is admitted, nothing is audited.
		if err := svc.Admit(ctx, geo.Subject{GroupID: a, UserID: 1, Where: geo.AtLogin}, "203.0.113.9"); err != nil {
			t.Fatalf("admit with no policy: %v", err)
		}
		// Server-wide: deny RU, unknown allowed. Group b: only DE, unknown denied.
		if _, err := svc.UpdateGlobal(ctx, super, audit.Source{}, geo.Input{Enabled: &on, Mode: ptr(geo.Deny), Countries: []string{"ru"}, Unknown: ptr(geo.Allow)}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.PutGroup(ctx, super, audit.Source{}, b, geo.Input{Mode: ptr(geo.Allow), Countries: []string{"DE"}, Unknown: ptr(geo.Deny)}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name    string
			group   int64
			addr    string
			country string // "" when admitted
		}{
			{"global deny-list refuses its country", a, "203.0.113.9", "RU"},
			{"global deny-list admits another", a, "198.51.100.1", ""},
			{"global admits unknown", a, "192.0.2.1", ""},
			{"IPv6 located", a, "2001:db8::5", ""},
			{"no address is not checked", a, "", ""},
			{"group allow-list admits its country", b, "198.51.100.1", ""},
			{"group allow-list refuses another", b, "2001:db8::5", "FR"},
			{"group refuses unknown by its rule", b, "192.0.2.1", "unknown"},
			{"IPv4-mapped IPv6 is the IPv4 address", b, "::ffff:203.0.113.9", "RU"},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := len(denials(t, db))
				err := svc.Admit(ctx, geo.Subject{GroupID: c.group, UserID: 7, Username: "alice", Where: geo.AtGateway, Gateway: "gw-1"}, c.addr)
				if c.country == "" {
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
					if n := len(denials(t, db)); n != before {
						t.Fatalf("an admission was audited as a denial")
					}
					return
				}
				fe := fault.As(err)
				if fe == nil || fe.Code != fault.Forbidden || fe.Reason != geo.ReasonBlocked || fe.Details["country"] != c.country {
					t.Fatalf("err = %#v, want forbidden geo_blocked %s", err, c.country)
				}
				ds := denials(t, db)
				if len(ds) != before+1 {
					t.Fatalf("%d denials audited, want %d", len(ds), before+1)
				}
				d := ds[0]
				if d["country"] != c.country || d["_ip"] != c.addr || d["where"] != geo.AtGateway || d["gateway_id"] != "gw-1" || d["_group"] != c.group {
					t.Fatalf("audited %v", d)
				}
			})
		}

		// Deleting b's own policy brings the server-wide one back.
		if err := svc.DeleteGroup(ctx, super, audit.Source{}, b); err != nil {
			t.Fatal(err)
		}
		if err := svc.Admit(ctx, geo.Subject{GroupID: b, Where: geo.AtLogin}, "2001:db8::5"); err != nil {
			t.Fatalf("after deleting the group policy: %v", err)
		}
		if err := svc.DeleteGroup(ctx, super, audit.Source{}, b); !fault.Is(err, fault.NotFound) {
			t.Fatalf("deleting twice: %v", err)
		}
	})
}

func TestSettingsAccess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := geo.NewService(store.For[geo.Tx](db), nil)
		a, b := newGroup(t, db, "a"), newGroup(t, db, "b")
		off := false
		for _, g := range []int64{a, b} {
			if _, err := svc.PutGroup(ctx, super, audit.Source{}, g, geo.Input{Enabled: &off}); err != nil {
				t.Fatal(err)
			}
		}
		adminA := &authz.Principal{Kind: authz.KindUser, UserID: 1, GroupID: a, Role: authz.GroupAdmin}
		userA := &authz.Principal{Kind: authz.KindUser, UserID: 2, GroupID: a, Role: authz.User}

		s, err := svc.Settings(ctx, adminA)
		if err != nil || len(s.Groups) != 1 || s.Groups[0].GroupID != a || s.Database {
			t.Fatalf("group admin's settings = %+v, %v; want its own group only", s, err)
		}
		if _, err := svc.GroupPolicy(ctx, adminA, b); !fault.Is(err, fault.NotFound) {
			t.Fatalf("another group's policy: %v, want not_found", err)
		}
		for _, c := range []struct {
			name string
			err  error
			code fault.Code
		}{
			{"user reads nothing", func() error { _, err := svc.Settings(ctx, userA); return err }(), fault.Forbidden},
			{"group admin may not change the server-wide policy", func() error {
				_, err := svc.UpdateGlobal(ctx, adminA, audit.Source{}, geo.Input{Enabled: &off})
				return err
			}(), fault.Forbidden},
			{"group admin may not loosen its own group's", func() error {
				_, err := svc.PutGroup(ctx, adminA, audit.Source{}, a, geo.Input{Enabled: &off})
				return err
			}(), fault.Forbidden},
			{"another group's policy is not found", svc.DeleteGroup(ctx, adminA, audit.Source{}, b), fault.NotFound},
			{"a group that does not exist", func() error {
				_, err := svc.PutGroup(ctx, super, audit.Source{}, 99999, geo.Input{})
				return err
			}(), fault.NotFound},
		} {
			t.Run(c.name, func(t *testing.T) {
				if !fault.Is(c.err, c.code) {
					t.Fatalf("err = %v, want %s", c.err, c.code)
				}
			})
		}
		// Nothing was changed by the refused calls.
		gp, err := svc.GroupPolicy(ctx, super, b)
		if err != nil || gp.Enabled {
			t.Fatalf("group b's policy = %+v, %v", gp, err)
		}
	})
}
