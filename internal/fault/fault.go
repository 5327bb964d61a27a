// Package fault is netkeep's one error type: a transport-neutral code, a message
// safe to show a client, optional details, and an optional cause that is only
// ever logged. Domain packages return *Error for every failure a caller can act
// on; anything else is treated as internal by the transports.
package fault

import (
	"errors"
	"fmt"
)

// Code classifies an error independently of any transport.
type Code string

// The codes. Each transport maps them to its own status (HTTP, RADIUS reject).
const (
	NotFound         Code = "not_found"
	Invalid          Code = "invalid"
	Conflict         Code = "conflict"
	Unauthorized     Code = "unauthorized"
	Forbidden        Code = "forbidden"
	RateLimited      Code = "rate_limited"
	Unavailable      Code = "unavailable"
	Internal         Code = "internal"
	TooLarge         Code = "too_large"
	MethodNotAllowed Code = "method_not_allowed"
	// Timeout: the client did not send its request in the time allowed.
	Timeout Code = "timeout"
	// BadGateway: a service netkeep forwards to (a proxied app's upstream)
	// could not be reached or answered badly.
	BadGateway Code = "bad_gateway"
	// GatewayTimeout: a service netkeep forwards to did not answer in time.
	GatewayTimeout Code = "gateway_timeout"
)

// Reason names why an operation failed more precisely than its Code, in the
// domain's words: snake_case, declared as a constant by the domain package
// that returns it (psk.ReasonNotFound = "psk_not_found"). Domain packages
// never spell a dialect's code; each dialect renders a reason in its own
// spelling (upper case for NetKey and Nekzus, lower case for GateKey) or by
// its own table where its seed documents another word.
type Reason string

// Error is a classified error. Message is shown to clients; Cause is not.
type Error struct {
	Code Code
	// Reason is an optional machine reason, finer than Code, that a dialect
	// shows in its own spelling instead of its default for Code.
	Reason  Reason
	Message string
	Details map[string]any
	Cause   error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Cause)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Cause }

// New returns an error with code and a client-safe message.
func New(code Code, msg string) *Error { return &Error{Code: code, Message: msg} }

// Errorf is New with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithReason returns a copy of e carrying a machine reason.
func (e *Error) WithReason(reason Reason) *Error {
	c := *e
	c.Reason = reason
	return &c
}

// WithDetails returns a copy of e carrying details shown to the client.
func (e *Error) WithDetails(d map[string]any) *Error {
	c := *e
	c.Details = d
	return &c
}

// Wrap returns a copy of e whose cause is err (logged, never shown).
func (e *Error) Wrap(err error) *Error {
	c := *e
	c.Cause = err
	return &c
}

// As returns the *Error in err's chain, or nil.
func As(err error) *Error {
	var fe *Error
	if errors.As(err, &fe) {
		return fe
	}
	return nil
}

// CodeOf returns err's code; errors without one are Internal, nil has none.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	if fe := As(err); fe != nil {
		return fe.Code
	}
	return Internal
}

// Is reports whether err carries code.
func Is(err error, code Code) bool { return CodeOf(err) == code }
