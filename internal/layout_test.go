// Package internal_test keeps netkeep's layering honest: dependencies point
// inward (DESIGN.md, "Layout"). It reads the import lines of every non-test
// Go file under internal/ and cmd/ with go/parser, so the rules hold for the
// code as written, whatever build tags a file carries.
//
// Only a package's direct imports are checked: what a third-party library
// pulls in is not the package's choice, and every netkeep package on the way
// is itself checked.
package internal_test

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// module is the module path of go.mod.
const module = "netkeep"

// The layers. Every package under internal/ belongs to exactly one, so a new
// package cannot slip past the rules: the test fails until it is listed.
var (
	// domain packages hold netkeep's rules. They speak the domain and
	// declare the small interfaces they need (a store, a bus, a CA); they
	// know neither HTTP nor SQL nor who calls them.
	domain = []string{
		"activity", "apikey", "audit", "authz", "automation", "backup", "catalog", "container", "device", "event", "fault", "federation", "gateway", "geo", "identity", "lockout", "mesh", "name",
		"offboard", "pki", "psk", "radius/nas", "radius/wpa", "ratelimit", "remote", "secret", "tlscert", "toolbox", "vpnconfig",
		"sso",
	}
	// transport packages carry the domain over a protocol: HTTP dialects,
	// RADIUS over UDP, and the agent, a client of the API on other hosts.
	// They call the domain and never the store.
	transport = []string{
		"api", "api/gatekey", "api/live", "api/nekzus", "api/netkey", "api/netmaker", "api/netrecon", "api/own",
		"radius", "radius/dae", "agent", "web", "proxy", "peering",
		"sso/provider", "sso/oidcrp", "sso/samlsp",
	}
	// vocabulary packages are value types and wire formats that the domain,
	// the transports and the agent share (a MAC address, the mesh's wire
	// messages and view). They import only the standard library and fault,
	// so the agent can use them without pulling in the domain.
	vocabulary = []string{"mac", "meshwire"}
	// host packages program this host's network (WireGuard interfaces,
	// addresses, routes). The agent uses them; the server injects them into
	// the domain, which sees only its own small interfaces.
	host = []string{"wg", "hostinfo", "procrun"}
	// adapter packages implement the domain's interfaces with a technology:
	// the SQL store and the LISTEN/NOTIFY bus beside it.
	adapter = []string{"docker", "store", "store/pgbus"}
	// wiring packages know every package: the server that builds the
	// services, the configuration it is built from (cmd/netkeep is wiring
	// too, and lives outside internal/).
	wiring = []string{"server", "config"}
	// testSupport packages exist for tests only.
	testSupport = []string{
		"api/apitest", "docker/dockertest", "event/eventtest", "geo/geotest", "mesh/meshsim", "pki/pkitest", "radius/wpa/wpatest",
		"server/servertest", "store/storetest", "testpeer", "sso/ssotest",
	}
)

// drivers are the database drivers and the SQL package; only adapters use them.
var drivers = []string{
	"database/sql", "github.com/jackc/pgx", "github.com/lib/pq", "modernc.org/sqlite", "github.com/mattn/go-sqlite3",
}

// httpPackages are HTTP and WebSocket libraries: transport concerns.
var httpPackages = []string{"net/http", "github.com/coder/websocket"}

// exception is a known breach of a rule, allowed until the fix lands. Each
// one names who may import what and why it is still here; delete it with
// the change that removes the import, and the test then keeps it out.
type exception struct{ from, to, why string }

// exceptions is empty: keep it so.
var exceptions = []exception{}

// rule is one layering rule: packages matching from must not import
// anything matching banned.
type rule struct {
	name   string
	from   func(pkg string) bool
	banned func(imp string) bool
}

func TestLayering(t *testing.T) {
	for _, v := range violations(readImports(t, "internal", "cmd"), exceptions) {
		t.Error(v)
	}
}

