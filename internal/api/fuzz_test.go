package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/api/apitest"
	"netkeep/internal/fault"
)

// fuzzTarget has a field of every kind the dialects' request types use.
type fuzzTarget struct {
	Name    string            `json:"name"`
	Count   int               `json:"count"`
	VLAN    *int              `json:"vlan_id"`
	Enabled *bool             `json:"enabled"`
	Uses    uint16            `json:"uses"`
	Expires *time.Time        `json:"expires"`
	Tags    []string          `json:"tags"`
	Labels  map[string]string `json:"labels"`
	Nested  *struct {
		ID    int64   `json:"id"`
		Ratio float64 `json:"ratio"`
	} `json:"nested"`
	Raw json.RawMessage `json:"raw"`
	Any any             `json:"any"`
}

// fuzzLimit is the body limit of the fuzzed requests, small enough that the
// fuzzer reaches it.
const fuzzLimit = 256

// FuzzDecode feeds arbitrary bytes to api.Decode, the shared decoder of
// every dialect: it never panics, accepts only a body that is one valid JSON
// value, and fails only with invalid (400) or too_large (413), which every
// dialect renders as a 4xx in its envelope.
func FuzzDecode(f *testing.F) {
	route := apitest.BodyRoute{Method: "POST", Path: "/fuzz"}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/groups", bytes.NewReader(body))
		r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, fuzzLimit)
		var v fuzzTarget
		err := api.Decode(r, &v)
		if err == nil {
			if len(body) > fuzzLimit || !json.Valid(body) {
				t.Fatalf("Decode accepted %q", body)
			}
			return
		}
		if c := fault.CodeOf(err); c != fault.Invalid && c != fault.TooLarge {
			t.Fatalf("Decode(%q) = %v (code %q), want invalid or too_large", body, err, c)
		}
		for _, d := range []struct {
			dialect api.Dialect
			env     apitest.Envelope
		}{{api.NetKey, apitest.Flat}, {api.GateKey, apitest.Nested}, {api.Nekzus, apitest.Nested}} {
			w := httptest.NewRecorder()
			api.ErrorAs(w, r, d.dialect, err)
			if w.Code != http.StatusBadRequest && w.Code != http.StatusRequestEntityTooLarge {
				t.Fatalf("%s renders Decode(%q)'s error as %d", d.dialect, body, w.Code)
			}
			apitest.CheckFuzzed(t, d.env, route, body, w.Code, w.Body.Bytes())
		}
	})
}
