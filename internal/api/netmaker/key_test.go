package netmaker_test

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"netkeep/internal/meshwire"
	"netkeep/internal/server/servertest"
)

func TestAccessKeysAPI(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		w := newMeshWorld(t, e)
		w.network(t, map[string]any{"netid": "skynet"})
		r := e.Do(t, "POST", "/api/networks/skynet/keys", map[string]any{"uses": 10, "name": "mykey"}, w.adminA...)
		if r.Status != http.StatusOK {
			t.Fatalf("create: %d %s", r.Status, r.Raw)
		}
		wantKeys(t, "key", r.JSON, "name", "value", "accessstring", "uses", "expiration")
		if r.JSON["name"] != "mykey" || r.JSON["uses"] != float64(10) || len(r.JSON["value"].(string)) != 16 || r.JSON["expiration"] != nil {
			t.Fatalf("created %s", r.Raw)
		}
		as, err := meshwire.ParseAccessString(r.JSON["accessstring"].(string))
		if err != nil || as.Server != e.URL || as.Network != "skynet" || as.Key != r.JSON["value"] {
			t.Fatalf("accessstring %+v, %v (server %s)", as, err, e.URL)
		}
		// A key with no body gets every default; expiration as seconds or RFC 3339.
		if r := e.Do(t, "POST", "/api/networks/skynet/keys", nil, w.adminA...); r.Status != 200 || r.JSON["uses"] != float64(1) {
			t.Fatalf("defaults: %d %s", r.Status, r.Raw)
		}
		r = e.Do(t, "POST", "/api/networks/skynet/keys", map[string]any{"expiration": 3600}, w.adminA...)
		if exp, err := time.Parse(time.RFC3339, r.JSON["expiration"].(string)); err != nil || time.Until(exp) < 59*time.Minute {
			t.Fatalf("expiration in seconds: %s", r.Raw)
		}
		at := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
		if r = e.Do(t, "POST", "/api/networks/skynet/keys", map[string]any{"expiration": at}, w.adminA...); r.Status != 200 {
			t.Fatalf("expiration as time: %s", r.Raw)
		}

		tests := []struct {
			name    string
			method  string
			path    string
			headers []string
			body    any
			status  int
			code    string
		}{
			{"200/list", "GET", "/api/networks/skynet/keys", w.adminA, nil, 200, ""},
			{"403/list by user", "GET", "/api/networks/skynet/keys", w.user, nil, 403, "FORBIDDEN"},
			{"404/list other group", "GET", "/api/networks/skynet/keys", w.adminB, nil, 404, "NOT_FOUND"},
			{"404/list missing network", "GET", "/api/networks/nope/keys", w.adminA, nil, 404, "NOT_FOUND"},
			{"409/duplicate name", "POST", "/api/networks/skynet/keys", w.adminA, map[string]any{"name": "mykey"}, 409, "CONFLICT"},
			{"400/bad uses", "POST", "/api/networks/skynet/keys", w.adminA, map[string]any{"uses": -1}, 400, "BAD_REQUEST"},
			{"400/bad value", "POST", "/api/networks/skynet/keys", w.adminA, map[string]any{"value": "a b"}, 400, "BAD_REQUEST"},
			{"400/bad expiration", "POST", "/api/networks/skynet/keys", w.adminA, map[string]any{"expiration": "tomorrow"}, 400, "BAD_REQUEST"},
			{"400/expiration of another kind", "POST", "/api/networks/skynet/keys", w.adminA, map[string]any{"expiration": true}, 400, "BAD_REQUEST"},
			{"400/malformed body", "POST", "/api/networks/skynet/keys", w.adminA, `{"uses":`, 400, "BAD_REQUEST"},
			{"400/two bodies", "POST", "/api/networks/skynet/keys", w.adminA, `{} {}`, 400, "BAD_REQUEST"},
			{"200/blank body", "POST", "/api/networks/skynet/keys", w.adminA, " \r\n\t", 200, ""},
			{"400/past expiration", "POST", "/api/networks/skynet/keys", w.adminA, map[string]any{"expiration": "2020-01-01T00:00:00Z"}, 400, "BAD_REQUEST"},
			{"403/create by user", "POST", "/api/networks/skynet/keys", w.user, nil, 403, "FORBIDDEN"},
			{"404/delete other group", "DELETE", "/api/networks/skynet/keys/mykey", w.adminB, nil, 404, "NOT_FOUND"},
			{"200/delete", "DELETE", "/api/networks/skynet/keys/mykey", w.adminA, nil, 200, ""},
			{"404/delete again", "DELETE", "/api/networks/skynet/keys/mykey", w.adminA, nil, 404, "NOT_FOUND"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := e.Do(t, tc.method, tc.path, tc.body, tc.headers...)
				if tc.status != http.StatusOK {
					wantError(t, r, tc.status, tc.code)
					return
				}
				if r.Status != http.StatusOK {
					t.Fatalf("status = %d: %s", r.Status, r.Raw)
				}
			})
		}
		r = e.Do(t, "GET", "/api/networks/skynet/keys", nil, w.adminA...)
		if len(r.Array) != 4 { // the three above and the blank body's
			t.Fatalf("list: %s", r.Raw)
		}
		wantKeys(t, "listed key", r.Array[0], "name", "value", "accessstring", "uses", "expiration")
	})
}

// TestConcurrentJoinsAPI: 50 agents join at once with a 10-use key through
// the API: exactly 10 get a node, the others 401, and no address repeats.
func TestConcurrentJoinsAPI(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		w := newMeshWorld(t, e)
		w.network(t, map[string]any{"netid": "rush"})
		key := w.key(t, "rush", 10)["value"].(string)
		var ok, refused atomic.Int32
		addrs := sync.Map{}
		var wg sync.WaitGroup
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.Do(t, "POST", "/api/nodes/rush", map[string]any{"accesskey": key, "macaddress": nodeMAC(i), "publickey": newPubkey(t)})
				switch r.Status {
				case 200:
					ok.Add(1)
					if _, dup := addrs.LoadOrStore(r.JSON["address"], true); dup {
						t.Errorf("address %v handed out twice", r.JSON["address"])
					}
				case 401:
					refused.Add(1)
					if !strings.Contains(string(r.Raw), "no uses left") {
						t.Errorf("refusal: %s", r.Raw)
					}
				default:
					t.Errorf("join %d: %d %s", i, r.Status, r.Raw)
				}
			}()
		}
		wg.Wait()
		r := e.Do(t, "GET", "/api/nodes/rush", nil, w.adminA...)
		if ok.Load() != 10 || refused.Load() != 40 || len(r.Array) != 10 {
			t.Fatalf("%d joined, %d refused, %d nodes listed", ok.Load(), refused.Load(), len(r.Array))
		}
	})
}
