package netkey

import (
	"netkeep/internal/radius"
)

// radiusMAC normalises a MAC filter to the stored form.
func radiusMAC(s string) (string, bool) {
	m, ok := radius.ParseMACString(s)
	if !ok {
		return "", false
	}
	return m.String(), true
}
