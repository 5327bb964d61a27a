package radius

import (
	"bytes"
	"context"
	"crypto/md5"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"netkeep/internal/radius/nas"
	"netkeep/internal/radius/wpa/wpatest"
)

const (
	secret     = "s3cret-shared"
	passphrase = "correct horse battery"
	station    = "AA-BB-CC-DD-EE-FF"
)

// Tunnel-Password encryption decrypts with layeh.com/radius, an independent
// implementation, to the passphrase for every length class.
func TestTunnelPasswordEncryption(t *testing.T) {
	reqAuth := bytes.Repeat([]byte{0x42}, 16)
	for _, pass := range []string{"12345678", "fifteen chars!!", "sixteen chars!!!", strings.Repeat("x", 63), strings.Repeat("ab", 32)} {
		t.Run(strconv.Itoa(len(pass)), func(t *testing.T) {
			enc := appendSaltEncrypted(nil, md5.New(), make([]byte, scratchLen), []byte(secret), reqAuth, [2]byte{0x12, 0x34}, []byte(pass))
			if enc[0]&0x80 == 0 {
				t.Fatal("salt high bit not set")
			}
			got, salt, err := radius.TunnelPassword(enc, []byte(secret), reqAuth)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != pass || !bytes.Equal(salt, []byte{0x92, 0x34}) {
				t.Fatalf("decrypted %q salt %x", got, salt)
			}
		})
	}
}

// newMACEnv serves PSK 7 to station aa:bb:cc:dd:ee:ff through a client of
// vendor v listing ssids, once the PMKs of those SSIDs are derived.
func newMACEnv(tb testing.TB, v nas.Vendor, ssids ...string) *env {
	tb.Helper()
	e := newEnv(tb, nasClient(tb, 1, "192.0.2.0/24", secret, v, ssids...))
	e.src.put(PSK{ID: 7, GroupID: 1, Name: "guest-1", Passphrase: passphrase, VLAN: 100, Enabled: true,
		ExpiresAt: e.now.Add(time.Hour)})
	e.src.putEndpoint(Endpoint{ID: 70, GroupID: 1, MAC: 0xaabbccddeeff, PSKID: 7, Enabled: true})
	e.start(tb)
	for _, ssid := range ssids {
		eventually(tb, 30*time.Second, func() bool { return e.index.CachedKey(e.index.cred(7), []byte(ssid)) != nil },
			"PMK of "+ssid+" not derived")
	}
	return e
}

func checkVLAN(t *testing.T, p *radius.Packet, vlan string) {
	t.Helper()
	tt := p.Get(attrTunnelType)
	mt := p.Get(attrTunnelMediumType)
	if !bytes.Equal(tt, []byte{0, 0, 0, 13}) || !bytes.Equal(mt, []byte{0, 0, 0, 6}) {
		t.Fatalf("Tunnel-Type %x Tunnel-Medium-Type %x", tt, mt)
	}
	if got := string(p.Get(attrTunnelPrivateGroupID)); got != vlan {
		t.Fatalf("Tunnel-Private-Group-Id %q, want %q", got, vlan)
	}
}

