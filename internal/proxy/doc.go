// Package proxy is netkeep's reverse proxy for /apps/{appId}/*, built on
// net/http/httputil.ReverseProxy: it reaches only the upstream a catalog
// route names, with a keep-alive pool per route (for http:// upstreams a
// synchronous one, h1Transport, that answers plain requests on the
// handler's goroutine), prefix stripping,
// X-Forwarded-* and Forwarded headers, WebSocket upgrades where the route
// allows them, Server-Sent Events and large bodies streamed, optional
// response caching that honours Cache-Control, and the route's access mode
// (public, local addresses, or a credential holding the route's scopes).
// For a paired device it keeps the cookies apps set in the device's
// sealed vault and sends them back (CookieVault). Upstream failures answer 502, slow upstreams 504, in the Nekzus envelope.
//
// It also carries the catalog's other HTTP needs: health probes and
// favicon fetches. It is a transport: the rules (which routes exist, who
// may use them) come from internal/catalog and internal/authz; it never
// touches the store.
package proxy
