package authz

import (
	"sort"
	"strings"
)

// Vocabulary is one product's documented set of API-key scope names. A key
// is created with the names of one vocabulary, keeps them as given (so they
// are echoed back unchanged) and is granted the actions they map to here.
type Vocabulary string

// The vocabularies. NetKey documents netkeep's own names ("psks:read", ...),
// and GateKey documents none, so both use VocabNetKeep.
const (
	VocabNetKeep  Vocabulary = "netkeep"  // canonical names and "<resource>:*"
	VocabNekzus   Vocabulary = "nekzus"   // "read:catalog", "read:*", "access:admin", ...
	VocabNetRecon Vocabulary = "netrecon" // "scans_read", "devices_write", "api_keys_manage", ...
)

// vocabularies is the one table from the other products' scope names to
// netkeep's actions. An empty mapping is a documented name for something
// netkeep does not have: a key may hold it, and it grants nothing.
var vocabularies = map[Vocabulary]map[string][]Action{
	VocabNekzus: {
		"read:catalog": {"apps:read"},                 // the app catalog and its routes
		"read:events":  {"devices:read", "apps:read"}, // the event stream shows device and app changes
		"read:*":       filter(func(a Action) bool { return strings.HasSuffix(string(a), ":read") }),
		"write:*":      filter(func(a Action) bool { return !strings.HasSuffix(string(a), ":read") }),
		"access:admin": canonical,
	},
	VocabNetRecon: {
		"scans_read":      nil,
		"scans_write":     nil,
		"devices_read":    {"devices:read"},
		"devices_write":   {"devices:write"},
		"alerts_read":     nil,
		"alerts_write":    nil,
		"reports_read":    nil,
		"reports_write":   nil,
		"users_manage":    {"users:read", "users:write"},
		"billing":         nil,
		"cve_read":        nil,
		"ids_read":        nil,
		"backup_manage":   {"backups:read", "backups:write"},
		"api_keys_manage": {"apikeys:manage"},
	},
}

// aliases is every other product's names in one map, for ParseScopes.
// No name appears in two vocabularies.
var aliases = func() map[string][]Action {
	out := map[string][]Action{}
	for _, names := range vocabularies {
		for n, acts := range names {
			out[n] = acts
		}
	}
	return out
}()

// Expand returns the actions name grants in v, and whether v has the name at
// all. A known name may grant nothing (a NetRecon scope netkeep has no
// counterpart for). Names are matched exactly: callers trim them.
func (v Vocabulary) Expand(name string) ([]Action, bool) {
	if v != VocabNetKeep {
		acts, ok := vocabularies[v][name]
		return acts, ok
	}
	if isCanonical(Action(name)) {
		return []Action{Action(name)}, true
	}
	res, ok := strings.CutSuffix(name, ":*")
	if !ok {
		return nil, false
	}
	acts := filter(func(a Action) bool { return strings.HasPrefix(string(a), res+":") })
	return acts, len(acts) > 0
}

// Canonical reports whether name is one of netkeep's own action names, as
// opposed to a wildcard or another product's alias.
func Canonical(name string) bool { return isCanonical(Action(name)) }

// CanonicalNames lists netkeep's own action names.
func CanonicalNames() []string {
	out := make([]string, len(canonical))
	for i, a := range canonical {
		out[i] = string(a)
	}
	return out
}

// Names lists another product's documented names, sorted (nil for
// VocabNetKeep: see CanonicalNames).
func (v Vocabulary) Names() []string {
	out := make([]string, 0, len(vocabularies[v]))
	for n := range vocabularies[v] {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