// Each dialect carries the passphrase its way, plus the VLAN and the
// Session-Timeout, behind a Message-Authenticator that comes first.
func TestVendorReplies(t *testing.T) {
	tests := []struct {
		vendor nas.Vendor
		check  func(t *testing.T, p *radius.Packet)
	}{
		{nas.Cisco, func(t *testing.T, p *radius.Packet) {
			pairs := vsas(p, vendorCisco, ciscoAVPair)
			if len(pairs) != 2 || string(pairs[0]) != "psk-mode=ascii" || string(pairs[1]) != "psk="+passphrase {
				t.Fatalf("Cisco-AVPairs %q", pairs)
			}
		}},
		{nas.Aruba, func(t *testing.T, p *radius.Packet) {
			vals := vsas(p, vendorAruba, arubaMPSKPassphrase)
			if len(vals) != 1 {
				t.Fatalf("%d Aruba-MPSK-Passphrase", len(vals))
			}
			// Tunnel-Password encryption without the tag byte.
			got, _, err := radius.TunnelPassword(vals[0], []byte(secret), p.Authenticator[:])
			if err != nil || string(got) != passphrase {
				t.Fatalf("Aruba-MPSK-Passphrase decrypts to %q, %v", got, err)
			}
		}},
		{nas.Meraki, tunnelPasswordIs(passphrase)},
		{nas.Hostapd, tunnelPasswordIs(passphrase)},
		{nas.Generic, tunnelPasswordIs(passphrase)},
		{nas.Ruckus, func(t *testing.T, p *radius.Packet) {
			vals := vsas(p, vendorMicrosoft, msMPPERecvKey)
			if len(vals) != 1 {
				t.Fatalf("%d MS-MPPE-Recv-Key", len(vals))
			}
			got, _, err := radius.TunnelPassword(vals[0], []byte(secret), p.Authenticator[:])
			want := wpatest.PMK(passphrase, "netkeep")
			if err != nil || !bytes.Equal(got, want[:]) {
				t.Fatalf("MS-MPPE-Recv-Key decrypts to %x, %v; want the PMK %x", got, err, want)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.vendor), func(t *testing.T) {
			// The SSID of macAuth's Called-Station-Id, listed so that
			// Ruckus gets its PMK.
			e := newMACEnv(t, tt.vendor, "netkeep")
			req := macAuth(t, secret, station, true)
			p := parseResponse(t, e.exchange(t, testAddr, req, true), req, secret)
			if p.Code != radius.CodeAccessAccept {
				t.Fatalf("code %v", p.Code)
			}
			tt.check(t, p)
			checkVLAN(t, p, "100")
			if st, _ := radius.Integer(p.Get(attrSessionTimeout)); st != 3600 {
				t.Fatalf("Session-Timeout %d, want 3600", st)
			}
		})
	}
}

func tunnelPasswordIs(want string) func(t *testing.T, p *radius.Packet) {
	return func(t *testing.T, p *radius.Packet) {
		t.Helper()
		a := p.Get(attrTunnelPassword)
		if len(a) < 1 || a[0] != 0 {
			t.Fatalf("Tunnel-Password %x: want tag 0", a)
		}
		got, _, err := radius.TunnelPassword(a[1:], []byte(secret), p.Authenticator[:])
		if err != nil || string(got) != want {
			t.Fatalf("Tunnel-Password decrypts to %q, %v", got, err)
		}
	}
}

func TestCiscoHexPSK(t *testing.T) {
	e := newEnv(t, nasClient(t, 1, "192.0.2.10", secret, nas.Cisco))
	hexPSK := strings.Repeat("0f", 32)
	e.src.put(PSK{ID: 7, GroupID: 1, Passphrase: hexPSK, Enabled: true})
	e.src.putEndpoint(Endpoint{ID: 70, GroupID: 1, MAC: 0xaabbccddeeff, PSKID: 7, VLAN: 30, Enabled: true})
	e.start(t)
	req := macAuth(t, secret, "aabb.ccdd.eeff", true)
	p := parseResponse(t, e.exchange(t, testAddr, req, true), req, secret)
	pairs := vsas(p, vendorCisco, ciscoAVPair)
	if len(pairs) != 2 || string(pairs[0]) != "psk-mode=hex" || string(pairs[1]) != "psk="+hexPSK {
		t.Fatalf("Cisco-AVPairs %q", pairs)
	}
	checkVLAN(t, p, "30") // the endpoint's override
	if p.Get(attrSessionTimeout) != nil {
		t.Fatal("Session-Timeout without an expiry")
	}
}

// Every reject carries the Message-Authenticator and a Reply-Message, and
// nothing else: no passphrase, PMK or VLAN.
func TestRejectsCarryNothingSecret(t *testing.T) {
	tests := []struct {
		name  string
		setup func(e *env)
		user  string
	}{
		{"unknown MAC", func(e *env) {}, "11-22-33-44-55-66"},
		{"no MAC at all", func(e *env) {}, "alice"},
		{"disabled PSK", func(e *env) {
			p, _ := e.src.PSK(context.TODO(), 7)
			p.Enabled = false
			e.src.put(p)
		}, station},
		{"expired PSK", func(e *env) {
			p, _ := e.src.PSK(context.TODO(), 7)
			p.ExpiresAt = e.now.Add(-time.Second)
			e.src.put(p)
		}, station},
		{"expired at this instant", func(e *env) {
			p, _ := e.src.PSK(context.TODO(), 7)
			p.ExpiresAt = e.now
			e.src.put(p)
		}, station},
		{"disabled endpoint", func(e *env) {
			ep, _ := e.src.Endpoint(context.TODO(), 70)
			ep.Enabled = false
			e.src.putEndpoint(ep)
		}, station},
		{"expired endpoint", func(e *env) {
			ep, _ := e.src.Endpoint(context.TODO(), 70)
			ep.ExpiresAt = e.now.Add(-time.Minute)
			e.src.putEndpoint(ep)
		}, station},
		{"another group's endpoint", func(e *env) {
			p, _ := e.src.PSK(context.TODO(), 7)
			p.GroupID = 2
			e.src.put(p)
			ep, _ := e.src.Endpoint(context.TODO(), 70)
			ep.GroupID = 2
			e.src.putEndpoint(ep)
		}, station},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nasClient(t, 1, "192.0.2.0/24", secret, nas.Generic))
			e.src.put(PSK{ID: 7, GroupID: 1, Passphrase: passphrase, VLAN: 100, Enabled: true})
			e.src.putEndpoint(Endpoint{ID: 70, GroupID: 1, MAC: 0xaabbccddeeff, PSKID: 7, Enabled: true})
			tt.setup(e)
			e.start(t)
			req := macAuth(t, secret, tt.user, true)
			resp := e.exchange(t, testAddr, req, true)
			p := parseResponse(t, resp, req, secret)
			if p.Code != radius.CodeAccessReject {
				t.Fatalf("code %v, want Access-Reject", p.Code)
			}
			if len(p.Attributes) != 2 || p.Attributes[1].Type != attrReplyMessage {
				t.Fatalf("reject attributes %v, want Message-Authenticator and Reply-Message only", p.Attributes)
			}
			if bytes.Contains(resp, []byte(passphrase)) || bytes.Contains(resp, []byte("100")) {
				t.Fatal("reject leaks the passphrase or VLAN")
			}
		})
	}
}

