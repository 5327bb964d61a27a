package own_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"netkeep/internal/api"
	"netkeep/internal/api/apitest"
	"netkeep/internal/api/own"
	"netkeep/internal/server/servertest"
)

// ownOpenAPI fetches the document as clients get it (public, JSON) and
// returns it with a validator; the document must validate.
func ownOpenAPI(tb testing.TB, e *servertest.Env) (libopenapi.Document, validator.Validator) {
	tb.Helper()
	r := e.Do(tb, "GET", own.OpenAPIPath, nil)
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || !json.Valid(r.Raw) {
		tb.Fatalf("GET %s: %d %s %.200s", own.OpenAPIPath, r.Status, r.Header.Get("Content-Type"), r.Raw)
	}
	doc, err := libopenapi.NewDocument(r.Raw)
	if err != nil {
		tb.Fatal(err)
	}
	if doc.GetVersion() != "3.1.0" {
		tb.Errorf("openapi %q, want 3.1.0", doc.GetVersion())
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		tb.Fatalf("building the validator: %v", errs)
	}
	if ok, errs := v.ValidateDocument(); !ok {
		for _, err := range errs {
			tb.Errorf("%s: %s (%v)", err.Message, err.Reason, err.SchemaValidationErrors)
		}
		tb.FailNow()
	}
	return doc, v
}

// describedRoute reports whether a registered pattern is one this document
// describes: groups, the offboarding routes, identity providers, the
// OpenID provider's discovery and the document itself.
func describedRoute(path string) bool {
	return path == own.OpenAPIPath || path == "/api/v1/groups" || strings.HasPrefix(path, "/api/v1/groups/") ||
		strings.HasPrefix(path, "/api/v1/sso/") ||
		path == "/.well-known/openid-configuration" || path == "/.well-known/jwks.json" ||
		strings.HasPrefix(path, "/api/v1/offboard/") ||
		strings.HasPrefix(path, "/api/v1/users/{id}/") && (strings.HasSuffix(path, "/access") || strings.HasSuffix(path, "/offboard"))
}

