package api_test

import (
	"testing"

	"netkeep/internal/api"
)

// TestDialectFor walks DESIGN.md's ownership table, including the places
// where a longer entry overrides a shorter one.
func TestDialectFor(t *testing.T) {
	tests := []struct {
		path string
		want api.Dialect
	}{
		{"/api/auth/login", api.NetKey},
		{"/api/auth/refresh", api.NetKey},
		{"/api/v1/psks", api.NetKey},
		{"/api/v1/psks/42", api.NetKey},
		{"/api/v1/psks/42/endpoints", api.NetKey},
		{"/api/v1/endpoints", api.NetKey},
		{"/api/v1/users", api.NetKey},
		{"/api/v1/users/7", api.NetKey},
		{"/api/v1/radius/clients", api.NetKey},

		{"/api/networks", api.Netmaker},
		{"/api/networks/net1/keys", api.Netmaker},
		{"/api/network", api.Netmaker},
		{"/api/nodes/net1/abc", api.Netmaker},
		{"/api/users/adm/createsuperadmin", api.Netmaker},
		{"/api/server/getconfig", api.Netmaker},
		{"/meshclient/files/linux/amd64/netclient", api.Netmaker},

		{"/api/v1/gateways", api.GateKey},
		{"/api/v1/admin/users", api.GateKey},
		{"/api/v1/gateway/heartbeat", api.GateKey},
		{"/api/v1/pki/crl", api.GateKey},
		{"/api/v1/configs/generate", api.GateKey},
		{"/api/v1/mesh/hubs", api.GateKey},
		{"/api/v1/openapi.json", api.GateKey},
		{"/api/v1/auth/local/login", api.GateKey},
		{"/api/v1/auth/oidc/callback", api.GateKey},
		{"/api/v1/auth/session", api.GateKey},

		{"/api/v1/api-keys", api.NetRecon},
		{"/api/v1/api-keys/3/revoke", api.NetRecon},
		{"/api/v1/auth/oauth2/token", api.NetRecon},

		{"/healthz", api.Nekzus},
		{"/livez", api.Nekzus},
		{"/readyz", api.Nekzus},
		{"/metrics", api.Nekzus},
		{"/api/v1/auth/login", api.Nekzus},
		{"/api/v1/auth/refresh", api.Nekzus},
		{"/api/v1/auth/setup", api.Nekzus},
		{"/api/v1/auth/sessions", api.Nekzus},
		{"/api/v1/apikeys", api.Nekzus},
		{"/api/v1/devices/d1", api.Nekzus},
		{"/api/v1/apps", api.Nekzus},
		{"/api/v1/routes/r1", api.Nekzus},
		{"/api/v1/discovery/proposals", api.Nekzus},
		{"/api/v1/ws", api.Nekzus},
		{"/api/v1/stats", api.Nekzus},
		{"/api/v1/activity/recent", api.Nekzus},
		{"/api/v1/audit-logs", api.Nekzus},
		{"/apps/grafana/", api.Nekzus},

		{"/", api.Own},
		{"/api/v1/groups", api.Own},
		{"/api/v1/groups/1/members", api.Own},
		{"/api/v1/nothing", api.Own},
		{"/healthz/extra", api.Own},
		{"/api/v1/ws/extra", api.Own},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := api.DialectFor(tt.path); got != tt.want {
				t.Errorf("DialectFor(%q) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
}

func TestDialectString(t *testing.T) {
	tests := []struct {
		d    api.Dialect
		want string
	}{
		{api.Own, "netkeep"},
		{api.NetKey, "netkey"},
		{api.Netmaker, "netmaker"},
		{api.GateKey, "gatekey"},
		{api.NetRecon, "netrecon"},
		{api.Nekzus, "nekzus"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.d.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}
