package server

import (
	"context"
	"crypto/tls"
	"net"

	"netkeep/internal/hostinfo"
	"netkeep/internal/pki"
	"netkeep/internal/store"
	"netkeep/internal/tlscert"
)

// hostNames is this host's names and addresses for certificate
// suggestions.
type hostNames struct{}

func (hostNames) Names() ([]string, error) { return hostinfo.Names() }

func newCerts(d Deps, ca *pki.Service) *tlscert.Service {
	c := tlscert.NewService(store.For[tlscert.Tx](d.DB), ca, d.Keys, d.Bus, hostNames{}, tlscert.WithLogger(d.Logger))
	c.SetServing(d.Config.TLSListen != "") // ServeHTTPS runs on it
	return c
}

// ServeHTTPS serves HTTPS on ln (the --tls-listen address) with the
// certificates generated through POST /api/v1/certificates/generate,
// picking one per handshake: a new certificate is served from the next
// handshake on, without a restart. Until one exists handshakes fail. It
// returns as Serve does.
func (s *Server) ServeHTTPS(ctx context.Context, ln net.Listener) error {
	return s.serve(ctx, ln, &tls.Config{GetCertificate: s.Certs.GetCertificate, MinVersion: tls.VersionTLS12}, "", "")
}
