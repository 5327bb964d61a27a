package gatekey_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"netkeep/internal/apikey"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/server/servertest"
)

// Contract tests: each replays a request of GateKey's own programs
// (gatekey-gateway and its OpenVPN hooks, the gatekey client, gatekey-admin)
// as their public source sends it (Go's default User-Agent, the token in
// the body, their field names) and decodes the answer into structs with
// the programs' own field names and types, as they do: a field of the
// wrong JSON type fails the decode, as it would fail the program.

// goClient is the User-Agent net/http sends when a program sets none.
var goClient = []string{"User-Agent", "Go-http-client/1.1"}

// decodeAs decodes r's body into v as the program does, failing tb when
// the program would fail.
func decodeAs(tb testing.TB, r *servertest.Response, status int, v any) {
	tb.Helper()
	if r.Status != status {
		tb.Fatalf("status = %d, want %d: %s", r.Status, status, r.Raw)
	}
	if err := json.Unmarshal(r.Raw, v); err != nil {
		tb.Fatalf("the program could not decode %s: %v", r.Raw, err)
	}
}

// program calls path as one of GateKey's programs with the bearer token.
func (f *gwFixture) program(tb testing.TB, token, method, path string, body any) *servertest.Response {
	tb.Helper()
	h := append([]string{}, goClient...)
	if token != "" {
		h = append(h, "Authorization", "Bearer "+token)
	}
	return f.e.Do(tb, method, path, body, h...)
}

// hook calls a gateway endpoint as gatekey-gateway does: token in the
// body, no X-Gateway-Token.
func (f *gwFixture) hook(tb testing.TB, endpoint string, body map[string]any) *servertest.Response {
	tb.Helper()
	return f.e.Do(tb, "POST", "/api/v1/gateway/"+endpoint, body, goClient...)
}

// The answers as gatekey-gateway declares them.
type (
	gkHeartbeat struct {
		Status           string `json:"status"`
		GatewayID        string `json:"gateway_id"`
		GatewayName      string `json:"gateway_name"`
		ConfigVersion    string `json:"config_version"`
		NeedsReprovision bool   `json:"needs_reprovision"`
	}
	gkProvision struct {
		GatewayID      string `json:"gateway_id"`
		GatewayName    string `json:"gateway_name"`
		CACert         string `json:"ca_cert"`
		ServerCert     string `json:"server_cert"`
		ServerKey      string `json:"server_key"`
		VPNSubnet      string `json:"vpn_subnet"`
		VPNNetwork     string `json:"vpn_network"`
		VPNNetmask     string `json:"vpn_netmask"`
		VPNPort        int    `json:"vpn_port"`
		VPNProtocol    string `json:"vpn_protocol"`
		CryptoProfile  string `json:"crypto_profile"`
		TLSAuthEnabled bool   `json:"tls_auth_enabled"`
		TLSAuthKey     string `json:"tls_auth_key,omitempty"`
	}
	gkVerify struct {
		Allowed     bool   `json:"allowed"`
		Reason      string `json:"reason,omitempty"`
		GatewayID   string `json:"gateway_id,omitempty"`
		GatewayName string `json:"gateway_name,omitempty"`
		Error       string `json:"error,omitempty"`
	}
	gkHookResponse struct {
		Allow        bool     `json:"allow"`
		Message      string   `json:"message,omitempty"`
		ClientConfig []string `json:"client_config,omitempty"`
	}
	gkClientRules struct {
		UserID   string `json:"user_id"`
		ClientIP string `json:"client_ip"`
		Allowed  []struct {
			Type     string `json:"type"`
			Value    string `json:"value"`
			Port     string `json:"port"`
			Protocol string `json:"protocol"`
		} `json:"allowed"`
		Default string `json:"default"`
	}
)

