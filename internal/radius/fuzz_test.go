package radius

import (
	"testing"
	"time"

	"netkeep/internal/radius/nas"
)

// fuzzEnv is a server whose client does not require Message-Authenticator,
// so arbitrary packets reach the decision code, with a PSK for handshakes.
func fuzzEnv(tb testing.TB) *env {
	c := nasClient(tb, 1, "192.0.2.0/24", secret, nas.Hostapd, hsSSID)
	c.RequireMessageAuthenticator = false
	e := newEnv(tb, c)
	e.src.put(PSK{ID: 7, GroupID: 1, Passphrase: passphrase, VLAN: 42, Enabled: true, ExpiresAt: e.now.Add(time.Hour)})
	e.src.putEndpoint(Endpoint{ID: 70, GroupID: 1, MAC: 0x112233445566, PSKID: 7, Enabled: true})
	e.start(tb)
	eventually(tb, 30*time.Second, func() bool { return e.index.Candidates(1, []byte(hsSSID)).Len() == 1 }, "PMK not derived")
	return e
}

func fuzzSeeds(f *testing.F) {
	f.Add(macAuth(f, secret, station, true), true)
	f.Add(macAuth(f, secret, "11:22:33:44:55:66", false), true)
	f.Add(macAuthPassword(f, station, chap("aabb.ccdd.eeff", []byte("0123456789abcdef"))), true)
	f.Add(macAuthPassword(f, station, pap("wrong password")), true)
	for _, v := range []nas.Vendor{nas.Ruckus, nas.Cisco, nas.Hostapd} {
		f.Add(handshakeRequest(f, v, passphrase), true)
	}
	f.Add([]byte{4, 1, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, false)
	f.Add([]byte{1, 1, 0, 22, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 245, 2}, true)
}

// FuzzPacket feeds arbitrary datagrams through the whole packet path of
// both ports; it must never panic, and an answer must be a well-formed
// packet.
func FuzzPacket(f *testing.F) {
	fuzzSeeds(f)
	e := fuzzEnv(f)
	f.Fuzz(func(t *testing.T, b []byte, authPort bool) {
		resp := e.exchange(t, testAddr, b, authPort)
		if len(resp) == 0 {
			return
		}
		if _, ok := wellFormed(resp); !ok {
			t.Fatalf("malformed response %x", resp)
		}
		if resp[20] != attrMessageAuthenticator {
			t.Fatal("response without a leading Message-Authenticator")
		}
	})
}

// FuzzAttributes feeds arbitrary attribute lists to the request parser and
// the helpers that read what it found (MACs, Called-Station-Id, handshakes).
func FuzzAttributes(f *testing.F) {
	f.Add([]byte{1, 8, 'a', 'a', 'b', 'b', 'c', 'c'})
	f.Add([]byte{26, 12, 0, 0, 0x61, 0xdd, 153, 6, 3, 4, 1, 2})
	f.Add([]byte{245, 8, 26, 0x80, 0, 0, 0x2c, 0x50, 245, 5, 26, 0, 2})
	for _, v := range []nas.Vendor{nas.Ruckus, nas.Cisco, nas.Hostapd} {
		f.Add(handshakeRequest(f, v, passphrase)[headerLen:])
	}
	var w worker
	f.Fuzz(func(t *testing.T, attrBytes []byte) {
		if len(attrBytes) > maxPacketLen-headerLen {
			return
		}
		pkt := make([]byte, headerLen, headerLen+len(attrBytes))
		pkt[0] = codeAccessRequest
		pkt = append(pkt, attrBytes...)
		pkt[2], pkt[3] = byte(len(pkt)>>8), byte(len(pkt))
		p, ok := wellFormed(pkt)
		if !ok {
			return
		}
		var r request
		if !r.parse(p, w.scratch[:]) {
			return
		}
		mac, _ := r.station()
		_, _, _ = r.calledParts()
		_, _ = r.bssidMAC()
		_ = r.ssidBytes()
		w.req = r
		if hs, ok := w.handshake(mac); ok {
			_ = w.ver.Reset(hs)
		}
	})
}
