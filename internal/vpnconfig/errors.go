package vpnconfig

import "netkeep/internal/fault"

// Why a configuration cannot be generated or downloaded, in the domain's
// words. Each dialect spells them its own way (GateKey as they are).
const (
	// ReasonExpired: the download link's time is over.
	ReasonExpired fault.Reason = "config_expired"
	// ReasonRevoked: the configuration (its certificate or its WireGuard
	// peer) was revoked.
	ReasonRevoked fault.Reason = "config_revoked"
	// ReasonStale: what the file was made for changed since (the gateway's
	// VPN type, or the CA that signed its certificate).
	ReasonStale fault.Reason = "config_stale"
	// ReasonGatewayKeyMissing: a WireGuard gateway's agent has not reported
	// its public key yet, so no client file can name it.
	ReasonGatewayKeyMissing fault.Reason = "gateway_key_missing"
	// ReasonSubnetExhausted: the gateway's VPN subnet has no free client
	// address.
	ReasonSubnetExhausted fault.Reason = "subnet_exhausted"
)

var (
	errNotFound  = fault.New(fault.NotFound, "config not found")
	errExpired   = fault.New(fault.NotFound, "this config's download link has expired; generate a new config").WithReason(ReasonExpired)
	errRevoked   = fault.New(fault.NotFound, "this config has been revoked; generate a new config").WithReason(ReasonRevoked)
	errStaleType = fault.New(fault.NotFound, "the gateway's VPN type changed after this config was generated; generate a new config").WithReason(ReasonStale)
	errStaleCA   = fault.New(fault.NotFound, "the certificate authority of this config is no longer trusted; generate a new config").WithReason(ReasonStale)

	errGatewayKeyMissing = fault.New(fault.Conflict,
		"the gateway has not reported its WireGuard public key yet; start its agent and retry").WithReason(ReasonGatewayKeyMissing)
	errSubnetExhausted = fault.New(fault.Conflict,
		"the gateway's VPN subnet has no free client address; revoke unused configs or enlarge vpn_subnet").WithReason(ReasonSubnetExhausted)
)
