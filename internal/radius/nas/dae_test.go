package nas

import (
	"net/netip"
	"testing"

	"netkeep/internal/fault"
)

func TestDAETarget(t *testing.T) {
	client := func(addr string, dae DAESettings) *Client {
		a, p, err := ParseAddress(addr)
		if err != nil {
			t.Fatal(err)
		}
		return &Client{Address: a, Prefix: p, DAE: dae}
	}
	cases := []struct {
		name string
		c    *Client
		nas  string // the session's NAS-IP-Address
		want string // "" = none
	}{
		{"single IP, default port", client("10.0.0.7", DAESettings{}), "", "10.0.0.7:3799"},
		{"single IP, own port", client("10.0.0.7", DAESettings{Port: 1700}), "", "10.0.0.7:1700"},
		{"explicit address wins", client("10.0.0.7", DAESettings{Address: "10.9.9.9", Port: 3799}), "10.0.0.8", "10.9.9.9:3799"},
		{"prefix uses the reported NAS address", client("10.0.0.0/24", DAESettings{}), "10.0.0.42", "10.0.0.42:3799"},
		{"prefix refuses a NAS address outside it", client("10.0.0.0/24", DAESettings{}), "192.0.2.1", ""},
		{"prefix without a reported address", client("10.0.0.0/24", DAESettings{}), "", ""},
		{"off", client("10.0.0.7", DAESettings{Mode: DAEOff}), "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.c.DAETarget(&Session{NASAddress: tc.nas})
			if tc.want == "" {
				if ok {
					t.Fatalf("target %v, want none", got)
				}
				return
			}
			if !ok || got != netip.MustParseAddrPort(tc.want) {
				t.Fatalf("target %v %v, want %s", got, ok, tc.want)
			}
		})
	}
}

func TestApplyDAE(t *testing.T) {
	str := func(s string) *string { return &s }
	num := func(n int) *int { return &n }
	cases := []struct {
		name  string
		in    NewDAE
		want  DAESettings
		field string // the invalid field, "" = valid
	}{
		{"defaults", NewDAE{}, DAESettings{Mode: DAEDisconnect, Port: DefaultDAEPort}, ""},
		{"coa, case-insensitive", NewDAE{Mode: str(" CoA ")}, DAESettings{Mode: DAECoA, Port: DefaultDAEPort}, ""},
		{"port and address", NewDAE{Port: num(1700), Address: str("::ffff:10.0.0.1")}, DAESettings{Mode: DAEDisconnect, Port: 1700, Address: "10.0.0.1"}, ""},
		{"unknown mode", NewDAE{Mode: str("reboot")}, DAESettings{}, "dae_mode"},
		{"port zero", NewDAE{Port: num(0)}, DAESettings{}, "dae_port"},
		{"port too big", NewDAE{Port: num(65536)}, DAESettings{}, "dae_port"},
		{"address a name", NewDAE{Address: str("nas.example")}, DAESettings{}, "dae_address"},
		{"address with a zone", NewDAE{Address: str("fe80::1%eth0")}, DAESettings{}, "dae_address"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &Client{}
			_, err := applyDAE(c, tc.in)
			if tc.field != "" {
				f := fault.As(err)
				if !fault.Is(err, fault.Invalid) || f.Details["field"] != tc.field {
					t.Fatalf("error %v, want invalid %s", err, tc.field)
				}
				return
			}
			if err != nil || c.DAE != tc.want {
				t.Fatalf("got %+v, %v; want %+v", c.DAE, err, tc.want)
			}
		})
	}
}
