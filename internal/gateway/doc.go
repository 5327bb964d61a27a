// Package gateway is netkeep's VPN gateway domain (the GateKey product):
// gateways and their agents' tokens, the networks (named CIDRs) behind them,
// access rules saying which users may reach which destinations, mesh hubs
// linking sites, and the sessions gateways report.
//
// Access is default deny: a user reaches a destination only through an
// enabled access rule that names the user (or the user's group) for a
// network behind the gateway, and a user "may use" a gateway only when such
// a rule exists for one of its networks. Administrators see and manage every
// gateway of their group.
//
// A gateway agent authenticates with its token (Service.AuthenticateToken),
// of which only the SHA-256 is stored; the resulting principal may act only
// on its own gateway. Each gateway has an OpenVPN tls-crypt key, generated at
// creation and sealed under the server secret; the same key goes to the
// gateway at provisioning and into its clients' configurations.
//
// Every change writes its audit entry in the same transaction and publishes
// a "gateway" event after commit. gateway imports audit, authz, event, fault,
// identity and pki; it knows no HTTP and no SQL.
package gateway
