// Package servertest starts real netkeep HTTP servers for API tests: the
// handler that ships, on a loopback port, over a fresh migrated SQLite or
// PostgreSQL database, with a cheap password hash so tests stay fast. It also
// offers small helpers to call the API and to create users and credentials.
package servertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/config"
	"netkeep/internal/event"
	"netkeep/internal/identity"
	"netkeep/internal/secret"
	"netkeep/internal/server"
	"netkeep/internal/store"
	"netkeep/internal/store/pgbus"
	"netkeep/internal/store/storetest"
)

// MasterKey is the master key every test server is configured with.
const MasterKey = "test-master-key-0123456789abcdefghijklmnop"

// Env is one running test server.
type Env struct {
	Root    []byte // the root secret; a replica needs the same
	channel string
	URL     string
	DB      *store.DB
	Server  *server.Server
	Bus     event.Bus
	Kind    config.DatabaseKind
	Client  *http.Client
	// FederationURL is the federation listener's URL when the
	// configuration sets FederationListen.
	FederationURL string
	stopFed       func()
	// HTTPSAddr is the HTTPS listener serving the generated certificates
	// (Server.ServeHTTPS) when the configuration sets TLSListen; "" else.
	HTTPSAddr string
}

// StopFederation closes the federation listener (its peers find it
// unreachable) and waits until it has stopped.
func (e *Env) StopFederation() {
	if e.stopFed != nil {
		e.stopFed()
	}
}

// Each runs fn once per database kind with a fresh server.
func Each(t *testing.T, fn func(t *testing.T, e *Env)) {
	t.Helper()
	for _, k := range storetest.Kinds() {
		t.Run(string(k), func(t *testing.T) { fn(t, Start(t, k)) })
	}
}

// TestNekzusAuthLimit is the Nekzus Authentication budget servers get
// unless configure sets one.
const TestNekzusAuthLimit = 1 << 20

// Start starts a server on a fresh database of kind; it stops at test end.
func Start(tb testing.TB, kind config.DatabaseKind) *Env {
	tb.Helper()
	return StartWith(tb, kind, nil)
}

// StartWith is Start with configure changing the server's configuration
// first. With TLSCert and TLSKey set the server serves HTTPS with them, and
// Client trusts any certificate.
func StartWith(tb testing.TB, kind config.DatabaseKind, configure func(*config.Config)) *Env {
	tb.Helper()
	db := storetest.Open(tb, kind)
	return startOn(tb, db, kind, randomSecret(tb), "nk_"+string(randomHex(tb)), configure)
}

// Replica starts a second server sharing a's database, root secret and
// event channel, as a replica behind a load balancer would.
func Replica(tb testing.TB, a *Env) *Env {
	tb.Helper()
	return ReplicaWith(tb, a, nil)
}

// ReplicaWith is Replica with configure changing the replica's
// configuration first.
func ReplicaWith(tb testing.TB, a *Env, configure func(*config.Config)) *Env {
	tb.Helper()
	return startOn(tb, a.DB, a.Kind, a.Root, a.channel, configure)
}

func startOn(tb testing.TB, db *store.DB, kind config.DatabaseKind, root []byte, channel string, configure func(*config.Config)) *Env {
	tb.Helper()
	keys, err := secret.Derive(root)
	if err != nil {
		tb.Fatal(err)
	}
	var bus event.Bus = event.NewLocal()
	if kind == config.Postgres {
		pb, err := pgbus.New(context.Background(), os.Getenv(storetest.PostgresEnv), pgbus.WithChannel(channel))
		if err != nil {
			tb.Fatal(err)
		}
		bus = pb
	}
	cfg := &config.Config{
		Listen: "127.0.0.1:0", DataDir: tb.TempDir(), LogLevel: "error", LogFormat: "text",
		MasterKey: MasterKey, MaxBodyBytes: 1 << 20, ShutdownTimeout: 5 * time.Second,
		AccessTokenTTL: time.Hour, RefreshGrace: 10 * time.Minute,
		// Tests sign in from one address far more often than Nekzus's 10 a
		// minute; the tests of that budget set it.
		NekzusAuthLimit: TestNekzusAuthLimit,
	}
	if configure != nil {
		configure(cfg)
	}
	var fedLn net.Listener
	if cfg.FederationListen != "" {
		var err error
		if fedLn, err = net.Listen("tcp", cfg.FederationListen); err != nil {
			tb.Fatal(err)
		}
		if cfg.FederationURL == "" {
			cfg.FederationURL = "https://" + fedLn.Addr().String()
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("NETKEEP_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	srv := server.New(server.Deps{Config: cfg, Logger: log, DB: db, Keys: keys, Bus: bus,
		PasswordParams: identity.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}})
	ctx, cancel := context.WithCancel(context.Background())
	if err := srv.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv.Handler())
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			tb.Fatal(err)
		}
		hs.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		hs.StartTLS()
	} else {
		hs.Start()
	}
	fedDone := make(chan struct{})
	fedCtx, stopFed := context.WithCancel(ctx)
	if fedLn != nil {
		go func() {
			defer close(fedDone)
			_ = srv.ServeFederation(fedCtx, fedLn)
		}()
	} else {
		close(fedDone)
	}
	env := &Env{Root: root, channel: channel, URL: hs.URL, DB: db, Server: srv, Bus: bus, Kind: kind, Client: hs.Client(),
		FederationURL: srv.Federation.URL(), stopFed: func() { stopFed(); <-fedDone }}
	httpsDone := make(chan error, 1)
	if cfg.TLSListen != "" {
		ln, err := net.Listen("tcp", cfg.TLSListen)
		if err != nil {
			tb.Fatal(err)
		}
		env.HTTPSAddr = ln.Addr().String()
		go func() { httpsDone <- srv.ServeHTTPS(ctx, ln) }()
	} else {
		httpsDone <- nil
	}
	tb.Cleanup(func() {
		hs.Close()
		cancel()
		stopFed()
		<-fedDone
		<-httpsDone
		srv.Close()
		bus.Close()
	})
	return env
}

