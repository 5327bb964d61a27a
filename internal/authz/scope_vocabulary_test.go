package authz

import (
	"fmt"
	"slices"
	"testing"
)

func TestVocabularyExpand(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		v     Vocabulary
		scope string
		known bool
		want  string // the actions, when known
	}{
		{"netkeep/canonical", VocabNetKeep, "psks:read", true, "[psks:read]"},
		{"netkeep/resource wildcard", VocabNetKeep, "endpoints:*", true, "[endpoints:read endpoints:write]"},
		{"netkeep/unknown resource wildcard", VocabNetKeep, "scans:*", false, ""},
		{"netkeep/Nekzus name", VocabNetKeep, "read:catalog", false, ""},
		{"netkeep/NetRecon name", VocabNetKeep, "devices_read", false, ""},
		{"nekzus/read:catalog", VocabNekzus, "read:catalog", true, "[apps:read]"},
		{"nekzus/read:events", VocabNekzus, "read:events", true, "[devices:read apps:read]"},
		{"nekzus/access:admin is everything", VocabNekzus, "access:admin", true, fmt.Sprint(canonical)},
		{"nekzus/canonical name", VocabNekzus, "apps:read", false, ""},
		{"nekzus/NetRecon name", VocabNekzus, "devices_read", false, ""},
		{"netrecon/devices_write", VocabNetRecon, "devices_write", true, "[devices:write]"},
		{"netrecon/users_manage", VocabNetRecon, "users_manage", true, "[users:read users:write]"},
		{"netrecon/api_keys_manage", VocabNetRecon, "api_keys_manage", true, "[apikeys:manage]"},
		{"netrecon/scans_read has no counterpart", VocabNetRecon, "scans_read", true, "[]"},
		{"netrecon/backup_manage", VocabNetRecon, "backup_manage", true, "[backups:read backups:write]"},
		{"netrecon/canonical name", VocabNetRecon, "devices:read", false, ""},
		{"netrecon/undocumented", VocabNetRecon, "scans_delete", false, ""},
		{"unknown vocabulary", "klingon", "psks:read", false, ""},
	}
	for _, c := range cases {
		acts, ok := c.v.Expand(c.scope)
		if ok != c.known || (ok && fmt.Sprint(acts) != c.want) {
			t.Errorf("%s: Expand(%q) = %v, %v; want %s, %v", c.name, c.scope, acts, ok, c.want, c.known)
		}
	}
	// read:* and write:* split netkeep's actions between them.
	reads, _ := VocabNekzus.Expand("read:*")
	writes, _ := VocabNekzus.Expand("write:*")
	if len(reads)+len(writes) != len(canonical) || !slices.Contains(reads, "audit:read") || !slices.Contains(writes, "apikeys:manage") || slices.Contains(writes, "psks:read") {
		t.Errorf("read:* %v and write:* %v do not split %v", reads, writes, canonical)
	}
}
