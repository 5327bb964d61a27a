package gateway

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"netkeep/internal/fault"
	"netkeep/internal/identity"
)

func TestParsePorts(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in      string
		want    []PortRange
		invalid bool
		format  string
	}{
		{in: "", want: nil, format: ""},
		{in: "any", want: nil, format: ""},
		{in: "443", want: []PortRange{{443, 443}}, format: "443"},
		{in: " 80 , 8000-8100", want: []PortRange{{80, 80}, {8000, 8100}}, format: "80,8000-8100"},
		{in: "1-65535", want: []PortRange{{1, 65535}}, format: "1-65535"},
		{in: "0", invalid: true},
		{in: "65536", invalid: true},
		{in: "9-1", invalid: true},
		{in: "80,", invalid: true},
		{in: "http", invalid: true},
	} {
		got, err := ParsePorts(c.in)
		if c.invalid {
			if !fault.Is(err, fault.Invalid) {
				t.Errorf("%q: %v, want invalid", c.in, err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, c.want) || FormatPorts(got) != c.format {
			t.Errorf("%q = %v (%q), %v; want %v (%q)", c.in, got, FormatPorts(got), err, c.want, c.format)
		}
	}
}

func TestValidHostname(t *testing.T) {
	t.Parallel()
	for host, ok := range map[string]bool{
		"vpn.example.com": true, "192.0.2.1": true, "2001:db8::1": true, "gw_1.local": true, "a": true,
		"": false, "not a host": false, "-bad.example.com": false, "a..b": false, "ex*ample.com": false,
	} {
		if err := validHostname(host); (err == nil) != ok {
			t.Errorf("%q: %v", host, err)
		}
	}
}

func TestParseVPNSubnet(t *testing.T) {
	t.Parallel()
	for s, ok := range map[string]bool{
		"10.8.0.0/24": true, "10.0.0.0/8": true, "10.8.0.0/30": true,
		"10.8.0.1/24": false, "10.8.0.0/31": false, "10.0.0.0/7": false, "fd00::/64": false, "x": false,
	} {
		if _, err := parseVPNSubnet(s); (err == nil) != ok {
			t.Errorf("%q: %v", s, err)
		}
	}
}

func TestStatusAt(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	recent, old := now.Add(-OfflineAfter+time.Second), now.Add(-OfflineAfter)
	for _, c := range []struct {
		hb   *time.Time
		want Status
	}{{nil, StatusOffline}, {&recent, StatusOnline}, {&old, StatusOffline}} {
		if got := (&Gateway{LastHeartbeat: c.hb}).StatusAt(now); got != c.want {
			t.Errorf("heartbeat %v: %s, want %s", c.hb, got, c.want)
		}
	}
}

// TestGrants is the default-deny evaluation: only enabled rules that name
// the user (or its group) for a network behind the gateway grant anything,
// and never to an inactive user or one of another group.
func TestGrants(t *testing.T) {
	t.Parallel()
	gw := &Gateway{ID: "gw-1", GroupID: 1}
	pol := &policy{
		networks: map[string]*Network{
			"net-a": {ID: "net-a", GatewayIDs: []string{"gw-1"}},
			"net-b": {ID: "net-b", GatewayIDs: []string{"gw-2"}},
		},
		rules: []*Rule{
			{ID: "r-user", NetworkID: "net-a", Destination: netip.MustParsePrefix("10.1.0.0/24"), UserIDs: []int64{10}, Enabled: true},
			{ID: "r-group", NetworkID: "net-a", Destination: netip.MustParsePrefix("10.1.1.0/24"), GroupIDs: []int64{1}, Enabled: true},
			{ID: "r-off", NetworkID: "net-a", Destination: netip.MustParsePrefix("10.1.2.0/24"), UserIDs: []int64{10, 11}},
			{ID: "r-elsewhere", NetworkID: "net-b", Destination: netip.MustParsePrefix("10.2.0.0/24"), UserIDs: []int64{10}, Enabled: true},
			{ID: "r-gone", NetworkID: "net-gone", Destination: netip.MustParsePrefix("10.3.0.0/24"), UserIDs: []int64{10}, Enabled: true},
		},
	}
	ids := func(u *identity.User) []string {
		var out []string
		for _, g := range pol.grants(gw, u) {
			out = append(out, g.RuleID)
		}
		return out
	}
	for _, c := range []struct {
		name string
		u    *identity.User
		want []string
	}{
		{"named and by group", &identity.User{ID: 10, GroupID: 1, IsActive: true}, []string{"r-user", "r-group"}},
		{"by group only", &identity.User{ID: 11, GroupID: 1, IsActive: true}, []string{"r-group"}},
		{"inactive", &identity.User{ID: 10, GroupID: 1}, nil},
		{"another group", &identity.User{ID: 10, GroupID: 2, IsActive: true}, nil},
	} {
		if got := ids(c.u); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	if rules := pol.gatewayRules(gw); len(rules) != 2 {
		t.Errorf("gatewayRules = %d rules, want the 2 enabled ones behind gw-1", len(rules))
	}
	if d := Destinations(pol.grants(gw, &identity.User{ID: 10, GroupID: 1, IsActive: true})); len(d) != 2 || d[0].String() != "10.1.0.0/24" {
		t.Errorf("Destinations = %v", d)
	}
}
