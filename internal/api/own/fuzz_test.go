package own_test

import (
	"fmt"
	"net/http"
	"testing"

	"netkeep/internal/api/apitest"
	"netkeep/internal/config"
	"netkeep/internal/server/servertest"
)

// FuzzOwnJSON sends arbitrary bodies to netkeep's own routes that decode a
// JSON body, with the master key and a group for the {id} route: never a
// 5xx, every 4xx in the {"error": {"code", "message"}} envelope. The corpus
// (testdata/fuzz/FuzzOwnJSON) holds valid bodies; the first input byte picks
// the route by its index below.
func FuzzOwnJSON(f *testing.F) {
	e := servertest.Start(f, config.SQLite)
	r := apitest.Must(f, e, http.StatusCreated, "POST", "/api/v1/groups", map[string]string{"name": "fuzz-group"}, servertest.Master()...)
	routes := []apitest.BodyRoute{
		0: {Method: "POST", Path: "/api/v1/groups", Header: servertest.Master()},
		1: {Method: "PUT", Path: fmt.Sprintf("/api/v1/groups/%d", int64(r.JSON["id"].(float64))), Header: servertest.Master()},
	}
	apitest.FuzzBodies(f, e, apitest.Nested, routes)
}
