package psk_test

import (
	"context"
	"strings"
	"testing"

	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/psk"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// TestPreviewImport: every row's problem is listed with its line, taken
// names and MACs of the group count, another group's do not, and nothing
// is written.
func TestPreviewImport(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		e.create(t, psk.NewPSK{PSKID: "taken"})
		if _, err := e.svc.CreateEndpoint(ctx, e.admin, src, 0, psk.NewEndpoint{MAC: "02:00:00:00:00:99", PSK: psk.PSKRef{Name: "taken"}}); err != nil {
			t.Fatal(err)
		}
		other := mustGroup(t, db, "other")
		if _, err := e.svc.Create(ctx, &authz.Principal{Kind: authz.KindMaster}, src, other, psk.NewPSK{PSKID: "elsewhere"}); err != nil {
			t.Fatal(err)
		}
		csv := strings.Join([]string{
			"psk_id,psk_value,vlan_id,mac_address",
			"ok-1,,10,02:00:00:00:00:01", // line 2: fine
			"taken,,,",                   // 3: exists in the group
			"ok-2,short,,",               // 4: passphrase too short
			"ok-1,,,",                    // 5: repeats line 2
			"ok-3,,5000,",                // 6: VLAN out of range
			",,,02:00:00:00:00:01",       // 7: MAC repeats line 2
			",,,02:00:00:00:00:99",       // 8: MAC has an endpoint
			"elsewhere,,,",               // 9: only another group's: fine
			",,,zz",                      // 10: not a MAC
		}, "\n") + "\n"
		before, _, _ := e.counts(t, e.group)
		pv, err := e.svc.PreviewImport(ctx, e.admin, 0, strings.NewReader(csv), 100)
		if err != nil {
			t.Fatal(err)
		}
		wantBad := map[int]string{3: "already exists", 4: "", 5: "also on line 2", 6: "", 7: "also on line 2", 8: "already has an endpoint", 10: ""}
		if pv.Total != 9 || pv.Invalid != len(wantBad) || len(pv.Rows) != 9 {
			t.Fatalf("total %d invalid %d rows %d", pv.Total, pv.Invalid, len(pv.Rows))
		}
		for _, r := range pv.Rows {
			want, bad := wantBad[r.Line]
			switch {
			case bad && r.Error == "":
				t.Errorf("line %d: no problem found", r.Line)
			case !bad && r.Error != "":
				t.Errorf("line %d: %q, want none", r.Line, r.Error)
			case bad && !strings.Contains(r.Error, want):
				t.Errorf("line %d: %q, want %q", r.Line, r.Error, want)
			}
		}
		if after, _, _ := e.counts(t, e.group); after != before {
			t.Fatalf("the preview wrote: %d PSKs, was %d", after, before)
		}
		if pv, err := e.svc.PreviewImport(ctx, e.admin, 0, strings.NewReader(csv), 2); err != nil || len(pv.Rows) != 2 || pv.Total != 9 {
			t.Fatalf("limited preview: %v %v", pv, err)
		}
		user := &authz.Principal{Kind: authz.KindUser, UserID: 2, Role: authz.User, GroupID: e.group}
		if _, err := e.svc.PreviewImport(ctx, user, 0, strings.NewReader(csv), 10); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("a USER's preview: %v", err)
		}
		if _, err := e.svc.PreviewImport(ctx, e.admin, 0, strings.NewReader("nothing,known\n1,2\n"), 10); !fault.Is(err, fault.Invalid) {
			t.Fatalf("a bad header: %v", err)
		}
	})
}
