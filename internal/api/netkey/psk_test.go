package netkey_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"netkeep/internal/server/servertest"
)

func TestPSKShapes(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newPSKFixture(t, e)
		before := time.Now().UTC()

		// The seed's create example.
		r := e.Do(t, "POST", "/api/v1/psks", map[string]any{
			"psk_id": "guest-jane-doe", "description": "Guest - Jane Doe", "vlan_id": 100, "expires_in_hours": 24,
		}, f.admin...)
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Raw)
		}
		pskWantKeys(t, "created", r.JSON, pskFields...)
		created := r.JSON
		if created["psk_id"] != "guest-jane-doe" || created["description"] != "Guest - Jane Doe" || created["vlan_id"] != float64(100) ||
			created["enabled"] != true || created["expired"] != false {
			t.Fatalf("created = %s", r.Raw)
		}
		exp, err := time.Parse(time.RFC3339, created["expires"].(string))
		if err != nil || exp.Before(before.Add(24*time.Hour-2*time.Second)) || exp.After(time.Now().Add(24*time.Hour+time.Second)) {
			t.Fatalf("expires = %v (%v)", created["expires"], err)
		}
		value := created["psk_value"].(string)
		if len(value) < 12 || strings.ContainsAny(value, "0O1lI") {
			t.Fatalf("generated psk_value %q", value)
		}

		// Everything generated.
		gen := f.createPSK(t, f.admin, map[string]any{})
		if !regexp.MustCompile(`^guest-[0-9a-f]{8}$`).MatchString(gen["psk_id"].(string)) || gen["vlan_id"] != nil || gen["expires"] != nil {
			t.Fatalf("generated = %v", gen)
		}
		if gen["psk_value"] == value {
			t.Fatal("two generated passphrases are equal")
		}

		r = e.Do(t, "GET", idPath("/api/v1/psks", created), nil, f.admin...)
		if r.Status != http.StatusOK {
			t.Fatalf("get: %d %s", r.Status, r.Raw)
		}
		pskWantKeys(t, "get", r.JSON, pskFields...)
		if r.JSON["psk_value"] != value || r.JSON["created_at"] == nil || r.JSON["expires"] != created["expires"] {
			t.Fatalf("get = %s", r.Raw)
		}

		r = e.Do(t, "GET", "/api/v1/psks", nil, f.admin...)
		pskWantKeys(t, "list", r.JSON, "psks", "total")
		if total(t, r) != 2 {
			t.Fatalf("list = %s", r.Raw)
		}
		for _, p := range r.JSON["psks"].([]any) {
			pskWantKeys(t, "listed", p, pskListFields...)
		}
		if bytes.Contains(r.Raw, []byte(value)) {
			t.Fatal("list shows a passphrase")
		}

		r = e.Do(t, "DELETE", idPath("/api/v1/psks", created), nil, f.admin...)
		if r.Status != http.StatusOK {
			t.Fatalf("delete: %d %s", r.Status, r.Raw)
		}
		pskWantKeys(t, "deleted", r.JSON, "success", "deleted_id")
		if r.JSON["success"] != true || r.JSON["deleted_id"] != created["id"] {
			t.Fatalf("delete = %s", r.Raw)
		}
		pskWantError(t, e.Do(t, "GET", idPath("/api/v1/psks", created), nil, f.admin...), 404, "PSK_NOT_FOUND", "psk_id", created["id"])
		pskWantError(t, e.Do(t, "DELETE", idPath("/api/v1/psks", created), nil, f.admin...), 404, "PSK_NOT_FOUND")
		pskWantError(t, e.Do(t, "GET", "/api/v1/psks/abc", nil, f.admin...), 404, "PSK_NOT_FOUND", "psk_id", "abc")
		pskWantError(t, e.Do(t, "GET", "/api/v1/psks", nil), 401, "")
	})
}

