package toolbox

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"netkeep/internal/fault"
)

// Request is a deployment asked for.
type Request struct {
	ServiceID   string
	ServiceName string // the Compose project name; default the template id
	EnvVars     map[string]string
	CustomPort  int  // sets the template's port variable; 0 keeps its default
	AutoStart   bool // start the containers once created
}

// namePattern is a Compose project name (as docker compose accepts it).
var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// resolve checks r's values against t and returns the interpolation
// environment: defaults, then the values given, the custom port and the
// deployment's name.
func (t *Template) resolve(r Request) (string, map[string]string, error) {
	name := r.ServiceName
	if name == "" {
		name = t.ID
	}
	if !namePattern.MatchString(name) {
		return "", nil, invalid(ReasonInvalidEnv, "serviceName",
			"serviceName must be 1-63 lower-case letters, digits, '-' or '_', starting with a letter or digit")
	}
	env := map[string]string{}
	for _, v := range t.EnvVars {
		if v.Default != "" {
			env[v.Name] = v.Default
		}
	}
	for k, v := range r.EnvVars {
		if t.envVar(k) == nil {
			return "", nil, invalid(ReasonInvalidEnv, "envVars."+k, fmt.Sprintf("%s is not a variable of %s", k, t.ID))
		}
		if strings.ContainsAny(v, "\x00\n\r") {
			return "", nil, invalid(ReasonInvalidEnv, "envVars."+k, k+" must be one line of text")
		}
		if v != "" {
			env[k] = v
		}
	}
	if r.CustomPort != 0 {
		if t.PortVar == "" {
			return "", nil, invalid(ReasonInvalidEnv, "customPort", t.ID+" has no port to customise")
		}
		if r.CustomPort < 1 || r.CustomPort > 65535 {
			return "", nil, invalid(ReasonInvalidEnv, "customPort", "customPort must be between 1 and 65535")
		}
		env[t.PortVar] = fmt.Sprint(r.CustomPort)
	}
	if t.PortVar != "" {
		if n, err := strconv.Atoi(env[t.PortVar]); err != nil || n < 1 || n > 65535 {
			return "", nil, invalid(ReasonInvalidEnv, "envVars."+t.PortVar, t.PortVar+" must be a port number (1-65535)")
		}
	}
	for _, v := range t.EnvVars {
		if v.Required && env[v.Name] == "" {
			return "", nil, invalid(ReasonInvalidEnv, "envVars."+v.Name, v.Name+" is required")
		}
	}
	env[NameVar] = name
	return name, env, nil
}

// Project interpolates t with r's values and validates it with the
// Compose library, returning the project an engine brings up, every
// service labelled for deployment id. Errors: invalid (the values, or the
// template with them).
func (t *Template) Project(ctx context.Context, id string, r Request) (*types.Project, error) {
	name, env, err := t.resolve(r)
	if err != nil {
		return nil, err
	}
	details := types.ConfigDetails{WorkingDir: "/", Environment: env,
		ConfigFiles: []types.ConfigFile{{Filename: t.ID + ".yaml", Content: t.Compose}}}
	p, err := loader.LoadWithContext(ctx, details, func(o *loader.Options) { o.SetProjectName(name, true) })
	if err != nil {
		// compose-go's message names the field or variable at fault and
		// never a value: it is safe to show.
		return nil, fault.New(fault.Invalid, "the template does not validate with these values: "+err.Error()).
			WithReason(ReasonInvalidTemplate).WithDetails(map[string]any{"serviceId": t.ID}).Wrap(err)
	}
	for k, s := range p.Services {
		if s.Image == "" {
			return nil, invalid(ReasonInvalidTemplate, "serviceId", fmt.Sprintf("service %s of %s has no image", k, t.ID))
		}
		if s.Labels == nil {
			s.Labels = types.Labels{}
		}
		s.Labels[LabelProject] = name
		s.Labels[LabelService] = k
		s.Labels[LabelDeployment] = id
		s.Labels[LabelTemplate] = t.ID
		p.Services[k] = s
	}
	return p, nil
}
