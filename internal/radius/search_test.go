package radius

import (
	"context"
	"fmt"
	"testing"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"netkeep/internal/event"
	"netkeep/internal/radius/nas"
	"netkeep/internal/radius/wpa"
	"netkeep/internal/radius/wpa/wpatest"
)

// hostapdHandshake is the request hostapd (wpa_psk_radius=3) sends for
// station spa whose message 2 was made with passphrase.
func hostapdHandshake(tb testing.TB, spa MAC, pass string) []byte {
	tb.Helper()
	frame := hsStation(spa.Bytes()).Message2(wpatest.PMK(pass, hsSSID), wpatest.RSNE)
	return buildRequest(tb, secret, true, func(p *radius.Packet) {
		_ = rfc2865.CallingStationID_SetString(p, spa.String())
		_ = rfc2865.CalledStationID_SetString(p, "02-00-00-00-00-01:"+hsSSID)
		evs := func(typ byte, val []byte) radius.Attribute {
			return append([]byte{evsExtendedType, 0, 0, 0, 0x2c, 0x50, typ}, val...)
		}
		p.Add(attrExtendedVS5, evs(frAnonce, hsANonce))
		p.Add(attrExtendedVS5, evs(frEAPOLKeyMsg, frame))
	})
}

// Ruckus-AAA-Id (vendor 25053, attribute 152) is a string, whatever its
// bytes look like: a request carrying one whose value happens to parse as
// the DPSK TLVs is MAC authentication, not a handshake, while the same
// TLVs in Ruckus-DPSK-Params (153) are one.
func TestRuckusAAAIdIsNotDPSKParams(t *testing.T) {
	frame := hsStation(hsSPA).Message2(wpatest.PMK(passphrase, hsSSID), wpatest.RSNE)
	params := append(tlv(ruckusDPSKAnonce, hsANonce), tlv(ruckusDPSKFrame, frame)...)
	build := func(attr byte) []byte {
		return buildRequest(t, secret, true, func(p *radius.Packet) {
			_ = rfc2865.UserName_SetString(p, "aabbccddeeff")
			_ = rfc2865.UserPassword_SetString(p, "aabbccddeeff")
			_ = rfc2865.CallingStationID_SetString(p, "AA-BB-CC-DD-EE-FF")
			p.Add(attrVendorSpecific, vsa26(vendorRuckus, ruckusSSID, []byte(hsSSID)))
			p.Add(attrVendorSpecific, vsa26(vendorRuckus, ruckusBSSID, hsAA[:]))
			p.Add(attrVendorSpecific, vsa26(vendorRuckus, attr, params))
		})
	}
	tests := []struct {
		name   string
		attr   byte
		reason string // the reject's reason, "" for an accept
	}{
		// The station has no binding: MAC authentication rejects it as
		// unknown; it never reaches the search.
		{"152 Ruckus-AAA-Id", 152, rejectUnknown},
		// The handshake identifies the PSK.
		{"153 Ruckus-DPSK-Params", ruckusDPSKParams, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newHandshakeEnv(t, nas.Ruckus, 0)
			req := build(tt.attr)
			p := parseResponse(t, e.exchange(t, testAddr, req, true), req, secret)
			if tt.reason == "" {
				if p.Code != radius.CodeAccessAccept {
					t.Fatalf("code %v", p.Code)
				}
				return
			}
			if p.Code != radius.CodeAccessReject {
				t.Fatalf("code %v", p.Code)
			}
			if got := counter(e.server.m.rejects[tt.reason]); got != 1 {
				t.Fatalf("rejects{%s} = %v", tt.reason, got)
			}
			if got := counter(e.server.m.checked); got != 0 {
				t.Fatalf("%v candidates checked for a MAC authentication", got)
			}
		})
	}
}