func TestPSKValidation(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newPSKFixture(t, e)
		f.createPSK(t, f.admin, map[string]any{"psk_id": "taken"})
		tests := []struct {
			name   string
			body   any
			status int
			code   string
			field  string
		}{
			{name: "201/unknown fields ignored", body: map[string]any{"psk_id": "u1", "colour": "blue", "nested": map[string]any{"x": 1}}, status: 201},
			{name: "201/seed expiry form", body: map[string]any{"psk_id": "u2", "expires": "2099-12-31T23:59:59"}, status: 201},
			{name: "201/64 hex digits", body: map[string]any{"psk_id": "u3", "psk_value": strings.Repeat("ab", 32)}, status: 201},
			{name: "201/63 printable", body: map[string]any{"psk_id": "u4", "psk_value": strings.Repeat("~", 63)}, status: 201},
			{name: "201/vlan 4094", body: map[string]any{"psk_id": "u5", "vlan_id": 4094}, status: 201},
			{name: "400/psk_value 7 chars", body: map[string]any{"psk_value": "abcdefg"}, status: 400, code: "VALIDATION_ERROR", field: "psk_value"},
			{name: "400/psk_value 65 chars", body: map[string]any{"psk_value": strings.Repeat("a", 65)}, status: 400, code: "VALIDATION_ERROR", field: "psk_value"},
			{name: "400/psk_value 64 non-hex", body: map[string]any{"psk_value": strings.Repeat("z", 64)}, status: 400, code: "VALIDATION_ERROR", field: "psk_value"},
			{name: "400/psk_value non-ASCII", body: map[string]any{"psk_value": "pässwörter"}, status: 400, code: "VALIDATION_ERROR", field: "psk_value"},
			{name: "400/psk_value control char", body: map[string]any{"psk_value": "abc\ndefgh"}, status: 400, code: "VALIDATION_ERROR", field: "psk_value"},
			{name: "400/vlan 0", body: map[string]any{"vlan_id": 0}, status: 400, code: "VALIDATION_ERROR", field: "vlan_id"},
			{name: "400/vlan 4095", body: map[string]any{"vlan_id": 4095}, status: 400, code: "VALIDATION_ERROR", field: "vlan_id"},
			{name: "400/vlan not a number", body: map[string]any{"vlan_id": "100"}, status: 400, code: "VALIDATION_ERROR"},
			{name: "400/expires malformed", body: map[string]any{"expires": "next tuesday"}, status: 400, code: "VALIDATION_ERROR", field: "expires"},
			{name: "400/expires in the past", body: map[string]any{"expires": "2020-01-01T00:00:00Z"}, status: 400, code: "VALIDATION_ERROR", field: "expires"},
			{name: "400/expires and expires_in_hours", body: map[string]any{"expires": "2099-01-01T00:00:00Z", "expires_in_hours": 2}, status: 400, code: "VALIDATION_ERROR", field: "expires"},
			{name: "400/expires_in_hours 0", body: map[string]any{"expires_in_hours": 0}, status: 400, code: "VALIDATION_ERROR", field: "expires_in_hours"},
			{name: "400/expires_in_hours negative", body: map[string]any{"expires_in_hours": -3}, status: 400, code: "VALIDATION_ERROR", field: "expires_in_hours"},
			{name: "400/psk_id with a space", body: map[string]any{"psk_id": "room 101"}, status: 400, code: "VALIDATION_ERROR", field: "psk_id"},
			{name: "400/psk_id too long", body: map[string]any{"psk_id": strings.Repeat("x", 65)}, status: 400, code: "VALIDATION_ERROR", field: "psk_id"},
			{name: "400/description too long", body: map[string]any{"description": strings.Repeat("é", 501)}, status: 400, code: "VALIDATION_ERROR", field: "description"},
			{name: "400/malformed JSON", body: `{"psk_id":`, status: 400, code: "VALIDATION_ERROR"},
			{name: "400/another group", body: map[string]any{"group_id": f.globexGroup}, status: 400, code: "VALIDATION_ERROR", field: "group_id"},
			{name: "409/duplicate psk_id", body: map[string]any{"psk_id": "taken"}, status: 409, code: "PSK_ID_EXISTS"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := e.Do(t, "POST", "/api/v1/psks", tc.body, f.admin...)
				if tc.status == http.StatusCreated {
					if r.Status != http.StatusCreated {
						t.Fatalf("status = %d: %s", r.Status, r.Raw)
					}
					pskWantKeys(t, "created", r.JSON, pskFields...)
					return
				}
				var details []any
				if tc.field != "" {
					details = []any{"field", tc.field}
				}
				pskWantError(t, r, tc.status, tc.code, details...)
			})
		}
		r := e.Do(t, "GET", "/api/v1/psks?search=u2", nil, f.admin...)
		if got := r.JSON["psks"].([]any)[0].(map[string]any)["expires"]; got != "2099-12-31T23:59:59Z" {
			t.Fatalf("seed expiry stored as %v", got)
		}
		if n := total(t, e.Do(t, "GET", "/api/v1/psks", nil, f.admin...)); n != 6 {
			t.Fatalf("%d PSKs after the table, want 6", n)
		}
	})
}

