package automation

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/name"
)

// NewScript is what a caller registers or changes (nil: unchanged, or the
// default on create).
type NewScript struct {
	Name           *string
	Description    *string
	Category       *string
	ScriptPath     *string
	TimeoutSeconds *int
	Parameters     *[]Parameter
}

// Limits.
const (
	MaxTimeoutSeconds = 3600
	maxNameLen        = 100
	maxParameters     = 32
)

var (
	paramName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)
	slugDrop  = regexp.MustCompile(`[^a-z0-9]+`)
	// reserved are variables a parameter may not set: the run's own, and
	// ones that change how programs load.
	reserved = map[string]bool{"PATH": true, "HOME": true, "DRY_RUN": true, "IFS": true, "SHELL": true, "ENV": true, "BASH_ENV": true}
)

var paramTypes = []string{"string", "text", "number", "boolean", "select", "password"}

// checkName validates the name of a script or workflow (its id is the
// name's slug, so the name needs a letter or digit) and returns it trimmed.
func checkName(n string) (string, error) {
	n = strings.TrimSpace(n)
	if err := name.Check("name", n); err != nil {
		return "", fault.As(err).WithDetails(map[string]any{"field": "name"})
	}
	if n == "" || utf8.RuneCountInString(n) > maxNameLen || slug(n) == "" {
		return "", invalid("name", "name must be 1 to 100 characters, with at least one letter or digit")
	}
	return n, nil
}

// slug names a script by its name: "Backup Database" → "backup-database".
func slug(s string) string {
	return strings.Trim(slugDrop.ReplaceAllString(strings.ToLower(s), "-"), "-")
}

// resolve turns a script path (relative to the scripts directory, or
// absolute inside it) into its path relative to the directory, refusing
// anything that leads outside it, through ".." or a symbolic link.
func (s *Service) resolve(p string) (rel, abs string, err error) {
	dir, err := filepath.EvalSymlinks(s.cfg.Dir)
	if err != nil {
		return "", "", fault.New(fault.Unavailable, "the scripts directory cannot be read").Wrap(err)
	}
	p = strings.TrimSpace(p)
	if p == "" {
		return "", "", invalid("scriptPath", "scriptPath is required")
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	real, err := filepath.EvalSymlinks(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", "", invalid("scriptPath", "no such file in the scripts directory")
	}
	if err != nil {
		return "", "", invalid("scriptPath", "the script file cannot be read")
	}
	rel, err = filepath.Rel(dir, real)
	if err != nil || rel == "." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || rel == ".." {
		return "", "", invalid("scriptPath", "scriptPath must be a file inside the scripts directory")
	}
	st, err := os.Stat(real)
	if err != nil || !st.Mode().IsRegular() {
		return "", "", invalid("scriptPath", "scriptPath must be a regular file")
	}
	if st.Mode().Perm()&0o111 == 0 {
		return "", "", invalid("scriptPath", "the script file is not executable (chmod +x)")
	}
	return rel, real, nil
}

// scriptType says what kind of program a file is, from its first bytes.
func scriptType(abs string) string {
	f, err := os.Open(abs)
	if err != nil {
		return "binary"
	}
	defer f.Close()
	head := make([]byte, 128)
	n, _ := f.Read(head)
	line := string(head[:n])
	switch {
	case strings.HasPrefix(line, "#!") && strings.Contains(strings.SplitN(line, "\n", 2)[0], "python"):
		return "python"
	case strings.HasPrefix(line, "#!"):
		return "shell"
	}
	return "binary"
}

func checkParameters(ps []Parameter) error {
	if len(ps) > maxParameters {
		return invalid("parameters", "at most 32 parameters")
	}
	seen := map[string]bool{}
	for i := range ps {
		p := &ps[i]
		if !paramName.MatchString(p.Name) || reserved[strings.ToUpper(p.Name)] || strings.HasPrefix(strings.ToUpper(p.Name), "LD_") {
			return invalid("parameters", "parameter names are environment variable names (letters, digits, _), not PATH, HOME, DRY_RUN, LD_*")
		}
		if seen[p.Name] {
			return invalid("parameters", "parameter "+p.Name+" is listed twice")
		}
		seen[p.Name] = true
		if p.Type == "" {
			p.Type = "string"
		}
		if !slices.Contains(paramTypes, p.Type) {
			return invalid("parameters", "parameter types are string, text, number, boolean, select, password")
		}
		if p.Type == "select" && len(p.Options) == 0 {
			return invalid("parameters", "a select parameter needs options")
		}
		if p.Default != "" {
			if err := checkValue(*p, p.Default); err != nil {
				return err
			}
		}
	}
	return nil
}

// apply validates in over sc (a new script or a copy of a stored one).
func (s *Service) apply(sc *Script, in NewScript) error {
	if in.Name != nil {
		n, err := checkName(*in.Name)
		if err != nil {
			return err
		}
		sc.Name = n
	}
	if in.Description != nil {
		sc.Description = strings.TrimSpace(*in.Description)
	}
	if in.Category != nil {
		sc.Category = strings.ToLower(strings.TrimSpace(*in.Category))
	}
	if in.ScriptPath != nil {
		rel, abs, err := s.resolve(*in.ScriptPath)
		if err != nil {
			return err
		}
		sc.ScriptPath, sc.ScriptType = rel, scriptType(abs)
	}
	if in.TimeoutSeconds != nil {
		if *in.TimeoutSeconds < 1 || *in.TimeoutSeconds > MaxTimeoutSeconds {
			return invalid("timeoutSeconds", "timeoutSeconds must be 1 to 3600")
		}
		sc.TimeoutSeconds = *in.TimeoutSeconds
	}
	if in.Parameters != nil {
		ps := slices.Clone(*in.Parameters)
		if err := checkParameters(ps); err != nil {
			return err
		}
		sc.Parameters = ps
	}
	return nil
}

// Create registers a script. Errors: invalid (a field, named in
// details), conflict (the name is taken), unavailable (scripts off),
// forbidden.
func (s *Service) Create(ctx context.Context, p *authz.Principal, src audit.Source, in NewScript) (*Script, error) {
	if err := authz.AllowServer(p, actWrite); err != nil {
		return nil, err
	}
	if s.cfg.Dir == "" {
		return nil, errDisabled
	}
	if in.Name == nil {
		return nil, invalid("name", "name is required")
	}
	if in.ScriptPath == nil {
		return nil, invalid("scriptPath", "scriptPath is required")
	}
	sc := &Script{TimeoutSeconds: int(s.cfg.DefaultTimeout / time.Second), Parameters: []Parameter{}, CreatedBy: p.Actor()}
	if err := s.apply(sc, in); err != nil {
		return nil, err
	}
	sc.ID = slug(sc.Name)
	sc.CreatedAt = s.now().UTC().Truncate(time.Microsecond)
	sc.UpdatedAt = sc.CreatedAt
	err := s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.CreateScript(ctx, sc); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, 0, "script.create", "script:"+sc.ID, map[string]any{"name": sc.Name, "path": sc.ScriptPath})
	})
	if err != nil {
		return nil, err
	}
	return sc, nil
}

