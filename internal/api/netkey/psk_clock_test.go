package netkey_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/api/netkey"
	"netkeep/internal/authz"
	"netkeep/internal/psk"
)

// clockPSKs is the psk service at the handler's edge, with its own clock:
// a year after the wall clock.
type clockPSKs struct {
	netkey.PSKs
	now time.Time
	p   *psk.PSK
}

func (c clockPSKs) Now() time.Time { return c.now }
func (c clockPSKs) Get(context.Context, *authz.Principal, int64) (*psk.PSK, error) {
	return c.p, nil
}
func (c clockPSKs) List(context.Context, *authz.Principal, psk.Filter) (*psk.Page, error) {
	return &psk.Page{PSKs: []*psk.PSK{c.p}, Total: 1, At: c.now}, nil
}

// TestPSKExpiredOnServiceClock: "expired" is judged at the service's
// instant (the one its expired filter uses), not the handler's wall clock.
func TestPSKExpiredOnServiceClock(t *testing.T) {
	t.Parallel()
	expires := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	fake := clockPSKs{now: time.Now().AddDate(1, 0, 0), p: &psk.PSK{ID: 7, PSKID: "p", Passphrase: "passphrase", Enabled: true, Expires: &expires}}
	rt := api.NewRouter(&api.Authenticator{MasterKey: "clock-master-key"})
	(&netkey.Handlers{PSKs: fake}).Register(rt)
	hs := httptest.NewServer(api.Wrap(rt, api.Options{}))
	t.Cleanup(hs.Close)
	cases := []struct {
		name string
		path string
		get  func(body []byte) (bool, error)
	}{
		{"200/get", "/api/v1/psks/7", func(b []byte) (bool, error) {
			var v struct{ Expired bool }
			return v.Expired, json.Unmarshal(b, &v)
		}},
		{"200/list", "/api/v1/psks", func(b []byte) (bool, error) {
			var v struct{ PSKs []struct{ Expired bool } }
			err := json.Unmarshal(b, &v)
			return len(v.PSKs) == 1 && v.PSKs[0].Expired, err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", hs.URL+tc.path, nil)
			req.Header.Set("Authorization", "Bearer clock-master-key")
			res, err := hs.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var raw json.RawMessage
			if err := json.NewDecoder(res.Body).Decode(&raw); err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("%d %s %v", res.StatusCode, raw, err)
			}
			if expired, err := tc.get(raw); err != nil || !expired {
				t.Fatalf("expired = %v (%v) on the service's clock a year ahead: %s", expired, err, raw)
			}
		})
	}
}
