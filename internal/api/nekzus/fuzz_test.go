package nekzus_test

import (
	"strings"
	"testing"

	"netkeep/internal/api/apitest"
	"netkeep/internal/config"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
)

// FuzzNekzusJSON sends arbitrary bodies to every Nekzus and NetRecon route
// that decodes a JSON body, on a real server that is already set up, the
// key routes as a SUPER_ADMIN: never a 5xx, every 4xx in the
// {"error": {"code", "message"}} envelope. The corpus
// (testdata/fuzz/FuzzNekzusJSON) holds the seeds' documented request
// bodies; the first input byte picks the route by its index below.
func FuzzNekzusJSON(f *testing.F) {
	e := servertest.Start(f, config.SQLite)
	e.CreateUser(f, "fz-admin", "correct-horse-battery", identity.SuperAdmin, "default")
	access, _ := e.Login(f, "fz-admin", "correct-horse-battery")
	admin := servertest.Bearer(access)
	pairDevice(f, e, access, "fz-phone")

	routes := []apitest.BodyRoute{
		0: {Method: "POST", Path: "/api/v1/auth/setup"},
		1: {Method: "POST", Path: "/api/v1/auth/login"},
		2: {Method: "POST", Path: "/api/v1/auth/refresh"},
		3: {Method: "POST", Path: "/api/v1/apikeys", Header: admin},
		4: {Method: "POST", Path: "/api/v1/api-keys", Header: admin},
		5: {Method: "POST", Path: "/api/v1/webhooks/activity", Header: admin},
		6: {Method: "POST", Path: "/api/v1/webhooks/notify", Header: admin},
		7: {Method: "POST", Path: "/api/v1/pair", Header: pairingHeader},
		8: {Method: "POST", Path: "/api/v1/auth/pair", Header: servertest.Bearer("bootstrap_" + strings.Repeat("0", 64))},
		9: {Method: "PATCH", Path: "/api/v1/devices/fz-phone", Header: admin},
	}
	apitest.FuzzBodies(f, e, apitest.Nested, routes)
}
