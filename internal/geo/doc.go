// Package geo is geo-fencing: which countries users may sign in and connect
// to VPN gateways from. A policy (on or off; an allow-list or a deny-list of
// ISO 3166-1 alpha-2 country codes; what to do with an address whose country
// is unknown) applies server-wide, and a group may have its own that
// replaces it for its users. Countries come from a MaxMind-format database
// the administrator provides (Locator; OpenMMDB reads one). Admit is asked
// at every login and at every gateway verification with the address the
// client came from; a refusal is a forbidden fault with reason geo_blocked
// and the country in its details, and is audited with the country.
//
// geo is a domain package: it declares its Store and knows neither HTTP nor
// SQL.
package geo
