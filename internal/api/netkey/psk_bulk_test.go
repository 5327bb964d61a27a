package netkey_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"netkeep/internal/server/servertest"
)

func TestPSKBulk(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newPSKFixture(t, e)
		f.createPSK(t, f.admin, map[string]any{"psk_id": "existing"})
		items := func(n int, edit func(i int, m map[string]any)) []any {
			out := make([]any, n)
			for i := range out {
				m := map[string]any{"psk_id": fmt.Sprintf("event-%03d", i), "vlan_id": 40, "expires_in_hours": 48}
				if edit != nil {
					edit(i, m)
				}
				out[i] = m
			}
			return out
		}
		tests := []struct {
			name   string
			body   any
			status int
			code   string
			index  any // details.index of the error
		}{
			{"400/bad psk_value at 3", map[string]any{"psks": items(10, func(i int, m map[string]any) {
				if i == 3 {
					m["psk_value"] = "short"
				}
			})}, 400, "VALIDATION_ERROR", 3},
			{"400/bad vlan type at 5", items(10, func(i int, m map[string]any) {
				if i == 5 {
					m["vlan_id"] = "forty"
				}
			}), 400, "VALIDATION_ERROR", 5},
			{"409/taken psk_id at 7", map[string]any{"psks": items(10, func(i int, m map[string]any) {
				if i == 7 {
					m["psk_id"] = "existing"
				}
			})}, 409, "PSK_ID_EXISTS", 7},
			{"409/repeated psk_id at 6", map[string]any{"psks": items(10, func(i int, m map[string]any) {
				if i == 6 {
					m["psk_id"] = "event-002"
				}
			})}, 409, "PSK_ID_EXISTS", 6},
			{"400/too many", map[string]any{"psks": items(1001, nil)}, 400, "VALIDATION_ERROR", nil},
			{"400/empty", map[string]any{"psks": []any{}}, 400, "VALIDATION_ERROR", nil},
			{"400/not a list", map[string]any{"psks": "many"}, 400, "VALIDATION_ERROR", nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := e.Do(t, "POST", "/api/v1/psks/bulk", tc.body, f.admin...)
				if tc.index != nil {
					pskWantError(t, r, tc.status, tc.code, "index", tc.index)
					if !strings.HasPrefix(r.JSON["error"].(string), fmt.Sprintf("item %v: ", tc.index)) {
						t.Fatalf("message %q does not name the item", r.JSON["error"])
					}
				} else {
					pskWantError(t, r, tc.status, tc.code)
				}
				// All or nothing: only "existing" is stored.
				if n := total(t, e.Do(t, "GET", "/api/v1/psks", nil, f.admin...)); n != 1 {
					t.Fatalf("%d PSKs stored after a failed bulk", n)
				}
			})
		}

		t.Run("201/1000 PSKs, some generated", func(t *testing.T) {
			body := items(1000, func(i int, m map[string]any) {
				if i%10 == 0 {
					delete(m, "psk_id")
				}
			})
			sub := e.Bus.Subscribe("psk")
			defer sub.Close()
			r := e.Do(t, "POST", "/api/v1/psks/bulk", map[string]any{"psks": body}, f.admin...)
			if r.Status != http.StatusCreated {
				t.Fatalf("bulk: %d %.300s", r.Status, r.Raw)
			}
			pskWantKeys(t, "bulk", r.JSON, "success", "created", "psks")
			created := r.JSON["psks"].([]any)
			if r.JSON["created"] != float64(1000) || len(created) != 1000 {
				t.Fatalf("created %v", r.JSON["created"])
			}
			for i, c := range created {
				pskWantKeys(t, "bulk item", c, pskFields...)
				m := c.(map[string]any)
				if i%10 != 0 && m["psk_id"] != fmt.Sprintf("event-%03d", i) || m["vlan_id"] != float64(40) || len(m["psk_value"].(string)) < 12 {
					t.Fatalf("item %d = %v", i, m)
				}
			}
			if n := total(t, e.Do(t, "GET", "/api/v1/psks", nil, f.admin...)); n != 1001 {
				t.Fatalf("%d PSKs after bulk", n)
			}
			// One audit entry per PSK, naming it, written in multi-row batches.
			logs := e.Do(t, "GET", "/api/v1/audit-logs?action=psk.create&limit=1000", nil, f.admin...)
			entries, _ := logs.JSON["logs"].([]any)
			if logs.Status != http.StatusOK || len(entries) != 1000 {
				t.Fatalf("audit after bulk: %d, %d psk.create entries", logs.Status, len(entries))
			}
			targets := map[string]bool{}
			for _, l := range entries {
				m := l.(map[string]any)
				targets[fmt.Sprint(m["target"])] = true
				if m["ip"] == "" || m["actor"] == "" || m["timestamp"] == "" {
					t.Fatalf("audit entry %v", m)
				}
			}
			for _, c := range created {
				if want := fmt.Sprintf("psk:%d", int64(c.(map[string]any)["id"].(float64))); !targets[want] {
					t.Fatalf("no audit entry for %s", want)
				}
			}
			// One event per PSK; the subscription's buffer drops what it
			// cannot hold, and counts it.
			servertest.Eventually(t, 5*time.Second, func() bool { return len(sub.C())+int(sub.Dropped()) == 1000 }, "one created event per PSK")
		})
	})
}

