package toolbox

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
)

// Mask stands for a secret value in records.
const Mask = "********"

// MaxExport is the most containers one export takes.
const MaxExport = 100

// secretWords are the words (between underscores) of an environment
// variable's name that make it a secret; secretParts make it one wherever
// they appear (DBPASSWORD, GITHUB_TOKEN, APP_SECRET_FILE...).
var (
	secretWords = []string{"PASS", "PWD", "KEY", "APIKEY", "PRIVATE", "CREDENTIAL", "CREDENTIALS", "SALT", "AUTH", "DSN"}
	secretParts = []string{"PASSWORD", "PASSWD", "SECRET", "TOKEN", "PRIVATE_KEY", "API_KEY", "ACCESS_KEY"}
)

// IsSecret reports whether an environment variable of this name holds a
// secret, going by its name alone: the engine does not know which values
// are secret, and a name is what a person reads to decide it too.
func IsSecret(name string) bool {
	n := strings.ToUpper(name)
	for _, p := range secretParts {
		if strings.Contains(n, p) {
			return true
		}
	}
	for w := range strings.SplitSeq(n, "_") {
		if slices.Contains(secretWords, w) {
			return true
		}
	}
	return false
}

// Export is a Compose file that recreates containers.
type Export struct {
	Project *types.Project
	YAML    []byte
	// Masked lists the variables whose values were replaced by a required
	// variable reference, as "service.NAME".
	Masked []string
}

// Export describes the containers ids as one Compose project. Secret
// values (IsSecret) become ${NAME:?...} references, so the file asks for
// them when it is used, unless reveal is set. A saved export (record) is
// audited; a preview is a read. Errors: invalid (no ids, too many, twice
// the same), not_found (a container), unavailable (engine), forbidden.
func (s *Service) Export(ctx context.Context, p *authz.Principal, src audit.Source, ids []string, reveal, record bool) (*Export, error) {
	if err := authz.AllowServer(p, actContainers); err != nil {
		return nil, err
	}
	switch {
	case len(ids) == 0:
		return nil, invalid("", "containerIds", "name at least one container")
	case len(ids) > MaxExport:
		return nil, invalid("", "containerIds", fmt.Sprintf("export at most %d containers at once", MaxExport))
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if id == "" || seen[id] {
			return nil, invalid("", "containerIds", "name each container once")
		}
		seen[id] = true
	}
	if s.engine == nil {
		return nil, errNoEngine
	}
	proj := &types.Project{Name: "export", Services: types.Services{}}
	var masked []string
	for _, id := range ids {
		d, err := s.engine.Describe(ctx, id)
		if err != nil {
			return nil, err
		}
		svc := d.Service
		svc.Name = serviceName(svc.ContainerName, proj.Services)
		masked = append(masked, escape(&svc, reveal)...)
		proj.Services[svc.Name] = svc
		for k, v := range d.Volumes {
			if proj.Volumes == nil {
				proj.Volumes = types.Volumes{}
			}
			proj.Volumes[k] = v
		}
		for k, v := range d.Networks {
			if proj.Networks == nil {
				proj.Networks = types.Networks{}
			}
			proj.Networks[k] = v
		}
		if len(ids) == 1 {
			proj.Name = projectName(svc.Name)
		}
	}
	out, err := proj.MarshalYAML()
	if err != nil {
		return nil, fmt.Errorf("writing the export: %w", err)
	}
	if record {
		err := s.store.InTx(ctx, func(tx Tx) error {
			return audit.Record(ctx, tx, src, 0, "containers.export", "containers:"+strings.Join(ids, ","),
				map[string]any{"containers": ids, "secrets_revealed": reveal && len(masked) > 0})
		})
		if err != nil {
			return nil, err
		}
	}
	if reveal {
		masked = nil
	}
	if masked == nil {
		masked = []string{}
	}
	return &Export{Project: proj, YAML: out, Masked: masked}, nil
}

var unsafeName = regexp.MustCompile(`[^a-zA-Z0-9._-]+`)

// serviceName is a Compose service name for a container name, unique in
// taken.
func serviceName(container string, taken types.Services) string {
	base := strings.Trim(unsafeName.ReplaceAllString(container, "-"), "-.")
	if base == "" {
		base = "service"
	}
	name := base
	for i := 2; ; i++ {
		if _, ok := taken[name]; !ok {
			return name
		}
		name = fmt.Sprintf("%s-%d", base, i)
	}
}

// projectName is a Compose project name made from a service name.
func projectName(s string) string {
	s = strings.ToLower(unsafeName.ReplaceAllString(s, "-"))
	s = strings.TrimLeft(strings.ReplaceAll(s, ".", "-"), "-_")
	if !namePattern.MatchString(s) {
		return "export"
	}
	return s
}

// escape makes svc's text survive Compose's interpolation when the file is
// loaded ($ becomes $$), and replaces secret values by a required
// reference unless reveal; it returns the names it masked.
func escape(svc *types.ServiceConfig, reveal bool) []string {
	var masked []string
	for k, v := range svc.Environment {
		if v == nil {
			continue
		}
		val := strings.ReplaceAll(*v, "$", "$$")
		if !reveal && IsSecret(k) && *v != "" {
			val = "${" + k + ":?" + k + " was masked on export: set it}"
			masked = append(masked, svc.Name+"."+k)
		}
		svc.Environment[k] = &val
	}
	for i, a := range svc.Command {
		svc.Command[i] = strings.ReplaceAll(a, "$", "$$")
	}
	for i, a := range svc.Entrypoint {
		svc.Entrypoint[i] = strings.ReplaceAll(a, "$", "$$")
	}
	for k, v := range svc.Labels {
		svc.Labels[k] = strings.ReplaceAll(v, "$", "$$")
	}
	slices.Sort(masked)
	return masked
}
