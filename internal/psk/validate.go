package psk

import (
	"strings"
	"time"
	"unicode/utf8"

	"netkeep/internal/name"
)

// ValidatePassphrase checks a WPA2 passphrase: 8 to 63 printable ASCII
// characters, or exactly 64 hexadecimal digits (a raw PSK).
func ValidatePassphrase(s string) error {
	if len(s) == 64 {
		for i := 0; i < len(s); i++ {
			if !isHex(s[i]) {
				return invalid("psk_value", "psk_value of 64 characters must be hexadecimal (a raw PSK)")
			}
		}
		return nil
	}
	if len(s) < 8 || len(s) > 63 {
		return invalid("psk_value", "psk_value must be 8 to 63 printable ASCII characters or 64 hexadecimal digits")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return invalid("psk_value", "psk_value must contain only printable ASCII characters")
		}
	}
	return nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// ValidateVLAN checks an IEEE 802.1Q VLAN ID.
func ValidateVLAN(field string, v int) error {
	if v < 1 || v > 4094 {
		return invalid(field, field+" must be between 1 and 4094")
	}
	return nil
}

// ValidatePSKID checks a psk_id: 1 to 64 printable ASCII characters without
// spaces, since it becomes hostapd's keyid=<psk_id> token.
func ValidatePSKID(s string) error {
	if err := name.Check("psk_id", s); err != nil {
		return withField(err, "psk_id")
	}
	if s == "" || len(s) > MaxPSKIDLen {
		return invalid("psk_id", "psk_id must be 1 to 64 characters")
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= 0x20 || s[i] > 0x7e {
			return invalid("psk_id", "psk_id must contain only printable ASCII characters and no spaces")
		}
	}
	return nil
}

// validateDescription checks a PSK's or endpoint's description: free text
// (name.CheckText: no control characters but tab and newlines, no bidi
// overrides, valid UTF-8) of at most MaxDescription characters.
func validateDescription(s string) error {
	if err := name.CheckText("description", s); err != nil {
		return withField(err, "description")
	}
	if utf8.RuneCountInString(s) > MaxDescription {
		return invalid("description", "description must be at most 500 characters")
	}
	return nil
}

// The ISO 8601 forms ParseExpiry accepts besides RFC 3339. Times without a
// zone are UTC, as in the NetKey documentation's "2025-12-31T23:59:59".
var expiryLayouts = []string{
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// ParseExpiry parses an ISO 8601 instant: RFC 3339 ("2025-12-31T23:59:59Z",
// "...+01:00", fractions allowed), a local time without zone taken as UTC
// ("2025-12-31T23:59:59"), a space instead of the T, or a date alone
// (midnight UTC starting that day). The result is UTC, truncated to whole
// seconds.
func ParseExpiry(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC().Truncate(time.Second), nil
	}
	for _, l := range expiryLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC().Truncate(time.Second), nil
		}
	}
	return time.Time{}, invalid("expires", "expires must be an ISO 8601 date and time, e.g. 2025-12-31T23:59:59Z")
}

// maxHours bounds expires_in_hours (ten years).
const maxHours = 87600

// resolveExpiry turns the two ways of giving an expiry into an instant
// after now, or nil for none. Giving both is invalid.
func resolveExpiry(expires string, inHours *int, now time.Time) (*time.Time, error) {
	switch {
	case expires != "" && inHours != nil:
		return nil, invalid("expires", "give expires or expires_in_hours, not both")
	case inHours != nil:
		if *inHours < 1 || *inHours > maxHours {
			return nil, invalid("expires_in_hours", "expires_in_hours must be between 1 and 87600")
		}
		t := now.Add(time.Duration(*inHours) * time.Hour).UTC().Truncate(time.Second)
		return &t, nil
	case expires != "":
		t, err := ParseExpiry(expires)
		if err != nil {
			return nil, err
		}
		if !t.After(now) {
			return nil, invalid("expires", "expires must be in the future")
		}
		return &t, nil
	}
	return nil, nil
}