// Requests that must not be answered at all.
func TestSilentDrops(t *testing.T) {
	e := newMACEnv(t, nas.Generic)
	tests := []struct {
		name   string
		from   string
		req    []byte
		reason string
	}{
		{"unknown client", "198.51.100.1:1812", macAuth(t, secret, station, true), dropUnknownClient},
		{"wrong secret", testAddr.String(), macAuth(t, "not-the-secret", station, true), dropBadAuth},
		{"missing required Message-Authenticator", testAddr.String(), macAuth(t, secret, station, false), dropMissingMA},
		{"truncated", testAddr.String(), macAuth(t, secret, station, true)[:30], dropMalformed},
		{"accounting on the auth port", testAddr.String(), func() []byte {
			p := radius.New(radius.CodeAccountingRequest, []byte(secret))
			return encodeWithMA(t, p, false)
		}(), dropUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := counter(e.server.m.dropped[tt.reason])
			if resp := e.exchange(t, netipAddrPort(tt.from), tt.req, true); len(resp) != 0 {
				t.Fatalf("answered %x", resp)
			}
			if counter(e.server.m.dropped[tt.reason]) != before+1 {
				t.Fatalf("drop not counted as %s", tt.reason)
			}
		})
	}
}

func TestMessageAuthenticatorOptionalWhenNotRequired(t *testing.T) {
	c := nasClient(t, 1, "192.0.2.10", secret, nas.Generic)
	c.RequireMessageAuthenticator = false
	e := newEnv(t, c)
	e.src.put(PSK{ID: 7, GroupID: 1, Passphrase: passphrase, Enabled: true})
	e.src.putEndpoint(Endpoint{ID: 70, GroupID: 1, MAC: 0xaabbccddeeff, PSKID: 7, Enabled: true})
	e.start(t)
	req := macAuth(t, secret, station, false)
	if p := parseResponse(t, e.exchange(t, testAddr, req, true), req, secret); p.Code != radius.CodeAccessAccept {
		t.Fatalf("code %v", p.Code)
	}
	// Present but wrong is still dropped.
	bad := macAuth(t, secret, station, true)
	bad[25] ^= 1
	if resp := e.exchange(t, testAddr, bad, true); len(resp) != 0 {
		t.Fatal("answered a request with a wrong Message-Authenticator")
	}
}

