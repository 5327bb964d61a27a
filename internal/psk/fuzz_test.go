package psk_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"netkeep/internal/config"
	"netkeep/internal/fault"
	"netkeep/internal/psk"
	"netkeep/internal/store/storetest"
)

// FuzzImport feeds arbitrary uploads to Import on SQLite, each into a group
// of its own. Whatever the input: no panic, no internal error (every
// refusal is the client's: invalid, conflict), and all or nothing — a
// failed import stores nothing, a successful one exactly what it reports,
// and no staged row is left either way. The committed corpus is in
// testdata/fuzz/FuzzImport; CI runs it for a bounded time:
//
//	go test -run '^$' -fuzz '^FuzzImport$' -fuzztime 60s ./internal/psk/
func FuzzImport(f *testing.F) {
	for _, s := range []string{
		"psk_id,psk_value,vlan_id,expires,description,mac_address\nguest-1,passphrase1,100,2099-01-01,Guest,aa:bb:cc:dd:ee:01\n",
		"\xef\xbb\xbfpsk_id\r\na\r\nb\r\n",
		"PSK_ID, Psk_Value ,unknown\n\"quoted,name\",\"pass \"\"word\"\"\",x\n",
		"psk_id,mac_address\nm,aa-bb-cc-dd-ee-02;AABB.CCDD.EE03 aa:bb:cc:dd:ee:04\n",
		"psk_id,vlan_id\nv,4095\n",
		"psk_id,psk_id\nx\n",
		"psk_id\ndup\ndup\n",
		"description\n\u202eevil\n",
		"psk_value\nshort\n",
		"psk_id,expires\ne,yesterday\n",
		"psk_id\n\"unterminated\n",
		"",
		"psk_id,mac_address\na,aa:bb:cc:dd:ee:05\nb,aa:bb:cc:dd:ee:05\n",
		func() string {
			var b strings.Builder
			b.WriteString("psk_id,mac_address\n")
			for i := range 1100 {
				fmt.Fprintf(&b, "s%d,02:00:00:00:%02x:%02x\n", i, i>>8, i&0xff)
			}
			return b.String()
		}(),
	} {
		f.Add(s)
	}
	db := storetest.Open(f, config.SQLite)
	e := newEnv(f, db)
	var groups atomic.Int64
	f.Fuzz(func(t *testing.T, upload string) {
		ctx := context.Background()
		g := mustGroup(t, db, fmt.Sprintf("fuzz-%d", groups.Add(1)))
		admin := *e.admin
		admin.GroupID = g
		res, err := e.svc.Import(ctx, &admin, src, 0, strings.NewReader(upload))
		p, ep, staged := e.counts(t, g)
		if staged != 0 {
			t.Fatalf("%d staged rows left", staged)
		}
		if err != nil {
			if c := fault.CodeOf(err); c != fault.Invalid && c != fault.Conflict {
				t.Fatalf("import failed with %s: %v", c, err)
			}
			if p != 0 || ep != 0 {
				t.Fatalf("failed import (%v) stored %d PSKs, %d endpoints", err, p, ep)
			}
			return
		}
		if res.PSKs != p || res.Endpoints != ep || p == 0 {
			t.Fatalf("import reports %+v, stored %d PSKs, %d endpoints", res, p, ep)
		}
		if _, err := e.svc.List(ctx, &admin, psk.Filter{Limit: 10}); err != nil {
			t.Fatal(err)
		}
	})
}
