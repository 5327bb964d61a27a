// Package provider is netkeep's OAuth2 authorization server and OpenID
// provider over HTTP. The protocol machinery (request validation, PKCE,
// RFC 6749 error answers, discovery, JWKS, id_token, userinfo, RFC 7009
// revocation, RFC 7662 introspection) is zitadel's op package
// (github.com/zitadel/oidc/v3/pkg/op), a certified OpenID provider library;
// this package is its Storage over the sso domain, the sign-in and consent
// pages between /authorize and the code, and the verifier that lets the
// access tokens it issues act on the whole API within their scopes.
//
// It is a transport: it calls sso and identity through small interfaces
// and never the store.
package provider