// Get returns one script; an unknown id is not_found.
func (s *Service) Get(ctx context.Context, p *authz.Principal, id string) (*Script, error) {
	if err := authz.AllowServer(p, actRead); err != nil {
		return nil, err
	}
	return s.script(ctx, s.store.Read(), id)
}

func (s *Service) script(ctx context.Context, tx Tx, id string) (*Script, error) {
	sc, err := tx.ScriptByID(ctx, id)
	if fault.Is(err, fault.NotFound) {
		return nil, scriptNotFound(id)
	}
	return sc, err
}

// List returns the scripts (of category, when set) by name.
func (s *Service) List(ctx context.Context, p *authz.Principal, category string) ([]*Script, error) {
	if err := authz.AllowServer(p, actRead); err != nil {
		return nil, err
	}
	return s.store.Read().ListScripts(ctx, strings.ToLower(strings.TrimSpace(category)))
}

// Update changes a script; its id stays. Errors as for Create, and
// not_found.
func (s *Service) Update(ctx context.Context, p *authz.Principal, src audit.Source, id string, in NewScript) (*Script, error) {
	if err := authz.AllowServer(p, actWrite); err != nil {
		return nil, err
	}
	if s.cfg.Dir == "" {
		return nil, errDisabled
	}
	var sc *Script
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if sc, err = s.script(ctx, tx, id); err != nil {
			return err
		}
		if err := s.apply(sc, in); err != nil {
			return err
		}
		sc.UpdatedAt = s.now().UTC().Truncate(time.Microsecond)
		if err := tx.UpdateScript(ctx, sc); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, 0, "script.update", "script:"+sc.ID, map[string]any{"name": sc.Name, "path": sc.ScriptPath})
	})
	if err != nil {
		return nil, err
	}
	return sc, nil
}

// Delete removes a script; its executions stay as history.
func (s *Service) Delete(ctx context.Context, p *authz.Principal, src audit.Source, id string) error {
	if err := authz.AllowServer(p, actWrite); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		sc, err := s.script(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteScript(ctx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, 0, "script.delete", "script:"+id, map[string]any{"name": sc.Name})
	})
}

// Available is a file of the scripts directory no script names yet.
type Available struct {
	Path       string
	Name       string
	ScriptType string
	Size       int64
	ModTime    time.Time
}

// Available lists the executable files of the scripts directory that no
// registered script names.
func (s *Service) Available(ctx context.Context, p *authz.Principal) ([]Available, error) {
	if err := authz.AllowServer(p, actRead); err != nil {
		return nil, err
	}
	if s.cfg.Dir == "" {
		return nil, errDisabled
	}
	scripts, err := s.store.Read().ListScripts(ctx, "")
	if err != nil {
		return nil, err
	}
	taken := map[string]bool{}
	for _, sc := range scripts {
		taken[sc.ScriptPath] = true
	}
	out := []Available{}
	err = filepath.WalkDir(s.cfg.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil // unreadable parts are skipped
		}
		info, err := d.Info()
		if err != nil || !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0 {
			return nil
		}
		rel, err := filepath.Rel(s.cfg.Dir, path)
		if err != nil || taken[rel] {
			return nil
		}
		out = append(out, Available{Path: rel, Name: d.Name(), ScriptType: scriptType(path), Size: info.Size(), ModTime: info.ModTime().UTC()})
		return nil
	})
	if err != nil {
		return nil, fault.New(fault.Unavailable, "the scripts directory cannot be read").Wrap(err)
	}
	return out, nil
}