func TestPSKUpdate(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newPSKFixture(t, e)
		p := f.createPSK(t, f.admin, map[string]any{"psk_id": "room-1", "psk_value": "first-passphrase", "vlan_id": 10, "expires_in_hours": 5})
		f.createPSK(t, f.admin, map[string]any{"psk_id": "room-2"})
		path := idPath("/api/v1/psks", p)
		tests := []struct {
			name   string
			body   any
			status int
			code   string
			check  func(m map[string]any) bool
		}{
			{name: "200/seed example", body: map[string]any{"description": "Updated guest", "vlan_id": 200}, status: 200,
				check: func(m map[string]any) bool {
					return m["description"] == "Updated guest" && m["vlan_id"] == float64(200) && m["psk_id"] == "room-1" && m["psk_value"] == "first-passphrase"
				}},
			{name: "200/rename", body: map[string]any{"psk_id": "room-1b"}, status: 200,
				check: func(m map[string]any) bool { return m["psk_id"] == "room-1b" }},
			{name: "200/new passphrase", body: map[string]any{"psk_value": "second-passphrase"}, status: 200,
				check: func(m map[string]any) bool { return m["psk_value"] == "second-passphrase" }},
			{name: "200/disable", body: map[string]any{"enabled": false}, status: 200,
				check: func(m map[string]any) bool { return m["enabled"] == false }},
			{name: "200/new expiry", body: map[string]any{"expires": "2099-06-01T12:00:00+02:00"}, status: 200,
				check: func(m map[string]any) bool { return m["expires"] == "2099-06-01T10:00:00Z" }},
			{name: "200/null clears vlan and expiry", body: map[string]any{"vlan_id": nil, "expires": nil}, status: 200,
				check: func(m map[string]any) bool {
					return m["vlan_id"] == nil && m["expires"] == nil && m["description"] == "Updated guest"
				}},
			{name: "200/empty body changes nothing", body: map[string]any{}, status: 200,
				check: func(m map[string]any) bool { return m["psk_id"] == "room-1b" && m["enabled"] == false }},
			{name: "400/short passphrase", body: map[string]any{"psk_value": "short"}, status: 400, code: "VALIDATION_ERROR"},
			{name: "400/vlan out of range", body: map[string]any{"vlan_id": 5000}, status: 400, code: "VALIDATION_ERROR"},
			{name: "400/expiry in the past", body: map[string]any{"expires": "2001-01-01T00:00:00"}, status: 400, code: "VALIDATION_ERROR"},
			{name: "400/vlan as text", body: map[string]any{"vlan_id": "ten"}, status: 400, code: "VALIDATION_ERROR"},
			{name: "409/rename to a taken psk_id", body: map[string]any{"psk_id": "room-2"}, status: 409, code: "PSK_ID_EXISTS"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := e.Do(t, "PUT", path, tc.body, f.admin...)
				if tc.status != http.StatusOK {
					pskWantError(t, r, tc.status, tc.code)
					return
				}
				if r.Status != http.StatusOK {
					t.Fatalf("status = %d: %s", r.Status, r.Raw)
				}
				pskWantKeys(t, "updated", r.JSON, pskFields...)
				if !tc.check(r.JSON) {
					t.Fatalf("updated = %s", r.Raw)
				}
			})
		}
		pskWantError(t, e.Do(t, "PUT", "/api/v1/psks/999999", map[string]any{"enabled": true}, f.admin...), 404, "PSK_NOT_FOUND", "psk_id", 999999)
	})
}

