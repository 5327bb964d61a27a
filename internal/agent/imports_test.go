package agent_test

import (
	"go/build"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestImports: the agent carries no server code. Of netkeep's packages it
// reaches only meshwire and wg, and meshwire only the standard library.
func TestImports(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	imports := func(pkg string) []string {
		t.Helper()
		p, err := build.ImportDir(filepath.Join(root, strings.TrimPrefix(pkg, "netkeep/")), 0)
		if err != nil {
			t.Fatalf("reading %s: %v", pkg, err)
		}
		return p.Imports
	}
	tests := map[string]struct {
		pkg   string
		allow func(imp string) bool
	}{
		"agent reaches meshwire and wg only": {pkg: "netkeep/internal/agent", allow: func(imp string) bool {
			return !strings.HasPrefix(imp, "netkeep/") || slices.Contains([]string{"netkeep/internal/meshwire", "netkeep/internal/wg"}, imp)
		}},
		"meshwire is standard library only": {pkg: "netkeep/internal/meshwire", allow: func(imp string) bool {
			return !strings.Contains(strings.Split(imp, "/")[0], ".") && !strings.HasPrefix(imp, "netkeep/")
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			seen := map[string]bool{}
			queue := []string{tc.pkg}
			for len(queue) > 0 {
				pkg := queue[0]
				queue = queue[1:]
				for _, imp := range imports(pkg) {
					if !tc.allow(imp) {
						t.Errorf("%s imports %s", pkg, imp)
					}
					if strings.HasPrefix(imp, "netkeep/") && !seen[imp] {
						seen[imp] = true
						queue = append(queue, imp)
					}
				}
			}
		})
	}
}
