package radius

import (
	"crypto/md5"
	"net/netip"
	"testing"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"netkeep/internal/radius/nas"
)

// macAuthPassword is a MAC-authentication request for station with the
// password set by pw (nil: none).
func macAuthPassword(tb testing.TB, station string, pw func(p *radius.Packet)) []byte {
	tb.Helper()
	return buildRequest(tb, secret, true, func(p *radius.Packet) {
		_ = rfc2865.UserName_SetString(p, station)
		_ = rfc2865.CallingStationID_SetString(p, station)
		_ = rfc2865.CalledStationID_SetString(p, "02-00-00-00-00-01:netkeep")
		if pw != nil {
			pw(p)
		}
	})
}

func pap(password string) func(p *radius.Packet) {
	return func(p *radius.Packet) { _ = rfc2865.UserPassword_SetString(p, password) }
}

// chap answers a CHAP challenge with password: with CHAP-Challenge when
// challenge is set, else against the Request Authenticator.
func chap(password string, challenge []byte) func(p *radius.Packet) {
	return func(p *radius.Packet) {
		c := challenge
		if c == nil {
			c = p.Authenticator[:]
		} else {
			_ = rfc2865.CHAPChallenge_Set(p, c)
		}
		const ident = 0x2a
		h := md5.New()
		h.Write([]byte{ident})
		h.Write([]byte(password))
		h.Write(c)
		_ = rfc2865.CHAPPassword_Set(p, append([]byte{ident}, h.Sum(nil)...))
	}
}

// TestMACAuthPassword: MAC authentication is accepted only with the
// password the client's policy names, and each refusal is an Access-Reject
// counted as wrong_password.
func TestMACAuthPassword(t *testing.T) {
	const fixed = "ap-mac-password"
	challenge := []byte("0123456789abcdef")
	tests := []struct {
		name    string
		mode    nas.MACPasswordMode
		station string
		pw      func(p *radius.Packet)
		accept  bool
	}{
		{"mac/pap bare", nas.MACPasswordMAC, station, pap("aabbccddeeff"), true},
		{"mac/pap bare upper", nas.MACPasswordMAC, station, pap("AABBCCDDEEFF"), true},
		{"mac/pap colons", nas.MACPasswordMAC, station, pap("aa:bb:cc:dd:ee:ff"), true},
		{"mac/pap colons upper", nas.MACPasswordMAC, station, pap("AA:BB:CC:DD:EE:FF"), true},
		{"mac/pap dashes", nas.MACPasswordMAC, station, pap("aa-bb-cc-dd-ee-ff"), true},
		{"mac/pap dashes upper", nas.MACPasswordMAC, station, pap("AA-BB-CC-DD-EE-FF"), true},
		{"mac/pap cisco dots", nas.MACPasswordMAC, station, pap("aabb.ccdd.eeff"), true},
		{"mac/pap hpe halves", nas.MACPasswordMAC, station, pap("aabbcc-ddeeff"), true},
		{"mac/chap bare", nas.MACPasswordMAC, station, chap("aabbccddeeff", challenge), true},
		{"mac/chap bare upper", nas.MACPasswordMAC, station, chap("AABBCCDDEEFF", challenge), true},
		{"mac/chap colons", nas.MACPasswordMAC, station, chap("aa:bb:cc:dd:ee:ff", challenge), true},
		{"mac/chap dashes upper", nas.MACPasswordMAC, station, chap("AA-BB-CC-DD-EE-FF", challenge), true},
		{"mac/chap cisco dots", nas.MACPasswordMAC, station, chap("aabb.ccdd.eeff", challenge), true},
		{"mac/chap authenticator as challenge", nas.MACPasswordMAC, station, chap("aabbccddeeff", nil), true},
		{"mac/pap wrong password", nas.MACPasswordMAC, station, pap("letmein!"), false},
		{"mac/pap another station's MAC", nas.MACPasswordMAC, station, pap("aabbccddee00"), false},
		{"mac/pap MAC with padding inside", nas.MACPasswordMAC, station, pap("aabbccddeeff\x00x"), false},
		{"mac/chap wrong password", nas.MACPasswordMAC, station, chap("letmein!", challenge), false},
		{"mac/chap another station's MAC", nas.MACPasswordMAC, station, chap("aa:bb:cc:dd:ee:00", challenge), false},
		{"mac/no password", nas.MACPasswordMAC, station, nil, false},
		{"mac/unknown station, wrong password", nas.MACPasswordMAC, "11-22-33-44-55-66", pap("letmein!"), false},
		{"any/wrong password", nas.MACPasswordAny, station, pap("letmein!"), true},
		{"any/no password", nas.MACPasswordAny, station, nil, true},
		{"fixed/pap", nas.MACPasswordFixed, station, pap(fixed), true},
		{"fixed/chap", nas.MACPasswordFixed, station, chap(fixed, challenge), true},
		{"fixed/pap the MAC", nas.MACPasswordFixed, station, pap("aabbccddeeff"), false},
		{"fixed/pap a prefix", nas.MACPasswordFixed, station, pap(fixed[:5]), false},
		{"fixed/chap wrong", nas.MACPasswordFixed, station, chap("aabbccddeeff", challenge), false},
		{"fixed/no password", nas.MACPasswordFixed, station, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := nasClient(t, 1, "192.0.2.0/24", secret, nas.Generic)
			c.MACPassword = tt.mode
			if tt.mode == nas.MACPasswordFixed {
				c.FixedMACPassword = fixed
			}
			e := newEnv(t, c)
			e.src.put(PSK{ID: 7, GroupID: 1, Passphrase: passphrase, VLAN: 100, Enabled: true})
			e.src.putEndpoint(Endpoint{ID: 70, GroupID: 1, MAC: 0xaabbccddeeff, PSKID: 7, Enabled: true})
			e.start(t)
			wrong := e.server.m.rejects[rejectWrongPassword]
			before := counter(wrong)

			req := macAuthPassword(t, tt.station, tt.pw)
			p := parseResponse(t, e.exchange(t, testAddr, req, true), req, secret)
			rejected := counter(wrong) - before
			switch {
			case tt.accept && p.Code != radius.CodeAccessAccept:
				t.Fatalf("code %v, want Access-Accept", p.Code)
			case tt.accept:
				tunnelPasswordIs(passphrase)(t, p)
				if rejected != 0 {
					t.Fatalf("wrong_password rejects grew by %v on an accept", rejected)
				}
			case p.Code != radius.CodeAccessReject:
				t.Fatalf("code %v, want Access-Reject", p.Code)
			case len(p.Attributes) != 2 || p.Get(attrTunnelPassword) != nil:
				t.Fatalf("reject attributes %v, want Message-Authenticator and Reply-Message only", p.Attributes)
			case rejected != 1:
				t.Fatalf("wrong_password rejects grew by %v, want 1", rejected)
			}
		})
	}
}

