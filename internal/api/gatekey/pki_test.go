package gatekey_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"netkeep/internal/apikey"
	"netkeep/internal/authz"
	"netkeep/internal/identity"
	"netkeep/internal/pki"
	"netkeep/internal/pki/pkitest"
	"netkeep/internal/server/servertest"
)

const pkiPassword = "correct-horse-battery"

// pkiFixture is a server with a group admin and a user in "acme", an admin
// in "globex", and a client certificate of each group.
type pkiFixture struct {
	e                    *servertest.Env
	admin, user, foreign string // access tokens
	acmeCert, globexCert *pki.Issued
	acme                 *identity.User
}

func newPKIFixture(t *testing.T, e *servertest.Env) *pkiFixture {
	t.Helper()
	f := &pkiFixture{e: e}
	f.acme = e.CreateUser(t, "pki-admin", pkiPassword, identity.GroupAdmin, "acme")
	e.CreateUser(t, "pki-user", pkiPassword, identity.RoleUser, "acme")
	g := e.CreateUser(t, "pki-foreign", pkiPassword, identity.GroupAdmin, "globex")
	f.admin, _ = e.Login(t, "pki-admin", pkiPassword)
	f.user, _ = e.Login(t, "pki-user", pkiPassword)
	f.foreign, _ = e.Login(t, "pki-foreign", pkiPassword)
	f.acmeCert = f.issue(t, f.acme.ID, f.acme.GroupID)
	f.globexCert = f.issue(t, g.ID, g.GroupID)
	return f
}

func (f *pkiFixture) issue(tb testing.TB, user, group int64) *pki.Issued {
	tb.Helper()
	out, err := f.e.Server.PKI.IssueClient(context.Background(), servertest.Src, pki.ClientRequest{CommonName: "client", UserID: user, GroupID: group})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// wantGateKeyError fails unless r is {"error": {"code", "message"}} with
// status and code.
func wantGateKeyError(tb testing.TB, r *servertest.Response, status int, code string) {
	tb.Helper()
	if r.Status != status {
		tb.Fatalf("status = %d, want %d: %s", r.Status, status, r.Raw)
	}
	e, ok := r.JSON["error"].(map[string]any)
	if !ok || len(r.JSON) != 1 {
		tb.Fatalf("not a GateKey error envelope: %s", r.Raw)
	}
	if msg, _ := e["message"].(string); msg == "" || e["code"] != code {
		tb.Fatalf("error = %v, want code %s and a message", e, code)
	}
}

// wantStatus checks a {serial, revoked, revoked_at, reason} answer.
func wantStatus(tb testing.TB, r *servertest.Response, serial pki.Serial, revoked bool, reason string) {
	tb.Helper()
	if r.Status != http.StatusOK {
		tb.Fatalf("status = %d: %s", r.Status, r.Raw)
	}
	if len(r.JSON) != 4 || r.JSON["serial"] != string(serial) || r.JSON["revoked"] != revoked {
		tb.Fatalf("body %s, want serial %s revoked %v", r.Raw, serial, revoked)
	}
	if !revoked {
		if r.JSON["revoked_at"] != nil || r.JSON["reason"] != nil {
			tb.Fatalf("unrevoked certificate with revoked_at/reason: %s", r.Raw)
		}
		return
	}
	if at, _ := r.JSON["revoked_at"].(string); !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).MatchString(at) || r.JSON["reason"] != reason {
		tb.Fatalf("body %s, want reason %s and an RFC 3339 revoked_at", r.Raw, reason)
	}
}

// colons writes a serial as openssl -text does: lower case, colon-separated.
func colons(s pki.Serial) string {
	l := strings.ToLower(string(s))
	parts := make([]string, 0, len(l)/2)
	for i := 0; i < len(l); i += 2 {
		parts = append(parts, l[i:i+2])
	}
	return strings.Join(parts, ":")
}

