package radius

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"netkeep/internal/testpeer"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"netkeep/internal/radius/nas"
	"netkeep/internal/radius/wpa/wpatest"
)

// peerReply is radclient's view of one answer.
type peerReply struct {
	code  string              // "Access-Accept", "Access-Reject", ... or "" for no reply
	attrs map[string][]string // attribute name → values as radclient prints them
	out   string
}

var (
	receivedRE = regexp.MustCompile(`Received (Access-Accept|Access-Reject|Accounting-Response) Id \d+`)
	attrRE     = regexp.MustCompile(`^\s+([A-Za-z0-9-]+)(?::\d+)? = (.*)$`)
)

// radclient sends one request (radclient's attribute list syntax) to addr
// and parses what it printed.
func radclient(tb testing.TB, addr, kind, secret, attrs string) peerReply {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, testpeer.Command(tb, "radclient", "freeradius-utils"), "-x", "-t", "1", "-r", "1", addr, kind, secret)
	cmd.Stdin = strings.NewReader(attrs + "\n")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	_ = cmd.Run() // exits non-zero on a reject or no reply; the output says which
	r := peerReply{attrs: map[string][]string{}, out: out.String()}
	m := receivedRE.FindStringSubmatch(r.out)
	if m == nil {
		if !strings.Contains(r.out, "No reply from server") {
			tb.Fatalf("radclient printed neither a reply nor a timeout:\n%s", r.out)
		}
		return r
	}
	r.code = m[1]
	lines := strings.Split(r.out[strings.Index(r.out, m[0]):], "\n")
	for _, l := range lines[1:] {
		a := attrRE.FindStringSubmatch(l)
		if a == nil {
			break
		}
		r.attrs[a[1]] = append(r.attrs[a[1]], strings.Trim(a[2], `"`))
	}
	return r
}

// realServer serves e on loopback sockets until the test ends.
func (e *env) serve(tb testing.TB) (auth, acct string) {
	tb.Helper()
	a, c := listen(tb), listen(tb)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.server.Serve(ctx, []*net.UDPConn{a}, []*net.UDPConn{c}) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("Serve: %v", err)
		}
	})
	return a.LocalAddr().String(), c.LocalAddr().String()
}

func macRequest(mac string, withMA bool) string {
	s := fmt.Sprintf(`User-Name = "%s", User-Password = "%s", Calling-Station-Id = "%s", Called-Station-Id = "02-00-00-00-00-01:netkeep", NAS-Port-Type = Wireless-802.11, Service-Type = Call-Check`,
		strings.ReplaceAll(strings.ToLower(mac), "-", ""), strings.ReplaceAll(strings.ToLower(mac), "-", ""), mac)
	if withMA {
		s += `, Message-Authenticator = 0x00`
	}
	return s
}