// TestGatewayAgentContract replays gatekey-gateway's life: first heartbeat,
// provisioning, the auth-user-pass-verify, client-connect and
// client-disconnect hooks, the per-client rule refresh.
func TestGatewayAgentContract(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		gw, token := f.gateway(t, map[string]any{"name": "us-east", "vpn_subnet": "10.8.0.0/24"})
		net := f.network(t, "10.20.0.0/16", gw)
		f.rule(t, map[string]any{"name": "a-web", "network_id": net, "destination": "10.20.1.0/24", "group_ids": []int64{f.alice.GroupID},
			"protocol": "tcp", "ports": "443,8000-8080"})
		f.rule(t, map[string]any{"name": "b-host", "network_id": net, "destination": "10.20.9.9/32", "user_ids": []int64{f.alice.ID}})

		// The first heartbeat: no local version, so the agent provisions
		// when config_version is a non-empty string.
		var hb gkHeartbeat
		decodeAs(t, f.hook(t, "heartbeat", map[string]any{"token": token, "active_clients": 0, "openvpn_running": false}), 200, &hb)
		if hb.ConfigVersion == "" || !hb.NeedsReprovision || hb.GatewayID != gw || hb.GatewayName != "us-east" {
			t.Fatalf("heartbeat = %+v", hb)
		}
		var prov gkProvision
		decodeAs(t, f.hook(t, "provision", map[string]any{"token": token}), 200, &prov)
		if !prov.TLSAuthEnabled || !strings.Contains(prov.TLSAuthKey, "-----BEGIN OpenVPN Static key V1-----") ||
			!strings.Contains(prov.CACert, "BEGIN CERTIFICATE") || !strings.Contains(prov.ServerKey, "PRIVATE KEY") ||
			prov.VPNNetwork != "10.8.0.0" || prov.VPNNetmask != "255.255.255.0" || prov.VPNPort != 1194 || prov.VPNProtocol != "udp" {
			t.Fatalf("provision = %+v", prov)
		}
		decodeAs(t, f.hook(t, "heartbeat", map[string]any{"token": token, "config_version": hb.ConfigVersion, "openvpn_running": true}), 200, &hb)
		if hb.NeedsReprovision {
			t.Fatalf("still asked to reprovision after provisioning: %+v", hb)
		}

		// auth-user-pass-verify: the hook's request, from OpenVPN's env.
		cert := f.issue(t, f.alice)
		serial := string(cert.Certificate.Serial)
		verify := func(body map[string]any) gkVerify {
			t.Helper()
			body["token"] = token
			var v gkVerify
			decodeAs(t, f.hook(t, "verify", body), 200, &v)
			return v
		}
		if v := verify(map[string]any{"common_name": "alice", "username": "alice@example.com", "password": "cfg-x",
			"serial_number": serial, "client_ip": "198.51.100.7"}); !v.Allowed || v.GatewayID != gw {
			t.Fatalf("verify of a good certificate = %+v", v)
		}
		if v := verify(map[string]any{"common_name": "", "serial_number": ""}); !v.Allowed {
			t.Fatalf("tls-verify at depth 1 (issuer, no common name) = %+v", v)
		}
		if v := verify(map[string]any{"common_name": "mallory", "serial_number": serial}); v.Allowed || v.Reason == "" {
			t.Fatalf("verify with another common name = %+v, want a refusal with its reason", v)
		}
		if v := verify(map[string]any{"common_name": "alice", "serial_number": "0123456789ABCDEF"}); v.Allowed || v.Reason == "" {
			t.Fatalf("verify of an unknown serial = %+v", v)
		}
		// A wrong token: the hook still decodes the answer (error is text).
		var bad gkVerify
		decodeAs(t, f.hook(t, "verify", map[string]any{"token": "gwt_wrong", "common_name": "alice"}), 401, &bad)
		if bad.Allowed || bad.Error == "" {
			t.Fatalf("verify with a wrong token = %+v", bad)
		}

		// client-connect: the session, and routes to push.
		var conn gkHookResponse
		decodeAs(t, f.hook(t, "connect", map[string]any{"token": token, "common_name": "alice", "client_ip": "198.51.100.7",
			"vpn_ipv4": "10.8.0.6", "serial_number": serial}), 201, &conn)
		wantLines := []string{`push "route 10.20.1.0 255.255.255.0"`, `push "route 10.20.9.9 255.255.255.255"`}
		if !conn.Allow || strings.Join(conn.ClientConfig, "\n") != strings.Join(wantLines, "\n") {
			t.Fatalf("connect = %+v, want routes %q", conn, wantLines)
		}
		r := f.do(t, f.admin, "GET", "/api/v1/admin/sessions?active=true", nil)
		list, _ := r.JSON["data"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["vpn_address"] != "10.8.0.6" || list[0].(map[string]any)["serial"] != serial {
			t.Fatalf("sessions after connect: %s", r.Raw)
		}

		// The rule refresh: user_id is the certificate's common name,
		// client_ip the tunnel address.
		rules := func() gkClientRules {
			t.Helper()
			var cr gkClientRules
			decodeAs(t, f.hook(t, "client-rules", map[string]any{"token": token, "user_id": "alice", "user_email": "",
				"user_groups": nil, "client_ip": "10.8.0.6"}), 200, &cr)
			return cr
		}
		cr := rules()
		got := []string{}
		for _, a := range cr.Allowed {
			got = append(got, a.Type+" "+a.Value+" "+a.Port+" "+a.Protocol)
		}
		wantRules := "cidr 10.20.1.0/24 443 tcp|cidr 10.20.1.0/24 8000-8080 tcp|ip 10.20.9.9  "
		if strings.Join(got, "|") != wantRules || cr.Default != "deny" || cr.UserID != "alice" || cr.ClientIP != "10.8.0.6" {
			t.Fatalf("client-rules = %+v (%q), want %q", cr, strings.Join(got, "|"), wantRules)
		}
		// Revoking the certificate empties the rules at the next refresh.
		want(t, f.do(t, f.admin, "POST", "/api/v1/admin/pki/revoke", map[string]any{"serial": serial, "reason": "keyCompromise"}), 200)
		if cr := rules(); len(cr.Allowed) != 0 || cr.Default != "deny" {
			t.Fatalf("client-rules after revocation = %+v", cr)
		}

		// client-disconnect carries no serial: the session is found by name
		// and address.
		r = f.hook(t, "disconnect", map[string]any{"token": token, "common_name": "alice", "client_ip": "198.51.100.7",
			"duration_seconds": 60, "bytes_sent": 100, "bytes_received": 200})
		if r.Status >= 400 {
			t.Fatalf("disconnect: %d %s", r.Status, r.Raw)
		}
		r = f.do(t, f.admin, "GET", "/api/v1/admin/sessions?active=true", nil)
		if list, _ := r.JSON["data"].([]any); len(list) != 0 {
			t.Fatalf("session still open after disconnect: %s", r.Raw)
		}
		if r := f.hook(t, "disconnect", map[string]any{"token": token, "common_name": "alice"}); r.Status != 404 {
			t.Fatalf("second disconnect: %d %s", r.Status, r.Raw)
		}
		// The rule list of a client with no session allows nothing.
		if cr := rules(); len(cr.Allowed) != 0 {
			t.Fatalf("client-rules without a session = %+v", cr)
		}

		// The agent presented its token in the body: the gateway's profiles
		// are in the form its OpenVPN server (tls-auth ta.key 0,
		// auth-user-pass-verify) accepts.
		f.audited(t, "gateway.agent", "gateway:"+gw)
		gen := f.do(t, f.user, "POST", "/api/v1/configs/generate", map[string]any{"gateway_id": gw})
		if gen.Status != 200 {
			t.Fatalf("generate: %d %s", gen.Status, gen.Raw)
		}
		cfgID, _ := gen.JSON["config_id"].(string)
		profile := string(f.do(t, f.user, "GET", "/api/v1/configs/download/"+cfgID, nil).Raw)
		for _, want := range []string{"\nauth SHA384\n", "\nkey-direction 1\n", "<tls-auth>\n#\n# 2048 bit OpenVPN static key",
			"<auth-user-pass>\nalice\n" + cfgID + "\n</auth-user-pass>\n", "<cert>"} {
			if !strings.Contains(profile, want) {
				t.Fatalf("profile lacks %q:\n%s", want, profile)
			}
		}
		if strings.Contains(profile, "tls-crypt") {
			t.Fatalf("profile for a GateKey-agent gateway uses tls-crypt:\n%s", profile)
		}
	})
}

