package vpnconfig

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
)

// The data-channel and TLS settings every netkeep gateway and client share:
// AEAD ciphers only (OpenVPN 2.6 negotiates among data-ciphers), TLS 1.2 or
// newer, and tls-crypt, which encrypts and authenticates the control channel
// with the gateway's static key so that peers without it cannot even start
// a TLS handshake.
const (
	DataCiphers   = "AES-256-GCM:CHACHA20-POLY1305:AES-128-GCM"
	TLSVersionMin = "1.2"
)

// OpenVPNClient is a client profile for one gateway. Every PEM field is
// required and is inlined, so the profile is one self-contained file.
type OpenVPNClient struct {
	Comment  string // first line, after "# "; optional
	Remote   string // the gateway's hostname or address
	Port     int
	Proto    string // "udp" or "tcp"
	CAPEM    []byte
	CertPEM  []byte
	KeyPEM   []byte
	TLSCrypt []byte // an OpenVPN static key V1 block
	// GateKey makes the profile GateKey's gateway server configuration
	// accepts: the static key as tls-auth (key-direction 1, HMAC SHA384)
	// instead of tls-crypt, and inline auth-user-pass credentials for its
	// auth-user-pass-verify hook (Username, Password; one line each).
	GateKey            bool
	Username, Password string
}

