package provider

import "netkeep/internal/authz"

// supportedScopes are advertised in discovery: the OpenID ones, netkeep's
// own scope names and NetRecon's.
func supportedScopes() []string {
	out := []string{"openid", "profile", "email", "offline_access"}
	out = append(out, authz.CanonicalNames()...)
	return append(out, authz.VocabNetRecon.Names()...)
}