// TestPKIOpenSSL: openssl, the real peer, accepts an issued certificate with
// the served CA and CRL, rejects it once it is revoked, parses the served
// DER CRL, and prints the serial the API uses.
func TestPKIOpenSSL(t *testing.T) {
	t.Parallel()
	pkitest.OpenSSL(t)
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newPKIFixture(t, e)
		dir := t.TempDir()
		get := func(path string) []byte {
			t.Helper()
			r := e.Do(t, "GET", path, nil)
			if r.Status != http.StatusOK {
				t.Fatalf("GET %s: %d %s", path, r.Status, r.Raw)
			}
			return r.Raw
		}
		ca := pkitest.WriteFile(t, dir, "ca.pem", get("/api/v1/pki/ca.pem"))
		client := pkitest.WriteFile(t, dir, "client.pem", f.acmeCert.CertPEM)
		sn := f.acmeCert.Certificate.Serial
		server, err := e.Server.PKI.IssueServer(context.Background(), servertest.Src, pki.ServerRequest{
			CommonName: "vpn.example.com", GatewayID: "gw-001", GroupID: f.acme.GroupID})
		if err != nil {
			t.Fatal(err)
		}
		serverFile := pkitest.WriteFile(t, dir, "server.pem", server.CertPEM)

		// openssl prints the serial exactly as the API shows it.
		if got := pkitest.SerialOf(t, dir, client); got != string(sn) {
			t.Fatalf("openssl x509 -serial = %s, API serial %s", got, sn)
		}
		wantStatus(t, e.Do(t, "GET", "/api/v1/pki/check/"+pkitest.SerialOf(t, dir, client), nil), sn, false, "")

		verify := func(cert, purpose string) pkitest.Result {
			t.Helper()
			crl := pkitest.WriteFile(t, dir, "crl.pem", get("/api/v1/pki/crl.pem"))
			return pkitest.Run(t, dir, "verify", "-CAfile", ca, "-crl_check", "-CRLfile", crl, "-purpose", purpose, cert)
		}
		crlText := func() string {
			t.Helper()
			der := pkitest.WriteFile(t, dir, "crl.der", get("/api/v1/pki/crl"))
			return pkitest.MustRun(t, dir, "crl", "-inform", "DER", "-in", der, "-noout", "-text")
		}
		crlNumber := func(text string) int {
			t.Helper()
			m := regexp.MustCompile(`X509v3 CRL Number:\s*\n\s*(\d+)`).FindStringSubmatch(text)
			if m == nil {
				t.Fatalf("no CRL number in:\n%s", text)
			}
			n, _ := strconv.Atoi(m[1])
			return n
		}

		if r := verify(client, "sslclient"); !r.OK || !strings.Contains(r.Stdout, "client.pem: OK") {
			t.Fatalf("openssl verify of the client certificate:\n%s", r.Output())
		}
		if r := verify(serverFile, "sslserver"); !r.OK {
			t.Fatalf("openssl verify of the server certificate:\n%s", r.Output())
		}
		if r := verify(client, "sslserver"); r.OK {
			t.Fatal("a client certificate verified for TLS server use")
		}
		before := crlText()
		if !strings.Contains(before, "No Revoked Certificates") {
			t.Fatalf("fresh CRL lists revocations:\n%s", before)
		}
		n1 := crlNumber(before)

		r := e.Do(t, "POST", "/api/v1/admin/pki/revoke", map[string]string{"serial": colons(sn), "reason": "keyCompromise"}, servertest.Bearer(f.admin)...)
		wantStatus(t, r, sn, true, "keyCompromise")

		if r := verify(client, "sslclient"); r.OK || !strings.Contains(r.Output(), "certificate revoked") {
			t.Fatalf("openssl verify after revocation, want \"certificate revoked\":\n%s", r.Output())
		}
		if r := verify(serverFile, "sslserver"); !r.OK {
			t.Fatalf("the unrevoked server certificate no longer verifies:\n%s", r.Output())
		}
		after := crlText()
		if !strings.Contains(after, "Serial Number: "+string(sn)) || !strings.Contains(after, "Key Compromise") {
			t.Fatalf("CRL does not list %s with its reason:\n%s", sn, after)
		}
		if n2 := crlNumber(after); n2 <= n1 {
			t.Fatalf("CRL number %d after %d", n2, n1)
		}
		// The served CRL is signed by the served CA.
		crl := pkitest.WriteFile(t, dir, "crl.pem", get("/api/v1/pki/crl.pem"))
		if out := pkitest.Run(t, dir, "crl", "-in", crl, "-CAfile", ca, "-noout"); !out.OK || !strings.Contains(out.Output(), "verify OK") {
			t.Fatalf("openssl crl -CAfile:\n%s", out.Output())
		}
		wantStatus(t, e.Do(t, "GET", "/api/v1/pki/check/"+string(sn), nil), sn, true, "keyCompromise")
	})
}

