package mesh_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/event"
	"netkeep/internal/identity"
	"netkeep/internal/mesh"
	"netkeep/internal/mesh/meshsim"
	"netkeep/internal/secret"
	"netkeep/internal/store"
)

var (
	src    = audit.Source{Actor: "test", IP: "127.0.0.1"}
	cheap  = identity.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}
	master = &authz.Principal{Kind: authz.KindMaster, Role: authz.SuperAdmin}
)

// env is a mesh service over a fresh database.
type env struct {
	db     *store.DB
	svc    *mesh.Service
	bus    event.Bus
	keys   *secret.Keys
	signer *identity.Signer
	groupA int64
	groupB int64
	adminA *authz.Principal
	adminB *authz.Principal
	userA  *authz.Principal
}

func newEnv(tb testing.TB, db *store.DB, opts ...mesh.Option) *env {
	tb.Helper()
	keys, err := secret.Derive([]byte("0123456789abcdef0123456789abcdef-mesh-tests"))
	if err != nil {
		tb.Fatal(err)
	}
	e := &env{db: db, keys: keys, bus: event.NewLocal(), signer: identity.NewSigner(keys.JWTKey(), 0, time.Now)}
	tb.Cleanup(func() { e.bus.Close() })
	ctx := context.Background()
	for _, g := range []struct {
		name string
		id   *int64
	}{{"A", &e.groupA}, {"B", &e.groupB}} {
		grp := &identity.Group{Name: g.name}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateGroup(ctx, grp) }); err != nil {
			tb.Fatal(err)
		}
		*g.id = grp.ID
	}
	e.adminA = &authz.Principal{Kind: authz.KindUser, Role: authz.GroupAdmin, GroupID: e.groupA, UserID: 1}
	e.adminB = &authz.Principal{Kind: authz.KindUser, Role: authz.GroupAdmin, GroupID: e.groupB, UserID: 2}
	e.userA = &authz.Principal{Kind: authz.KindUser, Role: authz.User, GroupID: e.groupA, UserID: 3}
	e.svc = e.start(tb, e.bus, opts...)
	return e
}

// start starts another service over the env's database (a replica when bus
// is shared with one on another service).
func (e *env) start(tb testing.TB, bus event.Bus, opts ...mesh.Option) *mesh.Service {
	tb.Helper()
	opts = append([]mesh.Option{mesh.WithPasswordParams(cheap)}, opts...)
	svc := mesh.NewService(store.For[mesh.Tx](e.db), bus, e.signer, e.keys, opts...)
	if err := svc.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(svc.Close)
	return svc
}

func (e *env) network(tb testing.TB, p *authz.Principal, netid string, f mesh.NetworkFields) *mesh.Network {
	tb.Helper()
	f.NetID = netid
	n, err := e.svc.CreateNetwork(context.Background(), p, src, f)
	if err != nil {
		tb.Fatalf("creating network %s: %v", netid, err)
	}
	return n
}

func (e *env) key(tb testing.TB, netid string, uses int) string {
	tb.Helper()
	k, err := e.svc.CreateKey(context.Background(), master, src, netid, mesh.KeyFields{Uses: uses})
	if err != nil {
		tb.Fatal(err)
	}
	return k.Value
}

func pubkey(tb testing.TB) string {
	tb.Helper()
	k, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		tb.Fatal(err)
	}
	return k.PublicKey().String()
}

func mac(i int) string {
	return fmt.Sprintf("02:00:%02x:%02x:%02x:%02x", i>>24&0xff, i>>16&0xff, i>>8&0xff, i&0xff)
}

// join joins node i to netid as an administrator would (no key).
func (e *env) join(tb testing.TB, svc *mesh.Service, netid string, i int, extra ...func(*mesh.JoinFields)) *mesh.Node {
	tb.Helper()
	in := mesh.JoinFields{MAC: mac(i), PublicKey: pubkey(tb), Endpoint: fmt.Sprintf("198.51.100.%d", i%250+1), Password: "node-password"}
	for _, f := range extra {
		f(&in)
	}
	n, _, err := svc.Join(context.Background(), master, src, netid, in)
	if err != nil {
		tb.Fatalf("joining node %d: %v", i, err)
	}
	return n
}

// follow subscribes node n as itself and runs a simulated agent on it.
func (e *env) follow(tb testing.TB, svc *mesh.Service, n *mesh.Node) (*meshsim.Agent, *mesh.Stream) {
	tb.Helper()
	p := e.nodePrincipal(tb, svc, n)
	s, err := svc.Subscribe(context.Background(), p, n.Network, n.MAC)
	if err != nil {
		tb.Fatal(err)
	}
	a := meshsim.New()
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- a.Follow(ctx, s) }()
	tb.Cleanup(func() {
		cancel()
		s.Close()
		if err := <-done; err != nil && err != context.Canceled {
			tb.Errorf("agent of node %d: %v", n.ID, err)
		}
	})
	return a, s
}

func (e *env) nodePrincipal(tb testing.TB, svc *mesh.Service, n *mesh.Node) *authz.Principal {
	tb.Helper()
	tok, _, err := svc.IssueNodeToken(n)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := svc.AuthenticateNodeToken(context.Background(), tok)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// waitFor polls cond until it holds or fails after within.
func waitFor(tb testing.TB, within time.Duration, cond func() bool, msg string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			tb.Fatalf("after %v: %s", within, msg)
		case <-t.C:
		}
	}
}

// wait waits until the agent satisfies cond.
func wait(tb testing.TB, a *meshsim.Agent, cond func(a *meshsim.Agent) bool, msg string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.Wait(ctx, cond); err != nil {
		tb.Fatalf("%s: %v", msg, err)
	}
}

func timeAgo() time.Time { return time.Now().Add(-time.Hour) }
