package gatekey_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"netkeep/internal/api"
	"netkeep/internal/api/apitest"
	"netkeep/internal/server/servertest"
)

// openAPI fetches the served document and returns it parsed, with a
// validator over it; the document must build without errors.
func openAPI(tb testing.TB, e *servertest.Env) (libopenapi.Document, validator.Validator) {
	tb.Helper()
	r := e.Do(tb, "GET", "/api/v1/openapi.json", nil)
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || !json.Valid(r.Raw) {
		tb.Fatalf("GET /api/v1/openapi.json: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	doc, err := libopenapi.NewDocument(r.Raw)
	if err != nil {
		tb.Fatal(err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		tb.Fatalf("building the validator: %v", errs)
	}
	return doc, v
}

func TestOpenAPIDocumentValid(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, "sqlite")
	doc, v := openAPI(t, e)
	if ok, errs := v.ValidateDocument(); !ok {
		for _, err := range errs {
			t.Errorf("%s: %s (%v)", err.Message, err.Reason, err.SchemaValidationErrors)
		}
		t.FailNow()
	}
	if doc.GetVersion() != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", doc.GetVersion())
	}
	m, err := doc.BuildV3Model()
	if err != nil {
		t.Fatalf("building the model: %v", err)
	}
	// Every operation is named once and answers something documented with
	// a success status.
	ids := map[string]string{}
	for path, item := range m.Model.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			where := strings.ToUpper(method) + " " + path
			if op.OperationId == "" || ids[op.OperationId] != "" {
				t.Errorf("%s: operationId %q missing or shared with %s", where, op.OperationId, ids[op.OperationId])
			}
			ids[op.OperationId] = where
			ok := false
			for code := range op.Responses.Codes.KeysFromOldest() {
				// Sign-in redirects (OIDC) succeed with a 3xx.
				ok = ok || strings.HasPrefix(code, "2") || strings.HasPrefix(code, "3")
			}
			if !ok {
				t.Errorf("%s documents no success response", where)
			}
		}
	}
}

