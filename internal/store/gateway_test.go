package store_test

import (
	"context"
	"crypto/sha256"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"netkeep/internal/fault"
	"netkeep/internal/gateway"
	"netkeep/internal/identity"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

var _ gateway.Tx = (*store.Tx)(nil)

func vpnGateway(tb testing.TB, db *store.DB, groupID int64, id, name string) (*gateway.Gateway, [32]byte) {
	tb.Helper()
	g := &gateway.Gateway{ID: id, GroupID: groupID, Name: name, Hostname: name + ".example.com", Port: 1194,
		Protocol: gateway.ProtocolUDP, VPNType: gateway.VPNOpenVPN, VPNSubnet: gateway.DefaultVPNSubnet,
		ConfigVersion: 1, CreatedAt: t0, UpdatedAt: t0}
	hash := sha256.Sum256([]byte("token-" + id))
	if err := db.InTx(context.Background(), func(tx *store.Tx) error {
		return tx.InsertGateway(context.Background(), g, hash, []byte("sealed-"+id))
	}); err != nil {
		tb.Fatal(err)
	}
	return g, hash
}

func storeUser(tb testing.TB, db *store.DB, groupID int64, name string) *identity.User {
	tb.Helper()
	u := &identity.User{Username: name, Role: identity.RoleUser, GroupID: groupID, PasswordHash: "x", IsActive: true}
	if err := db.InTx(context.Background(), func(tx *store.Tx) error { return tx.CreateUser(context.Background(), u) }); err != nil {
		tb.Fatal(err)
	}
	return u
}

func inTx(tb testing.TB, db *store.DB, fn func(ctx context.Context, tx *store.Tx) error) {
	tb.Helper()
	ctx := context.Background()
	if err := db.InTx(ctx, func(tx *store.Tx) error { return fn(ctx, tx) }); err != nil {
		tb.Fatal(err)
	}
}

func TestGateways(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		g1, g2 := mustGroup(t, db, "g1"), mustGroup(t, db, "g2")
		a, hashA := vpnGateway(t, db, g1.ID, "gw-a", "alpha")
		vpnGateway(t, db, g2.ID, "gw-b", "alpha") // the same name in another group is fine

		dup := *a
		dup.ID = "gw-c"
		err := db.InTx(ctx, func(tx *store.Tx) error { return tx.InsertGateway(ctx, &dup, sha256.Sum256([]byte("x")), []byte("s")) })
		wantField(t, err, "name")

		got, err := db.Read().GatewayByTokenHash(ctx, hashA)
		if err != nil || got.ID != "gw-a" || got.VPNSubnet != gateway.DefaultVPNSubnet || !got.CreatedAt.Equal(t0) ||
			got.LastHeartbeat != nil || got.CertNotAfter != nil {
			t.Fatalf("GatewayByTokenHash = %+v, %v", got, err)
		}
		if _, err := db.Read().GatewayByTokenHash(ctx, sha256.Sum256([]byte("other"))); !fault.Is(err, fault.NotFound) {
			t.Fatalf("unknown token: %v", err)
		}
		if sealed, err := db.Read().GatewayTLSCrypt(ctx, "gw-a"); err != nil || string(sealed) != "sealed-gw-a" {
			t.Fatalf("GatewayTLSCrypt = %q, %v", sealed, err)
		}
		for gid, want := range map[int64]int{0: 2, g1.ID: 1, g2.ID: 1} {
			if l, err := db.Read().ListGateways(ctx, gid); err != nil || len(l) != want {
				t.Fatalf("ListGateways(%d) = %d, %v", gid, len(l), err)
			}
		}

		hb := t0.Add(time.Minute)
		notAfter := t0.Add(365 * 24 * time.Hour)
		inTx(t, db, func(ctx context.Context, tx *store.Tx) error {
			got.Port, got.Protocol, got.ConfigVersion = 443, gateway.ProtocolTCP, 2
			if err := tx.UpdateGateway(ctx, got); err != nil {
				return err
			}
			if err := tx.RecordHeartbeat(ctx, "gw-a", hb, "1.2.3"); err != nil {
				return err
			}
			// An older heartbeat never moves the time back.
			if err := tx.RecordHeartbeat(ctx, "gw-a", t0, "1.2.3"); err != nil {
				return err
			}
			got.CertSerial, got.CertNotAfter, got.CertHostname, got.CAFingerprint = "0A", &notAfter, got.Hostname, "ff"
			if err := tx.RecordProvision(ctx, got); err != nil {
				return err
			}
			if err := tx.SetGatewayPublicKey(ctx, "gw-a", "pub", hb); err != nil {
				return err
			}
			return tx.BumpGatewayVersions(ctx, []string{"gw-a", "gw-a", "gw-missing"}, hb)
		})
		got, err = db.Read().GatewayByID(ctx, "gw-a")
		if err != nil || got.Port != 443 || got.Protocol != gateway.ProtocolTCP || got.ConfigVersion != 3 ||
			got.LastHeartbeat == nil || !got.LastHeartbeat.Equal(hb) || got.AgentVersion != "1.2.3" ||
			got.CertSerial != "0A" || !got.CertNotAfter.Equal(notAfter) || got.CAFingerprint != "ff" || got.PublicKey != "pub" {
			t.Fatalf("after updates: %+v, %v", got, err)
		}

		newHash := sha256.Sum256([]byte("new"))
		inTx(t, db, func(ctx context.Context, tx *store.Tx) error { return tx.SetGatewayToken(ctx, "gw-a", newHash, hb) })
		if _, err := db.Read().GatewayByTokenHash(ctx, hashA); !fault.Is(err, fault.NotFound) {
			t.Fatalf("old token still finds the gateway: %v", err)
		}
		if g, err := db.Read().GatewayByTokenHash(ctx, newHash); err != nil || g.ID != "gw-a" {
			t.Fatalf("new token: %v", err)
		}

		for name, fn := range map[string]func(tx *store.Tx) error{
			"update":    func(tx *store.Tx) error { m := *got; m.ID = "gw-x"; return tx.UpdateGateway(ctx, &m) },
			"token":     func(tx *store.Tx) error { return tx.SetGatewayToken(ctx, "gw-x", newHash, hb) },
			"heartbeat": func(tx *store.Tx) error { return tx.RecordHeartbeat(ctx, "gw-x", hb, "") },
			"delete":    func(tx *store.Tx) error { return tx.DeleteGateway(ctx, "gw-x") },
		} {
			if err := db.InTx(ctx, fn); !fault.Is(err, fault.NotFound) {
				t.Errorf("%s of a missing gateway: %v", name, err)
			}
		}
	})
}

