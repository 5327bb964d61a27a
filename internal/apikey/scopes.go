package apikey

import (
	"slices"
	"strings"

	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// vocabularyOf returns the vocabulary names are read in: want, or for an
// empty want the shared /api/v1/apikeys rule (Nekzus's if every name is a
// Nekzus scope, else netkeep's own). Every name must belong to it: an
// unknown name, or a mix of vocabularies, is invalid.
func vocabularyOf(want authz.Vocabulary, names []string) (authz.Vocabulary, error) {
	candidates := []authz.Vocabulary{want}
	if want == "" {
		candidates = []authz.Vocabulary{authz.VocabNekzus, authz.VocabNetKeep}
	}
	for _, v := range candidates {
		if _, ok := layoutFor(v); !ok {
			return "", fault.Errorf(fault.Invalid, "unknown scope vocabulary %q", v)
		}
	}
	for _, v := range candidates {
		if knowsAll(v, names) {
			return v, nil
		}
	}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if !slices.ContainsFunc(candidates, func(v authz.Vocabulary) bool { _, ok := v.Expand(n); return ok }) {
			return "", fault.Errorf(fault.Invalid, "unknown scope %q", n).WithDetails(map[string]any{"field": "scopes", "scope": n})
		}
	}
	return "", fault.New(fault.Invalid, "scopes must all come from one vocabulary: netkeep's (psks:read, ...) or Nekzus's (read:catalog, ...)").
		WithDetails(map[string]any{"field": "scopes"})
}

func knowsAll(v authz.Vocabulary, names []string) bool {
	for _, n := range names {
		if _, ok := v.Expand(strings.TrimSpace(n)); !ok {
			return false
		}
	}
	return true
}

// layoutFor is the layout of the format a vocabulary's keys get by default.
func layoutFor(v authz.Vocabulary) (layout, bool) {
	switch v {
	case authz.VocabNetKeep:
		return layoutOf(FormatNetKey)
	case authz.VocabNekzus:
		return layoutOf(FormatNekzus)
	case authz.VocabNetRecon:
		return layoutOf(FormatNetRecon)
	}
	return layout{}, false
}

// formatFor is the format of a key of vocabulary v asking for format f
// (empty: v's own).
func formatFor(v authz.Vocabulary, f Format) (Format, error) {
	if f == "" {
		l, _ := layoutFor(v)
		return l.format, nil
	}
	if _, ok := layoutOf(f); !ok {
		return "", fault.Errorf(fault.Invalid, "unknown key format %q: use nk, gk, nr_live or nekzus", f).
			WithDetails(map[string]any{"field": "format"})
	}
	return f, nil
}

// grantable reads names in vocabulary v and returns them as given (trimmed,
// first occurrence kept) with the netkeep actions the key will hold. A key
// never holds more than its creator may do: a canonical name that exceeds
// the creator's rights is forbidden, while a wildcard or another product's
// name ("read:*", "access:admin", "psks:*", "users_manage") means "of these,
// what I may grant" and is narrowed to that (forbidden only if nothing is
// left). A name that maps to nothing in netkeep (NetRecon's "scans_read") is
// kept and grants nothing.
func grantable(p *authz.Principal, v authz.Vocabulary, names []string) ([]string, authz.Scopes, error) {
	grants := authz.RoleGrants(p.Role)
	may := func(a authz.Action) bool {
		return grants.Has(a) && (!p.Delegated() || p.Scopes.Has(a))
	}
	given := make([]string, 0, len(names))
	out := authz.Scopes{}
	for _, n := range names {
		n = strings.TrimSpace(n)
		acts, ok := v.Expand(n)
		if !ok {
			return nil, nil, fault.Errorf(fault.Invalid, "unknown scope %q", n).WithDetails(map[string]any{"field": "scopes", "scope": n})
		}
		if !slices.Contains(given, n) {
			given = append(given, n)
		}
		if len(acts) == 0 {
			continue
		}
		explicit := authz.Canonical(n)
		kept := 0
		for _, a := range acts {
			if may(a) {
				out[a] = true
				kept++
			} else if explicit {
				return nil, nil, fault.Errorf(fault.Forbidden, "scope %q exceeds the creator's permissions", n).
					WithDetails(map[string]any{"scope": n})
			}
		}
		if kept == 0 {
			return nil, nil, fault.Errorf(fault.Forbidden, "scope %q grants nothing the creator may do", n).
				WithDetails(map[string]any{"scope": n})
		}
	}
	return given, out, nil
}