// TestLayeringRules: each rule fires on the import it forbids, and an
// exception that no longer matches an import is reported.
func TestLayeringRules(t *testing.T) {
	tree := readImports(t, "internal", "cmd")
	tests := []struct {
		name     string
		pkg, imp string
		want     string // in the violation
	}{
		{"domain/net/http", "internal/psk", "net/http", "speak neither HTTP nor SQL"},
		{"domain/websocket", "internal/mesh", "github.com/coder/websocket", "speak neither HTTP nor SQL"},
		{"domain/database/sql", "internal/identity", "database/sql", "speak neither HTTP nor SQL"},
		{"domain/pgx", "internal/identity", "github.com/jackc/pgx/v5", "speak neither HTTP nor SQL"},
		{"event/pgx", "internal/event", "github.com/jackc/pgx/v5", "needs no driver"},
		{"domain/sqlite", "internal/pki", "modernc.org/sqlite", "speak neither HTTP nor SQL"},
		{"domain/transport", "internal/gateway", module + "/internal/api", "do not know who calls them"},
		{"domain/store", "internal/vpnconfig", module + "/internal/store", "do not know who calls them"},
		{"domain/pgbus", "internal/mesh", module + "/internal/store/pgbus", "do not know who calls them"},
		{"domain/server", "internal/radius/nas", module + "/internal/server", "do not know who calls them"},
		{"transport/store", "internal/api/netkey", module + "/internal/store", "never reach the store"},
		{"transport/driver", "internal/api", "database/sql", "never reach the store"},
		{"radius/store", "internal/radius", module + "/internal/store", "never reach the store"},
		{"radius/http", "internal/radius", "net/http", "RADIUS is UDP"},
		{"agent/store", "internal/agent", module + "/internal/store", "never reach the store"},
		{"agent/domain", "internal/agent", module + "/internal/psk", "client of the API"},
		{"event/third party", "internal/event", "golang.org/x/sync/errgroup", "needs no driver"},
		{"agent run by the server", "internal/api/own", module + "/internal/agent", "only cmd/netkeep runs the agent"},
		{"test support in code", "internal/psk", module + "/internal/store/storetest", "stays in tests"},
		{"unlisted package", "internal/newthing", "fmt", "belongs to no layer"},
		{"vocabulary/domain", "internal/meshwire", module + "/internal/mesh", "nothing but the standard library"},
		{"vocabulary/third party", "internal/mac", "golang.zx2c4.com/wireguard/wgctrl/wgtypes", "nothing but the standard library"},
		{"domain/host", "internal/mesh", module + "/internal/wg", "do not know who calls them"},
		{"agent/domain via mesh", "internal/agent", module + "/internal/mesh", "client of the API"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkgs := maps.Clone(tree)
			pkg := module + "/" + tt.pkg
			pkgs[pkg] = append(slices.Clone(pkgs[pkg]), tt.imp)
			got := violations(pkgs, exceptions)
			if !slices.ContainsFunc(got, func(v string) bool { return strings.Contains(v, tt.want) }) {
				t.Errorf("violations = %q, want one mentioning %q", got, tt.want)
			}
			for _, v := range got {
				if !strings.HasPrefix(v, pkg+" ") {
					t.Errorf("violation %q is not about %s", v, pkg)
				}
			}
		})
	}
	t.Run("stale exception", func(t *testing.T) {
		stale := append(slices.Clone(exceptions), exception{"psk", "mesh", "test"})
		if got := violations(tree, stale); len(got) != 1 || !strings.Contains(got[0], "no longer needed") {
			t.Errorf("violations = %q, want the stale exception", got)
		}
	})
}

