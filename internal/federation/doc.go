// Package federation lets netkeep instances that trust each other share
// their app catalogs. One instance creates a one-time join token; an
// administrator of the other presents it once; from then on the two speak
// over mutual TLS, each with a certificate from its own CA (internal/pki),
// and each accepts only the CA whose SHA-256 fingerprint it pinned at the
// join. Every peer's apps appear in the local catalog marked as remote and
// are reached through the local proxy over that link.
//
// federation holds the rules: tokens (stored as the SHA-256 of their
// secret), pinning, who may see and change peers (SUPER_ADMIN: peers are
// server-wide), sync and what a peer's failure means for its apps. It
// imports domain packages only (audit, authz, catalog, fault, pki) and
// declares what it needs of the outside world: a Store (internal/store), a
// Link that carries requests to a peer (internal/peering, over HTTPS) and
// the catalog it feeds.
package federation