func TestLongestPrefixWins(t *testing.T) {
	wide := nasClient(t, 1, "192.0.2.0/24", "wide-secret", nas.Generic)
	narrow := nasClient(t, 2, "192.0.2.0/28", "narrow-secret", nas.Cisco)
	exact := nasClient(t, 3, "192.0.2.10", "exact-secret", nas.Aruba)
	e := newEnv(t, wide, narrow, exact)
	e.start(t)
	for addr, want := range map[string]int64{"192.0.2.10": 3, "192.0.2.11": 2, "192.0.2.200": 1, "::ffff:192.0.2.200": 1} {
		c := e.index.Client(netip.MustParseAddr(addr))
		if c == nil || c.ID != want {
			t.Errorf("%s → %v, want client %d", addr, c, want)
		}
	}
	if e.index.Client(netip.MustParseAddr("198.51.100.1")) != nil {
		t.Error("unknown address matched")
	}
}

func TestDuplicateGetsTheSameResponse(t *testing.T) {
	e := newMACEnv(t, nas.Generic)
	req := macAuth(t, secret, station, true)
	first := e.exchange(t, testAddr, req, true)
	second := e.exchange(t, testAddr, req, true)
	if !bytes.Equal(first, second) {
		t.Fatal("retransmission got a different response")
	}
	if counter(e.server.m.duplicates) != 1 {
		t.Fatal("duplicate not counted")
	}
	other := netipAddrPort("192.0.2.10:40001")
	if third := e.exchange(t, other, req, true); bytes.Equal(first, third) {
		t.Fatal("a request from another port was treated as a duplicate")
	}
}

func TestStatusServer(t *testing.T) {
	e := newMACEnv(t, nas.Generic)
	p := radius.New(radius.CodeStatusServer, []byte(secret))
	req := encodeWithMA(t, p, true)
	if got := parseResponse(t, e.exchange(t, testAddr, req, true), req, secret); got.Code != radius.CodeAccessAccept {
		t.Fatalf("code %v", got.Code)
	}
	if resp := e.exchange(t, testAddr, encodeWithMA(t, radius.New(radius.CodeStatusServer, []byte(secret)), false), true); len(resp) != 0 {
		t.Fatal("Status-Server without Message-Authenticator answered")
	}
}

// A change published on the bus reaches the packet path.
func TestDirectoryFollowsEvents(t *testing.T) {
	e := newMACEnv(t, nas.Generic)
	ask := func() *radius.Packet {
		req := macAuth(t, secret, station, true)
		return parseResponse(t, e.exchange(t, testAddr, req, true), req, secret)
	}
	if ask().Code != radius.CodeAccessAccept {
		t.Fatal("not accepted at first")
	}
	p, _ := e.src.PSK(context.TODO(), 7)
	p.Passphrase = "a brand new passphrase"
	e.src.put(p)
	e.publish(t, TopicPSK, "7", func() bool {
		g, _ := e.index.ByMAC(1, 0xaabbccddeeff)
		return g.Cred.Passphrase == p.Passphrase
	})
	tunnelPasswordIs(p.Passphrase)(t, ask())

	p.Enabled = false
	e.src.put(p)
	e.publish(t, TopicPSK, "7", func() bool { g, _ := e.index.ByMAC(1, 0xaabbccddeeff); return !g.Cred.Enabled })
	if ask().Code != radius.CodeAccessReject {
		t.Fatal("disabled PSK still accepted")
	}

	// A new endpoint, then its deletion.
	e.src.putEndpoint(Endpoint{ID: 71, GroupID: 1, MAC: 0x112233445566, PSKID: 7, Enabled: true})
	e.publish(t, TopicEndpoint, "71", func() bool { _, ok := e.index.ByMAC(1, 0x112233445566); return ok })
	e.src.mu.Lock()
	delete(e.src.eps, 71)
	e.src.mu.Unlock()
	e.publish(t, TopicEndpoint, "71", func() bool { _, ok := e.index.ByMAC(1, 0x112233445566); return !ok })

	// A NAS client change reloads the client table.
	e.clients.mu.Lock()
	e.clients.cs = nil
	e.clients.mu.Unlock()
	e.publish(t, nas.Topic, "1", func() bool { return e.index.Client(testAddr.Addr()) == nil })
}