// The gatekey client's and gatekey-admin's types, as their source
// declares them.
type (
	gkGateway struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		Hostname    string `json:"hostname"`
		Description string `json:"description,omitempty"`
		Status      string `json:"status"`
	}
	gkAdminGateway struct {
		ID            string     `json:"id"`
		Name          string     `json:"name"`
		Endpoint      string     `json:"endpoint"`
		Port          int        `json:"port"`
		Protocol      string     `json:"protocol"`
		Status        string     `json:"status"`
		LastHeartbeat *time.Time `json:"last_heartbeat,omitempty"`
		IsProvisioned bool       `json:"is_provisioned"`
		CreatedAt     time.Time  `json:"created_at"`
		UpdatedAt     time.Time  `json:"updated_at"`
	}
	gkNetwork struct {
		ID        string    `json:"id"`
		Name      string    `json:"name"`
		CIDR      string    `json:"cidr"`
		GatewayID string    `json:"gateway_id"`
		CreatedAt time.Time `json:"created_at"`
	}
	gkAccessRule struct {
		ID           string    `json:"id"`
		Name         string    `json:"name"`
		NetworkID    string    `json:"network_id"`
		AllowedCIDRs []string  `json:"allowed_cidrs"`
		IsActive     bool      `json:"is_active"`
		CreatedAt    time.Time `json:"created_at"`
	}
	gkUser struct {
		ID          string     `json:"id"`
		Email       string     `json:"email"`
		Name        string     `json:"name"`
		Groups      []string   `json:"groups"`
		IsAdmin     bool       `json:"is_admin"`
		IsActive    bool       `json:"is_active"`
		LastLoginAt *time.Time `json:"last_login_at,omitempty"`
		CreatedAt   time.Time  `json:"created_at"`
		UpdatedAt   time.Time  `json:"updated_at"`
	}
)

