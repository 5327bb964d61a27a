package sso

import (
	"time"

	"netkeep/internal/identity"
)

// Kind is an identity provider's protocol.
type Kind string

// The protocols.
const (
	OIDC Kind = "oidc"
	SAML Kind = "saml"
)

// Provider is an identity provider a group's users sign in through. Its
// users are provisioned into GroupID (or the group a GroupMapping names).
type Provider struct {
	ID          int64
	Name        string // URL-safe, unique: ?provider=NAME
	Kind        Kind
	DisplayName string
	GroupID     int64
	Settings    Settings
	// ClientSecret is the OIDC client secret in clear (sealed at rest). It
	// is never shown back: HasSecret says whether one is set.
	ClientSecret string
	HasSecret    bool
	SealedSecret []byte // ClientSecret sealed, as stored
	// Managed providers come from the configuration file: the file is their
	// source of truth and the API cannot change them.
	Managed   bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Settings are a provider's non-secret settings.
type Settings struct {
	// OIDC
	Issuer   string   `json:"issuer,omitempty"`    // discovery at Issuer/.well-known/openid-configuration
	ClientID string   `json:"client_id,omitempty"` // netkeep's client id at the provider
	Scopes   []string `json:"scopes,omitempty"`    // besides "openid"; default profile, email

	// SAML
	MetadataURL string `json:"metadata_url,omitempty"` // the IdP's metadata, fetched
	MetadataXML string `json:"metadata_xml,omitempty"` // or given inline
	EntityID    string `json:"entity_id,omitempty"`    // netkeep's SP entity id; default its metadata URL

	// Both: where the username, email, name and groups come from (an OIDC
	// claim or a SAML attribute name); defaults per protocol.
	UsernameClaim string `json:"username_claim,omitempty"`
	EmailClaim    string `json:"email_claim,omitempty"`
	NameClaim     string `json:"name_claim,omitempty"`
	GroupsClaim   string `json:"groups_claim,omitempty"`
	// GroupMappings turn the provider's group names into a netkeep group and
	// role; the first match wins. A user matching none lands in the
	// provider's group as USER.
	GroupMappings []GroupMapping `json:"group_mappings,omitempty"`
	// AllowedDomains, when set, admits only users whose email is in one of
	// these domains.
	AllowedDomains []string `json:"allowed_domains,omitempty"`
	// NoProvisioning admits only users already linked (or created by an
	// administrator with the same email); default: create them just in time.
	NoProvisioning bool `json:"no_provisioning,omitempty"`
}

// GroupMapping maps one provider group to a netkeep group (by name; empty:
// the provider's group) and role.
type GroupMapping struct {
	Claim string        `json:"claim" yaml:"claim"`
	Group string        `json:"group,omitempty" yaml:"group"`
	Role  identity.Role `json:"role" yaml:"role"`
}

// ProviderInfo is what a login page shows of a provider.
type ProviderInfo struct {
	Name        string
	Kind        Kind
	DisplayName string
}

// Assertion is what a provider vouched for about a user, after the
// protocol verified it (signature, issuer, audience, expiry, nonce).
type Assertion struct {
	Subject string // stable id at the provider (OIDC sub, SAML NameID)
	// Claims are the raw claims or attributes; the provider's mapping picks
	// the username, email, name and groups from them.
	Claims map[string][]string
}

// Client is an OAuth2 client registered with netkeep's provider.
type Client struct {
	ID           string
	Name         string
	GroupID      int64
	CreatedBy    int64
	Public       bool     // no secret: PKCE S256 is required
	SecretHash   [32]byte // confidential clients: SHA-256 of the secret
	RedirectURIs []string // exact match
	Scopes       []string // names the client may ask for (NetRecon's and netkeep's)
	CreatedAt    time.Time
}

// AuthRequest is an authorization request between /authorize and the code
// exchange. The protocol layer keeps what it needs in Request (opaque here).
type AuthRequest struct {
	ID            string
	ClientID      string
	Request       []byte // the protocol's request, serialised
	UserID        int64  // set on consent
	AuthTime      time.Time
	CodeHash      string
	CodeExpiresAt time.Time
	CreatedAt     time.Time
	ExpiresAt     time.Time
}

// Done reports whether the user consented.
func (r *AuthRequest) Done() bool { return r.UserID != 0 }

// Grant is what a user let a client do: the scopes of an identity session
// (SessionID) whose tokens the client holds.
type Grant struct {
	SessionID string
	ClientID  string
	UserID    int64
	Scopes    []string
	AuthTime  time.Time
	CreatedAt time.Time
}

// RefreshToken is one refresh token of a grant (stored as its SHA-256).
type RefreshToken struct {
	Hash      string
	SessionID string
	ClientID  string
	UserID    int64
	Scopes    []string
	AuthTime  time.Time
	CreatedAt time.Time
	UsedAt    *time.Time
}

// SigningKey is a provider signing key: an ECDSA P-256 private key in
// PKCS#8 DER (sealed at rest).
type SigningKey struct {
	ID         string
	PrivateKey []byte
	CreatedAt  time.Time
}