func TestPKIRevoke(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newPKIFixture(t, e)
		ctx := context.Background()
		admin := &authz.Principal{Kind: authz.KindUser, UserID: f.acme.ID, Role: authz.GroupAdmin, GroupID: f.acme.GroupID, Username: f.acme.Username}
		_, readKey, err := e.Server.APIKeys.Create(ctx, admin, servertest.Src, apikey.NewKey{Name: "read", Scopes: []string{"pki:read"}})
		if err != nil {
			t.Fatal(err)
		}
		_, writeKey, err := e.Server.APIKeys.Create(ctx, admin, servertest.Src, apikey.NewKey{Name: "write", Scopes: []string{"pki:write"}})
		if err != nil {
			t.Fatal(err)
		}
		fresh := func() string { return string(f.issue(t, f.acme.ID, f.acme.GroupID).Certificate.Serial) }
		revoked := fresh()
		if r := e.Do(t, "POST", "/api/v1/admin/pki/revoke", map[string]string{"serial": revoked, "reason": "superseded"}, servertest.Bearer(f.admin)...); r.Status != 200 {
			t.Fatalf("setup revoke: %d %s", r.Status, r.Raw)
		}

		tests := []struct {
			name    string
			headers []string
			body    func() any
			status  int
			code    string
			reason  string
		}{
			{name: "200/group admin", headers: servertest.Bearer(f.admin), status: 200, reason: "cessationOfOperation",
				body: func() any { return map[string]string{"serial": fresh(), "reason": "cessationOfOperation"} }},
			{name: "200/no reason is unspecified", headers: servertest.Bearer(f.admin), status: 200, reason: "unspecified",
				body: func() any { return map[string]string{"serial": fresh()} }},
			{name: "200/lower case with colons", headers: servertest.Bearer(f.admin), status: 200, reason: "superseded",
				body: func() any { return map[string]string{"serial": colons(pki.Serial(fresh())), "reason": "superseded"} }},
			{name: "200/API key with pki:write", headers: []string{"X-API-Key", writeKey}, status: 200, reason: "affiliationChanged",
				body: func() any { return map[string]string{"serial": fresh(), "reason": "affiliationChanged"} }},
			{name: "200/master key", headers: servertest.Master(), status: 200, reason: "privilegeWithdrawn",
				body: func() any { return map[string]string{"serial": fresh(), "reason": "privilegeWithdrawn"} }},
			{name: "200/already revoked is idempotent", headers: servertest.Bearer(f.admin), status: 200, reason: "superseded",
				body: func() any { return map[string]string{"serial": revoked, "reason": "keyCompromise"} }},
			{name: "400/malformed serial", headers: servertest.Bearer(f.admin), status: 400, code: "invalid",
				body: func() any { return map[string]string{"serial": "not-hex", "reason": "superseded"} }},
			{name: "400/serial too long", headers: servertest.Bearer(f.admin), status: 400, code: "invalid",
				body: func() any { return map[string]string{"serial": strings.Repeat("AB", 21)} }},
			{name: "400/missing serial", headers: servertest.Bearer(f.admin), status: 400, code: "invalid",
				body: func() any { return map[string]string{"reason": "superseded"} }},
			{name: "400/unknown reason", headers: servertest.Bearer(f.admin), status: 400, code: "invalid",
				body: func() any { return map[string]string{"serial": fresh(), "reason": "stolen"} }},
			{name: "400/bad json", headers: servertest.Bearer(f.admin), status: 400, code: "invalid",
				body: func() any { return `{"serial":` }},
			{name: "404/unknown serial", headers: servertest.Bearer(f.admin), status: 404, code: "not_found",
				body: func() any { return map[string]string{"serial": "0102030405060708090A0B0C0D0E0F10"} }},
			{name: "404/other group's certificate", headers: servertest.Bearer(f.foreign), status: 404, code: "not_found",
				body: func() any { return map[string]string{"serial": string(f.acmeCert.Certificate.Serial)} }},
			{name: "401/no credential", status: 401, code: "unauthorized",
				body: func() any { return map[string]string{"serial": fresh()} }},
			{name: "403/user role", headers: servertest.Bearer(f.user), status: 403, code: "forbidden",
				body: func() any { return map[string]string{"serial": fresh(), "reason": "keyCompromise"} }},
			{name: "403/API key without pki:write", headers: []string{"X-API-Key", readKey}, status: 403, code: "forbidden",
				body: func() any { return map[string]string{"serial": fresh()} }},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				body := tc.body()
				r := e.Do(t, "POST", "/api/v1/admin/pki/revoke", body, tc.headers...)
				if tc.status != http.StatusOK {
					wantGateKeyError(t, r, tc.status, tc.code)
					if m, ok := body.(map[string]string); ok {
						if sn, err := pki.ParseSerial(m["serial"]); err == nil && string(sn) != revoked {
							if c, err := e.Server.PKI.Certificate(ctx, sn); err == nil && c.Revoked() {
								t.Fatal("a refused revocation revoked the certificate")
							}
						}
					}
					return
				}
				sn, err := pki.ParseSerial(body.(map[string]string)["serial"])
				if err != nil {
					t.Fatal(err)
				}
				wantStatus(t, r, sn, true, tc.reason)
			})
		}
		// The other group's certificate was left alone.
		if c, _ := e.Server.PKI.Certificate(ctx, f.acmeCert.Certificate.Serial); c.Revoked() {
			t.Fatal("another group's admin revoked the certificate")
		}
	})
}

