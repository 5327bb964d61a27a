package identity

import (
	"strings"
	"unicode"

	"netkeep/internal/fault"
	"netkeep/internal/name"
)

// Field limits. Every name-like field also passes name.Check: no control,
// bidirectional formatting or invalid UTF-8 characters.
const (
	MaxUsernameLen  = 128
	MaxEmailLen     = 254
	MaxFullNameLen  = 200
	MaxGroupNameLen = 100
)

func field(name string) map[string]any { return map[string]any{"field": name} }

// checkName is name.Check with the field named in the details, as every
// other validation error of identity.
func checkName(f, v string) error {
	if err := name.Check(f, v); err != nil {
		return fault.As(err).WithDetails(field(f))
	}
	return nil
}

// ValidateUsername checks a username's shape.
func ValidateUsername(name string) error {
	if name == "" {
		return fault.New(fault.Invalid, "username is required").WithDetails(field("username"))
	}
	if len(name) > MaxUsernameLen {
		return fault.Errorf(fault.Invalid, "username must be at most %d characters", MaxUsernameLen).WithDetails(field("username"))
	}
	if err := checkName("username", name); err != nil {
		return err
	}
	if strings.IndexFunc(name, unicode.IsSpace) >= 0 {
		return fault.New(fault.Invalid, "username must not contain spaces").WithDetails(field("username"))
	}
	return nil
}

// ValidatePassword checks a new password's length.
func ValidatePassword(pw string) error {
	if len(pw) < MinPasswordLen {
		return fault.Errorf(fault.Invalid, "password must be at least %d characters", MinPasswordLen).WithDetails(field("password"))
	}
	if len(pw) > MaxPasswordLen {
		return fault.Errorf(fault.Invalid, "password must be at most %d characters", MaxPasswordLen).WithDetails(field("password"))
	}
	return nil
}

// ValidateEmail checks an email address loosely (one @, no spaces, no
// control or bidi characters).
func ValidateEmail(e string) error {
	if err := checkName("email", e); err != nil {
		return err
	}
	at := strings.IndexByte(e, '@')
	if at < 1 || at != strings.LastIndexByte(e, '@') || at == len(e)-1 || strings.IndexFunc(e, unicode.IsSpace) >= 0 || len(e) > MaxEmailLen {
		return fault.New(fault.Invalid, "email is not a valid address").WithDetails(field("email"))
	}
	return nil
}

// ValidateFullName checks a display name: optional, at most
// MaxFullNameLen bytes, nothing that changes how it is displayed.
func ValidateFullName(n string) error {
	if len(n) > MaxFullNameLen {
		return fault.Errorf(fault.Invalid, "full_name must be at most %d characters", MaxFullNameLen).WithDetails(field("full_name"))
	}
	return checkName("full_name", n)
}

// validateGroupName trims and checks a group's name.
func validateGroupName(n string) (string, error) {
	n = strings.TrimSpace(n)
	if n == "" || len(n) > MaxGroupNameLen {
		return "", fault.Errorf(fault.Invalid, "name is required (at most %d characters)", MaxGroupNameLen).WithDetails(field("name"))
	}
	return n, checkName("name", n)
}