// TestAdminProgramContract replays gatekey-admin: create a gateway, a
// network and an access rule in its spelling, list them under its keys,
// get the bare objects, and read an error as text.
func TestAdminProgramContract(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		var gw gkAdminGateway
		decodeAs(t, f.program(t, f.admin, "POST", "/api/v1/admin/gateways", map[string]any{"name": "us-east",
			"endpoint": "vpn-us-east.example.com", "port": 1194, "protocol": "udp", "description": "", "session_enabled": true}), 201, &gw)
		if gw.ID == "" || gw.Endpoint != "vpn-us-east.example.com" || gw.IsProvisioned || gw.CreatedAt.IsZero() {
			t.Fatalf("created gateway = %+v", gw)
		}
		var net gkNetwork
		decodeAs(t, f.program(t, f.admin, "POST", "/api/v1/admin/networks", map[string]any{"name": "office",
			"cidr": "10.20.0.0/16", "gateway_id": gw.ID, "description": ""}), 201, &net)
		if net.GatewayID != gw.ID {
			t.Fatalf("created network = %+v", net)
		}
		var rule gkAccessRule
		decodeAs(t, f.program(t, f.admin, "POST", "/api/v1/admin/access-rules", map[string]any{"name": "office-web",
			"network_id": net.ID, "groups": []string{"ACME"}, "allowed_cidrs": []string{"10.20.1.0/24"}, "priority": 100,
			"description": "", "is_active": true}), 201, &rule)
		if len(rule.AllowedCIDRs) != 1 || rule.AllowedCIDRs[0] != "10.20.1.0/24" || !rule.IsActive {
			t.Fatalf("created rule = %+v", rule)
		}
		// The rule names acme by its name: alice (of acme) may use the gateway.
		gws := struct {
			Gateways []gkGateway `json:"gateways"`
		}{}
		decodeAs(t, f.program(t, f.user, "GET", "/api/v1/gateways", nil), 200, &gws)
		if len(gws.Gateways) != 1 || gws.Gateways[0].ID != gw.ID || gws.Gateways[0].Hostname != "vpn-us-east.example.com" {
			t.Fatalf("the client's gateway list = %+v", gws)
		}

		for _, c := range []struct {
			path string
			into any
			n    func() int
		}{
			{"/api/v1/admin/gateways", &struct {
				Gateways []gkAdminGateway `json:"gateways"`
			}{}, nil},
			{"/api/v1/admin/networks", &struct {
				Networks []gkNetwork `json:"networks"`
			}{}, nil},
			{"/api/v1/admin/access-rules", &struct {
				AccessRules []gkAccessRule `json:"access_rules"`
			}{}, nil},
			{"/api/v1/admin/users", &struct {
				Users []gkUser `json:"users"`
			}{}, nil},
		} {
			t.Run(c.path, func(t *testing.T) {
				r := f.program(t, f.admin, "GET", c.path, nil)
				decodeAs(t, r, 200, c.into)
				var keys map[string]json.RawMessage
				_ = json.Unmarshal(r.Raw, &keys)
				for k, v := range keys {
					if k != "data" && k != "meta" && k != "total" && (len(v) < 3 || v[0] != '[') {
						t.Fatalf("list under %q is empty or no list: %s", k, r.Raw)
					}
				}
			})
		}
		users := struct {
			Users []gkUser `json:"users"`
		}{}
		decodeAs(t, f.program(t, f.admin, "GET", "/api/v1/admin/users", nil), 200, &users)
		for _, u := range users.Users {
			if u.ID == "" || len(u.Groups) != 1 || u.Groups[0] != "acme" || u.CreatedAt.IsZero() {
				t.Fatalf("user as gatekey-admin reads it: %+v", u)
			}
		}
		var got gkAdminGateway
		decodeAs(t, f.program(t, f.admin, "GET", "/api/v1/admin/gateways/"+gw.ID, nil), 200, &got)
		if got.ID != gw.ID {
			t.Fatalf("get gateway = %+v", got)
		}

		// Errors are text; another group's objects stay invisible.
		var errBody struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		decodeAs(t, f.program(t, f.foreign, "GET", "/api/v1/admin/gateways/"+gw.ID, nil), 404, &errBody)
		if errBody.Error == "" {
			t.Fatalf("error as gatekey-admin reads it: %+v", errBody)
		}
		decodeAs(t, f.program(t, f.admin, "POST", "/api/v1/admin/access-rules", map[string]any{"name": "two",
			"network_id": net.ID, "allowed_cidrs": []string{"10.20.1.0/24", "10.20.2.0/24"}}), 400, &errBody)
		decodeAs(t, f.program(t, f.admin, "POST", "/api/v1/admin/access-rules", map[string]any{"name": "nogroup",
			"network_id": net.ID, "groups": []string{"globex"}}), 400, &errBody)
		if !strings.Contains(errBody.Error, "globex") {
			t.Fatalf("a group of another tenant was resolved: %+v", errBody)
		}
		// The seed's shapes for every other client, on the same routes.
		r := f.do(t, f.admin, "GET", "/api/v1/admin/gateways/"+gw.ID, nil)
		if d := want(t, r, 200); d["id"] != gw.ID {
			t.Fatalf("seed client's get: %s", r.Raw)
		}
		wantError(t, f.do(t, f.foreign, "GET", "/api/v1/admin/gateways/"+gw.ID, nil), 404, "not_found")
		if r := f.do(t, f.admin, "GET", "/api/v1/admin/gateways", nil); r.JSON["gateways"] != nil || r.JSON["meta"] == nil {
			t.Fatalf("seed client's list: %s", r.Raw)
		}
	})
}

