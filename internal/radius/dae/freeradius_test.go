package dae_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"netkeep/internal/radius/dae"
	"netkeep/internal/testpeer"
)

// nasConf is a FreeRADIUS 3 configuration that plays a NAS's dynamic
// authorization server: it listens for CoA and Disconnect requests from
// loopback, answers NAK for the user "nak-me", never answers "drop-me", and
// ACK otherwise. FreeRADIUS checks each request's Request Authenticator and
// Message-Authenticator against the shared secret and drops the packet
// when either is wrong.
const nasConf = `
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
libdir = /usr/lib/freeradius
raddbdir = {{dir}}
confdir = {{dir}}
modconfdir = {{dir}}
logdir = {{dir}}
radacctdir = {{dir}}
run_dir = {{dir}}
db_dir = {{dir}}
pidfile = {{dir}}/radiusd.pid
name = freeradius
max_request_time = 30
cleanup_delay = 0
max_requests = 1024
log {
	destination = stdout
}
security {
	allow_core_dumps = no
	allow_vulnerable_openssl = yes
}
client nas {
	ipaddr = 127.0.0.1
	secret = {{secret}}
}
listen {
	type = coa
	ipaddr = 127.0.0.1
	port = {{port}}
	virtual_server = coa
}
modules {
	always reject {
		rcode = reject
	}
	always ok {
		rcode = ok
	}
	always handled {
		rcode = handled
	}
}
server coa {
	recv-coa {
		if (&User-Name == "nak-me") {
			reject
		}
		if (&User-Name == "drop-me") {
			update control {
				&Response-Packet-Type := Do-Not-Respond
			}
			handled
		}
		ok
	}
	send-coa {
		ok
	}
}
`

// syncBuffer collects FreeRADIUS's debug output while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// freeRADIUS starts FreeRADIUS in debug mode as a dynamic authorization
// server on a free loopback port; it stops at test end.
func freeRADIUS(tb testing.TB, secret string) (netip.AddrPort, *syncBuffer) {
	tb.Helper()
	bin := testpeer.Command(tb, "freeradius", "freeradius")
	dir := tb.TempDir()
	port := freeUDPPort(tb)
	conf := strings.NewReplacer("{{dir}}", dir, "{{secret}}", secret, "{{port}}", fmt.Sprint(port)).Replace(nasConf)
	if err := os.WriteFile(filepath.Join(dir, "radiusd.conf"), []byte(conf), 0o600); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-X", "-d", dir, "-n", "radiusd")
	out := &syncBuffer{}
	pr, pw, err := os.Pipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	pw.Close()
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		once := sync.Once{}
		for sc.Scan() {
			fmt.Fprintln(out, sc.Text())
			if strings.Contains(sc.Text(), "Ready to process requests") {
				once.Do(func() { close(ready) })
			}
		}
	}()
	tb.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if tb.Failed() {
			tb.Logf("FreeRADIUS output:\n%s", out)
		}
	})
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		tb.Fatalf("FreeRADIUS did not start:\n%s", out)
	}
	return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port), out
}

func freeUDPPort(tb testing.TB) uint16 {
	tb.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	return uint16(c.LocalAddr().(*net.UDPAddr).Port)
}

// received returns FreeRADIUS's log of the request that carried user.
func received(out *syncBuffer, kind, user string) string {
	for _, block := range strings.Split(out.String(), "Received "+kind+" ")[1:] {
		if strings.Contains(block, `User-Name = "`+user+`"`) {
			return block
		}
	}
	return ""
}

// TestFreeRADIUS sends Disconnect and CoA requests to a real FreeRADIUS
// acting as the NAS: it receives the session's attributes with a
// Message-Authenticator it accepts; its ACK, its NAK and its silence are
// each reported as such; a request signed with the wrong secret is dropped
// by it.
func TestFreeRADIUS(t *testing.T) {
	const secret = "dae-shared-secret"
	addr, out := freeRADIUS(t, secret)
	c := &dae.Client{Wait: 300 * time.Millisecond, Attempts: 2}
	ctx := context.Background()
	sess := func(user string) dae.Session {
		return dae.Session{
			UserName: user, CallingStationID: "AA-BB-CC-DD-EE-FF", AcctSessionID: "sess-" + user,
			NASIPAddress: netip.MustParseAddr("192.0.2.10"), FramedIPAddress: netip.MustParseAddr("10.1.2.3"),
		}
	}
	cases := []struct {
		name     string
		req      dae.Request
		user     string
		secret   string
		want     dae.Outcome
		kind     string // how FreeRADIUS logs the request
		accepted bool   // FreeRADIUS processed it (authentic)
	}{
		{"disconnect acked", dae.Disconnect, "alice", secret, dae.ACK, "Disconnect-Request", true},
		{"disconnect naked", dae.Disconnect, "nak-me", secret, dae.NAK, "Disconnect-Request", true},
		{"disconnect unanswered", dae.Disconnect, "drop-me", secret, dae.Timeout, "Disconnect-Request", true},
		{"coa acked", dae.CoA, "bob", secret, dae.ACK, "CoA-Request", true},
		{"coa naked", dae.CoA, "nak-me", secret, dae.NAK, "CoA-Request", true},
		{"wrong secret dropped", dae.Disconnect, "mallory", "not-the-secret", dae.Timeout, "Disconnect-Request", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := c.Send(ctx, tc.req, dae.Target{Addr: addr, Secret: tc.secret}, sess(tc.user))
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tc.want {
				t.Fatalf("outcome %q, want %q (%+v)", res.Outcome, tc.want, res)
			}
			if tc.want == dae.Timeout && res.Attempts != 2 {
				t.Fatalf("timeout after %d attempts, want 2", res.Attempts)
			}
			// FreeRADIUS may print its log of the request after its answer
			// arrived: wait for the end of the request's log.
			var log string
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				if log = received(out, tc.kind, tc.user); strings.Contains(log, "Finished request") || !tc.accepted {
					break
				}
			}
			if !tc.accepted {
				if log != "" {
					t.Fatalf("FreeRADIUS processed a request signed with the wrong secret:\n%s", log)
				}
				return
			}
			if log == "" {
				t.Fatalf("FreeRADIUS did not process the %s for %s", tc.kind, tc.user)
			}
			for _, want := range []string{
				`Calling-Station-Id = "AA-BB-CC-DD-EE-FF"`,
				`Acct-Session-Id = "sess-` + tc.user + `"`,
				`NAS-IP-Address = 192.0.2.10`,
				`Framed-IP-Address = 10.1.2.3`,
				`Message-Authenticator = 0x`,
			} {
				if !strings.Contains(log, want) {
					t.Fatalf("FreeRADIUS received no %s:\n%s", want, log)
				}
			}
			if tc.req == dae.CoA && !strings.Contains(log, "Session-Timeout = 1") {
				t.Fatalf("CoA without Session-Timeout:\n%s", log)
			}
		})
	}
}
