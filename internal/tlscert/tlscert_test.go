package tlscert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
)

func TestParseNames(t *testing.T) {
	tests := []struct {
		name     string
		in       []string
		names    string // comma-joined, "" when refused
		dns, ips int
	}{
		{"host names and addresses", []string{"localhost", "192.168.1.100", "NeKzus.Local."}, "localhost,192.168.1.100,nekzus.local", 2, 1},
		{"repeats dropped", []string{"a.test", "A.test", "::1", "0:0::1"}, "a.test,::1", 1, 1},
		{"wildcard", []string{"*.home.arpa"}, "*.home.arpa", 1, 0},
		{"empty", nil, "", 0, 0},
		{"space inside", []string{"bad name"}, "", 0, 0},
		{"url", []string{"https://x.test"}, "", 0, 0},
		{"first too long for a CN", []string{strings.Repeat("a", 60) + ".test"}, "", 0, 0},
		{"too many", make([]string, MaxNames+1), "", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names, dns, ips, err := parseNames(tt.in)
			if tt.names == "" {
				if err == nil {
					t.Fatalf("accepted: %v", names)
				}
				return
			}
			if err != nil || strings.Join(names, ",") != tt.names || len(dns) != tt.dns || len(ips) != tt.ips {
				t.Fatalf("got %v %v %v %v", names, dns, ips, err)
			}
		})
	}
}

func TestExpiresInDays(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		notAfter time.Time
		want     int
	}{
		{"a year", now.Add(365 * 24 * time.Hour), 365},
		{"less than a day", now.Add(23 * time.Hour), 0},
		{"expired an hour ago", now.Add(-time.Hour), -1},
		{"expired exactly two days ago", now.Add(-48 * time.Hour), -2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (&Certificate{NotAfter: tt.notAfter}).ExpiresInDays(now); got != tt.want {
				t.Fatalf("got %d, want %d", got, tt.want)
			}
		})
	}
}

// leaf is a throwaway certificate for names.
func leaf(t *testing.T, dns []string, ips []net.IP) *served {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "x"}, DNSNames: dns, IPAddresses: ips,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &served{domain: dns[0], cert: &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: c}}
}

// fakeConn is a connection that only knows its local address.
type fakeConn struct{ net.Conn }

func (fakeConn) LocalAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(10, 0, 0, 7), Port: 8443} }

func TestPick(t *testing.T) {
	newest := leaf(t, []string{"new.test"}, nil)
	byIP := leaf(t, []string{"ip.test"}, []net.IP{net.IPv4(10, 0, 0, 7)})
	wild := leaf(t, []string{"*.home.arpa"}, nil)
	set := []*served{newest, byIP, wild}
	tests := []struct {
		name  string
		hello *tls.ClientHelloInfo
		want  *served
	}{
		{"by SNI", &tls.ClientHelloInfo{ServerName: "ip.test"}, byIP},
		{"wildcard", &tls.ClientHelloInfo{ServerName: "nas.home.arpa"}, wild},
		{"unknown name: the newest", &tls.ClientHelloInfo{ServerName: "other.test"}, newest},
		{"no SNI: the address connected to", &tls.ClientHelloInfo{Conn: fakeConn{}}, byIP},
		{"nothing known: the newest", &tls.ClientHelloInfo{}, newest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pick(set, tt.hello)
			if err != nil || got != tt.want.cert {
				t.Fatalf("got %v %v, want %s", got, err, tt.want.domain)
			}
		})
	}
	if _, err := pick(nil, &tls.ClientHelloInfo{ServerName: "new.test"}); err == nil {
		t.Fatal("a certificate without any stored")
	}
}
