package vpnconfig

import (
	"testing"

	"netkeep/internal/gateway"
)

func TestWireGuardFileName(t *testing.T) {
	for _, c := range []struct{ name, want string }{
		{"office", "office.conf"},
		{"wg office", "wg-office.conf"},
		{"a very long gateway name", "a-very-long-gat.conf"}, // wg-quick takes 15 characters
		{"fourteen-chars-", "fourteen-chars.conf"},
		{"Zürich 2", "Z-rich-2.conf"},
		{"***", "wg0.conf"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := wireGuardFileName(&gateway.Gateway{Name: c.name, ID: "gw-1"}); got != c.want {
				t.Errorf("file name %q, want %q", got, c.want)
			}
		})
	}
}
