package web_test

import (
	"context"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"netkeep/internal/authz"
	"netkeep/internal/gateway"
	"netkeep/internal/identity"
	"netkeep/internal/mesh"
	"netkeep/internal/server/servertest"
)

var master = &authz.Principal{Kind: authz.KindMaster, Role: authz.SuperAdmin}

func totp(tb testing.TB, secret string, at time.Time) string {
	tb.Helper()
	c, err := identity.TOTPCode(secret, at)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// principalOf is the principal a session of username has.
func principalOf(tb testing.TB, e *servertest.Env, username string) *authz.Principal {
	tb.Helper()
	u, err := e.Server.Identity.GetUserByName(context.Background(), master, username)
	if err != nil {
		tb.Fatal(err)
	}
	return &authz.Principal{Kind: authz.KindUser, UserID: u.ID, Username: u.Username, Role: authz.Role(u.Role), GroupID: u.GroupID}
}

// pendingNode creates a mesh network of p's group where nodes wait for
// approval and an access key for it, and joins one node (mac) with the key,
// as an agent does; it returns the netid and the key.
func pendingNode(tb testing.TB, e *servertest.Env, p *authz.Principal, mac string) (netid, key string) {
	tb.Helper()
	on := true
	n, err := e.Server.Mesh.CreateNetwork(context.Background(), p, servertest.Src, mesh.NetworkFields{NetID: "office", RequireApproval: &on})
	if err != nil {
		tb.Fatal(err)
	}
	k, err := e.Server.Mesh.CreateKey(context.Background(), p, servertest.Src, n.NetID, mesh.KeyFields{Uses: 10})
	if err != nil {
		tb.Fatal(err)
	}
	join(tb, e, n.NetID, k.Value, mac)
	return n.NetID, k.Value
}

// join adds a node to netid with an access key, with a fresh WireGuard key.
func join(tb testing.TB, e *servertest.Env, netid, key, mac string) {
	tb.Helper()
	k, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		tb.Fatal(err)
	}
	if _, _, err := e.Server.Mesh.Join(context.Background(), nil, servertest.Src, netid,
		mesh.JoinFields{AccessKey: key, MAC: mac, PublicKey: k.PublicKey().String(), Name: "host-" + mac[len(mac)-2:]}); err != nil {
		tb.Fatal(err)
	}
}

// gatewayFor creates an OpenVPN gateway in p's group, behind a network
// with an access rule naming p's user, and returns its id.
func gatewayFor(tb testing.TB, e *servertest.Env, p *authz.Principal) string {
	tb.Helper()
	ctx := context.Background()
	name, host := "office-vpn", "vpn.example.com"
	c, err := e.Server.Gateways.CreateGateway(ctx, master, servertest.Src, gateway.GatewayInput{GroupID: &p.GroupID, Name: &name, Hostname: &host})
	if err != nil {
		tb.Fatal(err)
	}
	netName, cidr, gws := "office-lan", "10.40.0.0/16", []string{c.Gateway.ID}
	n, err := e.Server.Gateways.CreateNetwork(ctx, master, servertest.Src,
		gateway.NetworkInput{GroupID: &p.GroupID, Name: &netName, CIDR: &cidr, GatewayIDs: &gws})
	if err != nil {
		tb.Fatal(err)
	}
	ruleName, users := "staff", []int64{p.UserID}
	if _, err := e.Server.Gateways.CreateRule(ctx, master, servertest.Src,
		gateway.RuleInput{Name: &ruleName, NetworkID: &n.ID, UserIDs: &users}); err != nil {
		tb.Fatal(err)
	}
	return c.Gateway.ID
}
