package netkey_test

import (
	"fmt"
	"net/http"
	"testing"

	"netkeep/internal/api/apitest"
	"netkeep/internal/config"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
)

// FuzzNetKeyJSON sends arbitrary bodies to every NetKey route that decodes
// a JSON body, on a real server with objects for the {id} routes to find,
// as a GROUP_ADMIN: never a 5xx, every 4xx in NetKey's envelope. The corpus
// (testdata/fuzz/FuzzNetKeyJSON) holds the seed's documented request bodies;
// the first input byte picks the route by its index below.
func FuzzNetKeyJSON(f *testing.F) {
	e := servertest.Start(f, config.SQLite)
	e.CreateUser(f, "fz-admin", password, identity.GroupAdmin, "acme")
	target := e.CreateUser(f, "fz-target", password, identity.RoleUser, "acme")
	access, _ := e.Login(f, "fz-admin", password)
	admin := servertest.Bearer(access)
	create := func(path string, body any) string {
		r := apitest.Must(f, e, http.StatusCreated, "POST", path, body, admin...)
		return fmt.Sprintf("%s/%d", path, int64(r.JSON["id"].(float64)))
	}
	psk := create("/api/v1/psks", map[string]any{"psk_id": "fuzz-psk"})
	endpoint := create("/api/v1/endpoints", map[string]any{"mac_address": "aa:bb:cc:00:00:01", "psk_id": "fuzz-psk"})
	client := create("/api/v1/radius/clients", map[string]any{"name": "fuzz AP", "address": "10.1.2.3", "secret": "shared-secret-1"})

	routes := []apitest.BodyRoute{
		0:  {Method: "POST", Path: "/api/auth/login"},
		1:  {Method: "POST", Path: "/api/auth/mfa/enable", Header: admin},
		2:  {Method: "POST", Path: "/api/auth/mfa/disable", Header: admin},
		3:  {Method: "POST", Path: "/api/v1/users", Header: admin},
		4:  {Method: "PUT", Path: fmt.Sprintf("/api/v1/users/%d", target.ID), Header: admin},
		5:  {Method: "POST", Path: "/api/v1/psks", Header: admin},
		6:  {Method: "PUT", Path: psk, Header: admin},
		7:  {Method: "POST", Path: "/api/v1/psks/bulk", Header: admin},
		8:  {Method: "POST", Path: "/api/v1/endpoints", Header: admin},
		9:  {Method: "PUT", Path: endpoint, Header: admin},
		10: {Method: "POST", Path: "/api/v1/endpoints/bulk", Header: admin},
		11: {Method: "POST", Path: "/api/v1/radius/clients", Header: admin},
		12: {Method: "PUT", Path: client, Header: admin},
	}
	apitest.FuzzBodies(f, e, apitest.Flat, routes)
}