// TestClientProgramContract replays the gatekey client: the API key check,
// server info, and generating and downloading a profile.
func TestClientProgramContract(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		gw, token := f.gateway(t, map[string]any{"name": "us-east"})
		net := f.network(t, "10.20.0.0/16", gw)
		f.rule(t, map[string]any{"network_id": net, "user_ids": []int64{f.alice.ID}})
		f.agent(t, token, "provision", nil)

		p := &authz.Principal{Kind: authz.KindUser, UserID: f.alice.ID, Username: "alice", Role: authz.User, GroupID: f.alice.GroupID}
		k, secret, err := e.Server.APIKeys.Create(context.Background(), p, audit.Source{}, apikey.NewKey{Name: "laptop",
			Scopes: []string{"gateways:read"}, Format: apikey.FormatGateKey})
		if err != nil {
			t.Fatal(err)
		}
		var check struct {
			User struct {
				Email string `json:"email"`
				Name  string `json:"name"`
			} `json:"user"`
			APIKey struct {
				Name string `json:"name"`
			} `json:"api_key"`
		}
		decodeAs(t, f.program(t, secret, "GET", "/api/v1/auth/api-key/validate", nil), 200, &check)
		if check.APIKey.Name != k.Name || check.User.Name == "" {
			t.Fatalf("api-key/validate = %+v", check)
		}
		if r := f.program(t, "gk_notakey", "GET", "/api/v1/auth/api-key/validate", nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("a bad key: %d %s", r.Status, r.Raw)
		}
		var info struct {
			RequireFIPS bool   `json:"require_fips"`
			Version     string `json:"version"`
		}
		decodeAs(t, f.program(t, secret, "GET", "/api/v1/server/info", nil), 200, &info)
		if info.RequireFIPS {
			t.Fatal("server/info requires FIPS")
		}

		// connect: generate (no protocol), then download from downloadUrl.
		var gen struct {
			ID          string `json:"id"`
			DownloadURL string `json:"downloadUrl"`
			FileName    string `json:"fileName"`
		}
		decodeAs(t, f.program(t, secret, "POST", "/api/v1/configs/generate", fmt.Sprintf(`{"gateway_id": "%s"}`, gw)), 200, &gen)
		if gen.ID == "" || !strings.HasSuffix(gen.FileName, ".ovpn") || gen.DownloadURL != "/api/v1/configs/download/"+gen.ID {
			t.Fatalf("generate = %+v", gen)
		}
		r := f.program(t, secret, "GET", gen.DownloadURL, nil)
		if r.Status != 200 || !strings.Contains(string(r.Raw), "<cert>") {
			t.Fatalf("download: %d %.200s", r.Status, r.Raw)
		}
	})
}

