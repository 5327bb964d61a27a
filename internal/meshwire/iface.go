package meshwire

import "fmt"

// MaxInterfaceLen is the longest interface name Linux accepts (IFNAMSIZ
// less the terminating NUL).
const MaxInterfaceLen = 15

// CheckInterfaceName says what is wrong with a WireGuard interface name,
// or "" when nothing is: 1 to MaxInterfaceLen bytes, printable ASCII
// without '/', ':' or blanks (what Linux refuses, and what a name meant
// for a shell should not hold).
func CheckInterfaceName(s string) string {
	if s == "" || len(s) > MaxInterfaceLen {
		return fmt.Sprintf("interface name %q must be 1 to 15 characters", s)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '/' || c == ':' || c <= ' ' || c >= 0x7f {
			return fmt.Sprintf("interface name %q has a character Linux refuses", s)
		}
	}
	return ""
}

// DefaultInterface is a network's interface name unless set: "nk-" and the
// network id, cut to MaxInterfaceLen bytes.
func DefaultInterface(netid string) string {
	name := "nk-" + netid
	if len(name) > MaxInterfaceLen {
		name = name[:MaxInterfaceLen]
	}
	return name
}
