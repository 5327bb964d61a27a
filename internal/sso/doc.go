// Package sso is single sign-on in both directions, as domain rules:
//
//   - netkeep as relying party: the identity providers (OIDC, SAML 2.0) a
//     group's users sign in through, their claim and group mappings, and
//     just-in-time provisioning of the users they vouch for, ending in an
//     ordinary netkeep session (identity);
//   - netkeep as OAuth2 authorization server and OpenID provider: the
//     clients administrators register, authorization requests and their
//     single-use codes, grants (each an identity session) with rotating
//     refresh tokens, and the provider's rotating signing keys.
//
// The protocols themselves (go-oidc, crewjam/saml, zitadel's op) live in
// the transport packages sso/oidcrp, sso/samlsp and sso/provider, which
// call this package; sso knows neither HTTP nor SQL and reaches storage
// through the Store declared here.
package sso
