package nekzus_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"netkeep/internal/api/apitest"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
)

// messages lists the feed's messages in order.
func messages(tb testing.TB, items []any) []string {
	tb.Helper()
	var out []string
	for _, it := range items {
		m, _ := it.(map[string]any)
		s, _ := m["message"].(string)
		out = append(out, s)
	}
	return out
}

// The feed shows the group's changes, newest first, in both documented
// forms; other groups and narrower scopes see less.
func TestActivityRecent(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		e.CreateUser(t, "alice", "password1", identity.GroupAdmin, "acme")
		e.CreateUser(t, "bob", "password1", identity.GroupAdmin, "other")
		alice, _ := e.Login(t, "alice", "password1")
		bob, _ := e.Login(t, "bob", "password1")
		for _, c := range []struct {
			token, path string
			body        any
		}{
			{alice, "/api/v1/psks", map[string]any{"psk_id": "guest"}},
			{bob, "/api/v1/psks", map[string]any{"psk_id": "bobs"}},
			{alice, "/api/v1/webhooks/activity", map[string]any{"message": "Deployment completed", "iconClass": "success"}},
		} {
			if r := e.Do(t, "POST", c.path, c.body, servertest.Bearer(c.token)...); r.Status/100 != 2 {
				t.Fatalf("POST %s: %d %s", c.path, r.Status, r.Raw)
			}
		}

		r := e.Do(t, "GET", "/api/v1/activity/recent", nil, servertest.Bearer(alice)...)
		if r.Status != 200 || r.Array == nil {
			t.Fatalf("bare feed: %d %s", r.Status, r.Raw)
		}
		apitest.AssertShape(t, r.Raw, "testdata/seed/activity_recent.json")
		got := messages(t, r.Array)
		if len(got) < 3 || got[0] != "Deployment completed" || got[1] != "PSK created: guest" || got[2] != "User created: alice" {
			t.Fatalf("feed %q", got)
		}
		first := r.Array[0].(map[string]any)
		if !regexp.MustCompile(`^webhook-\d{16}$`).MatchString(first["id"].(string)) || first["type"] != "webhook.activity" ||
			first["icon"] != "Bell" || first["iconClass"] != "success" || first["timestamp"].(float64) < 1.7e12 {
			t.Errorf("webhook entry %v", first)
		}
		if second := r.Array[1].(map[string]any); second["type"] != "psk_created" || !strings.HasPrefix(second["id"].(string), "psk_created_") {
			t.Errorf("PSK entry %v", second)
		}
		if strings.Contains(string(r.Raw), "bobs") {
			t.Errorf("acme sees another group's activity: %s", r.Raw)
		}
		total := len(r.Array)

		tests := []struct {
			name      string
			query     string
			wantFirst string
			wantLen   int
		}{
			{"200/first page", "?limit=1", "Deployment completed", 1},
			{"200/second page", "?limit=1&offset=1", "PSK created: guest", 1},
			{"200/offset alone pages", "?offset=2", "User created: alice", total - 2},
			{"200/past the end", fmt.Sprintf("?offset=%d", total), "", 0},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.Do(t, "GET", "/api/v1/activity/recent"+tt.query, nil, servertest.Bearer(alice)...)
				if r.Status != 200 {
					t.Fatalf("%d %s", r.Status, r.Raw)
				}
				apitest.AssertShape(t, r.Raw, "testdata/seed/activity_recent_paged.json")
				items, _ := r.JSON["activities"].([]any)
				got := messages(t, items)
				if len(got) != tt.wantLen || (tt.wantLen > 0 && got[0] != tt.wantFirst) || r.JSON["total"] != float64(total) {
					t.Errorf("page %q total %v, want %d items from %q of %d", got, r.JSON["total"], tt.wantLen, tt.wantFirst, total)
				}
			})
		}
		for _, q := range []string{"limit=0", "limit=1001", "limit=x", "offset=-1"} {
			if r := e.Do(t, "GET", "/api/v1/activity/recent?"+q, nil, servertest.Bearer(alice)...); r.Status != 400 || r.ErrorCode() != "BAD_REQUEST" {
				t.Errorf("%s: %d %s", q, r.Status, r.Raw)
			}
		}

		// A read:events key reads devices and apps: the webhook entry, not
		// the PSK.
		events := newKeyOf(t, e, alice, "read:events")
		r = e.Do(t, "GET", "/api/v1/activity/recent", nil, "X-API-Key", events)
		if got := messages(t, r.Array); r.Status != 200 || len(got) != 1 || got[0] != "Deployment completed" {
			t.Errorf("read:events feed %d %q", r.Status, got)
		}
		r = e.Do(t, "GET", "/api/v1/activity/recent", nil, servertest.Bearer(bob)...)
		if got := messages(t, r.Array); len(got) < 2 || got[0] != "PSK created: bobs" || strings.Contains(string(r.Raw), "guest") {
			t.Errorf("bob's feed %q", got)
		}
	})
}

