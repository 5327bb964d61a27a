// Package web is netkeep's dashboard: the pages network administrators,
// front desks and users work in, served at / (pages under /ui/, assets
// under /static/) on the API's own listener, with no separate front-end
// server.
//
// Pages are rendered on the server with html/template from embedded
// templates; htmx (vendored under static/, with its version and licence)
// and one small script enhance them (partial refreshes, live lists), and
// every basic flow works without JavaScript.
//
// web is a transport, like the API dialects: a page decodes a form, calls
// one method of the same domain services the API calls, with the signed-in
// user's principal, and renders the outcome. Authorization and group
// scoping are therefore the domain's, never a second path of this package:
// another group's objects are not found here as in the API. The session is
// the browser session cookie of api (api.SessionCookie), issued at login by
// the identity domain; every form also carries a per-session token and must
// come from the same origin. web imports api and domain packages, never
// store.
package web