// TestRadclient drives the real server with FreeRADIUS's radclient: MAC
// authentication in every dialect, and each way a request must fail.
func TestRadclient(t *testing.T) {
	testpeer.Command(t, "radclient", "freeradius-utils")
	e := newEnv(t,
		nasClient(t, 1, "127.0.0.1", secret, nas.Hostapd),
	)
	e.now = time.Now()
	e.server.now = time.Now
	e.src.put(PSK{ID: 7, GroupID: 1, Passphrase: passphrase, VLAN: 100, Enabled: true, ExpiresAt: time.Now().Add(time.Hour)})
	e.src.put(PSK{ID: 8, GroupID: 1, Passphrase: "disabled passphrase", Enabled: false})
	e.src.put(PSK{ID: 9, GroupID: 1, Passphrase: "expired passphrase", Enabled: true, ExpiresAt: time.Now().Add(-time.Minute)})
	e.src.putEndpoint(Endpoint{ID: 70, GroupID: 1, MAC: 0xaabbccddeeff, PSKID: 7, Enabled: true})
	e.src.putEndpoint(Endpoint{ID: 80, GroupID: 1, MAC: 0x0200000000aa, PSKID: 8, Enabled: true})
	e.src.putEndpoint(Endpoint{ID: 90, GroupID: 1, MAC: 0x0200000000bb, PSKID: 9, Enabled: true})
	e.start(t)
	auth, acct := e.serve(t)

	t.Run("accept/tunnel-password", func(t *testing.T) {
		r := radclient(t, auth, "auth", secret, macRequest(station, true))
		if r.code != "Access-Accept" {
			t.Fatalf("got %q:\n%s", r.code, r.out)
		}
		if got := r.attrs["Tunnel-Password"]; len(got) != 1 || got[0] != passphrase {
			t.Fatalf("Tunnel-Password %q, want the PSK:\n%s", got, r.out)
		}
		if got := r.attrs["Tunnel-Private-Group-Id"]; len(got) != 1 || got[0] != "100" {
			t.Fatalf("Tunnel-Private-Group-Id %q:\n%s", got, r.out)
		}
		if got := r.attrs["Tunnel-Type"]; len(got) != 1 || got[0] != "VLAN" {
			t.Fatalf("Tunnel-Type %q:\n%s", got, r.out)
		}
		if got := r.attrs["Tunnel-Medium-Type"]; len(got) != 1 || got[0] != "IEEE-802" {
			t.Fatalf("Tunnel-Medium-Type %q:\n%s", got, r.out)
		}
		if got := r.attrs["Session-Timeout"]; len(got) != 1 || (got[0] != "3600" && got[0] != "3599") {
			t.Fatalf("Session-Timeout %q:\n%s", got, r.out)
		}
		if _, ok := r.attrs["Message-Authenticator"]; !ok {
			t.Fatalf("no Message-Authenticator in the reply:\n%s", r.out)
		}
	})
	for _, tt := range []struct{ name, mac string }{
		{"reject/unknown MAC", "11-22-33-44-55-66"},
		{"reject/disabled PSK", "02-00-00-00-00-AA"},
		{"reject/expired PSK", "02-00-00-00-00-BB"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := radclient(t, auth, "auth", secret, macRequest(tt.mac, true))
			if r.code != "Access-Reject" {
				t.Fatalf("got %q:\n%s", r.code, r.out)
			}
			for name := range r.attrs {
				if name != "Reply-Message" && name != "Message-Authenticator" {
					t.Fatalf("reject carries %s:\n%s", name, r.out)
				}
			}
			if strings.Contains(r.out, "passphrase") {
				t.Fatalf("reject leaks a passphrase:\n%s", r.out)
			}
		})
	}
	for _, tt := range []struct{ name, addr, secret, attrs string }{
		{"silent/wrong secret", auth, "not-the-secret", macRequest(station, true)},
		{"silent/missing Message-Authenticator", auth, secret, macRequest(station, false)},
		{"silent/unknown client", auth, secret, macRequest(station, true)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "silent/unknown client" {
				// The only client is 127.0.0.1; ask from 127.0.0.2.
				e.clients.mu.Lock()
				e.clients.cs[0].Address, e.clients.cs[0].Prefix = "127.0.0.2", mustPrefix("127.0.0.2/32")
				e.clients.mu.Unlock()
				e.publish(t, nas.Topic, "1", func() bool { return e.index.Client(mustAddr("127.0.0.1")) == nil })
				defer func() {
					e.clients.mu.Lock()
					e.clients.cs[0].Address, e.clients.cs[0].Prefix = "127.0.0.1", mustPrefix("127.0.0.1/32")
					e.clients.mu.Unlock()
					e.publish(t, nas.Topic, "1", func() bool { return e.index.Client(mustAddr("127.0.0.1")) != nil })
				}()
			}
			if r := radclient(t, tt.addr, "auth", tt.secret, tt.attrs); r.code != "" {
				t.Fatalf("answered %s:\n%s", r.code, r.out)
			}
		})
	}
	t.Run("accounting", func(t *testing.T) {
		r := radclient(t, acct, "acct", secret, `Acct-Status-Type = Start, Acct-Session-Id = "s1", User-Name = "aabbccddeeff", Calling-Station-Id = "AA-BB-CC-DD-EE-FF"`)
		if r.code != "Accounting-Response" {
			t.Fatalf("got %q:\n%s", r.code, r.out)
		}
	})

	// Every dialect, through the same server: switch the client's vendor.
	dialects := []struct {
		vendor nas.Vendor
		check  func(t *testing.T, r peerReply)
	}{
		{nas.Cisco, func(t *testing.T, r peerReply) {
			got := strings.Join(r.attrs["Cisco-AVPair"], ",")
			if got != "psk-mode=ascii,psk="+passphrase {
				t.Fatalf("Cisco-AVPair %q:\n%s", got, r.out)
			}
		}},
		{nas.Aruba, func(t *testing.T, r peerReply) {
			if got := r.attrs["Aruba-MPSK-Passphrase"]; len(got) != 1 || got[0] != "0x"+hex.EncodeToString([]byte(passphrase)) {
				t.Fatalf("Aruba-MPSK-Passphrase %q:\n%s", got, r.out)
			}
		}},
		{nas.Meraki, func(t *testing.T, r peerReply) {
			if got := r.attrs["Tunnel-Password"]; len(got) != 1 || got[0] != passphrase {
				t.Fatalf("Tunnel-Password %q:\n%s", got, r.out)
			}
		}},
		{nas.Ruckus, func(t *testing.T, r peerReply) {
			pmk := wpatest.PMK(passphrase, "netkeep")
			if got := r.attrs["MS-MPPE-Recv-Key"]; len(got) != 1 || got[0] != "0x"+hex.EncodeToString(pmk[:]) {
				t.Fatalf("MS-MPPE-Recv-Key %q:\n%s", got, r.out)
			}
		}},
	}
	for _, d := range dialects {
		t.Run("dialect/"+string(d.vendor), func(t *testing.T) {
			e.clients.mu.Lock()
			e.clients.cs[0].Vendor = d.vendor
			// Ruckus gets the PMK of the SSIDs its client lists.
			e.clients.cs[0].SSIDs = []string{"netkeep"}
			e.clients.mu.Unlock()
			e.publish(t, nas.Topic, "1", func() bool { c := e.index.Client(mustAddr("127.0.0.1")); return c != nil && c.Vendor == d.vendor })
			eventually(t, 30*time.Second, func() bool { return e.index.CachedKey(e.index.cred(7), []byte("netkeep")) != nil }, "PMK not derived")
			r := radclient(t, auth, "auth", secret, macRequest(station, true))
			if r.code != "Access-Accept" {
				t.Fatalf("got %q:\n%s", r.code, r.out)
			}
			d.check(t, r)
			if got := r.attrs["Tunnel-Private-Group-Id"]; len(got) != 1 || got[0] != "100" {
				t.Fatalf("VLAN %q:\n%s", got, r.out)
			}
		})
	}
}