// TestOpenAPIOwn checks the served document against the routes
// the server registers (each described route registered, in netkeep's own
// dialect and with the access the document declares, and no route of its
// scope left out) and against real responses, successes and errors.
func TestOpenAPIOwn(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, "sqlite")
	doc, v := ownOpenAPI(t, e)
	m, err := doc.BuildV3Model()
	if err != nil {
		t.Fatal(err)
	}
	public := map[string]bool{} // documented operation -> declares no security
	for path, item := range m.Model.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			public[strings.ToUpper(method)+" "+path] = op.Security != nil && len(op.Security) == 0
		}
	}
	registered := map[string]bool{}
	for _, rt := range e.Server.Routes() {
		_, path, _ := strings.Cut(rt.Pattern, " ")
		if !describedRoute(path) {
			continue
		}
		registered[rt.Pattern] = true
		pub, ok := public[rt.Pattern]
		switch {
		case !ok:
			t.Errorf("route %s is not in openapi.yaml", rt.Pattern)
		case rt.Dialect != api.Own:
			t.Errorf("route %s answers in the %s dialect, not netkeep's own", rt.Pattern, rt.Dialect)
		case pub != (rt.Access == api.Public):
			t.Errorf("route %s: access %v, but the document says public=%v", rt.Pattern, rt.Access, pub)
		}
	}
	for op := range public {
		if !registered[op] {
			t.Errorf("openapi.yaml describes %s, which the server does not register", op)
		}
	}

	p := newPerson(t, e, "aa:bb:cc:00:00:01")
	user := fmt.Sprintf("/api/v1/users/%d", p.id)
	alice, err := e.Server.Identity.GetUser(context.Background(), master, p.id)
	if err != nil {
		t.Fatal(err)
	}
	group := fmt.Sprintf("/api/v1/groups/%d", alice.GroupID)
	provider := map[string]any{"name": "corp", "type": "oidc", "display_name": "Corp", "group_id": alice.GroupID,
		"settings": map[string]any{"issuer": "https://idp.example", "client_id": "netkeep", "scopes": []string{"email"},
			"group_mappings": []map[string]any{{"claim": "ops", "role": "GROUP_ADMIN"}}},
		"client_secret": "s3cret"}
	for _, c := range []struct {
		name, method, path string
		body               any
		headers            []string
		status             int
	}{
		{"document", "GET", own.OpenAPIPath, nil, nil, 200},
		{"access", "GET", user + "/access", nil, p.boss, 200},
		{"access/another group", "GET", user + "/access", nil, p.stranger, 404},
		{"access/no credential", "GET", user + "/access", nil, nil, 401},
		{"dry run", "POST", user + "/offboard", map[string]any{"dry_run": true}, p.boss, 200},
		{"offboard/USER", "POST", user + "/offboard", map[string]any{}, p.user, 403},
		{"offboard/bad field", "POST", user + "/offboard", map[string]any{"dry_run": "yes"}, p.boss, 400},
		{"device", "POST", "/api/v1/offboard/devices/" + p.deviceID, map[string]any{}, p.boss, 200},
		{"device/gone", "POST", "/api/v1/offboard/devices/" + p.deviceID, map[string]any{}, p.boss, 404},
		{"node dry run", "POST", "/api/v1/offboard/nodes/" + p.netid + "/" + p.nodeMAC, map[string]any{"dry_run": true}, p.boss, 200},
		{"offboard", "POST", user + "/offboard", map[string]any{"delete_user": false}, p.boss, 200},
		{"groups", "GET", "/api/v1/groups", nil, p.boss, 200},
		{"groups/no credential", "GET", "/api/v1/groups", nil, nil, 401},
		{"group/create", "POST", "/api/v1/groups", map[string]any{"name": "initech"}, servertest.Master(), 201},
		{"group/create/GROUP_ADMIN", "POST", "/api/v1/groups", map[string]any{"name": "x"}, p.boss, 403},
		{"group/create/taken", "POST", "/api/v1/groups", map[string]any{"name": "initech"}, servertest.Master(), 409},
		{"group/create/bad field", "POST", "/api/v1/groups", map[string]any{"name": 7}, servertest.Master(), 400},
		{"group", "GET", group, nil, p.boss, 200},
		{"group/another", "GET", group, nil, p.stranger, 404},
		{"group/rename", "PUT", group, map[string]any{"name": "acme-2"}, servertest.Master(), 200},
		{"group/rename/GROUP_ADMIN", "PUT", group, map[string]any{"name": "x"}, p.boss, 403},
		{"group/delete/not empty", "DELETE", group, nil, servertest.Master(), 409},
		{"discovery", "GET", "/.well-known/openid-configuration", nil, nil, 200},
		{"jwks", "GET", "/.well-known/jwks.json", nil, nil, 200},
		{"provider/create", "POST", "/api/v1/sso/providers", provider, servertest.Master(), 201},
		{"provider/create/taken", "POST", "/api/v1/sso/providers", provider, servertest.Master(), 409},
		{"provider/create/GROUP_ADMIN", "POST", "/api/v1/sso/providers", provider, p.boss, 403},
		{"provider/create/bad field", "POST", "/api/v1/sso/providers", map[string]any{"name": "x", "type": 1}, servertest.Master(), 400},
		{"providers", "GET", "/api/v1/sso/providers", nil, servertest.Master(), 200},
		{"providers/no credential", "GET", "/api/v1/sso/providers", nil, nil, 401},
		{"provider", "GET", "/api/v1/sso/providers/corp", nil, servertest.Master(), 200},
		{"provider/unknown", "GET", "/api/v1/sso/providers/nobody", nil, servertest.Master(), 404},
		{"provider/update", "PUT", "/api/v1/sso/providers/corp", map[string]any{"name": "corp", "type": "oidc", "display_name": "Corp SSO",
			"settings": map[string]any{"issuer": "https://idp.example", "client_id": "netkeep"}}, servertest.Master(), 200},
		{"provider/delete", "DELETE", "/api/v1/sso/providers/corp", nil, servertest.Master(), 204},
		{"provider/delete/gone", "DELETE", "/api/v1/sso/providers/corp", nil, servertest.Master(), 404},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, res := apitest.Exchange(t, e, c.method, c.path, c.body, c.headers...)
			apitest.Conforms(t, v, req, res, c.status)
		})
	}
	t.Run("group/delete", func(t *testing.T) {
		r := e.Do(t, "POST", "/api/v1/groups", map[string]any{"name": "empty"}, servertest.Master()...)
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Raw)
		}
		req, res := apitest.Exchange(t, e, "DELETE", fmt.Sprintf("/api/v1/groups/%v", r.JSON["id"]), nil, servertest.Master()...)
		apitest.Conforms(t, v, req, res, http.StatusNoContent)
	})
}
