package store_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"netkeep/internal/config"
	"netkeep/internal/gateway"
	"netkeep/internal/pki"
	"netkeep/internal/radius"
	"netkeep/internal/radius/nas"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
	"netkeep/internal/vpnconfig"
)

// historyTables are the tables holding a group's history by group_id.
var historyTables = []string{"radius_sessions", "radius_pmks", "vpn_sessions", "vpn_configs", "pki_certificates"}

// groupHistory writes one row of every kind of history for group into
// parents owned by the surviving group keeper (history rows need not share
// their parent's group: a session names the user's group on another
// group's NAS), and returns the serial of the group's certificate.
func groupHistory(tb testing.TB, db *store.DB, group int64, keeper parents, authority int64, n int) pki.Serial {
	tb.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	tag := fmt.Sprint(group)
	cert := pkiCert(authority, n, 1, "", now.Add(time.Hour))
	cert.GroupID = group
	inTx(tb, db, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.ApplyRadiusSessions(ctx, nas.SessionBatch{Upserts: []nas.Session{
			{GroupID: group, ClientID: keeper.nas.ID, SessionID: "s-" + tag, StartedAt: now, UpdatedAt: now}}}); err != nil {
			return err
		}
		if err := tx.PutRadiusPMKs(ctx, []radius.SealedPMK{{PSKID: keeper.psk, GroupID: group, SSID: "ssid-" + tag, Sealed: []byte("pmk")}}); err != nil {
			return err
		}
		if err := tx.InsertVPNSession(ctx, &gateway.Session{ID: "sess-" + tag, GatewayID: keeper.gateway, GroupID: group, UserID: 1,
			Username: "u", CommonName: "u", Serial: string(cert.Serial), ConnectedAt: now}); err != nil {
			return err
		}
		if err := tx.InsertCertificate(ctx, cert); err != nil {
			return err
		}
		if err := tx.InsertVPNConfig(ctx, &vpnconfig.Config{ID: "cfg-ovpn-" + tag, UserID: 1, GroupID: group, GatewayID: keeper.gateway,
			Protocol: vpnconfig.OpenVPN, Serial: cert.Serial, CommonName: "u", KeySealed: []byte("sealed"), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			return err
		}
		addr := netip.MustParsePrefix(fmt.Sprintf("10.8.0.%d/32", n))
		wg := &vpnconfig.Config{ID: "cfg-wg-" + tag, UserID: 1, GroupID: group, GatewayID: keeper.gateway, Protocol: vpnconfig.WireGuard,
			CommonName: "u", KeySealed: []byte("sealed"), WireGuardKey: "key-" + tag, Address: addr, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := tx.InsertVPNConfig(ctx, wg); err != nil {
			return err
		}
		return tx.InsertWireGuardLease(ctx, keeper.gateway, addr.Addr(), wg.ID, wg.ExpiresAt)
	})
	return cert.Serial
}

// parents are the objects history rows hang from.
type parents struct {
	nas     *nas.Client
	psk     int64
	gateway string
}

// newParents makes a PSK, a gateway and a RADIUS client in group, and the
// CA history certificates are issued by.
func newParents(t *testing.T, db *store.DB, group int64) (p parents, authority int64) {
	t.Helper()
	row := pskRow(group, "lobby")
	insertPSKs(t, db, row)
	gw, _ := vpnGateway(t, db, group, fmt.Sprint("gw-", group), fmt.Sprint("parents-", group))
	p = parents{nas: radiusClient(t, db, group, "192.0.2.20"), psk: row.ID, gateway: gw.ID}
	return p, pkiAuthority(t, db, "history").ID
}

// fullHistory is historyCounts of a group given one groupHistory.
var fullHistory = fmt.Sprint(map[string]int{"radius_sessions": 1, "radius_pmks": 1, "vpn_sessions": 1, "vpn_configs": 2,
	"pki_certificates": 1, "wireguard_leases": 1})

// historyCounts counts group's rows in every history table, and the
// WireGuard leases of its configurations.
func historyCounts(tb testing.TB, db *store.DB, group int64) map[string]int {
	tb.Helper()
	ctx := context.Background()
	out := map[string]int{}
	for _, table := range historyTables {
		var n int
		if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM `+table+` WHERE group_id = $1`, group).Scan(&n); err != nil {
			tb.Fatal(err)
		}
		out[table] = n
	}
	var n int
	if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM wireguard_leases WHERE config_id LIKE $1`, fmt.Sprintf("cfg-wg-%d", group)).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	out["wireguard_leases"] = n
	return out
}

// TestDeleteGroupTakesItsHistory: deleting a group deletes its sessions,
// PMKs and client configs (with their leases) in the same transaction and
// moves its certificates to no group, still on record for the CRL; another
// group's history is untouched, and a group that still owns objects is
// refused with its history intact.
func TestDeleteGroupTakesItsHistory(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		keeper := mustGroup(t, db, "Keeper")
		gone := mustGroup(t, db, "Gone")
		busy := mustGroup(t, db, "Busy")
		p, authority := newParents(t, db, keeper.ID)

		goneSerial := groupHistory(t, db, gone.ID, p, authority, 1)
		groupHistory(t, db, keeper.ID, p, authority, 2)
		groupHistory(t, db, busy.ID, p, authority, 3)
		storeUser(t, db, busy.ID, "still-here")
		inTx(t, db, func(ctx context.Context, tx *store.Tx) error {
			return tx.RevokeCertificate(ctx, goneSerial, time.Now(), pki.KeyCompromise)
		})

		wantConflict(t, deleteGroup(db, busy.ID), "the group still has users;")
		if got := fmt.Sprint(historyCounts(t, db, busy.ID)); got != fullHistory {
			t.Errorf("refused group's history = %v, want %v", got, fullHistory)
		}

		if err := deleteGroup(db, gone.ID); err != nil {
			t.Fatalf("deleting the group: %v", err)
		}
		for table, n := range historyCounts(t, db, gone.ID) {
			if n != 0 {
				t.Errorf("%s: %d rows of the deleted group remain", table, n)
			}
		}
		for _, g := range []int64{keeper.ID, busy.ID} {
			if got := fmt.Sprint(historyCounts(t, db, g)); got != fullHistory {
				t.Errorf("group %d's history = %v after another group's deletion, want %v", g, got, fullHistory)
			}
		}
		cert, err := db.Read().CertificateBySerial(ctx, goneSerial)
		if err != nil {
			t.Fatalf("the deleted group's certificate is gone from the CA's register: %v", err)
		}
		if cert.GroupID != 0 || !cert.Revoked() {
			t.Errorf("certificate group %d, revoked %v; want group 0, still revoked", cert.GroupID, cert.Revoked())
		}
		revoked, err := db.Read().RevokedEntries(ctx, authority, time.Now())
		if err != nil || len(revoked) != 1 || revoked[0].Serial != goneSerial {
			t.Errorf("CRL entries %+v (%v), want the deleted group's revoked certificate", revoked, err)
		}
	})
}

