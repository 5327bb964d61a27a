package geo

import (
	"testing"

	"netkeep/internal/fault"
)

func TestPolicyAdmits(t *testing.T) {
	allowDEFR := Policy{Enabled: true, Mode: Allow, Countries: []string{"DE", "FR"}, Unknown: Deny}
	denyRU := Policy{Enabled: true, Mode: Deny, Countries: []string{"RU"}, Unknown: Allow}
	for _, c := range []struct {
		name    string
		p       Policy
		country string
		want    bool
	}{
		{"allow-list admits a listed country", allowDEFR, "DE", true},
		{"allow-list refuses another country", allowDEFR, "US", false},
		{"allow-list refuses an unknown country by its rule", allowDEFR, "", false},
		{"deny-list refuses a listed country", denyRU, "RU", false},
		{"deny-list admits another country", denyRU, "US", true},
		{"deny-list admits an unknown country by its rule", denyRU, "", true},
		{"disabled admits everything", Policy{Mode: Allow, Countries: []string{"DE"}, Unknown: Deny}, "US", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.p.Admits(c.country); got != c.want {
				t.Fatalf("Admits(%q) = %v, want %v", c.country, got, c.want)
			}
		})
	}
}

func TestInputApply(t *testing.T) {
	mode := func(m Mode) *Mode { return &m }
	for _, c := range []struct {
		name  string
		in    Input
		want  []string // countries after
		field string   // the invalid field, "" when valid
	}{
		{"normalises case, order and duplicates", Input{Countries: []string{"fr", " DE", "FR"}}, []string{"DE", "FR"}, ""},
		{"empty list clears", Input{Countries: []string{}}, []string{}, ""},
		{"nil list keeps", Input{}, []string{"US"}, ""},
		{"three letters are refused", Input{Countries: []string{"DEU"}}, nil, "countries"},
		{"digits are refused", Input{Countries: []string{"D1"}}, nil, "countries"},
		{"an unknown mode is refused", Input{Mode: mode("block")}, nil, "mode"},
		{"an unknown unknown-country rule is refused", Input{Unknown: mode("maybe")}, nil, "unknown_country"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.in.apply(Policy{Mode: Deny, Countries: []string{"US"}, Unknown: Allow})
			if c.field != "" {
				fe := fault.As(err)
				if fe == nil || fe.Code != fault.Invalid || fe.Details["field"] != c.field {
					t.Fatalf("err = %v, want invalid %s", err, c.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Countries) != len(c.want) {
				t.Fatalf("countries = %v, want %v", got.Countries, c.want)
			}
			for i := range c.want {
				if got.Countries[i] != c.want[i] {
					t.Fatalf("countries = %v, want %v", got.Countries, c.want)
				}
			}
		})
	}
}