// netkeep_radius_handshake_candidates_total counts the keys actually
// tried: all of them for a foreign PSK, as many as the search took for a
// match, and one for a second device of a PSK that just matched (tried
// first, from the recent matches).
func TestCandidatesCountedAsTried(t *testing.T) {
	const extra = 20
	e := newHandshakeEnv(t, nas.Hostapd, extra)
	before := 0.0
	try := func(t *testing.T, spa MAC, pass string) (*radius.Packet, float64) {
		t.Helper()
		req := hostapdHandshake(t, spa, pass)
		p := parseResponse(t, e.exchange(t, testAddr, req, true), req, secret)
		now := counter(e.server.m.checked)
		d := now - before
		before = now
		return p, d
	}
	if p, n := try(t, 0x0a0000000001, "a passphrase nobody has"); p.Code != radius.CodeAccessReject || n != extra+1 {
		t.Fatalf("foreign: code %v, %v tried; want reject, %d", p.Code, n, extra+1)
	}
	// Where the right key sits in the list is up to the index: the count
	// is its place, never the whole list unless it is last.
	cs := e.index.Candidates(1, []byte(hsSSID))
	at := -1
	for i, c := range cs.Creds {
		if c.PSKID == 7 {
			at = i
		}
	}
	p, n := try(t, 0x0a0000000002, passphrase)
	if p.Code != radius.CodeAccessAccept {
		t.Fatalf("first device: code %v", p.Code)
	}
	// Find checks a step of keys at a time (wpa.SearchWay's lanes while
	// that many remain, then pairs): the count is the end of the step
	// that found the key.
	lanes, total := wpa.SearchWay().Lanes, extra+1
	full := total / lanes * lanes
	want := min(total, full+((at-full)/2+1)*2)
	if at < full {
		want = (at/lanes + 1) * lanes
	}
	if float64(want) != n {
		t.Fatalf("first device: %v tried, want %v (key at %d, %d lanes)", n, want, at, lanes)
	}
	if p, n := try(t, 0x0a0000000003, passphrase); p.Code != radius.CodeAccessAccept || n != 1 {
		t.Fatalf("second device: code %v, %v tried; want accept, 1", p.Code, n)
	}
}

// A search split across goroutines finds the key wherever it sits (first,
// either side of a share's edge, last) and rejects a foreign one after
// trying every key once.
func TestSplitSearch(t *testing.T) {
	const n = 3 * splitMin
	e := newEnv(t, nasClient(t, 1, "192.0.2.0/24", secret, nas.Hostapd, hsSSID))
	for i := range n {
		// 64 hex digits are the PMK itself: no PBKDF2 for the setup.
		e.src.put(PSK{ID: int64(i + 1), GroupID: 1, Passphrase: fmt.Sprintf("%064x", i+1), Enabled: true})
	}
	e.start(t)
	eventually(t, 30e9, func() bool { return e.index.Candidates(1, []byte(hsSSID)).Len() == n }, "keys not loaded")
	e.server.shares = 3
	cs := e.index.Candidates(1, []byte(hsSSID))
	per := (n + 2) / 3
	for _, at := range []int{0, per - 1, per, 2*per - 1, 2 * per, n - 1, -1} {
		t.Run(fmt.Sprint("at ", at), func(t *testing.T) {
			pass, want := "a passphrase nobody has", radius.CodeAccessReject
			if at >= 0 {
				pass, want = cs.Creds[at].Passphrase, radius.CodeAccessAccept
			}
			before := counter(e.server.m.checked)
			recent := e.index.Recent(1, []byte(hsSSID)).Len() // tried first
			// A new station each time, so no recent match shortcuts it.
			spa := MAC(0x0b0000000000 + uint64(at+1))
			req := hostapdHandshake(t, spa, pass)
			p := parseResponse(t, e.exchange(t, testAddr, req, true), req, secret)
			if p.Code != want {
				t.Fatalf("code %v, want %v", p.Code, want)
			}
			tried := counter(e.server.m.checked) - before
			if at < 0 && tried != float64(n+recent) {
				t.Fatalf("foreign: %v tried, want %d and %d recent", tried, n, recent)
			}
			if at >= 0 {
				if g, ok := e.index.ByMAC(1, spa); !ok || g.Cred != cs.Creds[at] {
					t.Fatal("bound to the wrong PSK")
				}
			}
		})
	}
}

