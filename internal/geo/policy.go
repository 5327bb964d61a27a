package geo

import (
	"slices"
	"strings"
	"time"

	"netkeep/internal/fault"
)

// Mode is how a policy reads its country list, and what an unknown
// country gets.
type Mode string

// The modes. An allow-list admits only its countries; a deny-list admits
// every country but its own.
const (
	Allow Mode = "allow"
	Deny  Mode = "deny"
)

// MaxCountries bounds a policy's country list.
const MaxCountries = 250

// Policy is one geo-fence: server-wide, or a group's own.
type Policy struct {
	Enabled   bool
	Mode      Mode     // how Countries is read
	Countries []string // ISO 3166-1 alpha-2 codes, upper case, sorted, distinct
	Unknown   Mode     // for an address whose country the database does not know
	UpdatedAt time.Time
}

// GroupPolicy is a group's own policy, replacing the server-wide one for
// its users.
type GroupPolicy struct {
	GroupID   int64
	GroupName string
	Policy
}

// Disabled is the policy in force before an administrator sets one.
func Disabled() Policy { return Policy{Mode: Deny, Countries: []string{}, Unknown: Allow} }

// Input is a policy as an administrator sets it; nil fields keep the
// current value.
type Input struct {
	Enabled   *bool
	Mode      *Mode
	Countries []string // nil: keep; empty: none
	Unknown   *Mode
}

func invalid(field, msg string) error {
	return fault.New(fault.Invalid, msg).WithDetails(map[string]any{"field": field})
}

// apply returns p changed by in. Errors: invalid (a field, named in
// details).
func (in Input) apply(p Policy) (Policy, error) {
	if in.Enabled != nil {
		p.Enabled = *in.Enabled
	}
	if in.Mode != nil {
		if *in.Mode != Allow && *in.Mode != Deny {
			return p, invalid("mode", `mode must be "allow" or "deny"`)
		}
		p.Mode = *in.Mode
	}
	if in.Unknown != nil {
		if *in.Unknown != Allow && *in.Unknown != Deny {
			return p, invalid("unknown_country", `unknown_country must be "allow" or "deny"`)
		}
		p.Unknown = *in.Unknown
	}
	if in.Countries != nil {
		cs, err := countries(in.Countries)
		if err != nil {
			return p, err
		}
		p.Countries = cs
	}
	return p, nil
}

// countries normalises a country list: upper case, sorted, distinct, each
// two letters A to Z.
func countries(in []string) ([]string, error) {
	if len(in) > MaxCountries {
		return nil, invalid("countries", "at most 250 countries")
	}
	out := make([]string, 0, len(in))
	for _, c := range in {
		c = strings.ToUpper(strings.TrimSpace(c))
		if len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' {
			return nil, invalid("countries", "countries must be ISO 3166-1 alpha-2 codes such as \"DE\"")
		}
		out = append(out, c)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Admits reports whether p lets a client from country in ("" when the
// database does not know the address).
func (p Policy) Admits(country string) bool {
	if !p.Enabled {
		return true
	}
	if country == "" {
		return p.Unknown == Allow
	}
	_, listed := slices.BinarySearch(p.Countries, country)
	return listed == (p.Mode == Allow)
}