// TestOpenAPICoversRoutes fails when a GateKey route is registered without
// being documented, or the document describes a route that does not exist.
func TestOpenAPICoversRoutes(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, "sqlite")
	doc, _ := openAPI(t, e)
	m, err := doc.BuildV3Model()
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, item := range m.Model.Paths.PathItems.FromOldest() {
		for method := range item.GetOperations().KeysFromOldest() {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	registered := map[string]bool{}
	for _, rt := range e.Server.Routes() {
		_, path, _ := strings.Cut(rt.Pattern, " ")
		if api.DialectFor(path) != api.GateKey {
			continue
		}
		registered[rt.Pattern] = true
		if !documented[rt.Pattern] {
			t.Errorf("route %s is not in openapi.yaml", rt.Pattern)
		}
	}
	for op := range documented {
		if !registered[op] {
			t.Errorf("openapi.yaml documents %s, which the server does not register", op)
		}
	}
	if len(registered) < 40 {
		t.Errorf("only %d GateKey routes registered; the walk is broken", len(registered))
	}
}

// exchange makes one real request as a client of the seed (the documented
// shapes, api.GateKeyProgram) and returns it and the response for the
// validator.
func exchange(tb testing.TB, e *servertest.Env, method, path string, body any, headers ...string) (*http.Request, *http.Response) {
	tb.Helper()
	return apitest.Exchange(tb, e, method, path, body, append([]string{"User-Agent", "netkeep-openapi-test"}, headers...)...)
}

// TestOpenAPIResponses validates real requests and responses of the user,
// admin, agent and PKI APIs, successes and errors, against the document.
func TestOpenAPIResponses(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, "sqlite")
	_, v := openAPI(t, e)
	f := newCfgFixture(t, e)
	id := f.generate(t, f.user)
	admin, user := servertest.Bearer(f.admin), servertest.Bearer(f.user)
	token := []string{"X-Gateway-Token", f.token}
	provision := f.agent(t, f.token, "provision", map[string]any{})
	serial := provision.JSON["serial"].(string)

	for _, c := range []struct {
		name, method, path string
		body               any
		headers            []string
		status             int
	}{
		{"login", "POST", "/api/v1/auth/local/login", map[string]any{"username": "alice", "password": password}, nil, 200},
		{"login/bad password", "POST", "/api/v1/auth/local/login", map[string]any{"username": "alice", "password": "nope-nope"}, nil, 401},
		{"session", "GET", "/api/v1/auth/session", nil, user, 200},
		{"gateways", "GET", "/api/v1/gateways", nil, user, 200},
		{"admin gateways", "GET", "/api/v1/admin/gateways", nil, admin, 200},
		{"admin gateway", "GET", "/api/v1/admin/gateways/" + f.gw, nil, admin, 200},
		{"create gateway", "POST", "/api/v1/admin/gateways", map[string]any{"name": "spec", "hostname": "spec.example.com"}, admin, 201},
		{"create gateway/invalid", "POST", "/api/v1/admin/gateways", map[string]any{"name": "bad", "hostname": "no spaces allowed"}, admin, 400},
		{"networks", "GET", "/api/v1/admin/networks", nil, admin, 200},
		{"access rules", "GET", "/api/v1/admin/access-rules", nil, admin, 200},
		{"admin users", "GET", "/api/v1/admin/users", nil, admin, 200},
		{"admin users/forbidden", "GET", "/api/v1/admin/users", nil, user, 403},
		{"admin user", "GET", fmt.Sprintf("/api/v1/admin/users/%d", f.alice.ID), nil, admin, 200},
		{"admin user/unknown", "GET", "/api/v1/admin/users/999999", nil, admin, 404},
		{"reprovision gateway", "POST", "/api/v1/admin/gateways/" + f.gw + "/reprovision", nil, admin, 200},
		{"remote-session agents", "GET", "/api/v1/admin/remote-session/agents", nil, admin, 200},
		{"revoke user configs/bad reason", "POST", fmt.Sprintf("/api/v1/admin/users/%d/revoke-configs", f.bob.ID), map[string]any{"reason": "nope"}, admin, 400},
		{"revoke user configs", "POST", fmt.Sprintf("/api/v1/admin/users/%d/revoke-configs", f.bob.ID), nil, admin, 200},
		{"generate", "POST", "/api/v1/configs/generate", map[string]any{"gateway_id": f.gw, "protocol": "openvpn"}, user, 200},
		{"generate/unknown gateway", "POST", "/api/v1/configs/generate", map[string]any{"gateway_id": "gw-0000000000000000"}, user, 404},
		{"download", "GET", "/api/v1/configs/download/" + id, nil, user, 200},
		{"download/another user's", "GET", "/api/v1/configs/download/" + id, nil, admin, 404},
		{"admin configs", "GET", "/api/v1/admin/configs", nil, admin, 200},
		{"heartbeat", "POST", "/api/v1/gateway/heartbeat", map[string]any{"version": "1.0"}, token, 200},
		{"heartbeat/no token", "POST", "/api/v1/gateway/heartbeat", map[string]any{}, nil, 401},
		{"all rules", "POST", "/api/v1/gateway/all-rules", map[string]any{}, token, 200},
		{"check", "GET", "/api/v1/pki/check/" + serial, nil, nil, 200},
		{"check/malformed", "GET", "/api/v1/pki/check/xyz", nil, nil, 400},
		{"revoke config", "POST", "/api/v1/admin/configs/" + id + "/revoke", map[string]any{"reason": "superseded"}, admin, 200},
		{"revoke certificate", "POST", "/api/v1/admin/pki/revoke", map[string]any{"serial": serial, "reason": "superseded"}, admin, 200},
		{"ca", "GET", "/api/v1/pki/ca.pem", nil, nil, 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, res := exchange(t, e, c.method, c.path, c.body, c.headers...)
			apitest.Conforms(t, v, req, res, c.status)
		})
	}
}
