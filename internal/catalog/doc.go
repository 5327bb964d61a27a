// Package catalog is the Nekzus app catalog: apps, the proxy route of each
// app, the health of each route's upstream, and discovery proposals made
// from what a container engine runs. It holds the rules (identifiers,
// upstream URLs, scopes, who may see and change what, how labels become a
// proposal) and the in-memory route table the reverse proxy reads on every
// request; it publishes every committed change on the event bus.
//
// catalog imports domain packages (audit, authz, event, fault) only; it
// knows neither HTTP nor SQL. What it needs of the outside world it declares
// as small interfaces: Store (internal/store), Prober and IconFetcher
// (implemented over HTTP by internal/proxy) and Scanner (a container engine
// adapter such as internal/docker).
package catalog
