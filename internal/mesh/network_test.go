package mesh_test

import (
	"context"
	"net/netip"
	"testing"

	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/mesh"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

func ptr[T any](v T) *T { return &v }

func TestNetworks(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		auto1 := e.network(t, e.adminA, "auto-one", mesh.NetworkFields{})
		auto2 := e.network(t, e.adminA, "auto-two", mesh.NetworkFields{AddressRange: ptr("")})
		if auto1.AddressRange.String() != "100.64.0.0/24" || auto2.AddressRange.String() != "100.64.1.0/24" {
			t.Fatalf("automatic ranges %v, %v", auto1.AddressRange, auto2.AddressRange)
		}
		if auto1.GroupID != e.groupA || auto1.DisplayName != "auto-one" || auto1.DefaultListenPort != mesh.DefaultListenPort ||
			auto1.DefaultKeepalive != mesh.DefaultKeepalive || auto1.DefaultInterface != "nk-auto-one" {
			t.Fatalf("defaults: %+v", auto1)
		}
		// Group B's ranges are its own: the same /24 is free there.
		if b := e.network(t, e.adminB, "b-auto", mesh.NetworkFields{}); b.AddressRange.String() != "100.64.0.0/24" {
			t.Fatalf("group B's first range = %v", b.AddressRange)
		}
		e.network(t, e.adminA, "dual", mesh.NetworkFields{AddressRange: ptr("10.20.0.0/16"), AddressRange6: ptr("fd00:20::/64"),
			AllowManualSignUp: ptr(true), DisplayName: ptr("Dual stack")})

		cases := []struct {
			name  string
			p     *authz.Principal
			f     mesh.NetworkFields
			code  fault.Code
			field string
		}{
			{"400/netid uppercase", e.adminA, mesh.NetworkFields{NetID: "Sky"}, fault.Invalid, "netid"},
			{"400/netid too long", e.adminA, mesh.NetworkFields{NetID: "a23456789012345678901234567890123"}, fault.Invalid, "netid"},
			{"400/netid empty", e.adminA, mesh.NetworkFields{}, fault.Invalid, "netid"},
			{"400/range v6 as v4", e.adminA, mesh.NetworkFields{NetID: "x1", AddressRange: ptr("fd00::/64")}, fault.Invalid, "addressrange"},
			{"400/range host bits", e.adminA, mesh.NetworkFields{NetID: "x2", AddressRange: ptr("10.9.0.1/24")}, fault.Invalid, "addressrange"},
			{"400/range6 v4", e.adminA, mesh.NetworkFields{NetID: "x3", AddressRange6: ptr("10.0.0.0/8")}, fault.Invalid, "addressrange6"},
			{"400/port", e.adminA, mesh.NetworkFields{NetID: "x4", DefaultListenPort: ptr(80)}, fault.Invalid, "defaultlistenport"},
			{"409/overlap", e.adminA, mesh.NetworkFields{NetID: "x5", AddressRange: ptr("10.20.5.0/24")}, fault.Conflict, "addressrange"},
			{"409/overlap v6", e.adminA, mesh.NetworkFields{NetID: "x6", AddressRange: ptr("10.30.0.0/24"), AddressRange6: ptr("fd00:20::/48")}, fault.Conflict, "addressrange6"},
			{"409/netid taken", e.adminA, mesh.NetworkFields{NetID: "dual", AddressRange: ptr("10.31.0.0/24")}, fault.Conflict, "netid"},
			{"409/netid taken by another group", e.adminB, mesh.NetworkFields{NetID: "dual", AddressRange: ptr("10.31.0.0/24")}, fault.Conflict, "netid"},
			{"403/user", e.userA, mesh.NetworkFields{NetID: "x7"}, fault.Forbidden, ""},
			{"401/nobody", nil, mesh.NetworkFields{NetID: "x8"}, fault.Unauthorized, ""},
			{"400/displayname with a control character", e.adminA, mesh.NetworkFields{NetID: "x10", DisplayName: ptr("red\x1b[31m")}, fault.Invalid, ""},
			{"400/displayname with a bidi override", e.adminA, mesh.NetworkFields{NetID: "x11", DisplayName: ptr("abc\u202egnp.exe")}, fault.Invalid, ""},
			{"400/interface Linux refuses", e.adminA, mesh.NetworkFields{NetID: "x12", DefaultInterface: ptr("nk:1")}, fault.Invalid, "defaultinterface"},
			{"400/group of another", e.adminA, mesh.NetworkFields{NetID: "x9", GroupID: e.groupB}, fault.Invalid, "group_id"},
		}
		for _, c := range cases {
			_, err := e.svc.CreateNetwork(ctx, c.p, src, c.f)
			fe := fault.As(err)
			if fe == nil || fe.Code != c.code || (c.field != "" && fe.Details["field"] != c.field) {
				t.Errorf("%s: %v", c.name, err)
			}
		}
		// The master key creates in a named group, else in the default group
		// (which exists from the first start).
		if n, err := e.svc.CreateNetwork(ctx, master, src, mesh.NetworkFields{NetID: "m0"}); err != nil || n.GroupID == 0 || n.GroupID == e.groupB {
			t.Fatalf("master without group: %+v %v", n, err)
		}
		if n, err := e.svc.CreateNetwork(ctx, master, src, mesh.NetworkFields{NetID: "m1", GroupID: e.groupB}); err != nil || n.GroupID != e.groupB {
			t.Fatalf("master with group: %v", err)
		}

		// Group isolation: B sees only its own.
		if _, err := e.svc.GetNetwork(ctx, e.adminB, "dual"); !fault.Is(err, fault.NotFound) {
			t.Fatalf("B reads A's network: %v", err)
		}
		if _, err := e.svc.UpdateNetwork(ctx, e.adminB, src, "dual", mesh.NetworkFields{DisplayName: ptr("x")}); !fault.Is(err, fault.NotFound) {
			t.Fatalf("B updates A's network: %v", err)
		}
		if err := e.svc.DeleteNetwork(ctx, e.adminB, src, "dual"); !fault.Is(err, fault.NotFound) {
			t.Fatalf("B deletes A's network: %v", err)
		}
		listA, _ := e.svc.ListNetworks(ctx, e.adminA)
		listB, _ := e.svc.ListNetworks(ctx, e.adminB)
		all, _ := e.svc.ListNetworks(ctx, master)
		if len(listA) != 3 || len(listB) != 2 || len(all) != 6 { // all: and m0, in the default group
			t.Fatalf("lists: A %d, B %d, all %d", len(listA), len(listB), len(all))
		}
		if got, err := e.svc.GetNetwork(ctx, e.userA, "dual"); err != nil || got.DisplayName != "Dual stack" || !got.AllowManualSignUp {
			t.Fatalf("USER reads: %+v, %v", got, err)
		}

		// Updates: settings freely, ranges only without nodes.
		n, err := e.svc.UpdateNetwork(ctx, e.adminA, src, "dual", mesh.NetworkFields{DefaultKeepalive: ptr(25), AddressRange: ptr("10.21.0.0/16")})
		if err != nil || n.DefaultKeepalive != 25 || n.AddressRange.String() != "10.21.0.0/16" || n.Revision != 2 {
			t.Fatalf("update: %+v, %v", n, err)
		}
		e.join(t, e.svc, "dual", 1)
		if _, err := e.svc.UpdateNetwork(ctx, e.adminA, src, "dual", mesh.NetworkFields{AddressRange: ptr("10.22.0.0/16")}); !fault.Is(err, fault.Conflict) {
			t.Fatalf("range change with nodes: %v", err)
		}
		if _, err := e.svc.UpdateNetwork(ctx, e.userA, src, "dual", mesh.NetworkFields{DisplayName: ptr("x")}); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("USER updates: %v", err)
		}
		err = e.svc.DeleteNetwork(ctx, e.adminA, src, "dual")
		if fe := fault.As(err); fe == nil || fe.Code != fault.Conflict || fe.Reason != mesh.ReasonNetworkHasNodes {
			t.Fatalf("delete with nodes: %v", err)
		}
		if err := e.svc.DeleteNode(ctx, e.adminA, src, "dual", mac(1)); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.DeleteNetwork(ctx, e.adminA, src, "dual"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.GetNetwork(ctx, e.adminA, "dual"); !fault.Is(err, fault.NotFound) {
			t.Fatalf("deleted network: %v", err)
		}
		// Its range is free again.
		if n := e.network(t, e.adminA, "again", mesh.NetworkFields{AddressRange: ptr("10.21.0.0/24")}); n.AddressRange != netip.MustParsePrefix("10.21.0.0/24") {
			t.Fatal(n.AddressRange)
		}
	})
}