// A Ruckus client asking for a station on an SSID no client lists gets the
// Tunnel-Password alone: no PMK is derived on the socket's goroutine.
func TestRuckusUnlistedSSID(t *testing.T) {
	e := newMACEnv(t, nas.Ruckus) // lists no SSID
	req := macAuth(t, secret, station, true)
	p := parseResponse(t, e.exchange(t, testAddr, req, true), req, secret)
	if p.Code != radius.CodeAccessAccept {
		t.Fatalf("code %v", p.Code)
	}
	tunnelPasswordIs(passphrase)(t, p)
	if got := vsas(p, vendorMicrosoft, msMPPERecvKey); len(got) != 0 {
		t.Fatalf("%d MS-MPPE-Recv-Key without a derived PMK", len(got))
	}
	if e.index.CachedKey(e.index.cred(7), []byte("netkeep")) != nil {
		t.Fatal("a PMK was derived for an SSID no client lists")
	}
}

// A client stored with a 4-in-6 address or prefix answers its IPv4
// sources, however the socket reports them.
func TestClientTableUnmapsAddresses(t *testing.T) {
	mapped := func(id int64, prefix string) *nas.Client {
		return &nas.Client{ID: id, GroupID: 1, Prefix: netip.MustParsePrefix(prefix), Secret: secret}
	}
	table := newClientTable([]*nas.Client{
		mapped(1, "::ffff:192.0.2.10/128"),
		mapped(2, "::ffff:10.0.0.0/104"),
		mapped(3, "2001:db8::/32"),
	})
	tests := []struct {
		from string
		want int64 // 0: no client
	}{
		{"192.0.2.10", 1},
		{"::ffff:192.0.2.10", 1},
		{"10.1.2.3", 2},
		{"::ffff:10.1.2.3", 2},
		{"2001:db8::7", 3},
		{"192.0.2.11", 0},
		{"11.0.0.1", 0},
	}
	for _, tt := range tests {
		t.Run(tt.from, func(t *testing.T) {
			var got int64
			if c := table.lookup(netip.MustParseAddr(tt.from)); c != nil {
				got = c.ID
			}
			if got != tt.want {
				t.Fatalf("lookup(%s) = client %d, want %d", tt.from, got, tt.want)
			}
		})
	}
}