func TestPSKListFilters(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newPSKFixture(t, e)
		for i := range 12 {
			body := map[string]any{"psk_id": fmt.Sprintf("guest-%02d", i), "description": fmt.Sprintf("Room %d", 100+i)}
			if i%3 == 0 {
				body["vlan_id"] = 30
			}
			if i%4 == 0 {
				body["enabled"] = false
			}
			f.createPSK(t, f.admin, body)
		}
		lobby := f.createPSK(t, f.admin, map[string]any{"psk_id": "lobby", "description": "LOBBY 100% free", "expires_in_hours": 1})
		// Move lobby's expiry into the past behind the API's back.
		if _, err := e.DB.SQL().Exec(`UPDATE psks SET expires_at = $1 WHERE id = $2`, time.Now().Add(-time.Minute).UTC(), int64(lobby["id"].(float64))); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			query string
			total int
			page  []string // psk_ids of the page, when checked
		}{
			{"", 13, nil},
			{"?limit=2", 13, []string{"guest-00", "guest-01"}},
			{"?limit=2&offset=11", 13, []string{"guest-11", "lobby"}},
			{"?offset=20", 13, []string{}},
			{"?enabled=false", 3, []string{"guest-00", "guest-04", "guest-08"}},
			{"?enabled=true&vlan_id=30", 3, []string{"guest-03", "guest-06", "guest-09"}},
			{"?search=room%2010", 10, nil},
			{"?search=ROOM%20111", 1, []string{"guest-11"}},
			{"?search=guest-1", 2, []string{"guest-10", "guest-11"}},
			{"?search=100%25", 1, []string{"lobby"}},
			{"?search=_", 0, []string{}},
			{"?expired=true", 1, []string{"lobby"}},
			{"?expired=false&limit=1", 12, []string{"guest-00"}},
		}
		for _, tc := range tests {
			r := e.Do(t, "GET", "/api/v1/psks"+tc.query, nil, f.admin...)
			if n := total(t, r); n != tc.total {
				t.Errorf("%s: total = %d, want %d", tc.query, n, tc.total)
			}
			if tc.page == nil {
				continue
			}
			var got []string
			for _, p := range r.JSON["psks"].([]any) {
				got = append(got, p.(map[string]any)["psk_id"].(string))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.page) {
				t.Errorf("%s: page = %v, want %v", tc.query, got, tc.page)
			}
		}
		r := e.Do(t, "GET", "/api/v1/psks?expired=true", nil, f.admin...)
		if p := r.JSON["psks"].([]any)[0].(map[string]any); p["expired"] != true {
			t.Fatalf("expired PSK listed as %v", p)
		}
		for _, q := range []string{"limit=0", "limit=1001", "offset=-1", "enabled=maybe", "vlan_id=0", "vlan_id=x"} {
			pskWantError(t, e.Do(t, "GET", "/api/v1/psks?"+q, nil, f.admin...), 400, "VALIDATION_ERROR")
		}
		if r := e.Do(t, "GET", "/api/v1/psks?limit=1000", nil, f.admin...); total(t, r) != 13 {
			t.Fatal("limit=1000 refused")
		}
	})
}

