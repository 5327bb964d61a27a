package psk

import (
	"strings"

	"netkeep/internal/fault"
	"netkeep/internal/mac"
)

// ParseMAC normalises a station MAC address to aa:bb:cc:dd:ee:ff. It accepts
// every form mac.Parse does (aa:bb:cc:dd:ee:ff, AA-BB-CC-DD-EE-FF,
// aabb.ccdd.eeff, aabbcc-ddeeff, aabbccddeeff, ...), with surrounding
// space. The all-zero address (hostapd's wildcard) and group (multicast)
// addresses name no station and are invalid.
func ParseMAC(s string) (string, error) {
	s = strings.TrimSpace(s)
	a, ok := mac.ParseString(s)
	if !ok {
		return "", invalid("mac_address", "mac_address must be a MAC address such as aa:bb:cc:dd:ee:ff").
			WithDetails(map[string]any{"field": "mac_address", "value": clip(s)})
	}
	if a.IsZero() {
		return "", invalid("mac_address", "mac_address must not be the all-zero address")
	}
	if a.IsGroup() {
		return "", invalid("mac_address", "mac_address must be a station (unicast) address")
	}
	return a.String(), nil
}

// clip shortens what a client sent before it is echoed in an error.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40]
	}
	return s
}

// errNoMAC is returned when a required MAC address is missing.
var errNoMAC = fault.New(fault.Invalid, "mac_address is required").WithDetails(map[string]any{"field": "mac_address"})
