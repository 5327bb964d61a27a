package netkey

import "netkeep/internal/mac"

// radiusMAC normalises a MAC filter to the stored form.
func radiusMAC(s string) (string, bool) {
	m, ok := mac.ParseString(s)
	if !ok {
		return "", false
	}
	return m.String(), true
}
