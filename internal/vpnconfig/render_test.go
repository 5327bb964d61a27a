package vpnconfig

import (
	"net/netip"
	"strings"
	"testing"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

const (
	testCert     = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
	testKey      = "-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n"
	testTLSCrypt = "#\n# 2048 bit OpenVPN static key\n#\n-----BEGIN OpenVPN Static key V1-----\n00ff\n-----END OpenVPN Static key V1-----\n"
)

func client() OpenVPNClient {
	return OpenVPNClient{Comment: "c", Remote: "vpn.example.com", Port: 1194, Proto: "udp",
		CAPEM: []byte(testCert), CertPEM: []byte(testCert), KeyPEM: []byte(testKey), TLSCrypt: []byte(testTLSCrypt)}
}

func server() OpenVPNServer {
	return OpenVPNServer{Port: 1194, Proto: "udp", Subnet: netip.MustParsePrefix("10.8.0.0/24"),
		CAPEM: []byte(testCert), CertPEM: []byte(testCert), KeyPEM: []byte(testKey), TLSCrypt: []byte(testTLSCrypt),
		CRLFile: "/var/lib/netkeep/crl.pem", Push: []string{"192.168.1.0/24"}}
}

func TestOpenVPNClient(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		edit  func(*OpenVPNClient)
		lines []string // present when ok
		err   string   // when not
	}{
		{"ok/udp", func(*OpenVPNClient) {}, []string{"client", "dev tun", "proto udp", "remote vpn.example.com 1194", "nobind",
			"remote-cert-tls server", "data-ciphers " + DataCiphers, "tls-version-min 1.2", "<ca>", "</ca>", "<cert>", "<key>", "<tls-crypt>", "</tls-crypt>"}, ""},
		{"ok/tcp", func(c *OpenVPNClient) { c.Proto, c.Port = "tcp", 443 }, []string{"proto tcp-client", "remote vpn.example.com 443"}, ""},
		{"err/proto", func(c *OpenVPNClient) { c.Proto = "sctp" }, nil, "protocol"},
		{"err/remote injects a line", func(c *OpenVPNClient) { c.Remote = "x\nscript-security 2" }, nil, "remote"},
		{"err/port", func(c *OpenVPNClient) { c.Port = 0 }, nil, "port"},
		{"err/no key", func(c *OpenVPNClient) { c.KeyPEM = nil }, nil, "<key>"},
		{"err/key closes its tag", func(c *OpenVPNClient) { c.KeyPEM = []byte(testKey + "</key>\nup /bin/sh\n") }, nil, "<key>"},
		{"err/tls-crypt is not a static key", func(c *OpenVPNClient) { c.TLSCrypt = []byte(testCert) }, nil, "<tls-crypt>"},
		{"err/comment two lines", func(c *OpenVPNClient) { c.Comment = "a\nb" }, nil, "comment"},
	}
	for _, tc := range cases {
		c := client()
		tc.edit(&c)
		out, err := c.Render()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v, want an error about %s", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		have := map[string]bool{}
		for _, l := range strings.Split(string(out), "\n") {
			have[l] = true
		}
		for _, l := range tc.lines {
			if !have[l] {
				t.Errorf("%s: no line %q in\n%s", tc.name, l, out)
			}
		}
	}
}

func TestOpenVPNServer(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		edit  func(*OpenVPNServer)
		lines []string
		err   string
	}{
		{"ok/udp", func(*OpenVPNServer) {}, []string{"port 1194", "proto udp", "dev tun", "topology subnet", "server 10.8.0.0 255.255.255.0",
			`push "route 192.168.1.0 255.255.255.0"`, "dh none", "remote-cert-tls client", "crl-verify /var/lib/netkeep/crl.pem",
			"data-ciphers " + DataCiphers, "explicit-exit-notify 1", "<tls-crypt>"}, ""},
		{"ok/tcp and a /16", func(s *OpenVPNServer) {
			s.Proto, s.Subnet, s.Device = "tcp", netip.MustParsePrefix("10.9.0.0/16"), "tun7"
		},
			[]string{"proto tcp-server", "server 10.9.0.0 255.255.0.0", "dev tun7"}, ""},
		{"err/ipv6 pool", func(s *OpenVPNServer) { s.Subnet = netip.MustParsePrefix("fd00::/64") }, nil, "subnet"},
		{"err/pool too small", func(s *OpenVPNServer) { s.Subnet = netip.MustParsePrefix("10.8.0.0/30") }, nil, "subnet"},
		{"err/crl path with space", func(s *OpenVPNServer) { s.CRLFile = "/tmp/a b" }, nil, "crl file"},
		{"err/no crl", func(s *OpenVPNServer) { s.CRLFile = "" }, nil, "crl file"},
		{"err/bad push", func(s *OpenVPNServer) { s.Push = []string{"nope"} }, nil, "route"},
		{"err/no cert", func(s *OpenVPNServer) { s.CertPEM = nil }, nil, "<cert>"},
	}
	for _, tc := range cases {
		s := server()
		tc.edit(&s)
		out, err := s.Render()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v, want an error about %s", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for _, l := range tc.lines {
			if !strings.Contains("\n"+string(out), "\n"+l+"\n") {
				t.Errorf("%s: no line %q in\n%s", tc.name, l, out)
			}
		}
	}
}

func TestWireGuardClient(t *testing.T) {
	t.Parallel()
	priv, err := NewWireGuardKey()
	if err != nil {
		t.Fatal(err)
	}
	peer, _ := wgtypes.GeneratePrivateKey()
	ok := WireGuardClient{PrivateKey: priv, Address: netip.MustParsePrefix("10.8.0.2/32"),
		DNS: []netip.Addr{netip.MustParseAddr("10.8.0.1")}, PeerPublicKey: peer.PublicKey(), Endpoint: "vpn.example.com", Port: 51820,
		AllowedIPs: []netip.Prefix{netip.MustParsePrefix("10.8.0.0/24"), netip.MustParsePrefix("192.168.1.0/24")}, PersistentKeepalive: 25}
	out, err := ok.Render()
	if err != nil {
		t.Fatal(err)
	}
	want := "[Interface]\nPrivateKey = " + priv.String() + "\nAddress = 10.8.0.2/32\nDNS = 10.8.0.1\n\n[Peer]\nPublicKey = " +
		peer.PublicKey().String() + "\nEndpoint = vpn.example.com:51820\nAllowedIPs = 10.8.0.0/24, 192.168.1.0/24\nPersistentKeepalive = 25\n"
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	v6 := ok
	v6.Endpoint = "2001:db8::1"
	if out, err := v6.Render(); err != nil || !strings.Contains(string(out), "Endpoint = [2001:db8::1]:51820\n") {
		t.Errorf("IPv6 endpoint: %v\n%s", err, out)
	}
	for name, edit := range map[string]func(*WireGuardClient){
		"no private key": func(c *WireGuardClient) { c.PrivateKey = wgtypes.Key{} },
		"no peer key":    func(c *WireGuardClient) { c.PeerPublicKey = wgtypes.Key{} },
		"no address":     func(c *WireGuardClient) { c.Address = netip.Prefix{} },
		"no allowed ips": func(c *WireGuardClient) { c.AllowedIPs = nil },
		"bad endpoint":   func(c *WireGuardClient) { c.Endpoint = "a b" },
		"bad keepalive":  func(c *WireGuardClient) { c.PersistentKeepalive = -1 },
	} {
		c := ok
		edit(&c)
		if _, err := c.Render(); err == nil {
			t.Errorf("%s: rendered", name)
		}
	}
}
