package netkey_test

import (
	"fmt"
	"net/http"
	"testing"

	"netkeep/internal/server/servertest"
)

func TestEndpointCRUD(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newPSKFixture(t, e)
		a := f.createPSK(t, f.admin, map[string]any{"psk_id": "guest-a"})
		b := f.createPSK(t, f.admin, map[string]any{"psk_id": "guest-b"})
		numeric := f.createPSK(t, f.admin, map[string]any{"psk_id": "4242"})

		// MAC forms, each a fresh endpoint bound by id or by name.
		macs := []struct {
			in, want string
			psk      any
		}{
			{"aa:bb:cc:00:00:01", "aa:bb:cc:00:00:01", a["id"]},
			{"AA-BB-CC-00-00-02", "aa:bb:cc:00:00:02", "guest-a"},
			{"aabb.cc00.0003", "aa:bb:cc:00:00:03", "guest-b"},
			{"AABBCC000004", "aa:bb:cc:00:00:04", b["id"]},
			{"aabbcc-000005", "aa:bb:cc:00:00:05", "4242"},
			{"aabbcc000006", "aa:bb:cc:00:00:06", fmt.Sprint(a["id"])},
		}
		for _, m := range macs {
			r := e.Do(t, "POST", "/api/v1/endpoints", map[string]any{"mac_address": m.in, "psk_id": m.psk, "description": "dev " + m.in}, f.admin...)
			if r.Status != http.StatusCreated {
				t.Fatalf("create %s: %d %s", m.in, r.Status, r.Raw)
			}
			pskWantKeys(t, "endpoint", r.JSON, endpointFields...)
			if r.JSON["mac_address"] != m.want || r.JSON["enabled"] != true || r.JSON["last_seen"] != nil || r.JSON["vlan_id"] != nil {
				t.Fatalf("create %s = %s", m.in, r.Raw)
			}
		}
		// A string that is a PSK's name wins over reading it as an id.
		r := e.Do(t, "GET", "/api/v1/endpoints?search=00:05", nil, f.admin...)
		if total(t, r) != 1 || r.JSON["endpoints"].([]any)[0].(map[string]any)["psk_id"] != numeric["id"] {
			t.Fatalf("bound by numeric name: %s", r.Raw)
		}

		tests := []struct {
			name   string
			body   any
			status int
			code   string
			field  string
		}{
			{"201/vlan override", map[string]any{"mac_address": "02:00:00:00:10:01", "psk_id": a["id"], "vlan_id": 55, "enabled": false, "extra": 1}, 201, "", ""},
			{"409/same MAC, other form", map[string]any{"mac_address": "AA-BB-CC-00-00-01", "psk_id": b["id"]}, 409, "ENDPOINT_EXISTS", ""},
			{"400/bad MAC", map[string]any{"mac_address": "aa:bb:cc:dd:ee", "psk_id": a["id"]}, 400, "VALIDATION_ERROR", "mac_address"},
			{"400/multicast MAC", map[string]any{"mac_address": "01:00:5e:00:00:01", "psk_id": a["id"]}, 400, "VALIDATION_ERROR", "mac_address"},
			{"400/missing MAC", map[string]any{"psk_id": a["id"]}, 400, "VALIDATION_ERROR", "mac_address"},
			{"400/missing psk_id", map[string]any{"mac_address": "02:00:00:00:10:02"}, 400, "VALIDATION_ERROR", "psk_id"},
			{"400/vlan out of range", map[string]any{"mac_address": "02:00:00:00:10:03", "psk_id": a["id"], "vlan_id": 4095}, 400, "VALIDATION_ERROR", "vlan_id"},
			{"404/unknown PSK id", map[string]any{"mac_address": "02:00:00:00:10:04", "psk_id": 999999}, 404, "PSK_NOT_FOUND", ""},
			{"404/unknown PSK name", map[string]any{"mac_address": "02:00:00:00:10:05", "psk_id": "nobody"}, 404, "PSK_NOT_FOUND", ""},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := e.Do(t, "POST", "/api/v1/endpoints", tc.body, f.admin...)
				if tc.code == "" {
					if r.Status != tc.status {
						t.Fatalf("status = %d: %s", r.Status, r.Raw)
					}
					return
				}
				var details []any
				if tc.field != "" {
					details = []any{"field", tc.field}
				}
				pskWantError(t, r, tc.status, tc.code, details...)
			})
		}

		list := e.Do(t, "GET", "/api/v1/endpoints", nil, f.admin...)
		pskWantKeys(t, "list", list.JSON, "endpoints", "total")
		if total(t, list) != 7 {
			t.Fatalf("list = %s", list.Raw)
		}
		if n := total(t, e.Do(t, "GET", fmt.Sprintf("/api/v1/endpoints?psk_id=%v", b["id"]), nil, f.admin...)); n != 2 {
			t.Fatalf("by PSK: %d", n)
		}
		if n := total(t, e.Do(t, "GET", "/api/v1/endpoints?enabled=false", nil, f.admin...)); n != 1 {
			t.Fatalf("disabled: %d", n)
		}
		if r := e.Do(t, "GET", "/api/v1/endpoints?limit=2&offset=1", nil, f.admin...); len(r.JSON["endpoints"].([]any)) != 2 {
			t.Fatalf("page = %s", r.Raw)
		}

		first := list.JSON["endpoints"].([]any)[0].(map[string]any)
		path := idPath("/api/v1/endpoints", first)
		if r := e.Do(t, "GET", path, nil, f.admin...); r.Status != http.StatusOK || r.JSON["mac_address"] != "aa:bb:cc:00:00:01" {
			t.Fatalf("get = %d %s", r.Status, r.Raw)
		}
		updates := []struct {
			name   string
			body   any
			status int
			code   string
			check  func(m map[string]any) bool
		}{
			{"200/rebind by name, override VLAN", map[string]any{"psk_id": "guest-b", "vlan_id": 12, "description": "moved"}, 200, "",
				func(m map[string]any) bool {
					return m["psk_id"] == b["id"] && m["vlan_id"] == float64(12) && m["description"] == "moved"
				}},
			{"200/new MAC in another form", map[string]any{"mac_address": "AABB.CC00.00FF"}, 200, "",
				func(m map[string]any) bool { return m["mac_address"] == "aa:bb:cc:00:00:ff" }},
			{"200/null clears the override", map[string]any{"vlan_id": nil, "enabled": false}, 200, "",
				func(m map[string]any) bool { return m["vlan_id"] == nil && m["enabled"] == false }},
			{"409/MAC of another endpoint", map[string]any{"mac_address": "aa:bb:cc:00:00:02"}, 409, "ENDPOINT_EXISTS", nil},
			{"400/bad MAC", map[string]any{"mac_address": "zz"}, 400, "VALIDATION_ERROR", nil},
			{"404/unknown PSK", map[string]any{"psk_id": 999999}, 404, "PSK_NOT_FOUND", nil},
		}
		for _, tc := range updates {
			t.Run(tc.name, func(t *testing.T) {
				r := e.Do(t, "PUT", path, tc.body, f.admin...)
				if tc.code != "" {
					pskWantError(t, r, tc.status, tc.code)
					return
				}
				if r.Status != tc.status || !tc.check(r.JSON) {
					t.Fatalf("update: %d %s", r.Status, r.Raw)
				}
				pskWantKeys(t, "updated", r.JSON, endpointFields...)
			})
		}
		r = e.Do(t, "DELETE", path, nil, f.admin...)
		if r.Status != http.StatusOK || r.JSON["success"] != true || r.JSON["deleted_id"] != first["id"] {
			t.Fatalf("delete: %d %s", r.Status, r.Raw)
		}
		pskWantError(t, e.Do(t, "GET", path, nil, f.admin...), 404, "ENDPOINT_NOT_FOUND", "endpoint_id", first["id"])
		pskWantError(t, e.Do(t, "DELETE", path, nil, f.admin...), 404, "ENDPOINT_NOT_FOUND")
		pskWantError(t, e.Do(t, "GET", "/api/v1/endpoints/x", nil, f.admin...), 404, "ENDPOINT_NOT_FOUND")

		// Deleting a PSK deletes its endpoints.
		if r := e.Do(t, "DELETE", idPath("/api/v1/psks", b), nil, f.admin...); r.Status != http.StatusOK {
			t.Fatalf("delete PSK: %d %s", r.Status, r.Raw)
		}
		if n := total(t, e.Do(t, "GET", fmt.Sprintf("/api/v1/endpoints?psk_id=%v", b["id"]), nil, f.admin...)); n != 0 {
			t.Fatalf("%d endpoints outlived their PSK", n)
		}
	})
}

