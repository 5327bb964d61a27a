package identity

import "netkeep/internal/fault"

// Reasons identity's errors carry, in the domain's words; each dialect's
// renderer spells them (USER_EXISTS for NetKey and Nekzus, user_exists for
// GateKey).
const (
	ReasonSetupCompleted      fault.Reason = "setup_completed"
	ReasonUserExists          fault.Reason = "user_exists"
	ReasonUserNotFound        fault.Reason = "user_not_found"
	ReasonInvalidCredentials  fault.Reason = "invalid_credentials"
	ReasonTooManyAttempts     fault.Reason = "too_many_attempts"
	ReasonMFARequired         fault.Reason = "mfa_required"
	ReasonInvalidTOTP         fault.Reason = "invalid_totp"
	ReasonInvalidRefreshToken fault.Reason = "invalid_refresh_token"
	ReasonTokenReused         fault.Reason = "token_reused"
	ReasonMFAAlreadyEnabled   fault.Reason = "mfa_already_enabled"
	ReasonMFANotSetUp         fault.Reason = "mfa_not_set_up"
	ReasonMFANotEnabled       fault.Reason = "mfa_not_enabled"
	ReasonDefaultGroup        fault.Reason = "default_group"
)