func TestPKICheck(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newPKIFixture(t, e)
		sn := f.acmeCert.Certificate.Serial
		revoked := f.globexCert.Certificate.Serial
		if _, err := e.Server.PKI.RevokeUnchecked(context.Background(), servertest.Src, revoked, pki.KeyCompromise); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name, serial string
			status       int
			want         pki.Serial
			revoked      bool
		}{
			{"200/unrevoked, no credential needed", string(sn), 200, sn, false},
			{"200/revoked", string(revoked), 200, revoked, true},
			{"200/lower case with colons", colons(sn), 200, sn, false},
			{"400/not hex", "xyz", 400, "", false},
			{"400/zero", "00", 400, "", false},
			{"400/longer than 20 bytes", strings.Repeat("7F", 21), 400, "", false},
			{"404/unknown serial", "0102030405060708090A0B0C0D0E0F10", 404, "", false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := e.Do(t, "GET", "/api/v1/pki/check/"+tc.serial, nil)
				switch tc.status {
				case 200:
					reason := ""
					if tc.revoked {
						reason = "keyCompromise"
					}
					wantStatus(t, r, tc.want, tc.revoked, reason)
				case 400:
					wantGateKeyError(t, r, 400, "invalid")
				case 404:
					wantGateKeyError(t, r, 404, "not_found")
				}
			})
		}
	})
}