func TestPSKAccess(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newPSKFixture(t, e)
		mine := f.createPSK(t, f.admin, map[string]any{"psk_id": "acme-1"})
		theirs := f.createPSK(t, f.other, map[string]any{"psk_id": "globex-1"})
		users := f.createPSK(t, f.user, map[string]any{"psk_id": "user-own"})
		read := f.apiKey(t, f.admin, "psks:read")
		write := f.apiKey(t, f.admin, "psks:write")
		del := f.apiKey(t, f.admin, "psks:delete")
		epOnly := f.apiKey(t, f.admin, "endpoints:read", "endpoints:write")

		tests := []struct {
			name   string
			as     []string
			method string
			path   string
			body   any
			status int
			code   string
		}{
			{"200/read key lists", read, "GET", "/api/v1/psks", nil, 200, ""},
			{"200/read key gets", read, "GET", idPath("/api/v1/psks", mine), nil, 200, ""},
			{"200/read key exports", read, "GET", "/api/v1/psks/export", nil, 200, ""},
			{"403/read key creates", read, "POST", "/api/v1/psks", map[string]any{}, 403, "FORBIDDEN"},
			{"403/read key updates", read, "PUT", idPath("/api/v1/psks", mine), map[string]any{"enabled": false}, 403, "FORBIDDEN"},
			{"403/read key deletes", read, "DELETE", idPath("/api/v1/psks", mine), nil, 403, "FORBIDDEN"},
			{"201/write key creates", write, "POST", "/api/v1/psks", map[string]any{}, 201, ""},
			{"200/write key updates", write, "PUT", idPath("/api/v1/psks", mine), map[string]any{"description": "by key"}, 200, ""},
			{"403/write key lists", write, "GET", "/api/v1/psks", nil, 403, "FORBIDDEN"},
			{"403/write key deletes", write, "DELETE", idPath("/api/v1/psks", mine), nil, 403, "FORBIDDEN"},
			{"403/read key bulk-creates", read, "POST", "/api/v1/psks/bulk", map[string]any{"psks": []any{map[string]any{}}}, 403, "FORBIDDEN"},
			{"403/read key imports", read, "POST", "/api/v1/psks/import", "psk_id\nx1\n", 403, "FORBIDDEN"},
			{"403/delete key reads", del, "GET", idPath("/api/v1/psks", mine), nil, 403, "FORBIDDEN"},
			{"403/endpoint key reads PSKs", epOnly, "GET", "/api/v1/psks", nil, 403, "FORBIDDEN"},
			{"404/key of another group", read, "GET", idPath("/api/v1/psks", theirs), nil, 404, "PSK_NOT_FOUND"},
			{"200/user reads its group's PSK", f.user, "GET", idPath("/api/v1/psks", mine), nil, 200, ""},
			{"403/user updates the admin's PSK", f.user, "PUT", idPath("/api/v1/psks", mine), map[string]any{"enabled": false}, 403, "FORBIDDEN"},
			{"403/user deletes the admin's PSK", f.user, "DELETE", idPath("/api/v1/psks", mine), nil, 403, "FORBIDDEN"},
			{"200/user updates its own PSK", f.user, "PUT", idPath("/api/v1/psks", users), map[string]any{"enabled": false}, 200, ""},
			{"200/admin updates the user's PSK", f.admin, "PUT", idPath("/api/v1/psks", users), map[string]any{"enabled": true}, 200, ""},
			{"200/delete key deletes", del, "DELETE", idPath("/api/v1/psks", mine), nil, 200, ""},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := e.Do(t, tc.method, tc.path, tc.body, tc.as...)
				if tc.code != "" {
					pskWantError(t, r, tc.status, tc.code)
				} else if r.Status != tc.status {
					t.Fatalf("status = %d, want %d: %s", r.Status, tc.status, r.Raw)
				}
			})
		}
	})
}

