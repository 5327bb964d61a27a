package provider

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"netkeep/internal/sso"
)

// authRequest is op's view of an sso.AuthRequest: the validated request as
// op parsed it, and the consent.
type authRequest struct {
	stored *sso.AuthRequest
	req    oidc.AuthRequest
}

func newAuthRequest(r *sso.AuthRequest) (*authRequest, error) {
	a := &authRequest{stored: r}
	if err := json.Unmarshal(r.Request, &a.req); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *authRequest) GetID() string         { return a.stored.ID }
func (a *authRequest) GetACR() string        { return "" }
func (a *authRequest) GetAMR() []string      { return []string{"pwd"} }
func (a *authRequest) GetAudience() []string { return []string{a.req.ClientID} }
func (a *authRequest) GetAuthTime() time.Time {
	return a.stored.AuthTime
}
func (a *authRequest) GetClientID() string { return a.req.ClientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.req.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.req.CodeChallenge, Method: a.req.CodeChallengeMethod}
}
func (a *authRequest) GetNonce() string                   { return a.req.Nonce }
func (a *authRequest) GetRedirectURI() string             { return a.req.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType { return a.req.ResponseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return a.req.ResponseMode }
func (a *authRequest) GetScopes() []string                { return a.req.Scopes }
func (a *authRequest) GetState() string                   { return a.req.State }
func (a *authRequest) GetSubject() string {
	if a.stored.UserID == 0 {
		return ""
	}
	return strconv.FormatInt(a.stored.UserID, 10)
}
func (a *authRequest) Done() bool { return a.stored.Done() }

// refreshRequest is op's view of a refresh token being exchanged.
type refreshRequest struct {
	token  string // the presented refresh token
	stored *sso.RefreshToken
	scopes []string
}

func (r *refreshRequest) GetAMR() []string             { return []string{"pwd"} }
func (r *refreshRequest) GetAudience() []string        { return []string{r.stored.ClientID} }
func (r *refreshRequest) GetAuthTime() time.Time       { return r.stored.AuthTime }
func (r *refreshRequest) GetClientID() string          { return r.stored.ClientID }
func (r *refreshRequest) GetScopes() []string          { return r.scopes }
func (r *refreshRequest) GetSubject() string           { return strconv.FormatInt(r.stored.UserID, 10) }
func (r *refreshRequest) SetCurrentScopes(sc []string) { r.scopes = sc }
