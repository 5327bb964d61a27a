package netmaker_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"

	"netkeep/internal/config"
	"netkeep/internal/server/servertest"
)

func TestMeshclientFiles(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, config.SQLite)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"netkeep", "meshclient", "netclient"} {
		r := e.Do(t, "GET", "/meshclient/files/"+name, nil)
		if r.Status != 200 || !bytes.Equal(r.Raw, want) || r.Header.Get("Content-Type") != "application/octet-stream" {
			t.Fatalf("%s: %d, %d bytes, want the running binary (%d bytes)", name, r.Status, len(r.Raw), len(want))
		}
	}
	r := e.Do(t, "GET", "/meshclient/files/netkeep", nil, "Range", "bytes=0-3")
	if r.Status != http.StatusPartialContent || !bytes.Equal(r.Raw, want[:4]) {
		t.Fatalf("range request: %d %q", r.Status, r.Raw)
	}

	r = e.Do(t, "GET", "/meshclient/files/install.sh", nil)
	script := string(r.Raw)
	if r.Status != 200 || !strings.HasPrefix(script, "#!/bin/sh\n") || !strings.Contains(script, "'"+e.URL+"/meshclient/files/netkeep'") {
		t.Fatalf("install.sh: %d %s", r.Status, script)
	}
	// A hostile Host header cannot inject into the script.
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /meshclient/files/install.sh HTTP/1.1\r\nHost: evil.example';rm$IFS-rf$IFS~;'\r\nConnection: close\r\n\r\n")
	raw, _ := io.ReadAll(conn)
	if strings.Contains(string(raw), "rm$IFS") || !strings.Contains(string(raw), "'http://localhost/meshclient/files/netkeep'") {
		t.Fatalf("host header reached the script: %s", raw)
	}

	for _, path := range []string{"/meshclient/files/..%2f..%2fetc%2fpasswd", "/meshclient/files/%2e%2e", "/meshclient/files/secret.key",
		"/meshclient/files/netkeep.db", "/meshclient/files/"} {
		r := e.Do(t, "GET", path, nil)
		if r.Status != 404 || bytes.Contains(r.Raw, []byte("root:")) {
			t.Errorf("%s: %d %s", path, r.Status, r.Raw)
			continue
		}
		wantError(t, r, 404, "NOT_FOUND")
	}
	// Path cleaning redirects dot segments elsewhere, never to a file.
	if r := e.Do(t, "GET", "/meshclient/files/../../../etc/passwd", nil); bytes.Contains(r.Raw, []byte("root:")) {
		t.Fatalf("traversal: %d %s", r.Status, r.Raw)
	}
}
