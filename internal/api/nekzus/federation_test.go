package nekzus_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"netkeep/internal/catalog"
	"netkeep/internal/config"
	"netkeep/internal/server/servertest"
	"netkeep/internal/store/storetest"
)

// federated starts two servers with federation on, an upstream app on A,
// and joins B to A with a token of A's. It returns A, B and the id B's
// catalog shows A's app under.
func federated(t testing.TB, kind config.DatabaseKind) (a, b *servertest.Env, remoteID string) {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "hello from A's app: %s auth=%q", r.URL.Path, r.Header.Get("Authorization"))
	}))
	t.Cleanup(up.Close)
	on := func(name string) func(*config.Config) {
		return func(c *config.Config) { c.FederationListen, c.FederationName = "127.0.0.1:0", name }
	}
	a = servertest.StartWith(t, kind, on("site-a"))
	b = servertest.StartWith(t, kind, on("site-b"))
	if r := a.Do(t, "POST", "/api/v1/routes", map[string]any{"appId": "wiki", "name": "Wiki", "to": up.URL}, servertest.Master()...); r.Status != 201 {
		t.Fatalf("creating A's app: %d %s", r.Status, r.Raw)
	}
	tok := a.Do(t, "POST", "/api/v1/federation/tokens", nil, servertest.Master()...)
	if tok.Status != 201 || !strings.HasPrefix(tok.JSON["token"].(string), "nkfed_") {
		t.Fatalf("token: %d %s", tok.Status, tok.Raw)
	}
	if tok.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("token answer is cacheable: %q", tok.Header.Get("Cache-Control"))
	}
	j := b.Do(t, "POST", "/api/v1/federation/join", map[string]any{"token": tok.JSON["token"]}, servertest.Master()...)
	if j.Status != 201 || j.JSON["name"] != "site-a" || j.JSON["status"] != "connected" {
		t.Fatalf("join: %d %s", j.Status, j.Raw)
	}
	remoteID = strings.ReplaceAll(j.JSON["id"].(string), "_", "-") + "-wiki"
	// The token is one-time: presenting it again is refused by A.
	again := b.Do(t, "POST", "/api/v1/federation/join", map[string]any{"token": tok.JSON["token"]}, servertest.Master()...)
	if again.Status != 403 || again.ErrorCode() == "" {
		t.Errorf("join with a used token: %d %s, want 403", again.Status, again.Raw)
	}
	return a, b, remoteID
}

func TestFederation(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) { testFederation(t, kind) })
	}
}

func testFederation(t *testing.T, kind config.DatabaseKind) {
	{
		a, b, remoteID := federated(t, kind)
		m := servertest.Master()

		// A knows B from the join, B knows A; both are connected. A sees B
		// connected after its own first sync of B, which B's first sync of
		// A (part of the join) starts on A in the background.
		for name, e := range map[string]*servertest.Env{"A": a, "B": b} {
			var st *servertest.Response
			ok := func() bool {
				st = e.Do(t, "GET", "/api/v1/federation/status", nil, m...)
				byStatus, _ := st.JSON["peers_by_status"].(map[string]any)
				return st.Status == 200 && st.JSON["enabled"] == true && st.JSON["peer_count"] == 1.0 && byStatus["connected"] == 1.0 &&
					strings.HasPrefix(st.JSON["local_peer_id"].(string), "peer_")
			}
			servertest.Eventually(t, 10*time.Second, ok, name+" status: never connected")
		}
		peers := b.Do(t, "GET", "/api/v1/federation/peers", nil, m...)
		if peers.Status != 200 || peers.JSON["count"] != 1.0 {
			t.Fatalf("B's peers: %d %s", peers.Status, peers.Raw)
		}
		aID := peers.JSON["peers"].([]any)[0].(map[string]any)["id"].(string)
		if one := b.Do(t, "GET", "/api/v1/federation/peers/"+aID, nil, m...); one.Status != 200 || one.JSON["app_count"] != 1.0 {
			t.Errorf("B's peer A: %d %s", one.Status, one.Raw)
		}

		// A's app is in B's catalog, marked remote, and reachable through
		// B's proxy; B's credential does not travel on.
		if s := b.Do(t, "POST", "/api/v1/federation/sync", nil, m...); s.Status != 200 || s.JSON["synced"] != 1.0 {
			t.Fatalf("sync: %d %s", s.Status, s.Raw)
		}
		app := findApp(t, b, remoteID)
		if app == nil || app["remote"] != true || app["peerName"] != "site-a" || app["name"] != "Wiki" {
			t.Fatalf("B's catalog shows A's app as %v", app)
		}
		got := b.Do(t, "GET", "/apps/"+remoteID+"/page?x=1", nil, m...)
		if got.Status != 200 || string(got.Raw) != `hello from A's app: /page auth=""` {
			t.Fatalf("proxy through B: %d %s", got.Status, got.Raw)
		}
		if anon := b.Do(t, "GET", "/apps/"+remoteID+"/page", nil); anon.Status != 401 {
			t.Errorf("anonymous through B: %d, want 401 (the route's mode applies on B)", anon.Status)
		}
		if local := findApp(t, a, "wiki"); local == nil || local["remote"] != nil {
			t.Errorf("A's own app is marked remote: %v", local)
		}

		// B removes A: A's app is gone from B at once.
		if r := b.Do(t, "DELETE", "/api/v1/federation/peers/"+aID, nil, m...); r.Status != 204 {
			t.Fatalf("remove: %d %s", r.Status, r.Raw)
		}
		if findApp(t, b, remoteID) != nil {
			t.Error("A's app is still in B's catalog after the removal")
		}
		if r := b.Do(t, "GET", "/apps/"+remoteID+"/page", nil, m...); r.Status != 404 {
			t.Errorf("proxy after removal: %d, want 404", r.Status)
		}
		if r := b.Do(t, "GET", "/api/v1/federation/peers/"+aID, nil, m...); r.Status != 404 || r.ErrorCode() == "" {
			t.Errorf("removed peer: %d %s", r.Status, r.Raw)
		}
		// A still lists B, but B has dropped the link: A's sync of B now
		// fails and B shows as disconnected.
		if s := a.Do(t, "POST", "/api/v1/federation/sync", nil, m...); s.Status != 200 || s.JSON["synced"] != 0.0 {
			t.Errorf("A's sync after B removed it: %d %s", s.Status, s.Raw)
		}
		st := a.Do(t, "GET", "/api/v1/federation/status", nil, m...)
		if byStatus, _ := st.JSON["peers_by_status"].(map[string]any); byStatus["disconnected"] != 1.0 {
			t.Errorf("A's status after B dropped it: %s", st.Raw)
		}
	}
}