// TestCLIBrowserLogin walks `gatekey login`: the program opens the page
// with its loopback callback; the person signs in; the browser lands on
// the callback with tokens that work.
func TestCLIBrowserLogin(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		cb := "http://127.0.0.1:53682/callback"
		page := e.Do(t, "GET", "/api/v1/auth/cli/login?callback="+url.QueryEscape(cb), nil)
		if page.Status != 200 || !strings.Contains(string(page.Raw), `name="callback" value="http://127.0.0.1:53682/callback"`) {
			t.Fatalf("login page: %d %s", page.Status, page.Raw)
		}
		noFollow := *e.Client
		noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		post := func(form url.Values) *http.Response {
			t.Helper()
			res, err := noFollow.PostForm(e.URL+"/api/v1/auth/cli/complete", form)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = res.Body.Close() })
			return res
		}
		for _, c := range []struct {
			name   string
			form   url.Values
			status int
		}{
			{"400/callback elsewhere", url.Values{"callback": {"https://evil.example/cb"}, "username": {"alice"}, "password": {password}}, 400},
			{"400/https loopback", url.Values{"callback": {"https://127.0.0.1:1/cb"}, "username": {"alice"}, "password": {password}}, 400},
			{"401/wrong password", url.Values{"callback": {cb}, "username": {"alice"}, "password": {"nope"}}, 401},
			{"400/no password", url.Values{"callback": {cb}, "username": {"alice"}}, 400},
		} {
			t.Run(c.name, func(t *testing.T) {
				if res := post(c.form); res.StatusCode != c.status || res.Header.Get("Location") != "" {
					t.Fatalf("status %d, Location %q", res.StatusCode, res.Header.Get("Location"))
				}
			})
		}
		if r := e.Do(t, "GET", "/api/v1/auth/cli/login?callback="+url.QueryEscape("http://10.0.0.1/cb"), nil); r.Status != 400 {
			t.Fatalf("a non-loopback callback's page: %d", r.Status)
		}

		res := post(url.Values{"callback": {cb}, "username": {"alice"}, "password": {password}})
		loc, err := url.Parse(res.Header.Get("Location"))
		if res.StatusCode != http.StatusSeeOther || err != nil || loc.Host != "127.0.0.1:53682" || loc.Path != "/callback" {
			t.Fatalf("sign-in: %d, Location %q", res.StatusCode, res.Header.Get("Location"))
		}
		q := loc.Query()
		if q.Get("token") == "" || q.Get("refresh_token") == "" || q.Get("expires_in") == "" {
			t.Fatalf("callback query lacks tokens: %v", q)
		}
		gws := struct {
			Gateways []gkGateway `json:"gateways"`
		}{}
		decodeAs(t, f.program(t, q.Get("token"), "GET", "/api/v1/gateways", nil), 200, &gws)
	})
}

// TestWebLoginCookie: GateKey's web UI signs in locally and then reads its
// session through the cookie alone.
func TestWebLoginCookie(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		newGWFixture(t, e)
		res, err := e.Client.Post(e.URL+"/api/v1/auth/local/login", "application/json",
			strings.NewReader(`{"username": "alice", "password": "`+password+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		var cookie *http.Cookie
		for _, c := range res.Cookies() {
			if c.Name == "netkeep_session" {
				cookie = c
			}
		}
		if res.StatusCode != 200 || cookie == nil || !cookie.HttpOnly {
			t.Fatalf("local login: %d, cookie %+v", res.StatusCode, cookie)
		}
		r := e.Do(t, "GET", "/api/v1/auth/session", nil, "Cookie", cookie.Name+"="+cookie.Value)
		d := want(t, r, 200)
		if u, _ := d["user"].(map[string]any); u["username"] != "alice" {
			t.Fatalf("session by cookie: %s", r.Raw)
		}
		var providers struct {
			Providers []struct {
				Type, Name, LoginURL string
			} `json:"providers"`
		}
		decodeAs(t, e.Do(t, "GET", "/api/v1/auth/providers", nil), 200, &providers)
		if len(providers.Providers) == 0 || providers.Providers[len(providers.Providers)-1].Type != "local" {
			t.Fatalf("providers = %+v", providers)
		}
	})
}

