package authz

import (
	"sort"
	"strings"

	"netkeep/internal/fault"
)

// Action is what a caller wants to do, named like the scope that grants it.
type Action string

// Scopes is a set of granted actions.
type Scopes map[Action]bool

// canonical lists every scope an API key may hold, by resource.
var canonical = []Action{
	"psks:read", "psks:write", "psks:delete",
	"endpoints:read", "endpoints:write",
	"users:read", "users:write",
	"groups:read", "groups:write",
	"networks:read", "networks:write",
	"nodes:read", "nodes:write",
	"gateways:read", "gateways:write",
	"vpn-networks:read", "vpn-networks:write", // GateKey's networks behind VPN gateways
	"access-rules:read", "access-rules:write",
	"pki:read", "pki:write",
	"devices:read", "devices:write",
	"apps:read", "apps:write",
	"radius:read", "radius:write",
	"audit:read",
	"apikeys:manage",
	"backups:read", "backups:write", // server-wide: only a SUPER_ADMIN's keys can use them
	"system:read",                                      // the host's resources, server-wide too
	"scripts:read", "scripts:write", "scripts:execute", // scripts run on the host: server-wide
	"toolbox:read", "toolbox:write", // deployments on the host's container engine: server-wide
	"containers:read", "containers:write", // the host's containers: server-wide
	"federation:read", "federation:write", // peers are server-wide
}

func filter(keep func(Action) bool) []Action {
	var out []Action
	for _, a := range canonical {
		if keep(a) {
			out = append(out, a)
		}
	}
	return out
}

// ParseScopes expands names (canonical, "<resource>:*", or a name of any
// product's vocabulary, see aliases) into a set. An unknown name is an
// invalid error naming it.
func ParseScopes(names []string) (Scopes, error) {
	s := Scopes{}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if exp, ok := aliases[n]; ok {
			for _, a := range exp {
				s[a] = true
			}
			continue
		}
		if res, ok := strings.CutSuffix(n, ":*"); ok {
			found := false
			for _, a := range canonical {
				if strings.HasPrefix(string(a), res+":") {
					s[a], found = true, true
				}
			}
			if found {
				continue
			}
		}
		if isCanonical(Action(n)) {
			s[Action(n)] = true
			continue
		}
		return nil, fault.Errorf(fault.Invalid, "unknown scope %q", n).WithDetails(map[string]any{"scope": n})
	}
	return s, nil
}

func isCanonical(a Action) bool {
	for _, c := range canonical {
		if c == a {
			return true
		}
	}
	return false
}

// Has reports whether s grants a.
func (s Scopes) Has(a Action) bool { return s[a] }

// List returns the scopes sorted.
func (s Scopes) List() []string {
	out := make([]string, 0, len(s))
	for a := range s {
		out = append(out, string(a))
	}
	sort.Strings(out)
	return out
}

// RoleGrants returns every action role may perform at all (within its group).
func RoleGrants(r Role) Scopes {
	s := Scopes{}
	for _, a := range canonical {
		if roleAllows(r, a) {
			s[a] = true
		}
	}
	return s
}