func TestVPNNetworksRulesHubs(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		g1 := mustGroup(t, db, "g1")
		vpnGateway(t, db, g1.ID, "gw-a", "alpha")
		vpnGateway(t, db, g1.ID, "gw-b", "beta")
		u1, u2 := storeUser(t, db, g1.ID, "u1"), storeUser(t, db, g1.ID, "u2")

		n := &gateway.Network{ID: "net-1", GroupID: g1.ID, Name: "office", CIDR: netip.MustParsePrefix("10.1.0.0/16"),
			GatewayIDs: []string{"gw-a", "gw-b"}, CreatedAt: t0, UpdatedAt: t0}
		inTx(t, db, func(ctx context.Context, tx *store.Tx) error { return tx.InsertVPNNetwork(ctx, n) })
		dup := *n
		dup.ID = "net-2"
		dup.GatewayIDs = nil
		wantField(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.InsertVPNNetwork(ctx, &dup) }), "name")
		got, err := db.Read().VPNNetworkByID(ctx, "net-1")
		if err != nil || got.CIDR != n.CIDR || !reflect.DeepEqual(got.GatewayIDs, []string{"gw-a", "gw-b"}) {
			t.Fatalf("VPNNetworkByID = %+v, %v", got, err)
		}

		r := &gateway.Rule{ID: "rule-1", GroupID: g1.ID, Name: "web", NetworkID: "net-1",
			Destination: netip.MustParsePrefix("10.1.2.0/24"), Protocol: gateway.RuleTCP,
			Ports:   []gateway.PortRange{{From: 80, To: 80}, {From: 8000, To: 8100}},
			UserIDs: []int64{u1.ID, u2.ID}, GroupIDs: []int64{g1.ID}, Enabled: true, CreatedAt: t0, UpdatedAt: t0}
		inTx(t, db, func(ctx context.Context, tx *store.Tx) error { return tx.InsertAccessRule(ctx, r) })
		rules, err := db.Read().ListAccessRules(ctx, g1.ID)
		if err != nil || len(rules) != 1 || !reflect.DeepEqual(rules[0], r) {
			t.Fatalf("ListAccessRules = %+v, %v; want %+v", rules, err, r)
		}
		for _, c := range []struct {
			gw          string
			user, group int64
			want        int
		}{
			{"gw-a", u1.ID, 0, 1}, {"gw-b", 0, g1.ID, 1}, {"gw-a", 999, 999, 0}, {"gw-missing", u1.ID, g1.ID, 0},
		} {
			if l, err := db.Read().UserRules(ctx, c.gw, c.user, c.group); err != nil || len(l) != c.want {
				t.Fatalf("UserRules(%s, %d, %d) = %d rules, %v; want %d", c.gw, c.user, c.group, len(l), err, c.want)
			}
		}
		if c, err := db.Read().CountNetworkRules(ctx, "net-1"); err != nil || c != 1 {
			t.Fatalf("CountNetworkRules = %d, %v", c, err)
		}

		h := &gateway.Hub{ID: "hub-1", GroupID: g1.ID, Name: "core", GatewayID: "gw-a",
			Spokes:    []gateway.Spoke{{Kind: gateway.SpokeGateway, ID: "gw-b"}, {Kind: gateway.SpokeNetwork, ID: "net-1"}},
			CreatedAt: t0, UpdatedAt: t0}
		inTx(t, db, func(ctx context.Context, tx *store.Tx) error { return tx.InsertMeshHub(ctx, h) })
		if gh, err := db.Read().MeshHubByID(ctx, "hub-1"); err != nil || !reflect.DeepEqual(gh, h) {
			t.Fatalf("MeshHubByID = %+v, %v", gh, err)
		}
		if c, err := db.Read().CountHubsOf(ctx, "gw-a"); err != nil || c != 1 {
			t.Fatalf("CountHubsOf = %d, %v", c, err)
		}

		// Deleting a user drops it from every rule.
		inTx(t, db, func(ctx context.Context, tx *store.Tx) error { return tx.DeleteUser(ctx, u2.ID) })
		if got, err := db.Read().AccessRuleByID(ctx, "rule-1"); err != nil || !reflect.DeepEqual(got.UserIDs, []int64{u1.ID}) {
			t.Fatalf("after user deletion: %+v, %v", got, err)
		}
		// A network with rules cannot be deleted.
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteVPNNetwork(ctx, "net-1") }); err == nil {
			t.Fatal("deleted a network that a rule refers to")
		}
		// Deleting a gateway unlinks it from networks and hubs.
		inTx(t, db, func(ctx context.Context, tx *store.Tx) error { return tx.DeleteGateway(ctx, "gw-b") })
		if got, _ := db.Read().VPNNetworkByID(ctx, "net-1"); !reflect.DeepEqual(got.GatewayIDs, []string{"gw-a"}) {
			t.Fatalf("links after gateway deletion: %v", got.GatewayIDs)
		}
		if hubs, _ := db.Read().ListMeshHubs(ctx, 0); len(hubs) != 1 || !reflect.DeepEqual(hubs[0].Spokes, []gateway.Spoke{{Kind: gateway.SpokeNetwork, ID: "net-1"}}) {
			t.Fatalf("spokes after gateway deletion: %+v", hubs[0].Spokes)
		}
		inTx(t, db, func(ctx context.Context, tx *store.Tx) error {
			r.UserIDs, r.GroupIDs, r.Ports, r.Enabled = []int64{u1.ID}, []int64{}, nil, false
			if err := tx.UpdateAccessRule(ctx, r); err != nil {
				return err
			}
			if err := tx.DeleteAccessRule(ctx, "rule-1"); err != nil {
				return err
			}
			return tx.DeleteVPNNetwork(ctx, "net-1")
		})
		if gh, err := db.Read().MeshHubByID(ctx, "hub-1"); err != nil || len(gh.Spokes) != 0 {
			t.Fatalf("spokes after network deletion: %+v, %v", gh, err)
		}
		if _, err := db.Read().AccessRuleByID(ctx, "rule-1"); !fault.Is(err, fault.NotFound) {
			t.Fatalf("deleted rule: %v", err)
		}
	})
}