// TestCLILoginFromBrowserSession walks `gatekey login` in a browser that
// is already signed in: the page offers to continue as that user, and its
// button hands the program tokens of a session of its own, no password
// asked; only netkeep's own page may press it.
func TestCLILoginFromBrowserSession(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		web := e.WebSession(t, "alice", password)
		cb := "http://127.0.0.1:53682/callback"
		page := e.Do(t, "GET", "/api/v1/auth/cli/login?callback="+url.QueryEscape(cb), nil, servertest.Cookie(web)...)
		if page.Status != 200 || !strings.Contains(string(page.Raw), "Continue as alice") ||
			!strings.Contains(string(page.Raw), `name="use_session" value="1"`) {
			t.Fatalf("login page for a signed-in browser: %d %s", page.Status, page.Raw)
		}
		// GateKey's web UI sends a signed-in browser to cli/complete.
		page = e.Do(t, "GET", "/api/v1/auth/cli/complete?callback="+url.QueryEscape(cb), nil, servertest.Cookie(web)...)
		if page.Status != 200 || !strings.Contains(string(page.Raw), "Continue as alice") {
			t.Fatalf("cli/complete page for a signed-in browser: %d %s", page.Status, page.Raw)
		}
		if r := e.Do(t, "GET", "/api/v1/auth/cli/login?callback="+url.QueryEscape(cb), nil); strings.Contains(string(r.Raw), "Continue as") {
			t.Fatalf("a browser without a session is offered one: %s", r.Raw)
		}

		noFollow := *e.Client
		noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		post := func(t *testing.T, headers ...string) *http.Response {
			t.Helper()
			form := url.Values{"callback": {cb}, "use_session": {"1"}}
			req, err := http.NewRequest("POST", e.URL+"/api/v1/auth/cli/complete", strings.NewReader(form.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for i := 0; i+1 < len(headers); i += 2 {
				req.Header.Set(headers[i], headers[i+1])
			}
			res, err := noFollow.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = res.Body.Close() })
			return res
		}
		cookie := servertest.Cookie(web)
		for _, c := range []struct {
			name    string
			headers []string
			status  int
		}{
			{"403/from another site", append([]string{"Origin", "https://evil.example"}, cookie...), 403},
			{"403/no origin at all", cookie, 403},
			{"401/no cookie", []string{"Origin", e.URL}, 401},
			{"401/bad cookie", []string{"Origin", e.URL, "Cookie", "netkeep_session=not-a-token"}, 401},
		} {
			t.Run(c.name, func(t *testing.T) {
				if res := post(t, c.headers...); res.StatusCode != c.status || res.Header.Get("Location") != "" {
					t.Fatalf("status %d, Location %q", res.StatusCode, res.Header.Get("Location"))
				}
			})
		}

		logins := func() int {
			entries, err := e.DB.Read().ListAudit(context.Background(), audit.Query{Action: "auth.login", Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, en := range entries {
				if en.Target == fmt.Sprintf("user:%d", f.alice.ID) {
					n++
				}
			}
			return n
		}
		before := logins()
		res := post(t, append([]string{"Origin", e.URL}, cookie...)...)
		loc, err := url.Parse(res.Header.Get("Location"))
		if res.StatusCode != http.StatusSeeOther || err != nil || loc.Host != "127.0.0.1:53682" {
			t.Fatalf("continue as alice: %d, Location %q", res.StatusCode, res.Header.Get("Location"))
		}
		q := loc.Query()
		if q.Get("token") == "" || q.Get("refresh_token") == "" || q.Get("email") != f.alice.Email {
			t.Fatalf("callback query: %v", q)
		}
		var who gkValidation
		decodeAs(t, f.program(t, q.Get("token"), "GET", "/api/v1/auth/api-key/validate", nil), 200, &who)
		if who.User.Email != f.alice.Email {
			t.Fatalf("the program's token is %+v's, want alice's", who.User)
		}
		// The program's session is a session of its own, audited.
		if n := logins(); n != before+1 {
			t.Fatalf("%d auth.login entries for alice after continuing, want %d", n, before+1)
		}
	})
}
