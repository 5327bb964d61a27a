package config

import (
	"os"
	"strings"
	"testing"
)

// The README's configuration table is the user's reference: every option
// must have a row naming its flag (or, for env-only secrets, its variable).
func TestREADMEListsEveryOption(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	for _, o := range options {
		if o.name == "config" {
			continue // described in the text above the table
		}
		want := "`--" + o.name + "`"
		if o.noFlag {
			want = "`" + EnvName(o.name) + "`"
		}
		if !strings.Contains(readme, want) || !strings.Contains(readme, "`"+EnvName(o.name)+"`") {
			t.Errorf("README.md's configuration table has no row for %s (%s)", want, EnvName(o.name))
		}
		for _, a := range o.aliases {
			if !strings.Contains(readme, "`--"+a+"`") || !strings.Contains(readme, "`"+EnvName(a)+"`") {
				t.Errorf("README.md does not name --%s (%s), the deprecated name of --%s", a, EnvName(a), o.name)
			}
		}
	}
}
