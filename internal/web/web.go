package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"log/slog"

	"netkeep/internal/event"
	"netkeep/internal/secret"
)

// Handlers serves the dashboard over the domain services. Construct it
// with its fields set and call Register once.
type Handlers struct {
	Auth     Authenticator
	Identity Identity
	PSKs     PSKs
	Radius   RadiusClients
	Mesh     Mesh
	Gateways Gateways
	Configs  Configs
	PKI      PKI
	APIKeys  APIKeys
	// Devices are Nekzus's paired devices; nil hides the devices page.
	Devices Devices
	// SignIn lists the sign-in page's other ways in (single sign-on); nil
	// shows none.
	SignIn SignInOptions
	// Bus carries the domain events that refresh open pages (live lists).
	Bus event.Bus
	// Keys seal the half-done login between its password and TOTP steps
	// and key the form tokens, so any replica can finish what another
	// began.
	Keys *secret.Keys
	// PublicURL, when set, is the server's URL in the lines pages give
	// out (netkeep agent join); else the URL the browser used.
	PublicURL string
	// TrustProxyHeaders takes that URL from X-Forwarded-Proto and -Host.
	TrustProxyHeaders bool
	// Settings are the server settings the admin settings page shows
	// (name, value); nothing secret.
	Settings [][2]string
	Log      *slog.Logger

	formKey []byte
}

// init derives what Register needs once.
func (h *Handlers) init() {
	if h.Log == nil {
		h.Log = slog.Default()
	}
	m := hmac.New(sha256.New, h.Keys.JWTKey())
	m.Write([]byte("netkeep dashboard form tokens"))
	h.formKey = m.Sum(nil)
}