func TestAccessKeys(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		e.network(t, e.adminA, "keys", mesh.NetworkFields{})
		k, err := e.svc.CreateKey(ctx, e.adminA, src, "keys", mesh.KeyFields{})
		if err != nil || len(k.Value) != mesh.GeneratedKeyLen || k.Uses != 1 || k.Name == "" {
			t.Fatalf("default key: %+v, %v", k, err)
		}
		if _, err := e.svc.CreateKey(ctx, e.adminA, src, "keys", mesh.KeyFields{Name: "mykey", Uses: 10, Value: "aA3bVG0rnItIRXDx"}); err != nil {
			t.Fatal(err)
		}
		for name, c := range map[string]struct {
			f    mesh.KeyFields
			code fault.Code
		}{
			"dup name":  {mesh.KeyFields{Name: "mykey"}, fault.Conflict},
			"dup value": {mesh.KeyFields{Name: "other", Value: "aA3bVG0rnItIRXDx"}, fault.Conflict},
			"bad value": {mesh.KeyFields{Value: "short"}, fault.Invalid},
			"bad name":  {mesh.KeyFields{Name: "has space"}, fault.Invalid},
			"negative":  {mesh.KeyFields{Uses: -1}, fault.Invalid},
			"too many":  {mesh.KeyFields{Uses: mesh.MaxKeyUses + 1}, fault.Invalid},
			"expired":   {mesh.KeyFields{ExpiresAt: ptr(timeAgo())}, fault.Invalid},
		} {
			if _, err := e.svc.CreateKey(ctx, e.adminA, src, "keys", c.f); !fault.Is(err, c.code) {
				t.Errorf("%s: %v, want %s", name, err, c.code)
			}
		}
		if _, err := e.svc.CreateKey(ctx, e.userA, src, "keys", mesh.KeyFields{}); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("USER creates a key: %v", err)
		}
		if _, err := e.svc.ListKeys(ctx, e.userA, "keys"); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("USER lists keys: %v", err)
		}
		if _, err := e.svc.ListKeys(ctx, e.adminB, "keys"); !fault.Is(err, fault.NotFound) {
			t.Fatalf("B lists A's keys: %v", err)
		}
		keys, err := e.svc.ListKeys(ctx, e.adminA, "keys")
		if err != nil || len(keys) != 2 || keys[1].Name != "mykey" || keys[1].Value != "aA3bVG0rnItIRXDx" || keys[1].Uses != 10 {
			t.Fatalf("ListKeys = %+v, %v", keys, err)
		}
		if err := e.svc.DeleteKey(ctx, e.adminA, src, "keys", "mykey"); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.DeleteKey(ctx, e.adminA, src, "keys", "mykey"); !fault.Is(err, fault.NotFound) {
			t.Fatalf("second delete: %v", err)
		}

	})
}
