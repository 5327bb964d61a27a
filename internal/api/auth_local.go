package api

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"

	"netkeep/internal/authz"
)

// DeviceVerifier authenticates paired devices' tokens (internal/device).
type DeviceVerifier interface {
	Authenticate(ctx context.Context, token string) (*authz.Principal, error)
}

// LocalTrust is Nekzus's IP-based trust: a request that carries no
// credential at all and comes from one of Networks acts in the default
// group with Role on Local routes. It is off when Networks is empty.
//
// Only the address netkeep can vouch for counts: the TCP peer, or, with
// TrustProxyHeaders, the client the proxy names in X-Forwarded-For. Without
// TrustProxyHeaders a request carrying any forwarding header is never
// trusted: its peer is a proxy, and the client behind it is unknown.
type LocalTrust struct {
	Networks          []netip.Prefix
	TrustProxyHeaders bool
	// Role is GROUP_ADMIN (the default group's administrator, never any
	// other group's; also when empty) or SUPER_ADMIN (every group and the
	// server-wide endpoints), as the operator chose.
	Role authz.Role
}

// Trusts reports whether r may act as the local administrator.
func (t *LocalTrust) Trusts(r *http.Request) bool {
	if t == nil || len(t.Networks) == 0 {
		return false
	}
	var host string
	if t.TrustProxyHeaders {
		host = ClientIP(r.Context())
	} else {
		for _, h := range []string{"X-Forwarded-For", "Forwarded", "X-Real-Ip", "X-Forwarded-Host"} {
			if _, ok := r.Header[h]; ok {
				return false
			}
		}
		var err error
		if host, _, err = net.SplitHostPort(r.RemoteAddr); err != nil {
			return false
		}
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, n := range t.Networks {
		if n.Contains(addr) {
			return true
		}
	}
	return false
}

// RequireOrLocal wraps next so it runs for an authenticated caller, or for
// a caller without any credential whom LocalTrust trusts (a bad credential
// is refused even from a trusted network).
func (a *Authenticator) RequireOrLocal(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.authenticate(w, r)
		if errors.Is(err, errNoCredential) && a.Local.Trusts(r) {
			p, err = a.localPrincipal(r.Context())
		}
		if err != nil {
			Error(w, r, err)
			return
		}
		next.ServeHTTP(w, setPrincipal(r, p))
	})
}

// localPrincipal is the local administrator of the default group: its
// GROUP_ADMIN unless LocalTrust.Role says SUPER_ADMIN.
func (a *Authenticator) localPrincipal(ctx context.Context) (*authz.Principal, error) {
	role := authz.GroupAdmin
	if a.Local.Role == authz.SuperAdmin {
		role = authz.SuperAdmin
	}
	return a.inDefaultGroup(ctx, &a.local, authz.Principal{Kind: authz.KindLocal, Role: role, Username: "local"})
}
