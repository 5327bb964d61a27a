package radius

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"testing"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"netkeep/internal/radius/nas"
	"netkeep/internal/radius/wpa/wpatest"
)

var (
	hsAA     = [6]byte{0x02, 0, 0, 0, 0, 0x01}
	hsSPA    = [6]byte{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	hsANonce = bytes.Repeat([]byte{0x5a}, 32)
	hsSNonce = bytes.Repeat([]byte{0xa5}, 32)
)

const hsSSID = "netkeep"

// hsStation is the station spa in the handshakes of these tests, built by
// the independent generator (wpatest), never by package wpa.
func hsStation(spa [6]byte) wpatest.Station {
	return wpatest.Station{AA: hsAA, SPA: spa, ANonce: [32]byte(hsANonce), SNonce: [32]byte(hsSNonce)}
}

func vsa26(vendor uint32, typ byte, val []byte) radius.Attribute {
	b := binary.BigEndian.AppendUint32(nil, vendor)
	b = append(b, typ, byte(2+len(val)))
	return append(b, val...)
}

func tlv(typ byte, val []byte) []byte { return append([]byte{typ, byte(2 + len(val))}, val...) }

// handshakeRequest builds the Access-Request each vendor sends for a
// station whose message 2 was made with passphrase.
func handshakeRequest(tb testing.TB, v nas.Vendor, pass string) []byte {
	tb.Helper()
	frame := hsStation(hsSPA).Message2(wpatest.PMK(pass, hsSSID), wpatest.RSNE)
	return buildRequest(tb, secret, true, func(p *radius.Packet) {
		_ = rfc2865.UserName_SetString(p, "aabbccddeeff")
		_ = rfc2865.CallingStationID_SetString(p, "AA-BB-CC-DD-EE-FF")
		switch v {
		case nas.Ruckus:
			p.Add(attrVendorSpecific, vsa26(vendorRuckus, ruckusSSID, []byte(hsSSID)))
			p.Add(attrVendorSpecific, vsa26(vendorRuckus, ruckusBSSID, hsAA[:]))
			params := append(tlv(ruckusDPSKAnonce, hsANonce), tlv(ruckusDPSKFrame, frame)...)
			p.Add(attrVendorSpecific, vsa26(vendorRuckus, ruckusDPSKParams, params))
		case nas.Cisco:
			for _, pair := range [][]byte{
				[]byte("cisco-wlan-ssid=" + hsSSID), []byte("cisco-bssid=0200.0000.0001"),
				append([]byte("cisco-anonce="), hsANonce...), append([]byte("cisco-8021x-data="), frame...),
			} {
				p.Add(attrVendorSpecific, vsa26(vendorCisco, ciscoAVPair, pair))
			}
		case nas.Hostapd:
			_ = rfc2865.CalledStationID_SetString(p, "02-00-00-00-00-01:"+hsSSID)
			evs := func(typ byte, val []byte) radius.Attribute {
				b := []byte{evsExtendedType, 0}
				b = binary.BigEndian.AppendUint32(b, vendorFreeRADIUS)
				return append(append(b, typ), val...)
			}
			p.Add(attrExtendedVS5, evs(frAnonce, hsANonce))
			p.Add(attrExtendedVS5, evs(frEAPOLKeyMsg, frame))
		}
	})
}

func newHandshakeEnv(tb testing.TB, v nas.Vendor, extra int) *env {
	tb.Helper()
	e := newEnv(tb, nasClient(tb, 1, "192.0.2.0/24", secret, v, hsSSID))
	e.src.put(PSK{ID: 7, GroupID: 1, Passphrase: passphrase, VLAN: 42, Enabled: true})
	for i := range extra {
		e.src.put(PSK{ID: int64(100 + i), GroupID: 1, Passphrase: "other passphrase " + hex.EncodeToString([]byte{byte(i)}), Enabled: true})
	}
	e.start(tb)
	eventually(tb, 30e9, func() bool { return e.index.Candidates(1, []byte(hsSSID)).Len() == 1+extra }, "PMKs not derived")
	return e
}

func TestHandshakeIdentification(t *testing.T) {
	pmk := wpatest.PMK(passphrase, hsSSID)
	tests := []struct {
		vendor nas.Vendor
		check  func(t *testing.T, p *radius.Packet)
	}{
		{nas.Ruckus, func(t *testing.T, p *radius.Packet) {
			vals := vsas(p, vendorMicrosoft, msMPPERecvKey)
			if len(vals) != 1 {
				t.Fatalf("%d MS-MPPE-Recv-Key", len(vals))
			}
			got, _, err := radius.TunnelPassword(vals[0], []byte(secret), p.Authenticator[:])
			if err != nil || !bytes.Equal(got, pmk[:]) {
				t.Fatalf("MS-MPPE-Recv-Key = %x, %v", got, err)
			}
		}},
		{nas.Cisco, func(t *testing.T, p *radius.Packet) {
			pairs := vsas(p, vendorCisco, ciscoAVPair)
			if len(pairs) != 2 || string(pairs[0]) != "psk="+hex.EncodeToString(pmk[:]) || string(pairs[1]) != "psk-mode=hex" {
				t.Fatalf("Cisco-AVPairs %q", pairs)
			}
		}},
		{nas.Hostapd, tunnelPasswordIs(passphrase)},
	}
	for _, tt := range tests {
		t.Run(string(tt.vendor), func(t *testing.T) {
			e := newHandshakeEnv(t, tt.vendor, 20)
			req := handshakeRequest(t, tt.vendor, passphrase)
			p := parseResponse(t, e.exchange(t, testAddr, req, true), req, secret)
			if p.Code != radius.CodeAccessAccept {
				t.Fatalf("code %v", p.Code)
			}
			tt.check(t, p)
			checkVLAN(t, p, "42")

			// Auto-enrolment: the station is bound, in memory at once and
			// in the source in the background, and its next handshake is
			// answered on the fast path without a search.
			if g, ok := e.index.ByMAC(1, 0xaabbccddeeff); !ok || g.Cred.PSKID != 7 {
				t.Fatal("station not bound after the match")
			}
			eventually(t, 1e9, func() bool { e.src.mu.Lock(); defer e.src.mu.Unlock(); return e.src.binds == 1 }, "binding not stored")
			req2 := handshakeRequest(t, tt.vendor, passphrase)
			w := e.server.newWorker()
			resp := w.packet(nil, testAddr, req2, true)
			if resp == nil {
				t.Fatal("bound station went to the search")
			}
			if p := parseResponse(t, resp, req2, secret); p.Code != radius.CodeAccessAccept {
				t.Fatalf("repeat: code %v", p.Code)
			}
		})
	}
}

func TestHandshakeWithUnknownPassphraseIsRejected(t *testing.T) {
	e := newHandshakeEnv(t, nas.Hostapd, 5)
	req := handshakeRequest(t, nas.Hostapd, "a passphrase nobody has")
	p := parseResponse(t, e.exchange(t, testAddr, req, true), req, secret)
	if p.Code != radius.CodeAccessReject || len(p.Attributes) != 2 {
		t.Fatalf("code %v attributes %v", p.Code, p.Attributes)
	}
	if _, ok := e.index.ByMAC(1, 0xaabbccddeeff); ok {
		t.Fatal("station bound without a match")
	}
}

// A bound station whose handshake no longer matches its PSK is searched
// again, and a disabled PSK found by the search is rejected.
func TestHandshakeDisabledPSK(t *testing.T) {
	e := newHandshakeEnv(t, nas.Hostapd, 0)
	p, _ := e.src.PSK(context.TODO(), 7)
	p.Enabled = false
	e.src.put(p)
	e.publish(t, TopicPSK, "7", func() bool {
		c := e.index.Candidates(1, []byte(hsSSID))
		return c.Len() == 1 && !c.Creds[0].Enabled
	})
	req := handshakeRequest(t, nas.Hostapd, passphrase)
	if p := parseResponse(t, e.exchange(t, testAddr, req, true), req, secret); p.Code != radius.CodeAccessReject {
		t.Fatalf("code %v", p.Code)
	}
}

// A passphrase change derives the new PMK and drops the old one.
func TestPMKFollowsPassphrase(t *testing.T) {
	e := newHandshakeEnv(t, nas.Hostapd, 0)
	p, _ := e.src.PSK(context.TODO(), 7)
	p.Passphrase = "the new passphrase"
	e.src.put(p)
	newPMK := wpatest.PMK(p.Passphrase, hsSSID)
	e.publish(t, TopicPSK, "7", func() bool {
		c := e.index.Candidates(1, []byte(hsSSID))
		return c.Len() == 1 && c.Keys[0].PMK == newPMK
	})
	req := handshakeRequest(t, nas.Hostapd, "the new passphrase")
	if p := parseResponse(t, e.exchange(t, testAddr, req, true), req, secret); p.Code != radius.CodeAccessAccept {
		t.Fatalf("code %v", p.Code)
	}
}
