package gatekey_test

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"
	"time"

	"netkeep/internal/server/servertest"
)

// pemCerts parses every CERTIFICATE block of a PEM bundle, in order.
func pemCerts(tb testing.TB, bundle string) []*x509.Certificate {
	tb.Helper()
	var out []*x509.Certificate
	for rest := []byte(bundle); ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return out
		}
		if b.Type != "CERTIFICATE" {
			tb.Fatalf("unexpected %s block in the CA bundle", b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, c)
	}
}

// pemBlocks counts the blocks of type in s.
func pemBlocks(s, typ string) int { return strings.Count(s, "-----BEGIN "+typ+"-----") }

// TestCARotationContract replays gatekey-admin's ca commands (list, show,
// rotate, activate, revoke) through a whole rotation, with a gateway run by
// GateKey's agent provisioning along, and checks what each step changes for
// the gateway and its clients.
func TestCARotationContract(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		gw, token := f.gateway(t, map[string]any{"name": "edge-ca"})
		net := f.network(t, "10.50.0.0/16", gw)
		f.rule(t, map[string]any{"network_id": net, "user_ids": []int64{f.alice.ID}})
		list := func(token string) []gkCA {
			t.Helper()
			var l struct {
				CAs []gkCA `json:"cas"`
			}
			decodeAs(t, f.program(t, token, "GET", "/api/v1/admin/ca/list", nil), 200, &l)
			return l.CAs
		}
		heartbeat := func() gkHeartbeat {
			t.Helper()
			var hb gkHeartbeat
			decodeAs(t, f.hook(t, "heartbeat", map[string]any{"token": token, "config_version": "1"}), 200, &hb)
			return hb
		}
		provision := func() gkProvision {
			t.Helper()
			var p gkProvision
			decodeAs(t, f.hook(t, "provision", map[string]any{"token": token}), 200, &p)
			return p
		}
		verify := func(serial string) gkVerify {
			t.Helper()
			var v gkVerify
			decodeAs(t, f.hook(t, "verify", map[string]any{"token": token, "common_name": "alice", "serial_number": serial}), 200, &v)
			return v
		}
		chains := func(bundle string, leafPEM []byte, usage x509.ExtKeyUsage) bool {
			t.Helper()
			roots := x509.NewCertPool()
			for _, c := range pemCerts(t, bundle) {
				roots.AddCert(c)
			}
			b, _ := pem.Decode(leafPEM)
			leaf, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			_, err = leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{usage}})
			return err == nil
		}

		// Before any rotation: one CA, the server-wide one, current.
		before := list(f.admin)
		if len(before) != 1 || !before[0].IsActive || !before[0].IsCurrent {
			t.Fatalf("initial ca list = %+v", before)
		}
		server := before[0]
		provision()
		if hb := heartbeat(); hb.NeedsReprovision {
			t.Fatal("a provisioned gateway is asked to reprovision")
		}
		old := f.issue(t, f.alice)

		// ca rotate --name "acme 2027" --years 2: a pending CA, trusted by
		// the gateway's next bundle but issuing nothing yet.
		var rotated gkCA
		decodeAs(t, f.program(t, f.admin, "POST", "/api/v1/admin/ca/rotate", map[string]any{"name": "acme 2027", "validity_years": 2}), 201, &rotated)
		if rotated.ID == "" || rotated.Name != "acme 2027" || !rotated.IsActive || rotated.IsCurrent ||
			time.Until(rotated.NotAfter) < 2*365*24*time.Hour-time.Hour || rotated.SerialNumber == "" {
			t.Fatalf("rotated = %+v", rotated)
		}
		f.audited(t, "pki.ca.rotate", "ca:"+rotated.ID)
		if hb := heartbeat(); !hb.NeedsReprovision {
			t.Fatal("the gateway is not told to fetch the bundle with the new CA")
		}
		p := provision()
		if certs := pemCerts(t, p.CACert); len(certs) != 2 || certs[0].SerialNumber.Text(16) != server.SerialNumber {
			t.Fatalf("bundle while pending: %d CAs", len(certs))
		}
		if !chains(p.CACert, []byte(p.ServerCert), x509.ExtKeyUsageServerAuth) {
			t.Fatal("the gateway's certificate does not chain to its bundle")
		}

		// Another group sees none of it and cannot touch it.
		if l := list(f.foreign); len(l) != 1 || l[0].ID != server.ID {
			t.Fatalf("globex's ca list = %+v", l)
		}
		gkErrorOf(t, f.program(t, f.foreign, "POST", "/api/v1/admin/ca/"+rotated.ID+"/activate", nil), 404)
		gkErrorOf(t, f.program(t, f.foreign, "POST", "/api/v1/admin/ca/"+rotated.ID+"/revoke", nil), 404)
		gkErrorOf(t, f.program(t, f.user, "POST", "/api/v1/admin/ca/rotate", map[string]any{}), 403)
		gkErrorOf(t, f.program(t, f.admin, "POST", "/api/v1/admin/ca/rotate", map[string]any{"validity_years": "ten"}), 400)
		gkErrorOf(t, f.program(t, f.admin, "POST", "/api/v1/admin/ca/rotate", map[string]any{"validity_years": 31}), 400)
		gkErrorOf(t, f.program(t, f.admin, "POST", "/api/v1/admin/ca/not-a-number/activate", nil), 404)

		// ca activate ID (the CLI sends no body and reads none).
		if r := f.program(t, f.admin, "POST", "/api/v1/admin/ca/"+rotated.ID+"/activate", nil); r.Status != 200 {
			t.Fatalf("activate: %d %s", r.Status, r.Raw)
		}
		f.audited(t, "pki.ca.activate", "ca:"+rotated.ID)
		var show gkCA
		decodeAs(t, f.program(t, f.admin, "GET", "/api/v1/admin/ca", nil), 200, &show)
		if show.ID != rotated.ID || !show.IsCurrent {
			t.Fatalf("ca show after activation = %+v", show)
		}
		if hb := heartbeat(); !hb.NeedsReprovision {
			t.Fatal("the gateway is not told to take a certificate of the new issuer")
		}
		p = provision()
		certs := pemCerts(t, p.CACert)
		if len(certs) != 2 || certs[0].SerialNumber.Text(16) != rotated.SerialNumber || pemBlocks(p.CACert, "CERTIFICATE") != 2 {
			t.Fatalf("bundle after activation: %d CAs, issuer first wanted", len(certs))
		}
		fresh := f.issue(t, f.alice)
		// Both generations work both ways: old and new clients against the
		// new server certificate, checked by the gateway's bundle.
		for name, c := range map[string][]byte{"old": old.CertPEM, "new": fresh.CertPEM} {
			if !chains(p.CACert, c, x509.ExtKeyUsageClientAuth) {
				t.Fatalf("the %s client certificate does not chain to the gateway's bundle", name)
			}
		}
		if v := verify(string(old.Certificate.Serial)); !v.Allowed {
			t.Fatalf("the old CA's client is refused during the rotation: %+v", v)
		}
		if v := verify(string(fresh.Certificate.Serial)); !v.Allowed {
			t.Fatalf("the new CA's client is refused: %+v", v)
		}
		states := map[string]string{}
		var seed struct {
			Data []struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"data"`
			Meta map[string]any `json:"meta"`
		}
		decodeAs(t, f.do(t, f.admin, "GET", "/api/v1/admin/ca/list", nil), 200, &seed)
		for _, c := range seed.Data {
			states[c.ID] = c.Status
		}
		if states[server.ID] != "retired" || states[rotated.ID] != "current" || seed.Meta == nil {
			t.Fatalf("seed-shaped ca list = %s", states)
		}

		// The current issuer cannot be revoked; the old one can. Its
		// certificates of this group are revoked and the gateway's bundle
		// drops it.
		gkErrorOf(t, f.program(t, f.admin, "POST", "/api/v1/admin/ca/"+rotated.ID+"/revoke", nil), 409)
		if r := f.do(t, f.admin, "POST", "/api/v1/admin/ca/"+rotated.ID+"/revoke", nil); r.Status != 409 || r.JSON["error"].(map[string]any)["code"] != "conflict" {
			t.Fatalf("seed-shaped conflict: %d %s", r.Status, r.Raw)
		}
		if r := f.program(t, f.admin, "POST", "/api/v1/admin/ca/"+server.ID+"/revoke", nil); r.Status != 200 {
			t.Fatalf("revoke: %d %s", r.Status, r.Raw)
		}
		f.audited(t, "pki.ca.revoke", "ca:"+server.ID)
		if v := verify(string(old.Certificate.Serial)); v.Allowed {
			t.Fatal("a client of the revoked CA is still allowed")
		}
		if v := verify(string(fresh.Certificate.Serial)); !v.Allowed {
			t.Fatalf("the new CA's client is refused after the old CA's revocation: %+v", v)
		}
		heartbeat()
		p = provision()
		if certs := pemCerts(t, p.CACert); len(certs) != 1 || certs[0].SerialNumber.Text(16) != rotated.SerialNumber {
			t.Fatalf("bundle after revocation: %d CAs", len(certs))
		}
		for _, c := range list(f.admin) {
			if c.ID == server.ID && (c.IsActive || c.IsCurrent) {
				t.Fatalf("the revoked CA is listed as %+v", c)
			}
		}
		// Globex still trusts and issues with the server-wide CA.
		if l := list(f.foreign); len(l) != 1 || !l[0].IsCurrent {
			t.Fatalf("globex after acme's revocation = %+v", l)
		}
	})
}

// TestCACRLs checks the per-CA CRL routes: each CA in service serves its own
// CRL, signed by it; unknown and revoked CAs have none.
func TestCACRLs(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		var rotated struct {
			Data struct {
				ID          string `json:"id"`
				Certificate string `json:"certificate"`
				CRLURL      string `json:"crl_url"`
			} `json:"data"`
		}
		decodeAs(t, f.do(t, f.admin, "POST", "/api/v1/admin/ca/rotate", nil), 201, &rotated)
		ca := pemCerts(t, rotated.Data.Certificate)[0]
		r := f.do(t, "", "GET", rotated.Data.CRLURL, nil)
		if r.Status != 200 || r.Header.Get("Content-Type") != "application/pkix-crl" {
			t.Fatalf("CRL: %d %s", r.Status, r.Header.Get("Content-Type"))
		}
		crl, err := x509.ParseRevocationList(r.Raw)
		if err != nil || crl.CheckSignatureFrom(ca) != nil {
			t.Fatalf("the CRL is not the rotated CA's: %v", err)
		}
		if r := f.do(t, "", "GET", rotated.Data.CRLURL, nil, "If-None-Match", r.Header.Get("Etag")); r.Status != 304 {
			t.Fatalf("conditional request for the CRL the client has: %d", r.Status)
		}
		r = f.do(t, "", "GET", rotated.Data.CRLURL+".pem", nil)
		if b, _ := pem.Decode(r.Raw); r.Status != 200 || b == nil || b.Type != "X509 CRL" {
			t.Fatalf("PEM CRL: %d %s", r.Status, r.Raw)
		}
		for _, path := range []string{"/api/v1/pki/cas/99999/crl", "/api/v1/pki/cas/x/crl"} {
			if r := f.do(t, "", "GET", path, nil); r.Status != 404 {
				t.Fatalf("%s: %d", path, r.Status)
			}
		}
		if r := f.do(t, f.admin, "POST", fmt.Sprintf("/api/v1/admin/ca/%s/revoke", rotated.Data.ID), nil); r.Status != 200 {
			t.Fatalf("revoke: %d %s", r.Status, r.Raw)
		}
		if r := f.do(t, "", "GET", rotated.Data.CRLURL, nil); r.Status != 404 {
			t.Fatalf("a revoked CA's CRL: %d", r.Status)
		}
	})
}