// A first contact whose PSK has no PMK yet: with few waiting it is derived
// on the spot and the station accepted; with many waiting (a bulk import
// being derived) the reject says why, and the background derives it.
func TestFirstContactBeforeItsPMK(t *testing.T) {
	tests := []struct {
		name    string
		waiting int
		want    radius.Code
		reason  string
	}{
		{"derived on demand", onDemandMax, radius.CodeAccessAccept, ""},
		{"too many waiting", onDemandMax + 1, radius.CodeAccessReject, rejectPMKPending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nasClient(t, 1, "192.0.2.0/24", secret, nas.Hostapd, hsSSID))
			e.src.put(PSK{ID: 7, GroupID: 1, Passphrase: passphrase, VLAN: 42, Enabled: true})
			for i := 1; i < tt.waiting; i++ {
				e.src.put(PSK{ID: int64(100 + i), GroupID: 1, Passphrase: fmt.Sprintf("other passphrase %d", i), Enabled: true})
			}
			// Load without starting the background derivation: every PMK
			// stays queued.
			if err := e.index.reload(context.Background()); err != nil {
				t.Fatal(err)
			}
			if n, _ := e.index.Pending(1, []byte(hsSSID), 0); n != tt.waiting {
				t.Fatalf("%d waiting, want %d", n, tt.waiting)
			}
			req := hostapdHandshake(t, 0x0c0000000001, passphrase)
			p := parseResponse(t, e.exchange(t, testAddr, req, true), req, secret)
			if p.Code != tt.want {
				t.Fatalf("code %v, want %v", p.Code, tt.want)
			}
			if tt.reason != "" {
				if got := counter(e.server.m.rejects[tt.reason]); got != 1 {
					t.Fatalf("rejects{%s} = %v", tt.reason, got)
				}
				return
			}
			checkVLAN(t, p, "42")
			// The keys derived on demand (up to the match) left the queue
			// and are candidates for the next station.
			n, _ := e.index.Pending(1, []byte(hsSSID), 0)
			c := e.index.Candidates(1, []byte(hsSSID)).Len()
			if n+c != tt.waiting || c == 0 || e.index.CachedKey(e.index.cred(7), []byte(hsSSID)) == nil {
				t.Fatalf("%d waiting and %d candidates, want %d in all with PSK 7's", n, c, tt.waiting)
			}
		})
	}
}

// The candidate list follows installs by appending (a list handed out
// before stays as it was) and a removal by rebuilding.
func TestCandidateListFollowsChanges(t *testing.T) {
	x := NewIndex(nil, nil, event.NewLocal(), WithIndexLogger(discard()))
	ssid := []byte(hsSSID)
	key := func(i int) *wpa.Key { return wpa.NewKey([32]byte{byte(i)}) }
	cred := func(i int) *Credential { return &Credential{PSKID: int64(i), GroupID: 1} }
	ids := func(c *Candidates) map[int64]byte {
		m := map[int64]byte{}
		for i, cr := range c.Creds {
			m[cr.PSKID] = c.Keys[i].PMK[0]
		}
		return m
	}
	x.addCandidateLocked(cred(1), hsSSID, key(1))
	first := x.Candidates(1, ssid)
	var lists []*Candidates
	for i := 2; i <= 50; i++ {
		x.addCandidateLocked(cred(i), hsSSID, key(i))
		if i%7 == 0 {
			lists = append(lists, x.Candidates(1, ssid))
		}
	}
	all := x.Candidates(1, ssid)
	if got := ids(all); len(got) != 50 || got[50] != 50 || got[1] != 1 {
		t.Fatalf("after installs: %v", got)
	}
	if first.Len() != 1 || first.Creds[0].PSKID != 1 {
		t.Fatal("an earlier list changed")
	}
	for i, l := range lists {
		if l.Len() != 7*(i+1) {
			t.Fatalf("list %d has %d candidates, want %d", i, l.Len(), 7*(i+1))
		}
	}
	x.dropCandidateLocked(nil, keyID{psk: 20, ssid: hsSSID})
	x.addCandidateLocked(cred(30), hsSSID, key(130)) // replaced
	got := ids(x.Candidates(1, ssid))
	if _, ok := got[20]; ok || len(got) != 49 || got[30] != 130 {
		t.Fatalf("after a removal and a replacement: %d candidates, 20 present %v, 30's key %d", len(got), ok, got[30])
	}
	if all.Len() != 50 {
		t.Fatal("the list before the removal changed")
	}
}