func TestWebhookValidation(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		e.CreateUser(t, "alice", "password1", identity.GroupAdmin, "acme")
		alice, _ := e.Login(t, "alice", "password1")
		readOnly := newKeyOf(t, e, alice, "read:*")
		tests := []struct {
			name   string
			path   string
			body   any
			hdr    []string
			status int
			code   string
		}{
			{"400/activity without message", "/api/v1/webhooks/activity", map[string]any{"icon": "Bell"}, nil, 400, "BAD_REQUEST"},
			{"400/activity message too long", "/api/v1/webhooks/activity", map[string]any{"message": strings.Repeat("m", 501)}, nil, 400, "BAD_REQUEST"},
			{"400/activity bad JSON", "/api/v1/webhooks/activity", `{"message":`, nil, 400, "BAD_REQUEST"},
			{"400/empty device id", "/api/v1/webhooks/activity", map[string]any{"message": "m", "deviceIds": []string{""}}, nil, 400, "BAD_REQUEST"},
			{"400/notify data not an object", "/api/v1/webhooks/notify", map[string]any{"data": []int{1}}, nil, 400, "BAD_REQUEST"},
			{"413/notify too large for every replica", "/api/v1/webhooks/notify", map[string]any{"data": map[string]string{"x": strings.Repeat("x", 7000)}}, nil, 413, ""},
			{"403/read-only key", "/api/v1/webhooks/notify", map[string]any{"type": "t"}, []string{"X-API-Key", readOnly}, 403, "FORBIDDEN"},
			{"200/notify to listed devices", "/api/v1/webhooks/notify", map[string]any{"deviceIds": []string{"dev-1"}}, nil, 200, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				hdr := tt.hdr
				if hdr == nil {
					hdr = servertest.Bearer(alice)
				}
				r := e.Do(t, "POST", tt.path, tt.body, hdr...)
				if r.Status != tt.status || (tt.code != "" && r.ErrorCode() != tt.code) {
					t.Fatalf("%d %s", r.Status, r.Raw)
				}
			})
		}
		// Nothing refused was recorded.
		r := e.Do(t, "GET", "/api/v1/audit-logs?action=webhook.activity", nil, servertest.Bearer(alice)...)
		if r.JSON["count"] != float64(0) {
			t.Errorf("refused webhooks recorded: %s", r.Raw)
		}
	})
}

// The audit log's actor filter takes the actor as recorded or, as Nekzus
// clients send it, the bare user id.
func TestAuditLogsActorFilter(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		u := e.CreateUser(t, "alice", "password1", identity.GroupAdmin, "acme")
		alice, _ := e.Login(t, "alice", "password1")
		if r := e.Do(t, "POST", "/api/v1/psks", map[string]any{"psk_id": "guest"}, servertest.Bearer(alice)...); r.Status != 201 {
			t.Fatalf("psk: %d", r.Status)
		}
		for _, actor := range []string{fmt.Sprintf("user:%d", u.ID), fmt.Sprint(u.ID)} {
			r := e.Do(t, "GET", "/api/v1/audit-logs?limit=1000&action=psk.create&actor="+actor, nil, servertest.Bearer(alice)...)
			if r.Status != 200 || r.JSON["count"] != float64(1) || r.JSON["limit"] != float64(1000) {
				t.Errorf("actor=%s: %d %s", actor, r.Status, r.Raw)
			}
		}
		if r := e.Do(t, "GET", "/api/v1/audit-logs?action=psk.create&actor=someone-else", nil, servertest.Bearer(alice)...); r.JSON["count"] != float64(0) {
			t.Errorf("other actor matched: %s", r.Raw)
		}
	})
}
