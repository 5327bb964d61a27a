package internal_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// notDecisions are the files allowed to compare a role with an
// administrator role outside authz, and why: they decide nothing.
var notDecisions = map[string]string{
	"internal/web/render.go":     "the dashboard shows its administration menu to administrators; every page behind it asks authz",
	"internal/api/auth_local.go": "builds the local-trust principal from its configured role",
}

// TestAdministerRuleOnlyInAuthz: who counts as an administrator is decided
// by authz (authz.Administer) alone, and asked by the domain services. A
// package that compares a principal's role with GROUP_ADMIN or SUPER_ADMIN
// itself keeps a copy of the rule that drifts from it (the master key,
// local trust, delegated credentials); a handler that asks authz.Administer
// itself is a rule the CLI and the other dialects do not get.
func TestAdministerRuleOnlyInAuthz(t *testing.T) {
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		if strings.HasPrefix(path, "authz/") {
			return nil
		}
		name := "internal/" + filepath.ToSlash(path)
		if _, ok := notDecisions[name]; ok {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if b, ok := n.(*ast.BinaryExpr); ok && (b.Op == token.EQL || b.Op == token.NEQ) &&
				(roleField(b.X) && adminRole(b.Y) || roleField(b.Y) && adminRole(b.X)) {
				t.Errorf("%s: compares a role with an administrator role; ask authz.Allow(p, authz.Administer, ...) instead",
					fset.Position(b.Pos()))
			}
			if c, ok := n.(*ast.CallExpr); ok && transportFile(path) && len(c.Args) > 1 &&
				isAuthz(c.Fun, "Allow") && isAuthz(c.Args[1], "Administer") {
				t.Errorf("%s: a handler asks authz.Administer; a domain service method should", fset.Position(c.Pos()))
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// roleField reports whether e is a Role field (p.Role, u.User.Role).
func roleField(e ast.Expr) bool {
	s, ok := e.(*ast.SelectorExpr)
	return ok && s.Sel.Name == "Role"
}

// adminRole reports whether e is authz.GroupAdmin or authz.SuperAdmin.
func adminRole(e ast.Expr) bool { return isAuthz(e, "GroupAdmin") || isAuthz(e, "SuperAdmin") }

// isAuthz reports whether e is authz.<name>.
func isAuthz(e ast.Expr, name string) bool {
	s, ok := e.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	pkg, ok := s.X.(*ast.Ident)
	return ok && pkg.Name == "authz" && s.Sel.Name == name
}

// transportFile reports whether path (under internal/) is in an HTTP
// transport package.
func transportFile(path string) bool {
	p := filepath.ToSlash(path)
	return strings.HasPrefix(p, "api/") || strings.HasPrefix(p, "web/")
}
