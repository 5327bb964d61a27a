package mesh_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"netkeep/internal/config"
	"netkeep/internal/event"
	"netkeep/internal/mesh"
	"netkeep/internal/mesh/meshsim"
	"netkeep/internal/store"
	"netkeep/internal/store/pgbus"
	"netkeep/internal/store/storetest"
)

// TestReplicas: two services share one PostgreSQL and an event channel, as
// replicas behind a load balancer. Changes made on one reach the other's
// state and its streams.
func TestReplicas(t *testing.T) {
	t.Parallel()
	if os.Getenv(storetest.PostgresEnv) == "" {
		t.Skipf("%s not set", storetest.PostgresEnv)
	}
	db := storetest.Open(t, config.Postgres)
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	channel := "mesh_" + hex.EncodeToString(b)
	bus := func() event.Bus {
		pb, err := pgbus.New(context.Background(), os.Getenv(storetest.PostgresEnv), pgbus.WithChannel(channel))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pb.Close() })
		return pb
	}
	e := newEnv(t, db)
	one := e.start(t, bus())
	two := e.start(t, bus())
	ctx := context.Background()
	if _, err := one.CreateNetwork(ctx, e.adminA, src, mesh.NetworkFields{NetID: "rep"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5e9, func() bool { _, err := two.GetNetwork(ctx, e.adminA, "rep"); return err == nil }, "network reaches replica two")

	a := e.join(t, one, "rep", 1)
	waitFor(t, 5e9, func() bool { _, _, err := two.GetNode(ctx, master, "rep", a.MAC); return err == nil }, "node reaches replica two")
	agent, _ := e.follow(t, two, a) // connected to replica two

	b2 := e.join(t, one, "rep", 2) // joined through replica one
	wait(t, agent, func(x *meshsim.Agent) bool { _, ok := x.Peer(b2.ID); return ok }, "join on one reaches a stream on two")
	if _, err := one.CreateGateway(ctx, e.adminA, src, "rep", b2.MAC, []string{"192.168.77.0/24"}, ""); err != nil {
		t.Fatal(err)
	}
	wait(t, agent, func(x *meshsim.Agent) bool { p, _ := x.Peer(b2.ID); return p.IsEgressGateway }, "gateway on one reaches two")
	// Replica two allocates past replica one's addresses.
	c := e.join(t, two, "rep", 3)
	if c.Address == a.Address || c.Address == b2.Address {
		t.Fatalf("replica two reused %v", c.Address)
	}
	if err := one.DeleteNode(ctx, master, src, "rep", b2.MAC); err != nil {
		t.Fatal(err)
	}
	wait(t, agent, func(x *meshsim.Agent) bool { _, ok := x.Peer(b2.ID); return !ok }, "deletion on one reaches two")
	if _, err := two.KeyUpdate(ctx, e.adminA, src, "rep"); err != nil {
		t.Fatal(err)
	}
	wait(t, agent, func(x *meshsim.Agent) bool { return x.KeyUpdates() == 1 }, "keyupdate on two")
}

// TestAllocationAcrossUnawareReplicas: a replica that missed another's joins
// picks addresses the store already holds; the unique index refuses them
// and the join retries with the next, never duplicating.
func TestAllocationAcrossUnawareReplicas(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		e.network(t, e.adminA, "blind", mesh.NetworkFields{AddressRange: ptr("10.50.0.0/24")})
		deaf := e.start(t, nil) // loads the network, then hears nothing
		for i := range 3 {
			e.join(t, e.svc, "blind", i)
		}
		n := e.join(t, deaf, "blind", 10)
		if n.Address.String() != "10.50.0.4" {
			t.Fatalf("unaware replica allocated %v", n.Address)
		}
		nodes, _, _ := e.svc.ListNodes(ctx, master, "blind")
		if len(nodes) != 3 { // e.svc did not hear of deaf's join either
			t.Fatalf("%d nodes", len(nodes))
		}
	})
}
