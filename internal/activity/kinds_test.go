package activity

import (
	"slices"
	"testing"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
)

func TestItemOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		e    audit.Entry
		want Item
	}{
		{"named by its details", audit.Entry{ID: 7, Action: "psk.create", Target: "psk:3", Details: `{"psk_id":"guest","vlan_id":10}`},
			Item{ID: "psk_created_7", Type: "psk_created", Icon: "KeyRound", IconClass: "success", Message: "PSK created: guest"}},
		{"a device by its name", audit.Entry{ID: 8, Action: "device.revoked", Target: "dev-1", Details: `{"name":"John's iPhone"}`},
			Item{ID: "device_revoked_8", Type: "device_revoked", Icon: "XCircle", Message: "Device revoked: John's iPhone"}},
		{"a device by its model", audit.Entry{ID: 9, Action: "device.paired", Target: "dev-1", Details: `{"platform":"ios","model":"iPhone 15 Pro"}`},
			Item{ID: "device_paired_9", Type: "device_paired", Icon: "Smartphone", IconClass: "success", Message: "Device paired: iPhone 15 Pro"}},
		{"named by its target", audit.Entry{ID: 10, Action: "node.delete", Target: "node:12", Details: `{}`},
			Item{ID: "node_removed_10", Type: "node_removed", Icon: "Network", IconClass: "warning", Message: "Node removed: 12"}},
		{"an import counts", audit.Entry{ID: 11, Action: "psk.import", Target: "group:1", Details: `{"psks":3,"endpoints":2}`},
			Item{ID: "psks_imported_11", Type: "psks_imported", Icon: "Upload", IconClass: "success", Message: "PSKs imported: 3 PSKs, 2 MACs"}},
		{"a webhook as posted", audit.Entry{ID: 12, Action: ActionWebhook, Target: "activity:webhook-1",
			Details: `{"eventId":"webhook-1","message":"Deployed","icon":"CheckCircle","iconClass":"success","details":"v2"}`},
			Item{ID: "webhook-1", Type: ActionWebhook, Icon: "CheckCircle", IconClass: "success", Message: "Deployed", Details: "v2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := itemOf(tt.e); got != tt.want {
				t.Errorf("itemOf = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// A caller sees the feed entries of the objects it may read.
func TestActionsFor(t *testing.T) {
	t.Parallel()
	key := func(names ...string) *authz.Principal {
		s, err := authz.ParseScopes(names)
		if err != nil {
			t.Fatal(err)
		}
		return &authz.Principal{Kind: authz.KindAPIKey, Role: authz.GroupAdmin, GroupID: 1, Scopes: s}
	}
	tests := []struct {
		name       string
		p          *authz.Principal
		has, lacks []string
	}{
		{"read:events", key("read:events"), []string{"device.paired", ActionWebhook}, []string{"psk.create", "user.create"}},
		{"psks:read", key("psks:read"), []string{"psk.create", "psk.import"}, []string{"device.paired", "endpoint.create"}},
		{"audit:read alone sees nothing", key("audit:read"), nil, []string{"psk.create", ActionWebhook}},
		{"a USER reads users but not API keys", &authz.Principal{Kind: authz.KindUser, Role: authz.User, GroupID: 1},
			[]string{"user.create", "psk.create"}, []string{"apikey.create"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := actionsFor(tt.p)
			for _, a := range tt.has {
				if !slices.Contains(got, a) {
					t.Errorf("lacks %s: %v", a, got)
				}
			}
			for _, a := range tt.lacks {
				if slices.Contains(got, a) {
					t.Errorf("has %s", a)
				}
			}
		})
	}
}
