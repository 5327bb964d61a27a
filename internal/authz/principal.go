// Package authz makes netkeep's one authorization decision: may this principal
// (a user session, an API key, a node or gateway credential, or the master key)
// perform this action on this resource? Every handler asks Allow; nothing else
// decides. Objects of another group are invisible: Allow answers not_found for
// them, never forbidden, so their existence does not leak. authz imports only
// fault; it knows no HTTP and no SQL.
package authz

import "strconv"

// Kind is what sort of credential a principal presented.
type Kind string

// The principal kinds.
const (
	KindUser    Kind = "user"    // a user's JWT session
	KindAPIKey  Kind = "apikey"  // an API key, acting within its creator's rights
	KindMaster  Kind = "master"  // the configured master key: SUPER_ADMIN
	KindNode    Kind = "node"    // a mesh node's own credential
	KindGateway Kind = "gateway" // a VPN gateway agent's token
	KindDevice  Kind = "device"  // a paired device's token (Nekzus); Subject is the device id
	// KindOAuth is an access token netkeep issued to an OAuth2 client: it
	// acts for the user who consented, within the scopes granted. Subject
	// is the client id, SessionID the grant.
	KindOAuth Kind = "oauth"
	// KindLocal is a request without credentials from a network trusted
	// for local access (Nekzus's IP-based trust, off unless configured):
	// the default group's GROUP_ADMIN, or a SUPER_ADMIN when so
	// configured.
	KindLocal Kind = "local"
)

// Role mirrors identity roles without importing identity.
type Role string

// The roles.
const (
	SuperAdmin Role = "SUPER_ADMIN"
	GroupAdmin Role = "GROUP_ADMIN"
	User       Role = "USER"
)

// Principal is an authenticated caller.
type Principal struct {
	Kind      Kind
	UserID    int64  // the user, or the API key's creator
	Username  string // for audit
	Role      Role   // the user's (or key creator's) current role
	GroupID   int64
	Scopes    Scopes // API keys, OAuth2 tokens and devices only: what the credential may do at most
	KeyID     string // API key id
	SessionID string // user sessions: the token family, revocable
	Subject   string // node / gateway / device id; an OAuth2 token's client id
}

// Actor names the principal in audit entries.
func (p *Principal) Actor() string {
	switch p.Kind {
	case KindMaster:
		return "master"
	case KindLocal:
		return "local"
	case KindAPIKey:
		return "apikey:" + p.KeyID
	case KindNode, KindGateway, KindDevice:
		return string(p.Kind) + ":" + p.Subject
	case KindUser:
		return "user:" + strconv.FormatInt(p.UserID, 10)
	case KindOAuth:
		return "oauth:" + p.Subject + ":user:" + strconv.FormatInt(p.UserID, 10)
	}
	return "anonymous"
}

// IsSuper reports whether p sees every group.
// A device acts for the user who paired it but only within its group,
// never as a SUPER_ADMIN over every group. Local trust is super only when
// configured so (its Role is then SUPER_ADMIN).
func (p *Principal) IsSuper() bool {
	return p.Kind == KindMaster || (p.Role == SuperAdmin && (p.ActsForUser() || p.Kind == KindLocal) && p.Kind != KindDevice)
}

// ActsForUser reports whether p acts with a user's rights: the user's own
// session, or a credential the user handed out (an API key, an OAuth2
// token), which is further confined to its Scopes.
func (p *Principal) ActsForUser() bool {
	return p.Kind == KindUser || p.Delegated()
}

// Delegated reports whether p is a credential confined to the scopes it was
// granted (Scopes) on top of its user's role: an API key, an OAuth2 token,
// a paired device.
func (p *Principal) Delegated() bool {
	return p.Kind == KindAPIKey || p.Kind == KindOAuth || p.Kind == KindDevice
}

// GroupScope is the group filter for p's listings: 0 means every group.
func (p *Principal) GroupScope() int64 {
	if p.IsSuper() {
		return 0
	}
	return p.GroupID
}
