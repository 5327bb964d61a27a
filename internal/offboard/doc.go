// Package offboard ends a person's access everywhere in one operation: it
// gathers what a user holds across the facets (WiFi PSKs, the stations bound
// to them and their live RADIUS sessions, mesh nodes, VPN configurations,
// client certificates and live gateway sessions, paired devices, API keys,
// sign-in sessions) and ends each one through the facet's own service, so
// every item is authorized, audited and pushed to its enforcement point as a
// single change of that facet would be; one summary entry closes the
// operation. It is a domain package: it imports the facets' domain packages
// and declares, in consumer.go, the small interfaces it needs of their
// services; it never imports net/http or database/sql.
package offboard