func TestLastSeenIsFlushedInBatches(t *testing.T) {
	e := newMACEnv(t, nas.Generic)
	req := macAuth(t, secret, station, true)
	e.exchange(t, testAddr, req, true)
	if err := e.index.FlushSeen(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.src.mu.Lock()
	got := e.src.touched[70]
	e.src.mu.Unlock()
	if !got.Equal(e.now) {
		t.Fatalf("last_seen %v, want %v", got, e.now)
	}
}

type fakeAccounting struct{ batches chan nas.SessionBatch }

func (f *fakeAccounting) ApplySessions(_ context.Context, b nas.SessionBatch) error {
	f.batches <- b
	return nil
}

func TestAccounting(t *testing.T) {
	e := newMACEnv(t, nas.Generic)
	acct := &fakeAccounting{batches: make(chan nas.SessionBatch, 10)}
	e.server.sessions = newSessionBuffer(acct, time.Hour, discard())
	send := func(status uint32, withMA bool) *radius.Packet {
		p := radius.New(radius.CodeAccountingRequest, []byte(secret))
		_ = rfc2865.UserName_SetString(p, "aabbccddeeff")
		_ = rfc2865.CallingStationID_SetString(p, station)
		p.Add(attrAcctStatusType, radius.NewInteger(status))
		p.Add(attrAcctSessionID, radius.Attribute("sess-1"))
		p.Add(attrAcctSessionTime, radius.NewInteger(60))
		p.Add(attrAcctInputOctets, radius.NewInteger(1000))
		p.Add(attrAcctInputGigawords, radius.NewInteger(1))
		p.Add(attrFramedIPAddress, radius.Attribute{10, 0, 0, 5})
		req := encodeWithMA(t, p, withMA)
		resp := e.exchange(t, testAddr, req, false)
		return parseResponse(t, resp, req, secret)
	}
	if p := send(acctStart, false); p.Code != radius.CodeAccountingResponse {
		t.Fatalf("code %v", p.Code)
	}
	send(acctInterim, true)
	e.server.sessions.flush(t.Context())
	b := <-acct.batches
	if len(b.Upserts) != 1 {
		t.Fatalf("batch %+v", b)
	}
	s := b.Upserts[0]
	if s.SessionID != "sess-1" || s.MAC != "aa:bb:cc:dd:ee:ff" || s.FramedIP != "10.0.0.5" ||
		s.InputOctets != 1<<32+1000 || !s.StartedAt.Equal(e.now.Add(-time.Minute)) {
		t.Fatalf("session %+v", s)
	}
	send(acctStop, false)
	e.server.sessions.flush(t.Context())
	if b := <-acct.batches; len(b.Stops) != 1 || len(b.Upserts) != 0 {
		t.Fatalf("batch %+v", b)
	}
	// A wrong Request Authenticator is dropped.
	p := radius.New(radius.CodeAccountingRequest, []byte("wrong-secret"))
	before := counter(e.server.m.dropped[dropBadAuth])
	if resp := e.exchange(t, testAddr, encodeWithMA(t, p, false), false); len(resp) != 0 {
		t.Fatal("accounting with a wrong authenticator answered")
	}
	if counter(e.server.m.dropped[dropBadAuth]) != before+1 {
		t.Fatal("drop not counted as bad authenticator")
	}
}
