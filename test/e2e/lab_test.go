package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"netkeep/internal/config"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
	"netkeep/internal/testpeer"
)

// lab is a set of network namespaces on one bridge: each host namespace
// has eth0 with 10.99.0.<n>/24, and the bridge lives in a namespace of its
// own, so nothing of the machine's own network is touched.
type lab struct {
	t      *testing.T
	id     string // unique per run: namespaces of parallel runs never clash
	bridge string
	ip     string // path of ip(8)
	dir    string // logs, state and data: removed after the processes stop
	mu     sync.Mutex
	procs  []*proc
}

const labSubnet = "10.99.0."

// newLab checks the machine can run the test, creates the bridge, and
// removes every namespace and process at the end, failed or not. A machine
// that cannot (not Linux, not root, no TUN, no namespaces) is a missing
// peer: the test fails where real-peer tests are required, else skips.
func newLab(t *testing.T) *lab {
	t.Helper()
	if runtime.GOOS != "linux" {
		testpeer.Missing(t, "network namespaces need Linux")
	}
	if os.Geteuid() != 0 {
		testpeer.Missing(t, "the end-to-end tests need root (network namespaces, TUN)")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		testpeer.Missing(t, fmt.Sprintf("no /dev/net/tun (%v): the kernel offers no TUN devices", err))
	}
	l := &lab{t: t, ip: testpeer.Command(t, "ip", "iproute2"), dir: t.TempDir()}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	l.id = "nk" + hex.EncodeToString(b)
	l.bridge = l.id + "-br"
	if out, err := exec.Command(l.ip, "netns", "add", l.bridge).CombinedOutput(); err != nil {
		testpeer.Missing(t, fmt.Sprintf("cannot create a network namespace (%v: %s): the kernel lacks them or forbids it", err, out))
	}
	t.Cleanup(l.cleanup)
	l.must("-n", l.bridge, "link", "add", "br0", "type", "bridge")
	l.must("-n", l.bridge, "link", "set", "br0", "up")
	return l
}