// Render writes the .ovpn profile. Errors name the field that is missing or
// would break out of its line or inline block.
func (c OpenVPNClient) Render() ([]byte, error) {
	proto, err := clientProto(c.Proto)
	if err != nil {
		return nil, err
	}
	if err := checkRemote(c.Remote, c.Port); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := comment(&b, c.Comment); err != nil {
		return nil, err
	}
	fmt.Fprintf(&b, "client\ndev tun\nproto %s\nremote %s %d\n", proto, c.Remote, c.Port)
	b.WriteString("resolv-retry infinite\nnobind\npersist-key\npersist-tun\n")
	b.WriteString("remote-cert-tls server\n")
	fmt.Fprintf(&b, "tls-version-min %s\ndata-ciphers %s\n", TLSVersionMin, DataCiphers)
	b.WriteString("verb 3\n")
	if err := inline(&b, "ca", c.CAPEM, "CERTIFICATE"); err != nil {
		return nil, err
	}
	if err := inline(&b, "cert", c.CertPEM, "CERTIFICATE"); err != nil {
		return nil, err
	}
	if err := inline(&b, "key", c.KeyPEM, "PRIVATE KEY"); err != nil {
		return nil, err
	}
	if !c.GateKey {
		if err := inline(&b, "tls-crypt", c.TLSCrypt, "OpenVPN Static key V1"); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	b.WriteString("auth SHA384\nkey-direction 1\n")
	if err := inline(&b, "tls-auth", c.TLSCrypt, "OpenVPN Static key V1"); err != nil {
		return nil, err
	}
	for field, v := range map[string]string{"username": c.Username, "password": c.Password} {
		if v == "" || strings.ContainsAny(v, "\r\n<>") {
			return nil, fmt.Errorf("auth-user-pass %s %q is empty or would break its block", field, v)
		}
	}
	fmt.Fprintf(&b, "<auth-user-pass>\n%s\n%s\n</auth-user-pass>\n", c.Username, c.Password)
	return b.Bytes(), nil
}

// OpenVPNServer is a gateway's server configuration, built from what
// provisioning returns (certificate, key, CA, tls-crypt key) and the
// gateway's settings. The CRL is a file, not inline: OpenVPN re-reads
// crl-verify on every new connection, so a gateway that rewrites the file
// refuses revoked clients without a restart.
type OpenVPNServer struct {
	Comment  string
	Port     int
	Proto    string       // "udp" or "tcp"
	Subnet   netip.Prefix // the client address pool (IPv4)
	Device   string       // the tun device name; "" is "tun"
	CAPEM    []byte
	CertPEM  []byte
	KeyPEM   []byte
	TLSCrypt []byte
	CRLFile  string   // path of the PEM CRL the gateway keeps current
	Push     []string // routes to push, as prefixes (the networks behind the gateway)
}

// Render writes the server configuration.
func (s OpenVPNServer) Render() ([]byte, error) {
	proto, err := serverProto(s.Proto)
	if err != nil {
		return nil, err
	}
	if s.Port < 1 || s.Port > 65535 {
		return nil, fmt.Errorf("port %d is out of range", s.Port)
	}
	if !s.Subnet.IsValid() || !s.Subnet.Addr().Is4() || s.Subnet.Bits() > 29 {
		return nil, fmt.Errorf("subnet %s must be an IPv4 prefix of /29 or larger", s.Subnet)
	}
	dev := s.Device
	if dev == "" {
		dev = "tun"
	}
	for field, v := range map[string]string{"device": dev, "crl file": s.CRLFile} {
		if v == "" || strings.ContainsAny(v, " \t\r\n\"'\\#;") {
			return nil, fmt.Errorf("%s %q is empty or has characters OpenVPN would split", field, v)
		}
	}
	var b bytes.Buffer
	if err := comment(&b, s.Comment); err != nil {
		return nil, err
	}
	mask := netip.AddrFrom4(prefixMask(s.Subnet.Bits()))
	fmt.Fprintf(&b, "port %d\nproto %s\ndev %s\ntopology subnet\nserver %s %s\n", s.Port, proto, dev, s.Subnet.Masked().Addr(), mask)
	for _, r := range s.Push {
		p, err := netip.ParsePrefix(r)
		if err != nil || !p.Addr().Is4() {
			return nil, fmt.Errorf("pushed route %q is not an IPv4 prefix", r)
		}
		p = p.Masked()
		fmt.Fprintf(&b, "push \"route %s %s\"\n", p.Addr(), netip.AddrFrom4(prefixMask(p.Bits())))
	}
	b.WriteString("keepalive 10 60\npersist-key\npersist-tun\n")
	b.WriteString("dh none\nremote-cert-tls client\nverify-client-cert require\n")
	fmt.Fprintf(&b, "tls-version-min %s\ndata-ciphers %s\n", TLSVersionMin, DataCiphers)
	fmt.Fprintf(&b, "crl-verify %s\n", s.CRLFile)
	if proto == "udp" {
		b.WriteString("explicit-exit-notify 1\n")
	}
	b.WriteString("verb 3\n")
	for _, blk := range []struct {
		tag, pemType string
		body         []byte
	}{{"ca", "CERTIFICATE", s.CAPEM}, {"cert", "CERTIFICATE", s.CertPEM}, {"key", "PRIVATE KEY", s.KeyPEM}, {"tls-crypt", "OpenVPN Static key V1", s.TLSCrypt}} {
		if err := inline(&b, blk.tag, blk.body, blk.pemType); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

func clientProto(p string) (string, error) {
	switch p {
	case "udp":
		return "udp", nil
	case "tcp":
		return "tcp-client", nil
	}
	return "", fmt.Errorf("protocol %q must be udp or tcp", p)
}

func serverProto(p string) (string, error) {
	switch p {
	case "udp":
		return "udp", nil
	case "tcp":
		return "tcp-server", nil
	}
	return "", fmt.Errorf("protocol %q must be udp or tcp", p)
}

// checkRemote refuses a remote that OpenVPN would read as more than one
// token (or more than one line: a newline would inject directives).
func checkRemote(host string, port int) error {
	if host == "" || strings.ContainsAny(host, " \t\r\n\"'\\#;<>") {
		return fmt.Errorf("remote %q is empty or has characters that do not belong in a host name", host)
	}
	if port < 1 || port > 65535 {
		return fmt.Errorf("port %d is out of range", port)
	}
	return nil
}

func comment(b *bytes.Buffer, c string) error {
	if c == "" {
		return nil
	}
	if strings.ContainsAny(c, "\r\n") {
		return fmt.Errorf("comment must be one line")
	}
	b.WriteString("# " + c + "\n")
	return nil
}

// inline writes body between <tag> and </tag>. body must be one or more
// blocks of pemType (BEGIN/END markers) and must not close the tag itself.
func inline(b *bytes.Buffer, tag string, body []byte, pemType string) error {
	if !bytes.Contains(body, []byte("-----BEGIN "+pemType+"-----")) || !bytes.Contains(body, []byte("-----END "+pemType+"-----")) {
		return fmt.Errorf("<%s> needs a %s block", tag, pemType)
	}
	if bytes.Contains(body, []byte("</")) || bytes.Contains(body, []byte("\n<")) {
		return fmt.Errorf("<%s> block contains a tag", tag)
	}
	b.WriteString("<" + tag + ">\n")
	b.Write(bytes.TrimSpace(body))
	b.WriteString("\n</" + tag + ">\n")
	return nil
}

func prefixMask(bits int) [4]byte {
	m := uint32(0)
	if bits > 0 {
		m = ^uint32(0) << (32 - bits)
	}
	return [4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}
}
