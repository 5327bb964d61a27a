package remote_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"netkeep/internal/fault"
	"netkeep/internal/remote"
)

func TestRequestCommand(t *testing.T) {
	ok := []struct {
		name   string
		req    remote.Request
		target string
		argv   []string // of the first program
	}{
		{"ping default count", remote.Request{Tool: "ping", Target: "127.0.0.1"}, "127.0.0.1", []string{"ping", "-n", "-c", "4", "-w", "7", "127.0.0.1"}},
		{"ping host name", remote.Request{Tool: "ping", Target: "vpn-1.example.com.", Count: 2}, "vpn-1.example.com.", []string{"ping", "-n", "-c", "2", "-w", "5", "vpn-1.example.com."}},
		{"ping IPv6", remote.Request{Tool: "ping", Target: "2001:db8::0001"}, "2001:db8::1", []string{"ping", "-n", "-c", "4", "-w", "7", "2001:db8::1"}},
		{"nslookup", remote.Request{Tool: "nslookup", Target: "_sip._tcp.example.com"}, "_sip._tcp.example.com", []string{"nslookup", "_sip._tcp.example.com"}},
		{"tracert alias", remote.Request{Tool: "tracert", Target: "10.0.0.1"}, "10.0.0.1", []string{"traceroute", "-n", "-m", "20", "-w", "2", "-q", "1", "10.0.0.1"}},
		{"netcat alias", remote.Request{Tool: "netcat", Target: "db.internal", Port: 5432}, "db.internal:5432", []string{"nc", "-z", "-v", "-w", "5", "db.internal", "5432"}},
		{"nmap default ports", remote.Request{Tool: "nmap", Target: "10.0.0.7/24"}, "10.0.0.0/24",
			[]string{"nmap", "-sT", "-Pn", "-n", "--max-retries", "2", "--host-timeout", "50s", "-p", "22,80,443", "10.0.0.0/24"}},
		{"nmap ports", remote.Request{Tool: "nmap", Target: "10.0.0.7", Ports: "022,1000-2022"}, "10.0.0.7",
			[]string{"nmap", "-sT", "-Pn", "-n", "--max-retries", "2", "--host-timeout", "50s", "-p", "22,1000-2022", "10.0.0.7"}},
	}
	for _, tc := range ok {
		t.Run("ok/"+tc.name, func(t *testing.T) {
			c, err := tc.req.Command()
			if err != nil {
				t.Fatal(err)
			}
			argv := append([]string{c.Runs[0].Program}, c.Runs[0].Args...)
			if c.Target != tc.target || !slices.Equal(argv, tc.argv) || c.Timeout <= 0 {
				t.Fatalf("command = %+v, argv %q", c, argv)
			}
		})
	}
	bad := []struct {
		name  string
		req   remote.Request
		field string
	}{
		{"unknown tool", remote.Request{Tool: "sh", Target: "127.0.0.1"}, "tool"},
		{"no target", remote.Request{Tool: "ping"}, "target"},
		{"option", remote.Request{Tool: "ping", Target: "-f"}, "target"},
		{"shell", remote.Request{Tool: "ping", Target: "a;id"}, "target"},
		{"substitution", remote.Request{Tool: "nslookup", Target: "$(id)"}, "target"},
		{"space", remote.Request{Tool: "nslookup", Target: "a b"}, "target"},
		{"newline", remote.Request{Tool: "nslookup", Target: "a\nb"}, "target"},
		{"empty label", remote.Request{Tool: "ping", Target: "a..b"}, "target"},
		{"label ends with hyphen", remote.Request{Tool: "ping", Target: "a-.b"}, "target"},
		{"label too long", remote.Request{Tool: "ping", Target: strings.Repeat("a", 64) + ".com"}, "target"},
		{"zone", remote.Request{Tool: "ping", Target: "fe80::1%eth0"}, "target"},
		{"prefix for ping", remote.Request{Tool: "ping", Target: "10.0.0.0/24"}, "target"},
		{"prefix too large", remote.Request{Tool: "nmap", Target: "10.0.0.0/23"}, "target"},
		{"IPv6 prefix too large", remote.Request{Tool: "nmap", Target: "2001:db8::/64"}, "target"},
		{"count 0 is default, 11 too many", remote.Request{Tool: "ping", Target: "127.0.0.1", Count: 11}, "count"},
		{"negative count", remote.Request{Tool: "ping", Target: "127.0.0.1", Count: -1}, "count"},
		{"nc without port", remote.Request{Tool: "nc", Target: "127.0.0.1"}, "port"},
		{"nc port too high", remote.Request{Tool: "nc", Target: "127.0.0.1", Port: 65536}, "port"},
		{"ports too many", remote.Request{Tool: "nmap", Target: "127.0.0.1", Ports: "1-1024,2000"}, "ports"},
		{"ports reversed", remote.Request{Tool: "nmap", Target: "127.0.0.1", Ports: "90-80"}, "ports"},
		{"port 0", remote.Request{Tool: "nmap", Target: "127.0.0.1", Ports: "0"}, "ports"},
		{"ports option", remote.Request{Tool: "nmap", Target: "127.0.0.1", Ports: "-"}, "ports"},
		{"ports shell", remote.Request{Tool: "nmap", Target: "127.0.0.1", Ports: "22 --script=x"}, "ports"},
	}
	for _, tc := range bad {
		t.Run("invalid/"+tc.name, func(t *testing.T) {
			_, err := tc.req.Command()
			f := fault.As(err)
			if f == nil || f.Code != fault.Invalid || f.Details["field"] != tc.field {
				t.Fatalf("error = %v, want invalid %s", err, tc.field)
			}
		})
	}
}

// TestShell runs the command an agent gets with /bin/sh -c, as GateKey's
// agent does: a real ping of loopback where ping and timeout are
// installed, exit 127 and a message where the tool is not.
func TestShell(t *testing.T) {
	c, err := remote.Request{Tool: "ping", Target: "127.0.0.1", Count: 1}.Command()
	if err != nil {
		t.Fatal(err)
	}
	run := func(tools ...string) (string, int) {
		bin := t.TempDir()
		for _, tool := range tools {
			p, err := exec.LookPath(tool)
			if err != nil {
				t.Fatalf("the test needs %s: %v", tool, err)
			}
			if err := os.Symlink(p, filepath.Join(bin, tool)); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command("/bin/sh", "-c", c.Shell())
		cmd.Env = []string{"PATH=" + bin}
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}
	if out, code := run("ping", "timeout"); code != 0 || !strings.Contains(out, "1 packets transmitted, 1 received") {
		t.Fatalf("with ping: exit %d, %s", code, out)
	}
	if out, code := run("timeout"); code != 127 || !strings.Contains(out, "ping (with timeout) is not installed") {
		t.Fatalf("without ping: exit %d, %s", code, out)
	}
	if got := remote.ShellQuote(`it's`); got != `'it'\''s'` {
		t.Fatalf("ShellQuote = %s", got)
	}
}
