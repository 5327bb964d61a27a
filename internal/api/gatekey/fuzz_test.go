package gatekey_test

import (
	"net/http"
	"testing"

	"netkeep/internal/api/apitest"
	"netkeep/internal/config"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
)

// FuzzGateKeyJSON sends arbitrary bodies to every GateKey route that
// decodes a JSON body, on a real server with a gateway, network, rule and
// hub for the {id} routes to find: the admin routes as a GROUP_ADMIN, the
// agent routes with the gateway's token. Never a 5xx, every 4xx in GateKey's
// envelope. The corpus (testdata/fuzz/FuzzGateKeyJSON) holds the seed's
// documented request bodies; the first input byte picks the route by its
// index below.
func FuzzGateKeyJSON(f *testing.F) {
	e := servertest.Start(f, config.SQLite)
	acme := e.CreateUser(f, "fz-admin", password, identity.GroupAdmin, "acme").GroupID
	admin := servertest.Bearer(login(f, e, "fz-admin"))
	create := func(path string, body map[string]any) map[string]any {
		return apitest.Must(f, e, http.StatusCreated, "POST", path, body, admin...).JSON["data"].(map[string]any)
	}
	gw := create("/api/v1/admin/gateways", map[string]any{"name": "gw-fuzz", "hostname": "vpn.example.com"})
	gwID := gw["id"].(string)
	network := create("/api/v1/admin/networks", map[string]any{"name": "net-fuzz", "cidr": "10.90.0.0/24", "gateway_ids": []string{gwID}})["id"].(string)
	rule := create("/api/v1/admin/access-rules", map[string]any{"name": "rule-fuzz", "network_id": network, "group_ids": []int64{acme}})["id"].(string)
	hub := create("/api/v1/admin/mesh/hubs", map[string]any{"name": "hub-fuzz", "gateway_id": gwID})["id"].(string)
	agent := []string{"X-Gateway-Token", gw["token"].(string)}

	routes := []apitest.BodyRoute{
		0:  {Method: "POST", Path: "/api/v1/auth/local/login"},
		1:  {Method: "POST", Path: "/api/v1/configs/generate", Header: admin},
		2:  {Method: "POST", Path: "/api/v1/admin/configs/cfg-fuzz/revoke", Header: admin},
		3:  {Method: "POST", Path: "/api/v1/admin/gateways", Header: admin},
		4:  {Method: "PUT", Path: "/api/v1/admin/gateways/" + gwID, Header: admin},
		5:  {Method: "POST", Path: "/api/v1/admin/networks", Header: admin},
		6:  {Method: "PUT", Path: "/api/v1/admin/networks/" + network, Header: admin},
		7:  {Method: "POST", Path: "/api/v1/admin/access-rules", Header: admin},
		8:  {Method: "PUT", Path: "/api/v1/admin/access-rules/" + rule, Header: admin},
		9:  {Method: "POST", Path: "/api/v1/admin/mesh/hubs", Header: admin},
		10: {Method: "PUT", Path: "/api/v1/admin/mesh/hubs/" + hub, Header: admin},
		11: {Method: "POST", Path: "/api/v1/admin/pki/revoke", Header: admin},
		12: {Method: "POST", Path: "/api/v1/gateway/heartbeat", Header: agent},
		13: {Method: "POST", Path: "/api/v1/gateway/provision", Header: agent},
		14: {Method: "POST", Path: "/api/v1/gateway/verify", Header: agent},
		15: {Method: "POST", Path: "/api/v1/gateway/connect", Header: agent},
		16: {Method: "POST", Path: "/api/v1/gateway/disconnect", Header: agent},
		17: {Method: "POST", Path: "/api/v1/gateway/client-rules", Header: agent},
		18: {Method: "POST", Path: "/api/v1/gateway/all-rules", Header: agent},
		19: {Method: "POST", Path: "/api/v1/gateway/wireguard-peers", Header: agent},
	}
	apitest.FuzzBodies(f, e, apitest.Nested, routes)
}