// must runs ip with args and fails the test on error.
func (l *lab) must(args ...string) {
	l.t.Helper()
	if out, err := exec.Command(l.ip, args...).CombinedOutput(); err != nil {
		l.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// host creates namespace <id>-<name> with eth0 at 10.99.0.<n> on the bridge.
func (l *lab) host(name string, n int) string {
	l.t.Helper()
	ns := l.id + "-" + name
	l.must("netns", "add", ns)
	port := fmt.Sprintf("p%d", n)
	l.must("-n", l.bridge, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
	l.must("-n", l.bridge, "link", "set", port, "master", "br0", "up")
	l.must("-n", ns, "addr", "add", fmt.Sprintf("%s%d/24", labSubnet, n), "dev", "eth0")
	l.must("-n", ns, "link", "set", "eth0", "up")
	l.must("-n", ns, "link", "set", "lo", "up")
	return ns
}

// dummy gives namespace ns an interface holding addr (a dummy one, or one
// end of a veth pair when the kernel has no dummy driver).
func (l *lab) dummy(ns, name, addr string) {
	l.t.Helper()
	if _, err := exec.Command(l.ip, "-n", ns, "link", "add", name, "type", "dummy").CombinedOutput(); err != nil {
		l.must("-n", ns, "link", "add", name, "type", "veth", "peer", "name", name+"p")
		l.must("-n", ns, "link", "set", name+"p", "up")
	}
	l.must("-n", ns, "addr", "add", addr, "dev", name)
	l.must("-n", ns, "link", "set", name, "up")
}

// exec runs a program in namespace ns and returns its combined output.
func (l *lab) exec(ns string, prog string, args ...string) (string, error) {
	out, err := exec.Command(l.ip, append([]string{"netns", "exec", ns, prog}, args...)...).CombinedOutput()
	return string(out), err
}

// proc is a long-running program in a namespace, its output kept in a file
// that the test prints when it fails.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// start runs prog in ns until stopped (or the test ends).
func (l *lab) start(name, ns, prog string, args ...string) *proc {
	l.t.Helper()
	logPath := filepath.Join(l.dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		l.t.Fatal(err)
	}
	cmd := exec.Command(l.ip, append([]string{"netns", "exec", ns, prog}, args...)...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		l.t.Fatalf("starting %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	l.mu.Lock()
	l.procs = append(l.procs, p)
	l.mu.Unlock()
	return p
}

// stop sends SIGTERM and waits (SIGKILL after 10 s).
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// exited waits for the process to end by itself and returns its error.
func (p *proc) exited(t *testing.T, within time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(within):
		t.Fatalf("%s still runs after %v", p.name, within)
		return nil
	}
}

func (p *proc) output() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

func (l *lab) cleanup() {
	l.mu.Lock()
	procs := l.procs
	l.mu.Unlock()
	for _, p := range procs {
		p.stop()
		if l.t.Failed() {
			l.t.Logf("---- output of %s ----\n%s", p.name, p.output())
		}
	}
	out, _ := exec.Command(l.ip, "netns", "list").Output()
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], l.id+"-") {
			if out, err := exec.Command(l.ip, "netns", "del", f[0]).CombinedOutput(); err != nil {
				l.t.Logf("removing namespace %s: %v: %s", f[0], err, out)
			}
		}
	}
	socks, _ := filepath.Glob("/var/run/wireguard/" + l.id + "*.sock")
	for _, s := range socks {
		_ = os.Remove(s) // left by a killed agent
	}
}

// inNS runs fn on a thread moved into namespace ns: a socket belongs to
// the namespace it was created in, so a connection dialled or a listener
// opened by fn lives there while the test stays in the machine's
// namespace. The thread goes back to its own namespace before anything
// else runs on it.
func inNS(ns string, fn func() error) error {
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer orig.Close()
	target, err := netns.GetFromName(ns)
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer target.Close()
	if err := netns.Set(target); err != nil {
		runtime.UnlockOSThread()
		return err
	}
	ferr := fn()
	if serr := netns.Set(orig); serr != nil {
		return fmt.Errorf("restoring the thread's namespace: %w", serr) // the thread stays locked and dies with the goroutine
	}
	runtime.UnlockOSThread()
	return ferr
}

// client is an HTTP client whose connections are made inside namespace ns,
// so the test (in the machine's namespace) reaches the server without
// any interface of its own on the bridge.
func (l *lab) client(ns string) *http.Client {
	dial := func(ctx context.Context, network, addr string) (c net.Conn, err error) {
		err = inNS(ns, func() error {
			var d net.Dialer
			c, err = d.DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true}}
}

// serve serves h on addr inside namespace ns until the test ends: an
// in-process server that the lab's hosts reach on the bridge.
func (l *lab) serve(ns, addr string, h http.Handler) {
	l.t.Helper()
	var ln net.Listener
	err := inNS(ns, func() (err error) {
		ln, err = net.Listen("tcp", addr)
		return err
	})
	if err != nil {
		l.t.Fatalf("listening on %s in %s: %v", addr, ns, err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	l.t.Cleanup(func() { _ = hs.Close() })
}

// build builds the netkeep binary of this tree into the lab's directory.
func (l *lab) build() string {
	l.t.Helper()
	bin := filepath.Join(l.dir, "netkeep")
	if out, err := exec.Command("go", "build", "-o", bin, "netkeep/cmd/netkeep").CombinedOutput(); err != nil {
		l.t.Fatalf("building netkeep: %v\n%s", err, out)
	}
	return bin
}

// api calls the server with the master key.
type api struct {
	t    *testing.T
	base string
	key  string
	hc   *http.Client
}

// do calls the API and decodes a JSON answer into out (when not nil); it
// fails the test unless the status is want.
func (a *api) do(method, path string, body any, want int, out any) {
	a.t.Helper()
	if err := a.try(method, path, body, want, out); err != nil {
		a.t.Fatal(err)
	}
}

func (a *api) try(method, path string, body any, want int, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := a.hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		return fmt.Errorf("%s %s: %d, want %d: %s", method, path, res.StatusCode, want, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// eventually polls cond until it holds or within passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v, %s: %v", within, what, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// gatewayServer is an in-process server set up as an administrator would
// for one gateway: an administrator, a user alice, the gateway, a network
// behind it and a rule letting alice reach that network.
type gatewayServer struct {
	t           *testing.T
	e           *servertest.Env
	admin, user string         // access tokens
	gwID, token string         // the gateway's id and agent token
	provisioned map[string]any // startOpenVPN's last provision answer
}

// newGatewayServer creates the server; prefix keeps usernames apart,
// gateway is the creation request and cidr the network behind it.
func newGatewayServer(t *testing.T, prefix string, gateway map[string]any, cidr string) *gatewayServer {
	t.Helper()
	s := &gatewayServer{t: t, e: servertest.Start(t, config.SQLite)}
	s.e.CreateUser(t, prefix+"-admin", "password1", identity.GroupAdmin, "acme")
	alice := s.e.CreateUser(t, prefix+"-alice", "password1", identity.RoleUser, "acme")
	s.admin, _ = s.e.Login(t, prefix+"-admin", "password1")
	s.user, _ = s.e.Login(t, prefix+"-alice", "password1")
	gw := s.call(s.admin, "POST", "/api/v1/admin/gateways", gateway, http.StatusCreated).JSON["data"].(map[string]any)
	s.gwID, s.token = gw["id"].(string), gw["token"].(string)
	netID := s.call(s.admin, "POST", "/api/v1/admin/networks", map[string]any{
		"name": "lab-net", "cidr": cidr, "gateway_ids": []string{s.gwID}}, http.StatusCreated).JSON["data"].(map[string]any)["id"].(string)
	s.call(s.admin, "POST", "/api/v1/admin/access-rules", map[string]any{
		"name": "alice", "network_id": netID, "user_ids": []int64{alice.ID}}, http.StatusCreated)
	return s
}

// call calls the API with token (none when empty) and fails the test
// unless the status is want.
func (s *gatewayServer) call(token, method, path string, body any, want int, headers ...string) *servertest.Response {
	s.t.Helper()
	if token != "" {
		headers = append(servertest.Bearer(token), headers...)
	}
	r := s.e.Do(s.t, method, path, body, headers...)
	if r.Status != want {
		s.t.Fatalf("%s %s: %d, want %d: %s", method, path, r.Status, want, r.Raw)
	}
	return r
}

// agent calls the API as the gateway's agent, with its token.
func (s *gatewayServer) agent(method, path string, body any) map[string]any {
	s.t.Helper()
	return s.call("", method, path, body, http.StatusOK, "X-Gateway-Token", s.token).JSON
}

// generate has alice generate a config of protocol for the gateway and
// download it; it returns the config's id and the file.
func (s *gatewayServer) generate(protocol string) (id string, file []byte) {
	s.t.Helper()
	gen := s.call(s.user, "POST", "/api/v1/configs/generate", map[string]any{"gateway_id": s.gwID, "protocol": protocol}, http.StatusOK).JSON
	return gen["config_id"].(string), s.call(s.user, "GET", gen["download_url"].(string), nil, http.StatusOK).Raw
}

// writeFile writes b to dir/name and returns the path.
func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
