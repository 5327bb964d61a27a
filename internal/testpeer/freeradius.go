package testpeer

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

// FreeRADIUSDAE starts FreeRADIUS in debug mode as a NAS's dynamic
// authorization server on a free loopback port (see nasConf); it stops at
// test end.
func FreeRADIUSDAE(tb testing.TB, secret string) *DAEPeer {
	tb.Helper()
	bin := Command(tb, "freeradius", "freeradius")
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
	return &DAEPeer{Addr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port), log: out}
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

// DAEPeer is a running FreeRADIUS dynamic authorization server.
type DAEPeer struct {
	Addr netip.AddrPort
	log  *syncBuffer
}

// Received returns FreeRADIUS's log of the processed request of kind
// ("Disconnect-Request", "CoA-Request") that carried User-Name user,
// waiting up to 5 s for it to be logged in full (FreeRADIUS may log a
// request after its answer went out); "" if it processed none.
func (p *DAEPeer) Received(kind, user string) string {
	var last string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		last = ""
		for _, block := range strings.Split(p.log.String(), "Received "+kind+" ")[1:] {
			if strings.Contains(block, `User-Name = "`+user+`"`) {
				last = block
			}
		}
		if strings.Contains(last, "Finished request") {
			return last
		}
	}
	return last
}

// Log is everything FreeRADIUS printed so far.
func (p *DAEPeer) Log() string { return p.log.String() }
