package gatekey_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"netkeep/internal/server/servertest"
)

// gatekey-admin's own views, decoded with the admin CLI's field names and
// types (its adminclient package).
type (
	gkLocalUser struct {
		ID          string     `json:"id"`
		Username    string     `json:"username"`
		Email       string     `json:"email"`
		IsAdmin     bool       `json:"is_admin"`
		IsActive    bool       `json:"is_active"`
		LastLoginAt *time.Time `json:"last_login_at,omitempty"`
		CreatedAt   time.Time  `json:"created_at"`
	}
	gkGroup struct {
		Name        string `json:"name"`
		MemberCount int    `json:"member_count"`
		RuleCount   int    `json:"rule_count"`
	}
	gkAPIKey struct {
		ID                 string     `json:"id"`
		UserID             string     `json:"user_id"`
		UserEmail          string     `json:"user_email,omitempty"`
		Name               string     `json:"name"`
		Description        string     `json:"description"`
		KeyPrefix          string     `json:"key_prefix"`
		Scopes             []string   `json:"scopes"`
		IsAdminProvisioned bool       `json:"is_admin_provisioned"`
		ProvisionedBy      *string    `json:"provisioned_by,omitempty"`
		ExpiresAt          *time.Time `json:"expires_at,omitempty"`
		LastUsedAt         *time.Time `json:"last_used_at,omitempty"`
		LastUsedIP         *string    `json:"last_used_ip,omitempty"`
		IsRevoked          bool       `json:"is_revoked"`
		RevokedAt          *time.Time `json:"revoked_at,omitempty"`
		CreatedAt          time.Time  `json:"created_at"`
	}
	gkCA struct {
		ID           string    `json:"id"`
		Name         string    `json:"name"`
		IsActive     bool      `json:"is_active"`
		IsCurrent    bool      `json:"is_current"`
		SerialNumber string    `json:"serial_number"`
		NotBefore    time.Time `json:"not_before"`
		NotAfter     time.Time `json:"not_after"`
		CreatedAt    time.Time `json:"created_at"`
	}
	gkConnection struct {
		ID          string    `json:"id"`
		UserID      string    `json:"user_id"`
		UserEmail   string    `json:"user_email"`
		GatewayID   string    `json:"gateway_id"`
		GatewayName string    `json:"gateway_name"`
		ClientIP    string    `json:"client_ip"`
		VPNAddress  string    `json:"vpn_address"`
		ConnectedAt time.Time `json:"connected_at"`
		BytesSent   int64     `json:"bytes_sent"`
		BytesRecv   int64     `json:"bytes_recv"`
	}
	gkTopology struct {
		Gateways []struct {
			ID            string     `json:"id"`
			Name          string     `json:"name"`
			Hostname      string     `json:"hostname"`
			PublicIP      string     `json:"publicIp"`
			VPNPort       int        `json:"vpnPort"`
			VPNProtocol   string     `json:"vpnProtocol"`
			IsActive      bool       `json:"isActive"`
			LastHeartbeat *time.Time `json:"lastHeartbeat"`
			ClientCount   int        `json:"clientCount"`
		} `json:"gateways"`
		MeshHubs []struct {
			ID              string     `json:"id"`
			Name            string     `json:"name"`
			PublicEndpoint  string     `json:"publicEndpoint"`
			VPNSubnet       string     `json:"vpnSubnet"`
			Status          string     `json:"status"`
			LastHeartbeat   *time.Time `json:"lastHeartbeat"`
			ConnectedSpokes int        `json:"connectedSpokes"`
			ConnectedUsers  int        `json:"connectedUsers"`
		} `json:"meshHubs"`
		MeshSpokes []struct {
			ID            string     `json:"id"`
			HubID         string     `json:"hubId"`
			Name          string     `json:"name"`
			LocalNetworks []string   `json:"localNetworks"`
			TunnelIP      string     `json:"tunnelIp"`
			Status        string     `json:"status"`
			LastSeen      *time.Time `json:"lastSeen"`
			RemoteIP      string     `json:"remoteIp"`
		} `json:"meshSpokes"`
		Connections []struct {
			ID     string `json:"id"`
			Source string `json:"source"`
			Target string `json:"target"`
			Type   string `json:"type"`
			Status string `json:"status"`
		} `json:"connections"`
	}
)

