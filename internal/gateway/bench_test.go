package gateway_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"testing"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/config"
	"netkeep/internal/gateway"
	"netkeep/internal/identity"
	"netkeep/internal/pki"
	"netkeep/internal/secret"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// BenchmarkVerify is the cost of POST /api/v1/gateway/verify's decision on
// SQLite (what OpenVPN waits for on every connection): certificate record,
// user, and the group's networks and rules, with `rules` access rules in
// the group of which one grants the user. "serial" names the certificate
// by serial; "pem" also checks the presented certificate's signature.
func BenchmarkVerify(b *testing.B) {
	for _, rules := range []int{10, 1000} {
		svc, gw, issued := verifyFixture(b, rules)
		p, err := svc.AuthenticateToken(context.Background(), gw)
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range []struct {
			name string
			in   gateway.ClientCert
		}{
			{"serial", gateway.ClientCert{Serial: string(issued.Certificate.Serial)}},
			{"pem", gateway.ClientCert{PEM: string(issued.CertPEM)}},
		} {
			b.Run(fmt.Sprintf("%s/rules=%d", c.name, rules), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := svc.Verify(context.Background(), p, c.in); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// verifyFixture makes a gateway (returning its token) with one network and
// n rules, the first of which grants the user whose certificate it returns.
func verifyFixture(tb testing.TB, n int) (*gateway.Service, string, *pki.Issued) {
	tb.Helper()
	ctx := context.Background()
	db := storetest.Open(tb, config.SQLite)
	root := make([]byte, 32)
	_, _ = rand.Read(root)
	keys, err := secret.Derive(root)
	if err != nil {
		tb.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	ca := pki.NewService(store.For[pki.Tx](db), keys, nil, pki.DefaultConfig(), pki.WithLogger(quiet))
	tb.Cleanup(ca.Close)
	if err := ca.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	g := &identity.Group{Name: "acme"}
	u := &identity.User{Username: "alice", Role: identity.RoleUser, PasswordHash: "x", IsActive: true}
	other := &identity.User{Username: "bob", Role: identity.RoleUser, PasswordHash: "x", IsActive: true}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateGroup(ctx, g); err != nil {
			return err
		}
		u.GroupID, other.GroupID = g.ID, g.ID
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		return tx.CreateUser(ctx, other)
	})
	if err != nil {
		tb.Fatal(err)
	}
	svc := gateway.NewService(store.For[gateway.Tx](db), ca, keys, nil, gateway.WithLogger(quiet))
	master := &authz.Principal{Kind: authz.KindMaster, Role: authz.SuperAdmin}
	src := audit.Source{Actor: "bench"}
	name, host := "edge", "vpn.example.com"
	created, err := svc.CreateGateway(ctx, master, src, gateway.GatewayInput{GroupID: &g.ID, Name: &name, Hostname: &host})
	if err != nil {
		tb.Fatal(err)
	}
	gws := []string{created.Gateway.ID}
	netName, cidr := "office", "10.0.0.0/8"
	net, err := svc.CreateNetwork(ctx, master, src, gateway.NetworkInput{GroupID: &g.ID, Name: &netName, CIDR: &cidr, GatewayIDs: &gws})
	if err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		users := []int64{other.ID}
		if i == 0 {
			users = []int64{u.ID}
		}
		ruleName, dest := fmt.Sprintf("r%04d", i), fmt.Sprintf("10.%d.%d.0/24", i/256, i%256)
		if _, err := svc.CreateRule(ctx, master, src, gateway.RuleInput{Name: &ruleName, NetworkID: &net.ID,
			Destination: &dest, UserIDs: &users}); err != nil {
			tb.Fatal(err)
		}
	}
	issued, err := ca.IssueClient(ctx, src, pki.ClientRequest{CommonName: "alice", UserID: u.ID, GroupID: g.ID})
	if err != nil {
		tb.Fatal(err)
	}
	return svc, created.Token, issued
}
