// Package samlsp is netkeep as a SAML 2.0 service provider, on
// github.com/crewjam/saml: per configured SAML identity provider it
// publishes SP metadata, sends the browser to the IdP with a signed-in
// request (HTTP-Redirect binding) and checks the response the IdP posts
// back to the assertion consumer service: a signature by the IdP's
// metadata certificate over the response or assertion (unsigned ones are
// refused), issuer, audience, recipient, validity window, InResponseTo our
// request, and a replay check shared by every replica. It then hands the
// subject and attributes to the sso domain.
//
// Unsolicited (IdP-initiated) responses are refused: each must answer a
// request this server made, whose id travels in the sealed RelayState. It
// is a transport: it calls sso, never the store.
package samlsp

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/crewjam/saml"
	crewsp "github.com/crewjam/saml/samlsp"

	"netkeep/internal/fault"
	"netkeep/internal/secret"
	"netkeep/internal/sso"
)

// Reasons of refused responses.
const (
	ReasonInvalidAssertion fault.Reason = "sso_invalid_assertion"
	ReasonReplayed         fault.Reason = "sso_assertion_replayed"
)

// Paths under which each provider's SP endpoints live
// (/api/v1/auth/saml/{provider}/metadata, /acs, /login).
const PathPrefix = "/api/v1/auth/saml/"

// LoginTTL is how long a browser has between login and the IdP's answer.
const LoginTTL = 10 * time.Minute

const relayContext = "sso-saml-relay-state"

// Domain is what the service provider needs of the sso domain.
type Domain interface {
	Provider(ctx context.Context, name string) (*sso.Provider, error)
	ConsumeAssertion(ctx context.Context, provider, id string, expires time.Time) (bool, error)
}

// SP serves every configured SAML provider.
type SP struct {
	domain Domain
	keys   *secret.Keys
	client *http.Client
	now    func() time.Time

	mu       sync.Mutex
	metadata map[string]fetched // IdP metadata by URL
}

type fetched struct {
	ed *saml.EntityDescriptor
	at time.Time
}

const metadataTTL = 10 * time.Minute

// New returns the service provider; client fetches IdP metadata (nil:
// http.DefaultClient).
func New(domain Domain, keys *secret.Keys, client *http.Client) *SP {
	if client == nil {
		client = http.DefaultClient
	}
	return &SP{domain: domain, keys: keys, client: client, now: time.Now, metadata: map[string]fetched{}}
}

// idpMetadata returns the provider's IdP metadata, inline or fetched.
func (s *SP) idpMetadata(ctx context.Context, pr *sso.Provider) (*saml.EntityDescriptor, error) {
	if pr.Settings.MetadataXML != "" {
		ed, err := crewsp.ParseMetadata([]byte(pr.Settings.MetadataXML))
		if err != nil {
			return nil, fault.New(fault.Unavailable, "the identity provider's metadata cannot be read").Wrap(err)
		}
		return ed, nil
	}
	s.mu.Lock()
	f, ok := s.metadata[pr.Settings.MetadataURL]
	s.mu.Unlock()
	if ok && s.now().Sub(f.at) < metadataTTL {
		return f.ed, nil
	}
	u, err := url.Parse(pr.Settings.MetadataURL)
	if err != nil {
		return nil, err
	}
	ed, err := crewsp.FetchMetadata(ctx, s.client, *u)
	if err != nil {
		return nil, fault.New(fault.Unavailable, "the identity provider's metadata cannot be fetched").Wrap(err)
	}
	s.mu.Lock()
	s.metadata[pr.Settings.MetadataURL] = fetched{ed: ed, at: s.now()}
	s.mu.Unlock()
	return ed, nil
}

// replayCache checks assertions of one provider against the shared record.
type replayCache struct {
	ctx      context.Context
	domain   Domain
	provider string
}

func (c replayCache) Consume(id string, expires time.Time) error {
	fresh, err := c.domain.ConsumeAssertion(c.ctx, c.provider, id, expires)
	if err != nil {
		return err
	}
	if !fresh {
		return saml.ErrAssertionReplayed
	}
	return nil
}

