package device

import "netkeep/internal/fault"

// Reasons the device domain's errors carry; Nekzus renders them upper case
// (INVALID_CODE, RATE_LIMITED).
const (
	ReasonInvalidCode      fault.Reason = "invalid_code"
	ReasonRateLimited      fault.Reason = "rate_limited"
	ReasonDeviceNotFound   fault.Reason = "device_not_found"
	ReasonInvalidBootstrap fault.Reason = "invalid_bootstrap_token"
	ReasonDeviceRevoked    fault.Reason = "device_revoked"
)

var (
	errInvalidCode = fault.New(fault.NotFound, "Invalid or expired pairing code").WithReason(ReasonInvalidCode)
	errBadBoot     = fault.New(fault.Unauthorized, "invalid, expired or already used bootstrap token").WithReason(ReasonInvalidBootstrap)
	errNotFound    = fault.New(fault.NotFound, "device not found").WithReason(ReasonDeviceNotFound)
	errRevoked     = fault.New(fault.Unauthorized, "device access has been revoked").WithReason(ReasonDeviceRevoked)
	errOwnerGone   = fault.New(fault.Unauthorized, "the user who paired this device is no longer active in its group")
)