func TestPSKGroupIsolation(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newPSKFixture(t, e)
		acme := f.createPSK(t, f.admin, map[string]any{"psk_id": "shared-name", "psk_value": "acme-secret-1"})
		globex := f.createPSK(t, f.other, map[string]any{"psk_id": "shared-name", "psk_value": "globex-secret"}) // same name, other group: fine
		ep := e.Do(t, "POST", "/api/v1/endpoints", map[string]any{"mac_address": "02:aa:00:00:00:01", "psk_id": acme["id"]}, f.admin...)
		if ep.Status != http.StatusCreated {
			t.Fatalf("endpoint: %d %s", ep.Status, ep.Raw)
		}
		// The same MAC may exist once in each group.
		if r := e.Do(t, "POST", "/api/v1/endpoints", map[string]any{"mac_address": "02:aa:00:00:00:01", "psk_id": "shared-name"}, f.other...); r.Status != http.StatusCreated {
			t.Fatalf("same MAC in another group: %d %s", r.Status, r.Raw)
		}

		for _, tc := range []struct {
			method, path string
			body         any
			code         string
		}{
			{"GET", idPath("/api/v1/psks", acme), nil, "PSK_NOT_FOUND"},
			{"PUT", idPath("/api/v1/psks", acme), map[string]any{"enabled": false}, "PSK_NOT_FOUND"},
			{"DELETE", idPath("/api/v1/psks", acme), nil, "PSK_NOT_FOUND"},
			{"GET", idPath("/api/v1/endpoints", ep.JSON), nil, "ENDPOINT_NOT_FOUND"},
			{"PUT", idPath("/api/v1/endpoints", ep.JSON), map[string]any{"enabled": false}, "ENDPOINT_NOT_FOUND"},
			{"DELETE", idPath("/api/v1/endpoints", ep.JSON), nil, "ENDPOINT_NOT_FOUND"},
			{"POST", "/api/v1/endpoints", map[string]any{"mac_address": "02:aa:00:00:00:02", "psk_id": acme["id"]}, "PSK_NOT_FOUND"},
			{"POST", "/api/v1/endpoints/bulk", []any{map[string]any{"mac_address": "02:aa:00:00:00:03", "psk_id": acme["id"]}}, "PSK_NOT_FOUND"},
		} {
			pskWantError(t, e.Do(t, tc.method, tc.path, tc.body, f.other...), 404, tc.code)
		}
		// globex's lists and exports hold only globex's objects.
		r := e.Do(t, "GET", "/api/v1/psks", nil, f.other...)
		if total(t, r) != 1 || r.JSON["psks"].([]any)[0].(map[string]any)["id"] != globex["id"] {
			t.Fatalf("globex list = %s", r.Raw)
		}
		if r := e.Do(t, "GET", "/api/v1/endpoints", nil, f.other...); total(t, r) != 1 || bytes.Contains(r.Raw, []byte(fmt.Sprintf(`"id":%v,`, ep.JSON["id"]))) {
			t.Fatalf("globex endpoints = %s", r.Raw)
		}
		for _, format := range []string{"hostapd", "csv"} {
			r := e.Do(t, "GET", "/api/v1/psks/export?format="+format, nil, f.other...)
			if r.Status != http.StatusOK || bytes.Contains(r.Raw, []byte("acme-secret-1")) || !bytes.Contains(r.Raw, []byte("globex-secret")) {
				t.Fatalf("globex %s export: %d %s", format, r.Status, r.Raw)
			}
		}
		// acme's PSK is untouched; the super admin sees both groups.
		if r := e.Do(t, "GET", idPath("/api/v1/psks", acme), nil, f.admin...); r.JSON["enabled"] != true {
			t.Fatalf("acme PSK changed: %s", r.Raw)
		}
		if n := total(t, e.Do(t, "GET", "/api/v1/psks", nil, f.root...)); n != 2 {
			t.Fatalf("super admin sees %d PSKs", n)
		}
		if n := total(t, e.Do(t, "GET", fmt.Sprintf("/api/v1/psks?group_id=%d", f.globexGroup), nil, f.root...)); n != 1 {
			t.Fatalf("super admin's group filter gives %d", n)
		}
		// The master key creates in the group it names, else in the default group.
		if r := e.Do(t, "POST", "/api/v1/psks", map[string]any{}, servertest.Master()...); r.Status != http.StatusCreated {
			t.Fatalf("master create without group: %d %s", r.Status, r.Raw)
		}
		if n := total(t, e.Do(t, "GET", fmt.Sprintf("/api/v1/psks?group_id=%d", e.DefaultGroupID(t)), nil, f.root...)); n != 1 {
			t.Fatalf("the default group holds %d PSKs", n)
		}
		if r := e.Do(t, "POST", "/api/v1/psks", map[string]any{"group_id": f.globexGroup}, servertest.Master()...); r.Status != http.StatusCreated {
			t.Fatalf("master create: %d %s", r.Status, r.Raw)
		}
		pskWantError(t, e.Do(t, "POST", "/api/v1/psks", map[string]any{"group_id": 999999}, servertest.Master()...), 400, "VALIDATION_ERROR", "field", "group_id")
	})
}

