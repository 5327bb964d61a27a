package toolbox

import (
	"embed"
	"fmt"
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Template is a service the toolbox can deploy: a Compose file whose
// x-toolbox extension describes it. Adding a template is adding a file to
// templates/ (see docs/toolbox.md).
type Template struct {
	ID          string
	Name        string
	Description string
	Category    string
	Icon        string
	Difficulty  string
	EnvVars     []EnvVar
	Ports       []Port
	// PortVar is the variable a deployment's customPort sets.
	PortVar string
	Compose []byte
}

// EnvVar is a variable the template's Compose file interpolates.
type EnvVar struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description" json:"description"`
	Default     string `yaml:"default" json:"default"`
	Required    bool   `yaml:"required" json:"required"`
	Secret      bool   `yaml:"secret" json:"secret"`
}

// Port is a port the service listens on.
type Port struct {
	Container   int    `yaml:"container" json:"container"`
	Host        int    `yaml:"host" json:"host"` // the default published port
	Protocol    string `yaml:"protocol" json:"protocol"`
	Description string `yaml:"description" json:"description"`
}

// NameVar is set for every deployment to its name, so a template can
// derive ids and labels from it (nekzus.app.id: ${DEPLOYMENT_NAME}).
const NameVar = "DEPLOYMENT_NAME"

//go:embed templates/*.yaml
var templateFiles embed.FS

// meta is a template file's x-toolbox extension.
type meta struct {
	Toolbox struct {
		Name        string   `yaml:"name"`
		Description string   `yaml:"description"`
		Category    string   `yaml:"category"`
		Icon        string   `yaml:"icon"`
		Difficulty  string   `yaml:"difficulty"`
		PortVar     string   `yaml:"port_var"`
		Env         []EnvVar `yaml:"env"`
		Ports       []Port   `yaml:"ports"`
	} `yaml:"x-toolbox"`
}

// difficulties are the levels a template may declare.
var difficulties = []string{"beginner", "intermediate", "advanced"}

// Catalog is the templates, by id.
type Catalog struct {
	byID  map[string]*Template
	order []string
}

// LoadCatalog reads the embedded templates, checking each one's
// description and that its Compose file validates with its defaults.
func LoadCatalog() (*Catalog, error) {
	files, err := templateFiles.ReadDir("templates")
	if err != nil {
		return nil, err
	}
	c := &Catalog{byID: map[string]*Template{}}
	for _, f := range files {
		data, err := templateFiles.ReadFile(path.Join("templates", f.Name()))
		if err != nil {
			return nil, err
		}
		t, err := parseTemplate(strings.TrimSuffix(f.Name(), ".yaml"), data)
		if err != nil {
			return nil, fmt.Errorf("toolbox template %s: %w", f.Name(), err)
		}
		c.byID[t.ID] = t
		c.order = append(c.order, t.ID)
	}
	slices.Sort(c.order)
	return c, nil
}

func parseTemplate(id string, data []byte) (*Template, error) {
	var m meta
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	x := m.Toolbox
	t := &Template{ID: id, Name: x.Name, Description: x.Description, Category: x.Category, Icon: x.Icon,
		Difficulty: x.Difficulty, EnvVars: x.Env, Ports: x.Ports, PortVar: x.PortVar, Compose: data}
	if t.Name == "" || t.Category == "" || !slices.Contains(difficulties, t.Difficulty) {
		return nil, fmt.Errorf("x-toolbox needs a name, a category and a difficulty (%s)", strings.Join(difficulties, ", "))
	}
	if t.EnvVars == nil {
		t.EnvVars = []EnvVar{}
	}
	if t.Ports == nil {
		t.Ports = []Port{}
	}
	if t.PortVar != "" && t.envVar(t.PortVar) == nil {
		return nil, fmt.Errorf("port_var %s is not one of its env vars", t.PortVar)
	}
	for i := range t.Ports {
		if t.Ports[i].Protocol == "" {
			t.Ports[i].Protocol = "tcp"
		}
	}
	// Secrets have no default (a default would be a shared credential),
	// so a secret is required.
	for i, v := range t.EnvVars {
		if v.Secret && v.Default != "" {
			return nil, fmt.Errorf("secret %s has a default", v.Name)
		}
		t.EnvVars[i].Required = v.Required || v.Secret
	}
	return t, nil
}

func (t *Template) envVar(name string) *EnvVar {
	for i := range t.EnvVars {
		if t.EnvVars[i].Name == name {
			return &t.EnvVars[i]
		}
	}
	return nil
}

// List returns the templates of category ("" every one), by id.
func (c *Catalog) List(category string) []*Template {
	out := []*Template{}
	for _, id := range c.order {
		if t := c.byID[id]; category == "" || strings.EqualFold(t.Category, category) {
			out = append(out, t)
		}
	}
	return out
}

// Get returns template id or a not_found fault.
func (c *Catalog) Get(id string) (*Template, error) {
	if t, ok := c.byID[id]; ok {
		return t, nil
	}
	return nil, notFoundTemplate(id)
}
