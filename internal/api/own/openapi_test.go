package own_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"netkeep/internal/api/apitest"
	"netkeep/internal/server/servertest"
)

// ownOpenAPI parses openapi.yaml (as JSON, as clients get it) and returns
// it with a validator; the document must validate.
func ownOpenAPI(tb testing.TB) (libopenapi.Document, validator.Validator) {
	tb.Helper()
	raw, err := os.ReadFile("openapi.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	doc, err := libopenapi.NewDocument(raw)
	if err != nil {
		tb.Fatal(err)
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

// offboardingRoute reports whether a registered pattern is one of the
// offboarding routes this document describes.
func offboardingRoute(path string) bool {
	return strings.HasPrefix(path, "/api/v1/offboard/") ||
		strings.HasPrefix(path, "/api/v1/users/{id}/") && (strings.HasSuffix(path, "/access") || strings.HasSuffix(path, "/offboard"))
}

// TestOpenAPIOffboarding checks the document against the routes the server
// registers and against real responses, successes and errors.
func TestOpenAPIOffboarding(t *testing.T) {
	t.Parallel()
	doc, v := ownOpenAPI(t)
	e := servertest.Start(t, "sqlite")
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
	registered := 0
	for _, rt := range e.Server.Routes() {
		_, path, _ := strings.Cut(rt.Pattern, " ")
		if !offboardingRoute(path) {
			continue
		}
		registered++
		if !documented[rt.Pattern] {
			t.Errorf("route %s is not in openapi.yaml", rt.Pattern)
		}
	}
	if registered != len(documented) {
		t.Errorf("%d offboarding routes registered, %d documented", registered, len(documented))
	}

	p := newPerson(t, e, "aa:bb:cc:00:00:01")
	user := fmt.Sprintf("/api/v1/users/%d", p.id)
	for _, c := range []struct {
		name, method, path string
		body               any
		headers            []string
		status             int
	}{
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
	} {
		t.Run(c.name, func(t *testing.T) {
			req, res := apitest.Exchange(t, e, c.method, c.path, c.body, c.headers...)
			apitest.Conforms(t, v, req, res, c.status)
		})
	}
}