// violations applies the layers, the rules and exs to pkgs (package path to
// its imports) and describes every breach.
func violations(pkgs map[string][]string, exs []exception) []string {
	var out []string
	// Every package under internal/ is in exactly one layer.
	layers := map[string][]string{"domain": domain, "vocabulary": vocabulary, "host": host, "transport": transport,
		"adapter": adapter, "wiring": wiring, "test support": testSupport}
	layerOf := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(layers)) {
		for _, p := range layers[name] {
			full := module + "/internal/" + p
			if prev, ok := layerOf[full]; ok {
				out = append(out, fmt.Sprintf("%s is listed as %s and as %s", full, prev, name))
			}
			layerOf[full] = name
		}
	}
	for _, pkg := range slices.Sorted(maps.Keys(pkgs)) {
		if strings.HasPrefix(pkg, module+"/internal/") && layerOf[pkg] == "" {
			out = append(out, pkg+" belongs to no layer: add it to one of the lists in internal/layout_test.go")
		}
	}
	for _, pkg := range slices.Sorted(maps.Keys(layerOf)) {
		if _, ok := pkgs[pkg]; !ok {
			out = append(out, pkg+" is listed in a layer but has no Go files: remove it from the list")
		}
	}

	in := func(layer string) func(string) bool { return func(p string) bool { return layerOf[p] == layer } }
	is := func(names ...string) func(string) bool {
		return func(p string) bool {
			for _, n := range names {
				if p == n || strings.HasPrefix(p, n+"/") {
					return true
				}
			}
			return false
		}
	}
	internal := func(names ...string) func(string) bool {
		full := make([]string, len(names))
		for i, n := range names {
			full[i] = module + "/internal/" + n
		}
		return is(full...)
	}
	either := func(fs ...func(string) bool) func(string) bool {
		return func(p string) bool {
			for _, f := range fs {
				if f(p) {
					return true
				}
			}
			return false
		}
	}
	rules := []rule{
		{"domain packages speak neither HTTP nor SQL", in("domain"), is(append(httpPackages, drivers...)...)},
		{"domain packages do not know who calls them", in("domain"), either(in("transport"), in("adapter"), in("wiring"), in("host"))},
		{"vocabulary needs nothing but the standard library", in("vocabulary"), func(imp string) bool {
			return !isStandard(imp) && imp != module+"/internal/fault"
		}},
		{"transports never reach the store", in("transport"), either(in("adapter"), is(drivers...))},
		{"RADIUS is UDP, not HTTP", internal("radius"), is(httpPackages...)},
		{"the event bus needs no driver", func(p string) bool { return p == module+"/internal/event" }, func(imp string) bool {
			return !isStandard(imp) && imp != module+"/internal/fault"
		}},
		{"the agent is a client of the API, not of the domain", internal("agent"), func(imp string) bool {
			return in("domain")(imp) && imp != module+"/internal/fault"
		}},
		{"only cmd/netkeep runs the agent", func(p string) bool { return p != module+"/cmd/netkeep" }, internal("agent")},
		{"test support stays in tests", func(p string) bool { return layerOf[p] != "test support" }, in("test support")},
	}

	used := map[exception]bool{}
	for _, pkg := range slices.Sorted(maps.Keys(pkgs)) {
		for _, imp := range pkgs[pkg] {
			for _, r := range rules {
				if pkg == imp || !r.from(pkg) || !r.banned(imp) {
					continue
				}
				if ex, ok := excepted(exs, pkg, imp); ok {
					used[ex] = true
					continue
				}
				out = append(out, fmt.Sprintf("%s imports %s: %s", pkg, imp, r.name))
			}
		}
	}
	for _, ex := range exs {
		if !used[ex] {
			out = append(out, fmt.Sprintf("exception %s -> %s is no longer needed (%s): delete it", ex.from, ex.to, ex.why))
		}
	}
	return out
}

func excepted(exs []exception, pkg, imp string) (exception, bool) {
	for _, ex := range exs {
		if pkg == module+"/internal/"+ex.from && imp == module+"/internal/"+ex.to {
			return ex, true
		}
	}
	return exception{}, false
}

// isStandard reports a standard library import path: its first element has
// no dot (and it is not this module).
func isStandard(imp string) bool {
	first, _, _ := strings.Cut(imp, "/")
	return !strings.Contains(first, ".") && first != module
}

// readImports returns, for every package under roots, its non-test files'
// imports (deduplicated, sorted).
func readImports(tb testing.TB, roots ...string) map[string][]string {
	tb.Helper()
	fset := token.NewFileSet()
	seen := map[string]map[string]bool{}
	for _, root := range roots {
		err := filepath.WalkDir(filepath.Join("..", root), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
			if err != nil {
				return err
			}
			rel, err := filepath.Rel("..", filepath.Dir(p))
			if err != nil {
				return err
			}
			pkg := path.Join(module, filepath.ToSlash(rel))
			if seen[pkg] == nil {
				seen[pkg] = map[string]bool{}
			}
			for _, s := range f.Imports {
				imp, err := strconv.Unquote(s.Path.Value)
				if err != nil {
					return err
				}
				seen[pkg][imp] = true
			}
			return nil
		})
		if err != nil {
			tb.Fatalf("reading %s: %v", root, err)
		}
	}
	out := make(map[string][]string, len(seen))
	for pkg, imps := range seen {
		out[pkg] = slices.Sorted(maps.Keys(imps))
	}
	return out
}
