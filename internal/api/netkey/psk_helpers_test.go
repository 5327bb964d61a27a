package netkey_test

import (
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"testing"

	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
)

// pskFields are the keys of a PSK as GET /api/v1/psks/{id} shows it; lists
// show them without psk_value.
var pskFields = []string{"id", "psk_id", "psk_value", "description", "vlan_id", "enabled", "expires", "created_at", "expired"}

var pskListFields = []string{"id", "psk_id", "description", "vlan_id", "enabled", "expires", "created_at", "expired"}

var endpointFields = []string{"id", "mac_address", "description", "psk_id", "vlan_id", "enabled", "last_seen", "created_at"}

const pskPassword = "correct-horse-battery"

// pskFixture is two groups: acme with a GROUP_ADMIN and a USER, globex with
// a GROUP_ADMIN, and a SUPER_ADMIN; each as a bearer header pair.
type pskFixture struct {
	e                      *servertest.Env
	admin, user, other     []string
	root                   []string
	acmeAdmin, acmeUser    *identity.User
	acmeGroup, globexGroup int64
}

func newPSKFixture(t *testing.T, e *servertest.Env) *pskFixture {
	t.Helper()
	f := &pskFixture{e: e}
	e.CreateUser(t, "proot", pskPassword, identity.SuperAdmin, "default")
	f.acmeAdmin = e.CreateUser(t, "padmin", pskPassword, identity.GroupAdmin, "acme")
	f.acmeUser = e.CreateUser(t, "puser", pskPassword, identity.RoleUser, "acme")
	globex := e.CreateUser(t, "pother", pskPassword, identity.GroupAdmin, "globex")
	f.acmeGroup, f.globexGroup = f.acmeAdmin.GroupID, globex.GroupID
	bearer := func(name string) []string {
		access, _ := e.Login(t, name, pskPassword)
		return servertest.Bearer(access)
	}
	f.root, f.admin, f.user, f.other = bearer("proot"), bearer("padmin"), bearer("puser"), bearer("pother")
	return f
}

// apiKey creates an API key through POST /api/v1/apikeys as the caller
// as, with scopes and a rate limit tests do not reach.
func (f *pskFixture) apiKey(t *testing.T, as []string, scopes ...string) []string {
	t.Helper()
	r := f.e.Do(t, "POST", "/api/v1/apikeys", map[string]any{"name": "psk-test", "scopes": scopes,
		"rate_limit_per_minute": 500, "rate_limit_per_hour": 10000}, as...)
	if r.Status != http.StatusCreated {
		t.Fatalf("creating API key %v: %d %s", scopes, r.Status, r.Raw)
	}
	return []string{"X-API-Key", r.JSON["key"].(string)}
}

// createPSK creates a PSK as as and returns the response object.
func (f *pskFixture) createPSK(t *testing.T, as []string, body map[string]any) map[string]any {
	t.Helper()
	r := f.e.Do(t, "POST", "/api/v1/psks", body, as...)
	if r.Status != http.StatusCreated {
		t.Fatalf("creating PSK %v: %d %s", body, r.Status, r.Raw)
	}
	return r.JSON
}

func idPath(prefix string, obj map[string]any) string {
	return fmt.Sprintf("%s/%d", prefix, int64(obj["id"].(float64)))
}

// pskWantKeys fails unless obj is an object with exactly the keys want.
func pskWantKeys(tb testing.TB, what string, obj any, want ...string) {
	tb.Helper()
	m, ok := obj.(map[string]any)
	if !ok {
		tb.Fatalf("%s: not an object: %#v", what, obj)
	}
	got := make([]string, 0, len(m))
	for k := range m {
		got = append(got, k)
	}
	sort.Strings(got)
	want = append([]string(nil), want...)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		tb.Fatalf("%s: keys = %v, want %v", what, got, want)
	}
}

// pskWantError fails unless r is a NetKey error with status, code and, when
// given, details holding each key/value pair of details.
func pskWantError(tb testing.TB, r *servertest.Response, status int, code string, details ...any) {
	tb.Helper()
	if r.Status != status {
		tb.Fatalf("status = %d, want %d: %s", r.Status, status, r.Raw)
	}
	if r.JSON["success"] != false || r.JSON["error"] == nil || r.JSON["error"] == "" {
		tb.Fatalf("not a NetKey error envelope: %s", r.Raw)
	}
	if code != "" && r.JSON["code"] != code {
		tb.Fatalf("code = %v, want %s: %s", r.JSON["code"], code, r.Raw)
	}
	d, _ := r.JSON["details"].(map[string]any)
	for i := 0; i+1 < len(details); i += 2 {
		k := details[i].(string)
		if fmt.Sprint(d[k]) != fmt.Sprint(details[i+1]) {
			tb.Fatalf("details[%s] = %v, want %v: %s", k, d[k], details[i+1], r.Raw)
		}
	}
}

// total returns a list response's total.
func total(tb testing.TB, r *servertest.Response) int {
	tb.Helper()
	if r.Status != http.StatusOK {
		tb.Fatalf("list: %d %s", r.Status, r.Raw)
	}
	return int(r.JSON["total"].(float64))
}
