// Package peering carries federation (internal/federation) over HTTPS with
// mutual TLS: the federation listener's handler, where peers join with a
// token, fetch this instance's shared catalog and reach its apps; and the
// client side, which calls a peer pinned to its CA. Paths live under
// /federation/v1/ on the federation listener only, never on the API's.
//
// It is a transport: the rules (who is a peer, what is shared, what a
// token allows) come from internal/federation; the forwarding to an app
// is internal/proxy's. It never touches the store.
package peering
