package netkey

import (
	"netkeep/internal/fault"
	"netkeep/internal/radius"
)

func radiusInvalidQuery(field, msg string) error {
	return fault.New(fault.Invalid, msg).WithDetails(map[string]any{"field": field})
}

// radiusMAC normalises a MAC filter to the stored form.
func radiusMAC(s string) (string, bool) {
	m, ok := radius.ParseMACString(s)
	if !ok {
		return "", false
	}
	return m.String(), true
}
