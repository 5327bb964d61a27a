package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"

	"netkeep/internal/config"
	"netkeep/internal/device"
	"netkeep/internal/secret"
)

// nekzusCapabilities are the Nekzus features a paired app may use here:
// the event stream (GET /api/v1/ws). Discovery and containers are not
// offered.
var nekzusCapabilities = []string{"websocket"}

// deviceInfo is how this installation presents itself to pairing devices:
// its name, its id (the same on every replica: derived from the shared
// root secret, which it does not reveal) and the pin of the TLS key it
// serves with (none over plain HTTP).
func deviceInfo(cfg *config.Config, keys *secret.Keys) (device.Info, error) {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	mac := hmac.New(sha256.New, keys.JWTKey())
	mac.Write([]byte("nekzus instance id"))
	info := device.Info{
		Name:         "netkeep @ " + host,
		NexusID:      "nexus_" + hex.EncodeToString(mac.Sum(nil))[:12],
		Capabilities: nekzusCapabilities,
		SPKIPins:     []string{},
	}
	if cfg.TLSCert == "" {
		return info, nil
	}
	cert, err := leafCertificate(cfg.TLSCert)
	if err != nil {
		return info, err
	}
	info.SPKIPins = []string{device.SPKIPin(cert)}
	return info, nil
}

// leafCertificate reads the first certificate of a PEM file: the one the
// server presents.
func leafCertificate(path string) (*x509.Certificate, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading tls-cert: %w", err)
	}
	for {
		var b *pem.Block
		if b, raw = pem.Decode(raw); b == nil {
			return nil, fmt.Errorf("tls-cert %s holds no certificate", path)
		}
		if b.Type == "CERTIFICATE" {
			return x509.ParseCertificate(b.Bytes)
		}
	}
}
