package radius

import (
	"testing"
	"time"

	"layeh.com/radius"

	"netkeep/internal/radius/nas"
)

// An endpoint's own expiry (kept in 32 bits) bounds the session when it is
// earlier than the PSK's, and rejects the station once passed.
func TestEndpointExpiry(t *testing.T) {
	tests := []struct {
		name    string
		expires time.Duration // from now; 0: never
		want    radius.Code
		timeout uint32 // Session-Timeout of an accept
	}{
		{"200/earlier than the PSK", 10 * time.Minute, radius.CodeAccessAccept, 600},
		{"200/later than the PSK", 2 * time.Hour, radius.CodeAccessAccept, 3600},
		{"200/never", 0, radius.CodeAccessAccept, 3600},
		{"reject/passed", -time.Second, radius.CodeAccessReject, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nasClient(t, 1, "192.0.2.0/24", secret, nas.Generic))
			e.src.put(PSK{ID: 7, GroupID: 1, Passphrase: passphrase, Enabled: true, ExpiresAt: e.now.Add(time.Hour)})
			ep := Endpoint{ID: 70, GroupID: 1, MAC: 0xaabbccddeeff, PSKID: 7, Enabled: true}
			if tt.expires != 0 {
				ep.ExpiresAt = e.now.Add(tt.expires)
			}
			e.src.putEndpoint(ep)
			e.start(t)
			req := macAuth(t, secret, station, true)
			p := parseResponse(t, e.exchange(t, testAddr, req, true), req, secret)
			if p.Code != tt.want {
				t.Fatalf("code %v, want %v", p.Code, tt.want)
			}
			if tt.want != radius.CodeAccessAccept {
				return
			}
			if st, _ := radius.Integer(p.Get(attrSessionTimeout)); st != tt.timeout {
				t.Fatalf("Session-Timeout %d, want %d", st, tt.timeout)
			}
		})
	}
}