// macPasswordRequest is a MAC-authentication request for AA-BB-CC-DD-EE-FF
// whose password is the attribute pw (radclient computes CHAP from a
// clear-text CHAP-Password), or none when pw is empty.
func macPasswordRequest(pw string) string {
	s := `User-Name = "aabbccddeeff", Calling-Station-Id = "AA-BB-CC-DD-EE-FF", Called-Station-Id = "02-00-00-00-00-01:netkeep", Service-Type = Call-Check, Message-Authenticator = 0x00`
	if pw != "" {
		s += ", " + pw
	}
	return s
}

// TestRadclientMACPassword: MAC authentication from radclient is accepted
// with the station's MAC as PAP or CHAP password in each vendor form, with
// anything under "any", with the client's fixed password under a fixed
// policy, and rejected (and counted) otherwise.
func TestRadclientMACPassword(t *testing.T) {
	testpeer.Command(t, "radclient", "freeradius-utils")
	e := newEnv(t, nasClient(t, 1, "127.0.0.1", secret, nas.Hostapd))
	e.now = time.Now()
	e.server.now = time.Now
	e.src.put(PSK{ID: 7, GroupID: 1, Passphrase: passphrase, VLAN: 100, Enabled: true})
	e.src.putEndpoint(Endpoint{ID: 70, GroupID: 1, MAC: 0xaabbccddeeff, PSKID: 7, Enabled: true})
	e.start(t)
	auth, _ := e.serve(t)
	const fixed = "ap-fixed-password"

	tests := []struct {
		name   string
		mode   nas.MACPasswordMode
		pw     string
		accept bool
	}{
		{"mac/pap aabbccddeeff", nas.MACPasswordMAC, `User-Password = "aabbccddeeff"`, true},
		{"mac/pap AABBCCDDEEFF", nas.MACPasswordMAC, `User-Password = "AABBCCDDEEFF"`, true},
		{"mac/pap aa:bb:cc:dd:ee:ff", nas.MACPasswordMAC, `User-Password = "aa:bb:cc:dd:ee:ff"`, true},
		{"mac/pap aa-bb-cc-dd-ee-ff", nas.MACPasswordMAC, `User-Password = "aa-bb-cc-dd-ee-ff"`, true},
		{"mac/pap AA-BB-CC-DD-EE-FF", nas.MACPasswordMAC, `User-Password = "AA-BB-CC-DD-EE-FF"`, true},
		{"mac/pap aabb.ccdd.eeff", nas.MACPasswordMAC, `User-Password = "aabb.ccdd.eeff"`, true},
		{"mac/chap aabbccddeeff", nas.MACPasswordMAC, `CHAP-Password = "aabbccddeeff"`, true},
		{"mac/chap AABBCCDDEEFF", nas.MACPasswordMAC, `CHAP-Password = "AABBCCDDEEFF"`, true},
		{"mac/chap aa:bb:cc:dd:ee:ff", nas.MACPasswordMAC, `CHAP-Password = "aa:bb:cc:dd:ee:ff"`, true},
		{"mac/chap aa-bb-cc-dd-ee-ff", nas.MACPasswordMAC, `CHAP-Password = "aa-bb-cc-dd-ee-ff"`, true},
		{"mac/chap aabb.ccdd.eeff", nas.MACPasswordMAC, `CHAP-Password = "aabb.ccdd.eeff"`, true},
		{"mac/pap wrong", nas.MACPasswordMAC, `User-Password = "wrong-password"`, false},
		{"mac/pap another MAC", nas.MACPasswordMAC, `User-Password = "112233445566"`, false},
		{"mac/chap wrong", nas.MACPasswordMAC, `CHAP-Password = "wrong-password"`, false},
		{"mac/none", nas.MACPasswordMAC, "", false},
		{"any/pap wrong", nas.MACPasswordAny, `User-Password = "wrong-password"`, true},
		{"any/none", nas.MACPasswordAny, "", true},
		{"fixed/pap", nas.MACPasswordFixed, `User-Password = "` + fixed + `"`, true},
		{"fixed/chap", nas.MACPasswordFixed, `CHAP-Password = "` + fixed + `"`, true},
		{"fixed/pap the MAC", nas.MACPasswordFixed, `User-Password = "aabbccddeeff"`, false},
		{"fixed/chap the MAC", nas.MACPasswordFixed, `CHAP-Password = "aabbccddeeff"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.clients.mu.Lock()
			e.clients.cs[0].MACPassword, e.clients.cs[0].FixedMACPassword = tt.mode, fixed
			e.clients.mu.Unlock()
			e.publish(t, nas.Topic, "1", func() bool {
				c := e.index.Client(mustAddr("127.0.0.1"))
				return c != nil && c.MACPassword == tt.mode
			})
			wrong := e.server.m.rejects[rejectWrongPassword]
			before := counter(wrong)
			r := radclient(t, auth, "auth", secret, macPasswordRequest(tt.pw))
			want := "Access-Reject"
			if tt.accept {
				want = "Access-Accept"
			}
			if r.code != want {
				t.Fatalf("got %q, want %s:\n%s", r.code, want, r.out)
			}
			if tt.accept {
				if got := r.attrs["Tunnel-Password"]; len(got) != 1 || got[0] != passphrase {
					t.Fatalf("Tunnel-Password %q:\n%s", got, r.out)
				}
				return
			}
			if _, ok := r.attrs["Tunnel-Password"]; ok {
				t.Fatalf("a reject carries the Tunnel-Password:\n%s", r.out)
			}
			if got := counter(wrong) - before; got != 1 {
				t.Fatalf("wrong_password rejects grew by %v, want 1", got)
			}
		})
	}
}
