package gatekey

import (
	"net/http"
	"net/url"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"netkeep/internal/api"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
)

// GateKey's web UI's part of the command-line login. With WebLogin set
// (--gatekey-web-login), GET /api/v1/auth/cli/login?callback= sends the
// browser to that page with ?cli=true&state=S, as GateKey's server does;
// the UI, once the browser is signed in (its session cookie), navigates to
// GET /api/v1/auth/cli/complete?state=S, which hands the program its own
// session through the callback S carries.
//
// S is a token netkeep signed (audience cliStateAudience, the callback as
// subject, valid cliStateTTL), so any replica verifies it and nothing is
// stored. The hand-over needs the navigation to come from this server's
// own page (Sec-Fetch-Site same-origin, as the UI's navigation is): a link
// from elsewhere gets netkeep's sign-in page with its "Continue as"
// button instead, so no page can sign a program in unseen.

const (
	cliStateAudience = "netkeep-cli-state"
	cliStateTTL      = 10 * time.Minute
)

// cliState signs the program's callback into a state.
func (h *Handlers) cliState(cb *url.URL) (string, error) {
	now := h.now()
	return h.Identity.Signer().Sign(&jwt.RegisteredClaims{Issuer: identity.Issuer, Subject: cb.String(),
		Audience: jwt.ClaimStrings{cliStateAudience}, IssuedAt: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(cliStateTTL))})
}

var errCLIState = fault.New(fault.Invalid, "the sign-in state is invalid or expired: run the login command again").
	WithDetails(map[string]any{"field": "state"})

// callbackOfState verifies a state and returns the callback it carries.
func (h *Handlers) callbackOfState(state string) (*url.URL, error) {
	var c jwt.RegisteredClaims
	if err := h.Identity.Signer().Verify(state, cliStateAudience, &c, false); err != nil {
		return nil, errCLIState
	}
	cb, err := loopbackCallback(c.Subject)
	if err != nil {
		return nil, errCLIState
	}
	return cb, nil
}

// cliToWebLogin sends the browser to GateKey's web UI's sign-in page with
// a state for cb.
func (h *Handlers) cliToWebLogin(w http.ResponseWriter, r *http.Request, cb *url.URL) {
	state, err := h.cliState(cb)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, h.WebLogin+"?cli=true&state="+url.QueryEscape(state), http.StatusFound)
}

// cliCompleteState finishes the web UI's flow (GET
// /api/v1/auth/cli/complete?state=). Without a browser session the UI's
// page is shown again with error=not_logged_in, as GateKey does.
func (h *Handlers) cliCompleteState(w http.ResponseWriter, r *http.Request, state string) {
	cb, err := h.callbackOfState(state)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	if r.Header.Get("Sec-Fetch-Site") != "same-origin" {
		h.serveCLIPage(w, r, cb) // confirm on netkeep's own page
		return
	}
	p, err := h.webSession(w, r)
	if err != nil {
		if h.WebLogin == "" {
			h.serveCLIPage(w, r, cb)
			return
		}
		http.Redirect(w, r, h.WebLogin+"?cli=true&state="+url.QueryEscape(state)+"&error=not_logged_in", http.StatusFound)
		return
	}
	src := api.Source(r)
	src.Actor = p.Actor()
	res, err := h.Identity.StartExternalSession(r.Context(), src, p.UserID, "cli:web-session")
	if err != nil {
		api.Error(w, r, err)
		return
	}
	redirectToProgram(w, r, cb, res)
}