func TestVPNSessions(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		g1, g2 := mustGroup(t, db, "g1"), mustGroup(t, db, "g2")
		vpnGateway(t, db, g1.ID, "gw-a", "alpha")
		vpnGateway(t, db, g2.ID, "gw-b", "beta")
		open := func(id, gw string, gid int64, serial string, at time.Time) *gateway.Session {
			s := &gateway.Session{ID: id, GatewayID: gw, GroupID: gid, UserID: 7, Username: "u", CommonName: "u",
				Serial: serial, ClientIP: "192.0.2.1", VPNAddress: "10.8.0.2", ConnectedAt: at}
			inTx(t, db, func(ctx context.Context, tx *store.Tx) error { return tx.InsertVPNSession(ctx, s) })
			return s
		}
		s1 := open("sess-1", "gw-a", g1.ID, "0A", t0)
		open("sess-2", "gw-a", g1.ID, "0B", t0.Add(time.Second))
		open("sess-3", "gw-b", g2.ID, "0A", t0.Add(2*time.Second))
		err := db.InTx(ctx, func(tx *store.Tx) error {
			return tx.InsertVPNSession(ctx, &gateway.Session{ID: "sess-4", GatewayID: "gw-a", GroupID: g1.ID, Serial: "0A", ConnectedAt: t0})
		})
		if !fault.Is(err, fault.Conflict) {
			t.Fatalf("second open session of one certificate: %v", err)
		}

		got, err := db.Read().ActiveVPNSession(ctx, "gw-a", "0A")
		if err != nil || got.ID != "sess-1" || !got.Active() || !got.ConnectedAt.Equal(t0) {
			t.Fatalf("ActiveVPNSession = %+v, %v", got, err)
		}
		end := t0.Add(time.Hour)
		s1.DisconnectedAt, s1.BytesIn, s1.BytesOut = &end, 100, 200
		inTx(t, db, func(ctx context.Context, tx *store.Tx) error { return tx.EndVPNSession(ctx, s1) })
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.EndVPNSession(ctx, s1) }); !fault.Is(err, fault.NotFound) {
			t.Fatalf("ending a closed session: %v", err)
		}
		if _, err := db.Read().ActiveVPNSession(ctx, "gw-a", "0A"); !fault.Is(err, fault.NotFound) {
			t.Fatalf("closed session still active: %v", err)
		}

		for _, c := range []struct {
			name  string
			q     gateway.SessionQuery
			total int
			ids   []string
		}{
			{"all", gateway.SessionQuery{}, 3, []string{"sess-3", "sess-2", "sess-1"}},
			{"group", gateway.SessionQuery{GroupID: g1.ID}, 2, []string{"sess-2", "sess-1"}},
			{"gateway", gateway.SessionQuery{GatewayID: "gw-b"}, 1, []string{"sess-3"}},
			{"active", gateway.SessionQuery{GroupID: g1.ID, ActiveOnly: true}, 1, []string{"sess-2"}},
			{"page", gateway.SessionQuery{Limit: 1, Offset: 1}, 3, []string{"sess-2"}},
		} {
			l, total, err := db.Read().ListVPNSessions(ctx, c.q)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			var ids []string
			for _, s := range l {
				ids = append(ids, s.ID)
			}
			if total != c.total || !reflect.DeepEqual(ids, c.ids) {
				t.Errorf("%s: total %d, ids %v; want %d, %v", c.name, total, ids, c.total, c.ids)
			}
		}
		l, _, _ := db.Read().ListVPNSessions(ctx, gateway.SessionQuery{GatewayID: "gw-a", Limit: 10})
		if last := l[len(l)-1]; last.BytesIn != 100 || last.BytesOut != 200 || last.DisconnectedAt == nil || !last.DisconnectedAt.Equal(end) {
			t.Fatalf("closed session = %+v", last)
		}
		// Sessions go with their gateway.
		inTx(t, db, func(ctx context.Context, tx *store.Tx) error { return tx.DeleteGateway(ctx, "gw-a") })
		if _, total, _ := db.Read().ListVPNSessions(ctx, gateway.SessionQuery{}); total != 1 {
			t.Fatalf("sessions after gateway deletion: %d", total)
		}
	})
}