// TestFederationUnreachablePeer: a peer that stops answering keeps its
// apps in the catalog, unhealthy, and is disconnected.
func TestFederationUnreachablePeer(t *testing.T) {
	t.Parallel()
	a, b, remoteID := federated(t, config.SQLite)
	a.StopFederation()
	m := servertest.Master()
	if s := b.Do(t, "POST", "/api/v1/federation/sync", nil, m...); s.Status != 200 || s.JSON["synced"] != 0.0 {
		t.Fatalf("sync: %d %s", s.Status, s.Raw)
	}
	app := findApp(t, b, remoteID)
	if app == nil || app["healthStatus"] != "unhealthy" {
		t.Fatalf("A's app on B with A down: %v", app)
	}
	peers := b.Do(t, "GET", "/api/v1/federation/peers", nil, m...)
	p := peers.JSON["peers"].([]any)[0].(map[string]any)
	if p["status"] != "disconnected" || p["last_error"] == "" {
		t.Errorf("A on B: %v", p)
	}
}

// TestFederationRefusesUnpinned: the federation listener serves nothing
// to a certificate whose CA is not a peer's pin, nor to a caller without
// one; and a join token whose pin does not match the listener's CA fails.
func TestFederationRefusesUnpinned(t *testing.T) {
	t.Parallel()
	a, b, _ := federated(t, config.SQLite)
	stranger := strangerCert(t)
	for name, certs := range map[string][]tls.Certificate{"unpinned CA": {stranger}, "no certificate": nil} {
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
			InsecureSkipVerify: true, Certificates: certs}}} //nolint:gosec // the server's identity is not what is tested
		res, err := c.Get(a.FederationURL + "/federation/v1/catalog")
		if err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 403 || strings.Contains(string(body), "wiki") {
				t.Errorf("%s: %d %s, want 403", name, res.StatusCode, body)
			}
		} else if certs != nil {
			t.Errorf("%s: %v, want a 403 answer", name, err)
		}
	}
	// A token of A's with B's URL in it: B's CA is not the pin.
	tok := a.Do(t, "POST", "/api/v1/federation/tokens", map[string]any{"expires_in": 600}, servertest.Master()...)
	forged := rewriteJoinURL(t, tok.JSON["token"].(string), b.FederationURL)
	third := servertest.StartWith(t, config.SQLite, func(c *config.Config) { c.FederationListen = "127.0.0.1:0" })
	r := third.Do(t, "POST", "/api/v1/federation/join", map[string]any{"token": forged}, servertest.Master()...)
	if r.Status != 503 || !strings.Contains(string(r.Raw), "pinned") {
		t.Errorf("join to a listener whose CA is not the pin: %d %s, want 503", r.Status, r.Raw)
	}
}