// TestMigrationRemovesOrphanHistory: migration 00013 removes the history
// that deletions before it left behind (rows naming a group that no longer
// exists) and keeps every row of a live group; orphaned certificates stay,
// moved to no group.
func TestMigrationRemovesOrphanHistory(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		dialect, dir := goose.DialectSQLite3, "migrations/sqlite"
		if db.Kind == config.Postgres {
			dialect, dir = goose.DialectPostgres, "migrations/postgres"
		}
		migrations, err := goose.NewProvider(dialect, db.SQL(), os.DirFS(dir))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := migrations.ApplyVersion(ctx, 13, false); err != nil {
			t.Fatalf("migrating 00013 down: %v", err)
		}

		live := mustGroup(t, db, "Live")
		p, authority := newParents(t, db, live.ID)
		const deleted = 987654 // a group id no group has
		orphanSerial := groupHistory(t, db, deleted, p, authority, 1)
		groupHistory(t, db, live.ID, p, authority, 2)

		if _, err := migrations.ApplyVersion(ctx, 13, true); err != nil {
			t.Fatalf("migrating 00013 up: %v", err)
		}
		for table, n := range historyCounts(t, db, deleted) {
			if n != 0 {
				t.Errorf("%s: %d orphan rows remain", table, n)
			}
		}
		if got := fmt.Sprint(historyCounts(t, db, live.ID)); got != fullHistory {
			t.Errorf("live group's history = %v, want %v", got, fullHistory)
		}
		if cert, err := db.Read().CertificateBySerial(ctx, orphanSerial); err != nil || cert.GroupID != 0 {
			t.Errorf("orphan certificate: %+v, %v; want it kept in group 0", cert, err)
		}
	})
}
