package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// `netkeep serve --tls-listen`: HTTP keeps answering on --listen, the HTTPS
// listener fails handshakes until a certificate is generated through the
// API and then serves it, verified against the CA, without a restart; the
// process stops cleanly with both listeners.
func TestServeTLSListen(t *testing.T) {
	master := strings.Repeat("m", 40)
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpsAddr := free.Addr().String()
	free.Close()
	p := startServe(t, cleanEnv("NETKEEP_MASTER_KEY="+master), "--data-dir", filepath.Join(t.TempDir(), "data"),
		"--tls-listen", httpsAddr, "--radius-listen", "", "--radius-acct-listen", "", "--mesh-interfaces=false", "--docker-host", "")
	waitReady(t, httpClient, p.url)
	if !regexp.MustCompile(`netkeep listening.*url=https://` + regexp.QuoteMeta(httpsAddr)).MatchString(p.log.String()) {
		t.Fatalf("the HTTPS listener is not logged:\n%s", p.log)
	}

	resp, caPEM := do(t, httpClient, http.MethodGet, p.url+"/api/v1/pki/ca.pem", nil)
	pool := x509.NewCertPool()
	if resp.StatusCode != 200 || !pool.AppendCertsFromPEM(caPEM) {
		t.Fatalf("CA: %d %s", resp.StatusCode, caPEM)
	}
	https := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if _, err := https.Get("https://" + httpsAddr + "/healthz"); err == nil {
		t.Fatal("HTTPS answered before any certificate was generated")
	}

	req, _ := http.NewRequest(http.MethodPost, p.url+"/api/v1/certificates/generate",
		strings.NewReader(`{"domains":["localhost","127.0.0.1"],"provider":"self-signed"}`))
	req.Header.Set("Authorization", "Bearer "+master)
	req.Header.Set("Content-Type", "application/json")
	res, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var out struct {
		TLSUpgraded bool `json:"tls_upgraded"`
	}
	if res.StatusCode != 200 || json.Unmarshal(body, &out) != nil || !out.TLSUpgraded {
		t.Fatalf("generate: %d %s", res.StatusCode, body)
	}
	for _, u := range []string{"https://" + httpsAddr + "/healthz", strings.Replace("https://"+httpsAddr, "127.0.0.1", "localhost", 1) + "/healthz"} {
		resp, err := https.Get(u)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %v %v", u, resp, err)
		}
		resp.Body.Close()
	}
	if resp, _ := do(t, httpClient, http.MethodGet, p.url+"/healthz", nil); resp.StatusCode != 200 {
		t.Fatalf("HTTP after the upgrade: %d", resp.StatusCode)
	}
	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit code after SIGTERM = %d, want 0; log:\n%s", code, p.log)
	}
}
