package gatekey_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"netkeep/internal/audit"
	"netkeep/internal/identity"
	"netkeep/internal/pki"
	"netkeep/internal/server/servertest"
)

// gwFixture is a server with, in "acme", an admin, a user and a second
// user; in "globex" an admin. Objects are made through the API as acme's
// admin.
type gwFixture struct {
	e                     *servertest.Env
	admin, user, foreign  string // access tokens
	acmeAdmin, alice, bob *identity.User
	globexAdmin           *identity.User
	n                     int
}

func newGWFixture(t *testing.T, e *servertest.Env) *gwFixture {
	t.Helper()
	f := &gwFixture{e: e}
	f.acmeAdmin = e.CreateUser(t, "gw-admin", password, identity.GroupAdmin, "acme")
	f.alice = e.CreateUser(t, "alice", password, identity.RoleUser, "acme")
	f.bob = e.CreateUser(t, "bob", password, identity.RoleUser, "acme")
	f.globexAdmin = e.CreateUser(t, "gw-foreign", password, identity.GroupAdmin, "globex")
	f.admin = login(t, e, "gw-admin")
	f.user = login(t, e, "alice")
	f.foreign = login(t, e, "gw-foreign")
	return f
}

// do calls the API with token (none when "").
func (f *gwFixture) do(tb testing.TB, token, method, path string, body any, headers ...string) *servertest.Response {
	tb.Helper()
	if token != "" {
		headers = append(servertest.Bearer(token), headers...)
	}
	return f.e.Do(tb, method, path, body, headers...)
}

// want fails unless r has status; it returns r's "data" object.
func want(tb testing.TB, r *servertest.Response, status int) map[string]any {
	tb.Helper()
	if r.Status != status {
		tb.Fatalf("status = %d, want %d: %s", r.Status, status, r.Raw)
	}
	d, _ := r.JSON["data"].(map[string]any)
	return d
}

// gateway creates a gateway as acme's admin and returns its id and token.
func (f *gwFixture) gateway(tb testing.TB, body map[string]any) (id, token string) {
	tb.Helper()
	f.n++
	if body == nil {
		body = map[string]any{}
	}
	if _, ok := body["name"]; !ok {
		body["name"] = fmt.Sprintf("gw-%d", f.n)
	}
	if _, ok := body["hostname"]; !ok {
		body["hostname"] = fmt.Sprintf("vpn%d.example.com", f.n)
	}
	d := want(tb, f.do(tb, f.admin, "POST", "/api/v1/admin/gateways", body), http.StatusCreated)
	return d["id"].(string), d["token"].(string)
}

// network creates a network of acme behind gateways.
func (f *gwFixture) network(tb testing.TB, cidr string, gateways ...string) string {
	tb.Helper()
	f.n++
	if gateways == nil {
		gateways = []string{}
	}
	d := want(tb, f.do(tb, f.admin, "POST", "/api/v1/admin/networks",
		map[string]any{"name": fmt.Sprintf("net-%d", f.n), "cidr": cidr, "gateway_ids": gateways}), http.StatusCreated)
	return d["id"].(string)
}

// rule creates an access rule from body as acme's admin.
func (f *gwFixture) rule(tb testing.TB, body map[string]any) string {
	tb.Helper()
	if _, ok := body["name"]; !ok {
		body["name"] = "rule"
	}
	d := want(tb, f.do(tb, f.admin, "POST", "/api/v1/admin/access-rules", body), http.StatusCreated)
	return d["id"].(string)
}

// issue gives u a client certificate.
func (f *gwFixture) issue(tb testing.TB, u *identity.User) *pki.Issued {
	tb.Helper()
	out, err := f.e.Server.PKI.IssueClient(context.Background(), servertest.Src,
		pki.ClientRequest{CommonName: u.Username, UserID: u.ID, GroupID: u.GroupID})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// agent calls a gateway agent endpoint with token.
func (f *gwFixture) agent(tb testing.TB, token, endpoint string, body any) *servertest.Response {
	tb.Helper()
	var h []string
	if token != "" {
		h = []string{"X-Gateway-Token", token}
	}
	return f.e.Do(tb, "POST", "/api/v1/gateway/"+endpoint, body, h...)
}

// audited fails unless the audit log holds an entry of action on target.
func (f *gwFixture) audited(tb testing.TB, action, target string) {
	tb.Helper()
	entries, err := f.e.DB.Read().ListAudit(context.Background(), audit.Query{Action: action, Limit: 1000})
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range entries {
		if e.Target == target {
			return
		}
	}
	tb.Fatalf("no audit entry %s on %s", action, target)
}

// count returns how many rows of table there are.
func (f *gwFixture) count(tb testing.TB, table string) int {
	tb.Helper()
	var n int
	if err := f.e.DB.SQL().QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}