func TestFederationErrors(t *testing.T) {
	t.Parallel()
	on := servertest.StartWith(t, config.SQLite, func(c *config.Config) { c.FederationListen = "127.0.0.1:0" })
	off := servertest.Start(t, config.SQLite)
	m := servertest.Master()
	own := on.Do(t, "POST", "/api/v1/federation/tokens", nil, m...).JSON["token"]
	for _, tc := range []struct {
		name   string
		e      *servertest.Env
		method string
		path   string
		body   any
		status int
	}{
		{"400/token not a token", on, "POST", "/api/v1/federation/join", map[string]any{"token": "hello"}, 400},
		{"400/token empty", on, "POST", "/api/v1/federation/join", map[string]any{}, 400},
		{"400/bad json", on, "POST", "/api/v1/federation/join", "{", 400},
		{"409/own token", on, "POST", "/api/v1/federation/join", map[string]any{"token": own}, 409},
		{"400/ttl too short", on, "POST", "/api/v1/federation/tokens", map[string]any{"expires_in": 5}, 400},
		{"400/ttl negative", on, "POST", "/api/v1/federation/tokens", map[string]any{"expires_in": -1}, 400},
		{"404/unknown peer", on, "GET", "/api/v1/federation/peers/peer_000000000000", nil, 404},
		{"404/delete unknown peer", on, "DELETE", "/api/v1/federation/peers/peer_000000000000", nil, 404},
		{"409/token while off", off, "POST", "/api/v1/federation/tokens", nil, 409},
		{"409/sync while off", off, "POST", "/api/v1/federation/sync", nil, 409},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.e.Do(t, tc.method, tc.path, tc.body, m...)
			if r.Status != tc.status || r.ErrorCode() == "" {
				t.Errorf("%d %s, want %d in the error envelope", r.Status, r.Raw, tc.status)
			}
		})
	}
	if st := off.Do(t, "GET", "/api/v1/federation/status", nil, m...); st.Status != 200 || st.JSON["enabled"] != false || st.JSON["peer_count"] != 0.0 {
		t.Errorf("status while off: %d %s", st.Status, st.Raw)
	}
}

// rewriteJoinURL points a join token at another listener, keeping its pin
// and secret.
func rewriteJoinURL(t *testing.T, token, url string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(token, "nkfed_"))
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatal(err)
	}
	body["u"] = url
	raw, _ = json.Marshal(body)
	return "nkfed_" + base64.RawURLEncoding.EncodeToString(raw)
}

func findApp(t *testing.T, e *servertest.Env, id string) map[string]any {
	t.Helper()
	r := e.Do(t, "GET", "/api/v1/apps", nil, servertest.Master()...)
	if r.Status != 200 {
		t.Fatalf("apps: %d %s", r.Status, r.Raw)
	}
	for _, x := range r.Array {
		if app := x.(map[string]any); app["id"] == id {
			return app
		}
	}
	return nil
}

// strangerCert is a certificate with its own CA, self-consistent but
// pinned by nobody.
func strangerCert(t *testing.T) tls.Certificate {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "stranger CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "stranger"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der, caDER}, PrivateKey: key}
}

// BenchmarkFederationProxy measures a small GET of an app: through the
// local proxy of the app's own instance ("local"), and through a peer's
// proxy over the mutual-TLS link ("peer": two proxies and the link).
func BenchmarkFederationProxy(b *testing.B) {
	a, peer, remoteID := federated(b, config.SQLite)
	for _, tc := range []struct {
		name string
		e    *servertest.Env
		path string
	}{
		{"local", a, "/apps/wiki/bench"},
		{"peer", peer, "/apps/" + remoteID + "/bench"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			req, _ := http.NewRequest("GET", tc.e.URL+tc.path, nil)
			req.Header.Set("Authorization", "Bearer "+servertest.MasterKey)
			req.Header.Set("User-Agent", "netkeep-bench")
			b.ReportAllocs()
			for b.Loop() {
				res, err := tc.e.Client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					b.Fatalf("%d", res.StatusCode)
				}
			}
		})
	}
}