// postAs posts body with contentType (servertest.Do always says JSON).
func postAs(t *testing.T, e *servertest.Env, path, contentType string, body []byte, auth []string) *servertest.Response {
	t.Helper()
	req, err := http.NewRequest("POST", e.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set(auth[0], auth[1])
	res, err := e.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out := &servertest.Response{Status: res.StatusCode, Header: res.Header}
	out.Raw, _ = io.ReadAll(res.Body)
	_ = json.Unmarshal(out.Raw, &out.JSON)
	return out
}

// csvOf joins lines with CRLF, as spreadsheets write them.
func csvOf(lines ...string) string { return strings.Join(lines, "\r\n") + "\r\n" }

func TestPSKImport(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newPSKFixture(t, e)
		f.createPSK(t, f.admin, map[string]any{"psk_id": "existing"})
		const header = "psk_id,psk_value,vlan_id,expires,description,mac_address"
		tests := []struct {
			name   string
			csv    string
			status int
			code   string
			line   int
		}{
			{"400/bad passphrase on line 4", csvOf(header, "a,passphrase1,,,,", "b,passphrase2,,,,", "c,short,,,,", "d,passphrase4,,,,"), 400, "VALIDATION_ERROR", 4},
			{"400/bad vlan on line 3", csvOf(header, "a,passphrase1,10,,,", "b,passphrase2,abc,,,"), 400, "VALIDATION_ERROR", 3},
			{"400/bad expiry on line 2", csvOf(header, "a,passphrase1,,someday,,"), 400, "VALIDATION_ERROR", 2},
			{"400/past expiry on line 2", csvOf(header, "a,passphrase1,,2000-01-01T00:00:00,,"), 400, "VALIDATION_ERROR", 2},
			{"400/bad MAC on line 3", csvOf(header, "a,passphrase1,,,,aa:bb:cc:dd:ee:01", "b,passphrase2,,,,not-a-mac"), 400, "VALIDATION_ERROR", 3},
			{"400/unbalanced quote on line 3", csvOf(header, "a,passphrase1,,,,", `"b,passphrase2,,,,`), 400, "VALIDATION_ERROR", 3},
			{"409/taken psk_id on line 3", csvOf(header, "a,passphrase1,,,,", "existing,passphrase2,,,,"), 409, "PSK_ID_EXISTS", 3},
			{"409/repeated psk_id on line 4", csvOf(header, "a,passphrase1,,,,", "b,passphrase2,,,,", "a,passphrase3,,,,"), 409, "PSK_ID_EXISTS", 4},
			{"409/repeated MAC on line 3", csvOf(header, "a,passphrase1,,,,02:00:00:00:00:01", "b,passphrase2,,,,02-00-00-00-00-01"), 409, "ENDPOINT_EXISTS", 3},
			{"400/empty", "", 400, "VALIDATION_ERROR", 0},
			{"400/header only", csvOf(header), 400, "VALIDATION_ERROR", 0},
			{"400/no known column", csvOf("name,secret", "a,b"), 400, "VALIDATION_ERROR", 1},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := e.Do(t, "POST", "/api/v1/psks/import", tc.csv, f.admin...)
				if tc.line > 0 {
					pskWantError(t, r, tc.status, tc.code, "line", tc.line)
					if !strings.HasPrefix(r.JSON["error"].(string), fmt.Sprintf("line %d: ", tc.line)) {
						t.Fatalf("message %q does not name the line", r.JSON["error"])
					}
				} else {
					pskWantError(t, r, tc.status, tc.code)
				}
				if n := total(t, e.Do(t, "GET", "/api/v1/psks", nil, f.admin...)); n != 1 {
					t.Fatalf("%d PSKs stored after a failed import", n)
				}
				if n := total(t, e.Do(t, "GET", "/api/v1/endpoints", nil, f.admin...)); n != 0 {
					t.Fatalf("%d endpoints stored after a failed import", n)
				}
			})
		}

		t.Run("201/rows, generated values, endpoints, BOM", func(t *testing.T) {
			body := "\xef\xbb\xbf" + csvOf(
				"PSK_ID, psk_value ,vlan_id,expires,description,mac_address,extra",
				`room-101,Welcome-Room-101,101,2099-12-31T23:59:59,"Room 101, sea view",AA-BB-CC-00-01-01,x`,
				`room-102,,102,,Room 102,aabb.cc00.0102;02:00:00:00:01:03,`,
				`,,,,generated,,`,
				`room-104,"with space ",,,,,`,
			)
			r := postAs(t, e, "/api/v1/psks/import", "text/csv", []byte(body), f.admin)
			if r.Status != http.StatusCreated || r.JSON["imported"] != float64(4) || r.JSON["endpoints"] != float64(3) || r.JSON["success"] != true {
				t.Fatalf("import: %d %s", r.Status, r.Raw)
			}
			list := e.Do(t, "GET", "/api/v1/psks?search=room-101", nil, f.admin...)
			p := list.JSON["psks"].([]any)[0].(map[string]any)
			got := e.Do(t, "GET", idPath("/api/v1/psks", p), nil, f.admin...).JSON
			if got["psk_value"] != "Welcome-Room-101" || got["vlan_id"] != float64(101) || got["expires"] != "2099-12-31T23:59:59Z" || got["description"] != "Room 101, sea view" {
				t.Fatalf("room-101 = %v", got)
			}
			eps := e.Do(t, "GET", fmt.Sprintf("/api/v1/endpoints?psk_id=%v", p["id"]), nil, f.admin...)
			if total(t, eps) != 1 || eps.JSON["endpoints"].([]any)[0].(map[string]any)["mac_address"] != "aa:bb:cc:00:01:01" {
				t.Fatalf("room-101 endpoints = %s", eps.Raw)
			}
			if r := e.Do(t, "GET", "/api/v1/psks?search=room-104", nil, f.admin...); total(t, r) != 1 {
				t.Fatal("room-104 missing")
			} else if v := e.Do(t, "GET", idPath("/api/v1/psks", r.JSON["psks"].([]any)[0].(map[string]any)), nil, f.admin...).JSON["psk_value"]; v != "with space " {
				t.Fatalf("passphrase with a space imported as %q", v)
			}
		})

		t.Run("201/multipart upload", func(t *testing.T) {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			_ = mw.WriteField("note", "ignored")
			fw, _ := mw.CreateFormFile("file", "guests.csv")
			fmt.Fprint(fw, csvOf("psk_id", "upload-1", "upload-2"))
			mw.Close()
			r := postAs(t, e, "/api/v1/psks/import", mw.FormDataContentType(), buf.Bytes(), f.admin)
			if r.Status != http.StatusCreated || r.JSON["imported"] != float64(2) {
				t.Fatalf("multipart import: %d %s", r.Status, r.Raw)
			}
		})

		t.Run("201/large import, several batches", func(t *testing.T) {
			var b strings.Builder
			b.WriteString("psk_id,psk_value,mac_address\n")
			for i := range 3000 {
				fmt.Fprintf(&b, "bulk-%05d,passphrase-%05d,02:01:00:00:%02x:%02x\n", i, i, i/256, i%256)
			}
			sub := e.Bus.Subscribe("psk")
			defer sub.Close()
			r := e.Do(t, "POST", "/api/v1/psks/import", b.String(), f.admin...)
			if r.Status != http.StatusCreated || r.JSON["imported"] != float64(3000) || r.JSON["endpoints"] != float64(3000) {
				t.Fatalf("large import: %d %s", r.Status, r.Raw)
			}
			select {
			case ev := <-sub.C():
				if ev.Action != "reload" || ev.GroupID != f.acmeGroup || ev.ID != "" {
					t.Fatalf("event = %+v", ev)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no reload event")
			}
		})

		t.Run("400/a bad row after full batches rolls everything back", func(t *testing.T) {
			var b strings.Builder
			b.WriteString("psk_id,psk_value\n")
			for i := range 1200 {
				fmt.Fprintf(&b, "late-%05d,passphrase-%05d\n", i, i)
			}
			b.WriteString("late-bad,short\n")
			before := total(t, e.Do(t, "GET", "/api/v1/psks", nil, f.admin...))
			r := e.Do(t, "POST", "/api/v1/psks/import", b.String(), f.admin...)
			pskWantError(t, r, 400, "VALIDATION_ERROR", "line", 1202, "field", "psk_value")
			if n := total(t, e.Do(t, "GET", "/api/v1/psks", nil, f.admin...)); n != before {
				t.Fatalf("%d PSKs after a failed import, want %d", n, before)
			}
		})
	})
}