// TestPKIServing: content types, PEM framing, and conditional requests.
func TestPKIServing(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		ca := e.Do(t, "GET", "/api/v1/pki/ca.pem", nil)
		blk, _ := pem.Decode(ca.Raw)
		if ca.Status != 200 || blk == nil || blk.Type != "CERTIFICATE" || ca.Header.Get("Content-Type") != "application/x-pem-file" {
			t.Fatalf("ca.pem: %d %s %q", ca.Status, ca.Header.Get("Content-Type"), ca.Raw)
		}
		caCert, err := x509.ParseCertificate(blk.Bytes)
		if err != nil || !caCert.IsCA {
			t.Fatalf("ca.pem: %v", err)
		}

		der := e.Do(t, "GET", "/api/v1/pki/crl", nil)
		if der.Status != 200 || der.Header.Get("Content-Type") != "application/pkix-crl" || der.Header.Get("Content-Length") != strconv.Itoa(len(der.Raw)) {
			t.Fatalf("crl: %d %v", der.Status, der.Header)
		}
		crl, err := x509.ParseRevocationList(der.Raw)
		if err != nil || crl.CheckSignatureFrom(caCert) != nil {
			t.Fatalf("crl does not parse or is not signed by ca.pem: %v", err)
		}
		pemCRL := e.Do(t, "GET", "/api/v1/pki/crl.pem", nil)
		blk, _ = pem.Decode(pemCRL.Raw)
		if pemCRL.Status != 200 || blk == nil || blk.Type != "X509 CRL" || string(blk.Bytes) != string(der.Raw) {
			t.Fatalf("crl.pem: %d %q", pemCRL.Status, pemCRL.Raw)
		}
		etag, pemTag := der.Header.Get("ETag"), pemCRL.Header.Get("ETag")
		if etag == "" || pemTag == "" || etag == pemTag || der.Header.Get("Last-Modified") == "" {
			t.Fatalf("validators: ETag %q / %q, Last-Modified %q", etag, pemTag, der.Header.Get("Last-Modified"))
		}

		for _, tc := range []struct {
			name    string
			path    string
			headers []string
			status  int
		}{
			{"304/same ETag", "/api/v1/pki/crl", []string{"If-None-Match", etag}, 304},
			{"304/ETag in a list, weak", "/api/v1/pki/crl", []string{"If-None-Match", `"x", W/` + etag}, 304},
			{"304/star", "/api/v1/pki/crl", []string{"If-None-Match", "*"}, 304},
			{"200/the PEM's tag does not match the DER", "/api/v1/pki/crl", []string{"If-None-Match", pemTag}, 200},
			{"304/PEM", "/api/v1/pki/crl.pem", []string{"If-None-Match", pemTag}, 304},
			{"304/If-Modified-Since", "/api/v1/pki/crl", []string{"If-Modified-Since", der.Header.Get("Last-Modified")}, 304},
			{"200/stale ETag wins over If-Modified-Since", "/api/v1/pki/crl", []string{"If-None-Match", `"old"`, "If-Modified-Since", der.Header.Get("Last-Modified")}, 200},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.Do(t, "GET", tc.path, nil, tc.headers...)
				if r.Status != tc.status || (tc.status == 304 && len(r.Raw) != 0) {
					t.Fatalf("status %d (%d bytes), want %d", r.Status, len(r.Raw), tc.status)
				}
			})
		}

		// A revocation changes the validators.
		f := newPKIFixture(t, e)
		if _, err := e.Server.PKI.RevokeUnchecked(context.Background(), servertest.Src, f.acmeCert.Certificate.Serial, pki.Superseded); err != nil {
			t.Fatal(err)
		}
		if r := e.Do(t, "GET", "/api/v1/pki/crl", nil, "If-None-Match", etag); r.Status != 200 || r.Header.Get("ETag") == etag {
			t.Fatalf("after a revocation: %d, ETag %q", r.Status, r.Header.Get("ETag"))
		}
	})
}

// TestPKIReplicas: two replicas on one PostgreSQL share one CA, and a
// revocation through one is on the CRL the other serves.
func TestPKIReplicas(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t, "postgres")
	b := servertest.Replica(t, a)
	f := newPKIFixture(t, a)
	caA, caB := a.Do(t, "GET", "/api/v1/pki/ca.pem", nil), b.Do(t, "GET", "/api/v1/pki/ca.pem", nil)
	if string(caA.Raw) != string(caB.Raw) {
		t.Fatal("replicas serve different CAs")
	}
	sn := f.acmeCert.Certificate.Serial
	if r := a.Do(t, "POST", "/api/v1/admin/pki/revoke", map[string]string{"serial": string(sn), "reason": "keyCompromise"}, servertest.Bearer(f.admin)...); r.Status != 200 {
		t.Fatalf("revoke: %d %s", r.Status, r.Raw)
	}
	want := a.Do(t, "GET", "/api/v1/pki/crl", nil)
	servertest.Eventually(t, 10*time.Second, func() bool {
		r := b.Do(t, "GET", "/api/v1/pki/crl", nil)
		return r.Header.Get("ETag") == want.Header.Get("ETag") && string(r.Raw) == string(want.Raw)
	}, "replica B does not serve replica A's new CRL")
	crl, err := x509.ParseRevocationList(want.Raw)
	if err != nil || len(crl.RevokedCertificateEntries) != 1 || pki.SerialOf(crl.RevokedCertificateEntries[0].SerialNumber) != sn {
		t.Fatalf("CRL: %v %+v", err, crl)
	}
	wantStatus(t, b.Do(t, "GET", "/api/v1/pki/check/"+string(sn), nil), sn, true, "keyCompromise")
}