// serviceProvider builds crewjam's SP for a provider; base is this
// server's URL.
func (s *SP) serviceProvider(ctx context.Context, name, base string) (*saml.ServiceProvider, *sso.Provider, error) {
	pr, err := s.domain.Provider(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	if pr.Kind != sso.SAML {
		return nil, nil, fault.New(fault.NotFound, "no SAML identity provider of this name")
	}
	ed, err := s.idpMetadata(ctx, pr)
	if err != nil {
		return nil, nil, err
	}
	root, err := url.Parse(base + PathPrefix + url.PathEscape(pr.Name))
	if err != nil {
		return nil, nil, err
	}
	sp := &saml.ServiceProvider{
		EntityID:    pr.Settings.EntityID,
		MetadataURL: *root.JoinPath("metadata"),
		AcsURL:      *root.JoinPath("acs"),
		IDPMetadata: ed,
		HTTPClient:  s.client,
		ReplayCache: replayCache{ctx: ctx, domain: s.domain, provider: pr.Name},
	}
	if sp.EntityID == "" {
		sp.EntityID = sp.MetadataURL.String()
	}
	return sp, pr, nil
}

// Metadata returns the SP metadata XML of provider.
func (s *SP) Metadata(ctx context.Context, provider, base string) ([]byte, error) {
	sp, _, err := s.serviceProvider(ctx, provider, base)
	if err != nil {
		return nil, err
	}
	return xmlMarshal(sp.Metadata())
}

// relayState is what travels through the IdP and back.
type relayState struct {
	Provider  string `json:"p"`
	RequestID string `json:"i"`
	Redirect  string `json:"r"`
	Expires   int64  `json:"e"`
}

// Begin returns the IdP URL to send the browser to, with a fresh
// AuthnRequest and the sealed RelayState.
func (s *SP) Begin(ctx context.Context, provider, base, redirect string) (string, error) {
	sp, pr, err := s.serviceProvider(ctx, provider, base)
	if err != nil {
		return "", err
	}
	req, err := sp.MakeAuthenticationRequest(sp.GetSSOBindingLocation(saml.HTTPRedirectBinding), saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		return "", fault.New(fault.Unavailable, "the identity provider offers no HTTP-Redirect sign-in").Wrap(err)
	}
	raw, err := json.Marshal(relayState{Provider: pr.Name, RequestID: req.ID, Redirect: redirect, Expires: s.now().Add(LoginTTL).Unix()})
	if err != nil {
		return "", err
	}
	sealed, err := s.keys.Seal(raw, relayContext)
	if err != nil {
		return "", err
	}
	u, err := req.Redirect(base64.RawURLEncoding.EncodeToString(sealed), sp)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

var errRelay = fault.New(fault.Invalid, "the sign-in expired or did not start here; start again").WithReason(ReasonInvalidAssertion)

// Finish checks the IdP's response posted to provider's ACS (r carries
// SAMLResponse and RelayState) and returns the verified assertion and
// where to send the browser. Errors: invalid (RelayState), unauthorized
// (the response is unsigned, forged, expired, for someone else, or
// replayed).
func (s *SP) Finish(r *http.Request, provider, base string) (sso.Assertion, string, error) {
	var rs relayState
	raw, err := base64.RawURLEncoding.DecodeString(r.PostFormValue("RelayState"))
	if err == nil {
		raw, err = s.keys.Open(raw, relayContext)
	}
	if err != nil || json.Unmarshal(raw, &rs) != nil || s.now().Unix() > rs.Expires ||
		subtle.ConstantTimeCompare([]byte(rs.Provider), []byte(provider)) != 1 {
		return sso.Assertion{}, "", errRelay
	}
	sp, _, err := s.serviceProvider(r.Context(), provider, base)
	if err != nil {
		return sso.Assertion{}, "", err
	}
	a, err := sp.ParseResponse(r, []string{rs.RequestID})
	if err != nil {
		return sso.Assertion{}, "", refused(err)
	}
	out := sso.Assertion{Claims: map[string][]string{}}
	if a.Subject != nil && a.Subject.NameID != nil {
		out.Subject = a.Subject.NameID.Value
	}
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			for _, v := range at.Values {
				out.Claims[at.Name] = append(out.Claims[at.Name], v.Value)
				if at.FriendlyName != "" && at.FriendlyName != at.Name {
					out.Claims[at.FriendlyName] = append(out.Claims[at.FriendlyName], v.Value)
				}
			}
		}
	}
	return out, rs.Redirect, nil
}

// refused explains a rejected response without its internals (kept as
// the cause for the log).
func refused(err error) error {
	if errors.Is(err, saml.ErrAssertionReplayed) {
		return fault.New(fault.Unauthorized, "this assertion was already used").WithReason(ReasonReplayed).Wrap(err)
	}
	var ire *saml.InvalidResponseError
	if errors.As(err, &ire) && ire.PrivateErr != nil {
		err = fmt.Errorf("%w: %v", err, ire.PrivateErr)
	}
	return fault.New(fault.Unauthorized, "the identity provider's response is not valid").WithReason(ReasonInvalidAssertion).Wrap(err)
}