func TestPSKExport(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newPSKFixture(t, e)
		a := f.createPSK(t, f.admin, map[string]any{"psk_id": "guest-a", "psk_value": "passphrase-a", "vlan_id": 100, "description": "A"})
		f.createPSK(t, f.admin, map[string]any{"psk_id": "guest-b", "psk_value": "passphrase b", "expires": "2099-01-01T00:00:00Z"})
		f.createPSK(t, f.admin, map[string]any{"psk_id": "guest-off", "psk_value": "passphrase-off", "enabled": false})
		gone := f.createPSK(t, f.admin, map[string]any{"psk_id": "guest-gone", "psk_value": "passphrase-gone", "expires_in_hours": 1})
		if _, err := e.DB.SQL().Exec(`UPDATE psks SET expires_at = $1 WHERE id = $2`, time.Now().Add(-time.Minute).UTC(), int64(gone["id"].(float64))); err != nil {
			t.Fatal(err)
		}
		for _, ep := range []map[string]any{
			{"mac_address": "02:00:00:00:00:0a", "psk_id": "guest-a"},
			{"mac_address": "02:00:00:00:00:0b", "psk_id": a["id"], "vlan_id": 300},
			{"mac_address": "02:00:00:00:00:0c", "psk_id": a["id"], "enabled": false},
			{"mac_address": "02:00:00:00:00:0d", "psk_id": "guest-off"},
		} {
			if r := e.Do(t, "POST", "/api/v1/endpoints", ep, f.admin...); r.Status != http.StatusCreated {
				t.Fatalf("endpoint %v: %d %s", ep, r.Status, r.Raw)
			}
		}

		r := e.Do(t, "GET", "/api/v1/psks/export?format=hostapd", nil, f.admin...)
		want := "# hostapd wpa_psk_file exported by netkeep\n" +
			"keyid=guest-a vlanid=100 00:00:00:00:00:00 passphrase-a\n" +
			"keyid=guest-a vlanid=100 02:00:00:00:00:0a passphrase-a\n" +
			"keyid=guest-a vlanid=300 02:00:00:00:00:0b passphrase-a\n" +
			"keyid=guest-b 00:00:00:00:00:00 passphrase b\n"
		if r.Status != http.StatusOK || string(r.Raw) != want {
			t.Fatalf("hostapd export: %d\n%s\nwant\n%s", r.Status, r.Raw, want)
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || !strings.Contains(r.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("headers %v", r.Header)
		}
		if def := e.Do(t, "GET", "/api/v1/psks/export", nil, f.admin...); string(def.Raw) != want {
			t.Fatal("hostapd is not the default format")
		}

		r = e.Do(t, "GET", "/api/v1/psks/export?format=csv", nil, f.admin...)
		if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("csv export: %d %v", r.Status, r.Header)
		}
		recs, err := csv.NewReader(bytes.NewReader(r.Raw)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		wantCSV := [][]string{
			{"psk_id", "psk_value", "vlan_id", "expires", "description", "mac_address"},
			{"guest-a", "passphrase-a", "100", "", "A", "02:00:00:00:00:0a 02:00:00:00:00:0b"},
			{"guest-b", "passphrase b", "", "2099-01-01T00:00:00Z", "", ""},
		}
		if fmt.Sprint(recs) != fmt.Sprint(wantCSV) {
			t.Fatalf("csv = %q\nwant %q", recs, wantCSV)
		}

		// The CSV export imports into another group as it was.
		imp := e.Do(t, "POST", "/api/v1/psks/import", r.Raw, f.other...)
		if imp.Status != http.StatusCreated || imp.JSON["imported"] != float64(2) || imp.JSON["endpoints"] != float64(2) {
			t.Fatalf("re-import: %d %s", imp.Status, imp.Raw)
		}

		pskWantError(t, e.Do(t, "GET", "/api/v1/psks/export?format=xml", nil, f.admin...), 400, "VALIDATION_ERROR", "field", "format")
		pskWantError(t, e.Do(t, "GET", "/api/v1/psks/export", nil, f.apiKey(t, f.admin, "psks:write")...), 403, "FORBIDDEN")
		if r := e.Do(t, "GET", "/api/v1/psks/export", nil, f.user...); r.Status != http.StatusOK {
			t.Fatalf("user export: %d", r.Status)
		}
		// An empty export is a header alone.
		if r := e.Do(t, "GET", "/api/v1/psks/export?format=csv", nil, servertest.Bearer("nope")...); r.Status != 401 {
			t.Fatalf("unauthenticated export: %d", r.Status)
		}
	})
}