func randomSecret(tb testing.TB) []byte {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return b
}

func randomHex(tb testing.TB) []byte {
	const hexd = "0123456789abcdef"
	b := randomSecret(tb)[:8]
	out := make([]byte, 16)
	for i, c := range b {
		out[2*i], out[2*i+1] = hexd[c>>4], hexd[c&15]
	}
	return out
}

// Response is a decoded API answer.
type Response struct {
	Status int
	Header http.Header
	Raw    []byte
	JSON   map[string]any // nil when the body is not a JSON object
	Array  []any          // set when the body is a JSON array
}

// ItemStates reads an offboarding or access report's items as facet ->
// state -> count (empty when the body has no items).
func (r *Response) ItemStates() map[string]map[string]int {
	out := map[string]map[string]int{}
	items, _ := r.JSON["items"].([]any)
	for _, x := range items {
		it, _ := x.(map[string]any)
		f, _ := it["facet"].(string)
		s, _ := it["state"].(string)
		if out[f] == nil {
			out[f] = map[string]int{}
		}
		out[f][s]++
	}
	return out
}

// ErrorCode is the code of an {"error": {"code", "message"}} body, or "".
func (r *Response) ErrorCode() string {
	e, _ := r.JSON["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// Strings is the JSON array of strings at v (a decoded value), or empty.
func Strings(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// Do calls the API. body is marshalled to JSON unless it is a string or
// []byte (sent as is). headers are name, value pairs.
func (e *Env) Do(tb testing.TB, method, path string, body any, headers ...string) *Response {
	tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			tb.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	// A client of the seeds names itself; Go's default User-Agent is the
	// signal of GateKey's own programs (api.GateKeyProgram).
	req.Header.Set("User-Agent", "netkeep-servertest")
	// Set, not Add: a caller's Content-Type replaces the JSON default.
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := e.Client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := &Response{Status: res.StatusCode, Header: res.Header, Raw: raw}
	_ = json.Unmarshal(raw, &out.JSON)
	_ = json.Unmarshal(raw, &out.Array)
	return out
}

// Bearer returns the Authorization header pair for token.
func Bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

// Master returns the Authorization header pair for the master key.
func Master() []string { return Bearer(MasterKey) }

// DefaultGroupID returns the id of the default group, which exists from the
// first start.
func (e *Env) DefaultGroupID(tb testing.TB) int64 {
	tb.Helper()
	id, err := e.Server.Identity.DefaultGroupID(context.Background())
	if err != nil {
		tb.Fatalf("default group: %v", err)
	}
	return id
}

// Src is the audit source tests act as.
var Src = audit.Source{Actor: "test", IP: "127.0.0.1"}

// CreateUser creates a user directly through the identity service as the
// master principal; groupName is created if missing.
func (e *Env) CreateUser(tb testing.TB, username, password string, role identity.Role, groupName string) *identity.User {
	tb.Helper()
	ctx := context.Background()
	master := &authz.Principal{Kind: authz.KindMaster, Role: authz.SuperAdmin}
	g, err := store.For[identity.Tx](e.DB).Read().GroupByName(ctx, groupName)
	if err != nil {
		if g, err = e.Server.Identity.CreateGroup(ctx, master, Src, groupName); err != nil {
			tb.Fatalf("creating group %s: %v", groupName, err)
		}
	}
	u, err := e.Server.Identity.CreateUser(ctx, master, Src, identity.NewUser{
		Username: username, Email: username + "@example.com", Password: password, Role: role, GroupID: g.ID,
	})
	if err != nil {
		tb.Fatalf("creating user %s: %v", username, err)
	}
	return u
}

// Login logs in through POST /api/v1/auth/login and returns the access and
// refresh tokens.
func (e *Env) Login(tb testing.TB, username, password string) (access, refresh string) {
	tb.Helper()
	r := e.Do(tb, "POST", "/api/v1/auth/login", map[string]string{"username": username, "password": password})
	if r.Status != http.StatusOK {
		tb.Fatalf("login %s: %d %s", username, r.Status, r.Raw)
	}
	return r.JSON["access_token"].(string), r.JSON["refresh_token"].(string)
}

// WebSession logs in through the identity service and returns a browser
// session token: the value of the api.SessionCookie cookie.
func (e *Env) WebSession(tb testing.TB, username, password string) string {
	tb.Helper()
	ctx := context.Background()
	res, err := e.Server.Identity.Login(ctx, Src, identity.LoginRequest{Login: username, Password: password})
	if err != nil {
		tb.Fatalf("login %s: %v", username, err)
	}
	tok, _, err := e.Server.Identity.WebToken(ctx, res.User.ID, res.Tokens.SessionID)
	if err != nil {
		tb.Fatalf("web token %s: %v", username, err)
	}
	return tok
}

// Cookie returns the Cookie header pair that carries a browser session.
func Cookie(webToken string) []string { return []string{"Cookie", "netkeep_session=" + webToken} }

// Eventually polls cond until it holds or within passes, then fails with msg.
func Eventually(tb testing.TB, within time.Duration, cond func() bool, msg string) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("after %v: %s", within, msg)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