// TestFederationAcrossReplicas: B runs as two replicas on one PostgreSQL
// database. A sync or a removal on one replica shows on the other at once
// (not at its next sync, an hour away here), and the other announces the
// health change of its view of A's app as a health_change event.
func TestFederationAcrossReplicas(t *testing.T) {
	t.Parallel()
	if os.Getenv(storetest.PostgresEnv) == "" {
		t.Skip(storetest.PostgresEnv + " not set: replicas need PostgreSQL")
	}
	a, b, remoteID := federated(t, config.Postgres)
	b2 := servertest.ReplicaWith(t, b, func(c *config.Config) {
		c.FederationListen, c.FederationName, c.FederationSyncInterval = "127.0.0.1:0", "site-b", time.Hour
	})
	m := servertest.Master()
	health := func(e *servertest.Env) any {
		if app := findApp(t, e, remoteID); app != nil {
			return app["healthStatus"]
		}
		return nil
	}
	// A's app shows as A last reported it (its own first health check may
	// not have run yet), never as unhealthy while A answers.
	var before any
	servertest.Eventually(t, 10*time.Second, func() bool { before = health(b2); return before != nil }, "B's replica never showed A's app")
	if before == "unhealthy" {
		t.Fatalf("B's replica shows A's app unhealthy while A answers")
	}
	changes := b2.Bus.Subscribe(catalog.TopicApp)
	defer changes.Close()

	// A goes away; B's first replica syncs and finds it unreachable.
	a.StopFederation()
	if s := b.Do(t, "POST", "/api/v1/federation/sync", nil, m...); s.Status != 200 || s.JSON["synced"] != 0.0 {
		t.Fatalf("sync: %d %s", s.Status, s.Raw)
	}
	servertest.Eventually(t, 10*time.Second, func() bool { return health(b2) == "unhealthy" }, "B's replica still shows A's app healthy")
	deadline := time.After(10 * time.Second)
	for announced := false; !announced; {
		select {
		case e := <-changes.C():
			var hc catalog.HealthChange
			_ = json.Unmarshal(e.Data, &hc)
			announced = e.Action == catalog.ActionHealthChange && e.ID == remoteID && e.Origin == b2.Bus.Origin() &&
				hc.Status == "unhealthy" && hc.PreviousStatus == before
		case <-deadline:
			t.Fatal("B's replica announced no health_change of A's app")
		}
	}

	// B's second replica removes A: the first drops A's app at once.
	peers := b2.Do(t, "GET", "/api/v1/federation/peers", nil, m...)
	aID := peers.JSON["peers"].([]any)[0].(map[string]any)["id"].(string)
	if r := b2.Do(t, "DELETE", "/api/v1/federation/peers/"+aID, nil, m...); r.Status != 204 {
		t.Fatalf("remove: %d %s", r.Status, r.Raw)
	}
	servertest.Eventually(t, 10*time.Second, func() bool { return findApp(t, b, remoteID) == nil }, "B's first replica still shows the removed peer's app")
	if r := b.Do(t, "GET", "/apps/"+remoteID+"/page", nil, m...); r.Status != 404 {
		t.Errorf("proxy on the first replica after the removal: %d, want 404", r.Status)
	}
}

// TestFederationCertificateReused: a restart (a second server on the same
// database, secret and names) serves the federation certificate the first
// issued, without issuing or auditing another; one from another CA is
// replaced at the next start. The key is stored sealed, never as PEM.
func TestFederationCertificateReused(t *testing.T) {
	t.Parallel()
	on := func(c *config.Config) { c.FederationListen, c.FederationName = "127.0.0.1:0", "site-a" }
	a := servertest.StartWith(t, config.SQLite, on)
	count := func(q string) int {
		t.Helper()
		var n int
		if err := a.DB.SQL().QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	issued := func() int { return count(`SELECT count(*) FROM pki_certificates WHERE gateway_id = 'federation'`) }
	stored := func() int {
		return count(`SELECT count(*) FROM audit_log WHERE action = 'federation.certificate.store'`)
	}
	if issued() != 1 || stored() != 1 {
		t.Fatalf("first start: %d certificates issued, %d stored", issued(), stored())
	}
	if n := count(`SELECT count(*) FROM federation_identities WHERE key_sealed LIKE '%PRIVATE KEY%'`); n != 0 {
		t.Fatal("the federation key is stored in the clear")
	}
	first := servedSerial(t, a.FederationURL)

	again := servertest.ReplicaWith(t, a, on)
	if issued() != 1 || stored() != 1 {
		t.Fatalf("after a restart: %d certificates issued, %d stored, want 1 and 1", issued(), stored())
	}
	if got := servedSerial(t, again.FederationURL); got != first {
		t.Fatalf("the restart serves certificate %s, want the stored %s", got, first)
	}

	if _, err := a.DB.SQL().Exec(`UPDATE federation_identities SET ca_fingerprint = 'another-ca'`); err != nil {
		t.Fatal(err)
	}
	third := servertest.ReplicaWith(t, a, on)
	if issued() != 2 || stored() != 2 {
		t.Fatalf("after the CA changed: %d certificates issued, %d stored, want 2 and 2", issued(), stored())
	}
	if got := servedSerial(t, third.FederationURL); got == first {
		t.Fatal("a certificate of another CA was reused")
	}
}

// servedSerial is the serial number of the certificate the federation
// listener at url presents.
func servedSerial(t *testing.T, url string) string {
	t.Helper()
	conn, err := tls.Dial("tcp", strings.TrimPrefix(url, "https://"), &tls.Config{
		InsecureSkipVerify: true, Certificates: []tls.Certificate{strangerCert(t)}}) //nolint:gosec // the served certificate is what is inspected
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
}