func TestEndpointAccessAndBulk(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newPSKFixture(t, e)
		a := f.createPSK(t, f.admin, map[string]any{"psk_id": "guest-a"})
		own := f.createPSK(t, f.user, map[string]any{"psk_id": "user-own"})
		ep := e.Do(t, "POST", "/api/v1/endpoints", map[string]any{"mac_address": "02:00:00:00:00:01", "psk_id": a["id"]}, f.admin...).JSON
		read := f.apiKey(t, f.admin, "endpoints:read")
		write := f.apiKey(t, f.admin, "endpoints:write")
		psksOnly := f.apiKey(t, f.admin, "psks:read", "psks:write", "psks:delete")
		tests := []struct {
			name   string
			as     []string
			method string
			path   string
			body   any
			status int
		}{
			{"200/read key lists", read, "GET", "/api/v1/endpoints", nil, 200},
			{"200/read key gets", read, "GET", idPath("/api/v1/endpoints", ep), nil, 200},
			{"403/read key creates", read, "POST", "/api/v1/endpoints", map[string]any{"mac_address": "02:00:00:00:00:02", "psk_id": a["id"]}, 403},
			{"403/read key deletes", read, "DELETE", idPath("/api/v1/endpoints", ep), nil, 403},
			{"201/write key creates", write, "POST", "/api/v1/endpoints", map[string]any{"mac_address": "02:00:00:00:00:03", "psk_id": a["id"]}, 201},
			{"200/write key updates", write, "PUT", idPath("/api/v1/endpoints", ep), map[string]any{"description": "k"}, 200},
			{"403/write key lists", write, "GET", "/api/v1/endpoints", nil, 403},
			{"403/PSK key lists endpoints", psksOnly, "GET", "/api/v1/endpoints", nil, 403},
			{"403/PSK key creates endpoints", psksOnly, "POST", "/api/v1/endpoints", map[string]any{"mac_address": "02:00:00:00:00:04", "psk_id": a["id"]}, 403},
			{"403/PSK key imports a row with a MAC", psksOnly, "POST", "/api/v1/psks/import", "psk_id,mac_address\nwith-mac,02:00:00:00:00:05\n", 403},
			{"201/PSK key imports rows without MAC", psksOnly, "POST", "/api/v1/psks/import", "psk_id,mac_address\nno-mac,\n", 201},
			{"403/user binds to the admin's PSK", f.user, "POST", "/api/v1/endpoints", map[string]any{"mac_address": "02:00:00:00:00:06", "psk_id": a["id"]}, 403},
			{"201/user binds to its own PSK", f.user, "POST", "/api/v1/endpoints", map[string]any{"mac_address": "02:00:00:00:00:07", "psk_id": own["id"]}, 201},
			{"403/user changes the admin's endpoint", f.user, "PUT", idPath("/api/v1/endpoints", ep), map[string]any{"enabled": false}, 403},
			{"200/user reads the group's endpoints", f.user, "GET", "/api/v1/endpoints", nil, 200},
			{"200/write key deletes", write, "DELETE", idPath("/api/v1/endpoints", ep), nil, 200},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := e.Do(t, tc.method, tc.path, tc.body, tc.as...)
				if tc.status == 403 {
					pskWantError(t, r, 403, "FORBIDDEN")
				} else if r.Status != tc.status {
					t.Fatalf("status = %d, want %d: %s", r.Status, tc.status, r.Raw)
				}
			})
		}

		t.Run("bulk", func(t *testing.T) {
			before := total(t, e.Do(t, "GET", "/api/v1/endpoints", nil, f.admin...))
			items := func(edit func(i int, m map[string]any)) []any {
				out := make([]any, 20)
				for i := range out {
					m := map[string]any{"mac_address": fmt.Sprintf("02:10:00:00:00:%02x", i), "psk_id": "guest-a"}
					if edit != nil {
						edit(i, m)
					}
					out[i] = m
				}
				return out
			}
			for _, tc := range []struct {
				name   string
				body   any
				status int
				code   string
				index  int
			}{
				{"400/bad MAC at 4", items(func(i int, m map[string]any) {
					if i == 4 {
						m["mac_address"] = "nope"
					}
				}), 400, "VALIDATION_ERROR", 4},
				{"404/unknown PSK at 9", map[string]any{"endpoints": items(func(i int, m map[string]any) {
					if i == 9 {
						m["psk_id"] = "ghost"
					}
				})}, 404, "PSK_NOT_FOUND", 9},
				{"409/repeated MAC at 11", items(func(i int, m map[string]any) {
					if i == 11 {
						m["mac_address"] = "02-10-00-00-00-02"
					}
				}), 409, "ENDPOINT_EXISTS", 11},
				{"409/stored MAC at 15", items(func(i int, m map[string]any) {
					if i == 15 {
						m["mac_address"] = "02:00:00:00:00:03"
					}
				}), 409, "ENDPOINT_EXISTS", 15},
			} {
				r := e.Do(t, "POST", "/api/v1/endpoints/bulk", tc.body, f.admin...)
				pskWantError(t, r, tc.status, tc.code, "index", tc.index)
				if n := total(t, e.Do(t, "GET", "/api/v1/endpoints", nil, f.admin...)); n != before {
					t.Fatalf("%s: %d endpoints after a failed bulk, want %d", tc.name, n, before)
				}
			}
			r := e.Do(t, "POST", "/api/v1/endpoints/bulk", map[string]any{"endpoints": items(nil)}, f.admin...)
			if r.Status != http.StatusCreated || r.JSON["created"] != float64(20) {
				t.Fatalf("bulk: %d %s", r.Status, r.Raw)
			}
			logs := e.Do(t, "GET", "/api/v1/audit-logs?action=endpoint.create&limit=1000", nil, f.admin...).JSON["logs"].([]any)
			audited := map[string]bool{}
			for _, l := range logs {
				audited[fmt.Sprint(l.(map[string]any)["target"])] = true
			}
			for _, x := range r.JSON["endpoints"].([]any) {
				pskWantKeys(t, "bulk item", x, endpointFields...)
				if target := fmt.Sprintf("endpoint:%d", int64(x.(map[string]any)["id"].(float64))); !audited[target] {
					t.Errorf("no endpoint.create audit entry for %s", target)
				}
			}
			if n := total(t, e.Do(t, "GET", "/api/v1/endpoints", nil, f.admin...)); n != before+20 {
				t.Fatalf("%d endpoints after bulk", n)
			}
			pskWantError(t, e.Do(t, "POST", "/api/v1/endpoints/bulk", items(nil), read...), 403, "FORBIDDEN")
		})
	})
}