func TestPSKEncryptedAtRest(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newPSKFixture(t, e)
		const secret = "Never-In-The-Dump-42"
		p := f.createPSK(t, f.admin, map[string]any{"psk_id": "dump", "psk_value": secret})
		var raw []byte
		if err := e.DB.SQL().QueryRow(`SELECT passphrase FROM psks WHERE id = $1`, int64(p["id"].(float64))).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if len(raw) == 0 || bytes.Contains(raw, []byte(secret)) || bytes.Contains(bytes.ToLower(raw), []byte("never-in")) {
			t.Fatalf("stored passphrase: %q", raw)
		}
		// No column of any row of the table holds it as text either.
		rows, err := e.DB.SQL().Query(`SELECT * FROM psks`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(fmt.Sprintf("%s", vals), secret) {
				t.Fatalf("a column holds the passphrase: %v", vals)
			}
		}
		// The audit log does not hold it either.
		var n int
		if err := e.DB.SQL().QueryRow(`SELECT count(*) FROM audit_log WHERE details LIKE $1`, "%"+secret+"%").Scan(&n); err != nil || n != 0 {
			t.Fatalf("audit holds the passphrase in %d entries (%v)", n, err)
		}
		// And the API still shows it to those allowed.
		if r := e.Do(t, "GET", idPath("/api/v1/psks", p), nil, f.admin...); r.JSON["psk_value"] != secret {
			t.Fatalf("get = %s", r.Raw)
		}
	})
}

func TestPSKExpirySweep(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newPSKFixture(t, e)
		p := f.createPSK(t, f.admin, map[string]any{"psk_id": "short-stay", "expires_in_hours": 1})
		id := int64(p["id"].(float64))
		sub := e.Bus.Subscribe("psk")
		defer sub.Close()
		if _, err := e.DB.SQL().Exec(`UPDATE psks SET expires_at = $1 WHERE id = $2`, time.Now().Add(-time.Second).UTC(), id); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if n, err := e.Server.PSKs.SweepExpired(ctx); err != nil || n != 1 {
			t.Fatalf("sweep = %d, %v", n, err)
		}
		if n, err := e.Server.PSKs.SweepExpired(ctx); err != nil || n != 0 {
			t.Fatalf("second sweep = %d, %v", n, err)
		}
		select {
		case ev := <-sub.C():
			if ev.Action != "expired" || ev.ID != fmt.Sprint(id) {
				t.Fatalf("event = %+v", ev)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no expired event")
		}
		if r := e.Do(t, "GET", idPath("/api/v1/psks", p), nil, f.admin...); r.JSON["expired"] != true {
			t.Fatalf("expired PSK shows %s", r.Raw)
		}
		var n int
		if err := e.DB.SQL().QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'psk.expired' AND target = $1`, fmt.Sprintf("psk:%d", id)).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d psk.expired entries (%v)", n, err)
		}
	})
}