// gkErrorOf decodes the admin CLI's error: {"error": "message"}.
func gkErrorOf(tb testing.TB, r *servertest.Response, status int) string {
	tb.Helper()
	var e struct {
		Error string `json:"error"`
	}
	decodeAs(tb, r, status, &e)
	if e.Error == "" {
		tb.Fatalf("no error message: %s", r.Raw)
	}
	return e.Error
}

// TestAdminViewsContract replays gatekey-admin's local-user, group, API
// key, CA, connection and topology commands.
func TestAdminViewsContract(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)

		t.Run("local users", func(t *testing.T) {
			var made gkLocalUser
			decodeAs(t, f.program(t, f.admin, "POST", "/api/v1/admin/local-users", map[string]any{
				"username": "carol", "email": "carol@example.com", "password": password, "is_admin": false}), 201, &made)
			if made.ID == "" || made.Username != "carol" || made.IsAdmin || !made.IsActive || made.CreatedAt.IsZero() {
				t.Fatalf("created = %+v", made)
			}
			var list struct {
				Users []gkLocalUser `json:"users"`
			}
			decodeAs(t, f.program(t, f.admin, "GET", "/api/v1/admin/local-users", nil), 200, &list)
			names := map[string]bool{}
			for _, u := range list.Users {
				names[u.Username] = true
			}
			if !names["carol"] || !names["alice"] || names["gw-foreign"] {
				t.Fatalf("acme's local users = %v", names)
			}
			// Refusals: a user (403), another group (404), bad input (400),
			// in the programs' error form; nothing changes.
			gkErrorOf(t, f.program(t, f.user, "GET", "/api/v1/admin/local-users", nil), 403)
			gkErrorOf(t, f.program(t, f.foreign, "DELETE", "/api/v1/admin/local-users/"+made.ID, nil), 404)
			gkErrorOf(t, f.program(t, f.foreign, "POST", "/api/v1/admin/local-users/"+made.ID+"/reset-password",
				map[string]string{"password": "another-password-1"}), 404)
			gkErrorOf(t, f.program(t, f.admin, "POST", "/api/v1/admin/local-users/"+made.ID+"/reset-password",
				map[string]string{}), 400)
			gkErrorOf(t, f.program(t, f.admin, "DELETE", "/api/v1/admin/local-users/not-a-number", nil), 404)
			gkErrorOf(t, f.program(t, f.admin, "POST", "/api/v1/admin/local-users", map[string]any{"email": "x@example.com"}), 400)
			login(t, e, "carol")

			decodeAs(t, f.program(t, f.admin, "POST", "/api/v1/admin/local-users/"+made.ID+"/reset-password",
				map[string]string{"password": "another-password-1"}), 200, &struct{}{})
			if r := e.Do(t, "POST", "/api/v1/auth/local/login", map[string]string{"username": "carol", "password": "another-password-1"}); r.Status != 200 {
				t.Fatalf("login with the new password: %d %s", r.Status, r.Raw)
			}
			decodeAs(t, f.program(t, f.admin, "DELETE", "/api/v1/admin/local-users/"+made.ID, nil), 200, &struct{}{})
			f.audited(t, "user.create", "user:"+made.ID)
			f.audited(t, "user.update", "user:"+made.ID)
			f.audited(t, "user.delete", "user:"+made.ID)
		})

		t.Run("groups", func(t *testing.T) {
			gw, _ := f.gateway(t, nil)
			net := f.network(t, "10.30.0.0/16", gw)
			f.rule(t, map[string]any{"network_id": net, "group_ids": []int64{f.alice.GroupID}})
			var list struct {
				Groups []gkGroup `json:"groups"`
			}
			decodeAs(t, f.program(t, f.admin, "GET", "/api/v1/admin/groups", nil), 200, &list)
			if len(list.Groups) != 1 || list.Groups[0].Name != "acme" || list.Groups[0].MemberCount != 3 || list.Groups[0].RuleCount != 1 {
				t.Fatalf("acme's groups = %+v", list.Groups)
			}
			var members struct {
				Members []gkUser `json:"members"`
			}
			decodeAs(t, f.program(t, f.admin, "GET", "/api/v1/admin/groups/acme/members", nil), 200, &members)
			if len(members.Members) != 3 {
				t.Fatalf("members = %+v", members.Members)
			}
			var rules struct {
				Rules []gkAccessRule `json:"rules"`
			}
			decodeAs(t, f.program(t, f.admin, "GET", "/api/v1/admin/groups/ACME/rules", nil), 200, &rules)
			if len(rules.Rules) != 1 || rules.Rules[0].NetworkID != net {
				t.Fatalf("rules = %+v", rules.Rules)
			}
			gkErrorOf(t, f.program(t, f.foreign, "GET", "/api/v1/admin/groups/acme/members", nil), 404)
			gkErrorOf(t, f.program(t, f.user, "GET", "/api/v1/admin/groups", nil), 403)
		})

		t.Run("api keys", func(t *testing.T) {
			var made struct {
				APIKey gkAPIKey `json:"api_key"`
				RawKey string   `json:"key"`
			}
			expires := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
			decodeAs(t, f.program(t, f.admin, "POST", "/api/v1/admin/api-keys", map[string]any{
				"name": "ci", "scopes": []string{"gateways:read"}, "description": "", "expires_at": expires}), 201, &made)
			if !strings.HasPrefix(made.RawKey, "gk_") || made.APIKey.ID == "" || made.APIKey.ExpiresAt == nil ||
				!strings.HasPrefix(made.RawKey, made.APIKey.KeyPrefix) {
				t.Fatalf("created = %+v", made)
			}
			var list struct {
				APIKeys []gkAPIKey `json:"api_keys"`
			}
			decodeAs(t, f.program(t, f.admin, "GET", "/api/v1/admin/api-keys", nil), 200, &list)
			if len(list.APIKeys) != 1 || list.APIKeys[0].ID != made.APIKey.ID || list.APIKeys[0].IsRevoked {
				t.Fatalf("keys = %+v", list.APIKeys)
			}
			// A key made through the admin API is admin-provisioned, by its
			// maker, as GateKey marks it.
			adminID := fmt.Sprint(f.acmeAdmin.ID)
			if k := list.APIKeys[0]; !k.IsAdminProvisioned || k.ProvisionedBy == nil || *k.ProvisionedBy != adminID {
				t.Fatalf("admin key provisioning = %v by %v, want true by %s", k.IsAdminProvisioned, k.ProvisionedBy, adminID)
			}
			// The administrator's own key from the self-service key API is not.
			own := f.do(t, f.admin, "POST", "/api/v1/apikeys", map[string]any{"name": "mine", "scopes": []string{"gateways:read"}})
			if own.Status != http.StatusCreated {
				t.Fatalf("own key: %d %s", own.Status, own.Raw)
			}
			for _, k := range listAs[gkAPIKey](t, f.program(t, f.admin, "GET", "/api/v1/admin/api-keys", nil), "api_keys") {
				if provisioned := k.ID == made.APIKey.ID; k.IsAdminProvisioned != provisioned || (k.ProvisionedBy != nil) != provisioned {
					t.Fatalf("key %s (%s): is_admin_provisioned %v, provisioned_by %v", k.ID, k.Name, k.IsAdminProvisioned, k.ProvisionedBy)
				}
			}
			var one gkAPIKey
			decodeAs(t, f.program(t, f.admin, "GET", "/api/v1/admin/api-keys/"+made.APIKey.ID, nil), 200, &one)
			// The new key works as the admin CLI uses it.
			decodeAs(t, f.program(t, made.RawKey, "GET", "/api/v1/admin/gateways", nil), 200, &struct{}{})

			gkErrorOf(t, f.program(t, f.foreign, "DELETE", "/api/v1/admin/api-keys/"+made.APIKey.ID,
				map[string]string{"reason": "x"}), 404)
			gkErrorOf(t, f.program(t, f.user, "GET", "/api/v1/admin/api-keys", nil), 403)
			decodeAs(t, f.program(t, f.admin, "DELETE", "/api/v1/admin/api-keys/"+made.APIKey.ID,
				map[string]string{"reason": "rotated"}), 200, &one)
			if !one.IsRevoked || one.RevokedAt == nil {
				t.Fatalf("revoked = %+v", one)
			}
			if r := f.program(t, made.RawKey, "GET", "/api/v1/admin/gateways", nil); r.Status != http.StatusUnauthorized {
				t.Fatalf("a revoked key: %d", r.Status)
			}
		})

		t.Run("ca", func(t *testing.T) {
			var ca gkCA
			decodeAs(t, f.program(t, f.admin, "GET", "/api/v1/admin/ca", nil), 200, &ca)
			if ca.ID == "" || !ca.IsActive || !ca.IsCurrent || ca.SerialNumber == "" || !ca.NotAfter.After(time.Now()) {
				t.Fatalf("ca = %+v", ca)
			}
			var list struct {
				CAs []gkCA `json:"cas"`
			}
			decodeAs(t, f.program(t, f.admin, "GET", "/api/v1/admin/ca/list", nil), 200, &list)
			if len(list.CAs) != 1 || list.CAs[0].SerialNumber != ca.SerialNumber {
				t.Fatalf("cas = %+v", list.CAs)
			}
			gkErrorOf(t, f.program(t, f.user, "GET", "/api/v1/admin/ca", nil), 403)
		})

		t.Run("connections and topology", func(t *testing.T) {
			gw, token := f.gateway(t, map[string]any{"name": "edge-topo"})
			spoke, _ := f.gateway(t, map[string]any{"name": "edge-spoke"})
			net := f.network(t, "10.40.0.0/16", gw)
			f.rule(t, map[string]any{"network_id": net, "user_ids": []int64{f.alice.ID}})
			hub := want(t, f.do(t, f.admin, "POST", "/api/v1/admin/mesh/hubs", map[string]any{"name": "core", "gateway_id": gw,
				"spokes": []map[string]string{{"type": "gateway", "id": spoke}, {"type": "network", "id": net}}}), http.StatusCreated)
			cert := f.issue(t, f.alice)
			if r := f.agent(t, token, "connect", map[string]any{"serial": string(cert.Certificate.Serial), "common_name": "alice",
				"client_ip": "198.51.100.7", "vpn_address": "10.8.0.6"}); r.Status != 201 {
				t.Fatalf("connect: %d %s", r.Status, r.Raw)
			}
			var conns struct {
				Connections []gkConnection `json:"connections"`
			}
			decodeAs(t, f.program(t, f.admin, "GET", "/api/v1/admin/connections", nil), 200, &conns)
			if len(conns.Connections) != 1 || conns.Connections[0].GatewayName != "edge-topo" ||
				conns.Connections[0].VPNAddress != "10.8.0.6" || conns.Connections[0].UserID != fmt.Sprint(f.alice.ID) {
				t.Fatalf("connections = %+v", conns.Connections)
			}
			var foreign struct {
				Connections []gkConnection `json:"connections"`
			}
			decodeAs(t, f.program(t, f.foreign, "GET", "/api/v1/admin/connections", nil), 200, &foreign)
			if len(foreign.Connections) != 0 {
				t.Fatalf("globex sees acme's connections: %+v", foreign.Connections)
			}

			var topo gkTopology
			decodeAs(t, f.program(t, f.admin, "GET", "/api/v1/admin/topology", nil), 200, &topo)
			clients := map[string]int{}
			for _, g := range topo.Gateways {
				clients[g.Name] = g.ClientCount
			}
			if clients["edge-topo"] != 1 || len(topo.MeshHubs) != 1 || topo.MeshHubs[0].ID != hub["id"] ||
				topo.MeshHubs[0].ConnectedSpokes != 2 || len(topo.MeshSpokes) != 2 || len(topo.Connections) != 3 {
				t.Fatalf("topology = %+v", topo)
			}
			var other gkTopology
			decodeAs(t, f.program(t, f.foreign, "GET", "/api/v1/admin/topology", nil), 200, &other)
			if len(other.Gateways) != 0 || len(other.MeshHubs) != 0 {
				t.Fatalf("globex sees acme's topology: %+v", other)
			}
			gkErrorOf(t, f.program(t, f.user, "GET", "/api/v1/admin/topology", nil), 403)

			// Seed clients get the seed's envelopes.
			d := want(t, f.do(t, f.admin, "GET", "/api/v1/admin/topology", nil), 200)
			if _, ok := d["meshHubs"]; !ok {
				t.Fatalf("seed topology: %v", d)
			}
			r := f.do(t, f.admin, "GET", "/api/v1/admin/connections", nil)
			if r.Status != 200 || r.JSON["data"] == nil || r.JSON["meta"] == nil || r.JSON["connections"] != nil {
				t.Fatalf("seed connections: %s", r.Raw)
			}
		})
	})
}
