package netmaker_test

import (
	"net/http"
	"testing"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"netkeep/internal/api/apitest"
	"netkeep/internal/config"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
)

// FuzzNetmakerJSON sends arbitrary bodies to every Netmaker route that
// decodes a JSON body, on a real server with a network and a joined node
// for the {netid} and {macaddress} routes to find: user routes as a
// GROUP_ADMIN, node routes with the node's token. Never a 5xx, every 4xx in
// the {"error": {"code", "message"}} envelope. The corpus
// (testdata/fuzz/FuzzNetmakerJSON) holds the seed's documented request
// bodies; the first input byte picks the route by its index below.
func FuzzNetmakerJSON(f *testing.F) {
	e := servertest.Start(f, config.SQLite)
	e.CreateUser(f, "fz-admin", password, identity.GroupAdmin, "acme")
	e.CreateUser(f, "fz-target", password, identity.RoleUser, "acme")
	admin := servertest.Bearer(authenticate(f, e, "fz-admin", password))
	post := func(path string, body any, header ...string) map[string]any {
		return apitest.Must(f, e, http.StatusOK, "POST", path, body, header...).JSON
	}
	post("/api/networks", map[string]any{"netid": "fuzznet", "addressrange": "10.77.0.0/16"}, admin...)
	key := post("/api/networks/fuzznet/keys", map[string]any{"uses": 1}, admin...)["value"].(string)
	pub, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		f.Fatal(err)
	}
	const mac = "02:00:00:00:00:01"
	post("/api/nodes/fuzznet", map[string]any{"accesskey": key, "macaddress": mac,
		"publickey": pub.PublicKey().String(), "endpoint": "203.0.113.1", "listenport": 51821, "password": "node-password"})
	auth := post("/api/nodes/adm/fuzznet/authenticate", map[string]string{"macaddress": mac, "password": "node-password"})
	node := servertest.Bearer(auth["Response"].(map[string]any)["AuthToken"].(string))

	routes := []apitest.BodyRoute{
		0:  {Method: "POST", Path: "/api/users/adm/createadmin", Header: servertest.Master()},
		1:  {Method: "POST", Path: "/api/users/adm/authenticate"},
		2:  {Method: "PUT", Path: "/api/users/fz-target", Header: admin},
		3:  {Method: "POST", Path: "/api/networks", Header: admin},
		4:  {Method: "POST", Path: "/api/network", Header: admin},
		5:  {Method: "PUT", Path: "/api/networks/fuzznet", Header: admin},
		6:  {Method: "POST", Path: "/api/networks/fuzznet/keys", Header: admin},
		7:  {Method: "POST", Path: "/api/nodes/fuzznet"},
		8:  {Method: "PUT", Path: "/api/nodes/fuzznet/" + mac, Header: node},
		9:  {Method: "POST", Path: "/api/nodes/fuzznet/" + mac + "/creategateway", Header: admin},
		10: {Method: "POST", Path: "/api/nodes/adm/fuzznet/authenticate"},
	}
	apitest.FuzzBodies(f, e, apitest.Nested, routes)
}
