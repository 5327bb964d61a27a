package toolbox_test

import (
	"context"
	"testing"

	"netkeep/internal/fault"
	"netkeep/internal/toolbox"
)

func catalog(tb testing.TB) *toolbox.Catalog {
	tb.Helper()
	c, err := toolbox.LoadCatalog()
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// Every embedded template describes itself and validates with the Compose
// library once its required values are given.
func TestEveryTemplateValidates(t *testing.T) {
	c := catalog(t)
	ts := c.List("")
	if len(ts) < 4 {
		t.Fatalf("%d templates", len(ts))
	}
	for _, tpl := range ts {
		t.Run(tpl.ID, func(t *testing.T) {
			env := map[string]string{}
			for _, v := range tpl.EnvVars {
				if v.Required {
					env[v.Name] = "https://example.com"
				}
			}
			p, err := tpl.Project(context.Background(), "deploy_1", toolbox.Request{ServiceID: tpl.ID, ServiceName: "toolbox-" + tpl.ID, EnvVars: env})
			if err != nil {
				t.Fatal(err)
			}
			if p.Name != "toolbox-"+tpl.ID || len(p.Services) == 0 {
				t.Fatalf("project %q with %d services", p.Name, len(p.Services))
			}
			for name, s := range p.Services {
				if s.Labels[toolbox.LabelDeployment] != "deploy_1" || s.Labels[toolbox.LabelProject] != p.Name || s.Labels[toolbox.LabelService] != name {
					t.Errorf("service %s labels: %v", name, s.Labels)
				}
			}
		})
	}
}

func TestCategoryFilter(t *testing.T) {
	c := catalog(t)
	for _, tpl := range c.List("MONITORING") {
		if tpl.Category != "monitoring" {
			t.Errorf("%s is %s", tpl.ID, tpl.Category)
		}
	}
	if len(c.List("monitoring")) == 0 || len(c.List("no-such-category")) != 0 {
		t.Error("category filter")
	}
	if _, err := c.Get("nope"); !fault.Is(err, fault.NotFound) {
		t.Errorf("unknown template: %v", err)
	}
}

// Bad values are refused before anything is recorded, naming the field.
func TestProjectRefusals(t *testing.T) {
	c := catalog(t)
	busybox, _ := c.Get("busybox-web")
	vault, _ := c.Get("vaultwarden")
	tests := []struct {
		name  string
		tpl   *toolbox.Template
		req   toolbox.Request
		field string
	}{
		{"400/unknown variable", busybox, toolbox.Request{EnvVars: map[string]string{"NOPE": "x"}}, "envVars.NOPE"},
		{"400/multi-line value", busybox, toolbox.Request{EnvVars: map[string]string{"GREETING": "a\nb"}}, "envVars.GREETING"},
		{"400/port out of range", busybox, toolbox.Request{CustomPort: 70000}, "customPort"},
		{"400/port not a number", busybox, toolbox.Request{EnvVars: map[string]string{"PORT": "http"}}, "envVars.PORT"},
		{"400/bad name", busybox, toolbox.Request{ServiceName: "Bad Name"}, "serviceName"},
		{"400/required missing", vault, toolbox.Request{EnvVars: map[string]string{"ADMIN_TOKEN": "t"}}, "envVars.DOMAIN"},
		{"400/secret missing", vault, toolbox.Request{EnvVars: map[string]string{"DOMAIN": "https://v.example.com"}}, "envVars.ADMIN_TOKEN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.tpl.Project(context.Background(), "deploy_1", tc.req)
			fe := fault.As(err)
			if fe == nil || fe.Code != fault.Invalid || fe.Details["field"] != tc.field {
				t.Fatalf("got %v (%+v)", err, fe)
			}
		})
	}
	// A value that makes the Compose file invalid is caught by the library.
	portainer, _ := c.Get("portainer")
	_, err := portainer.Project(context.Background(), "deploy_1", toolbox.Request{EnvVars: map[string]string{"DOCKER_SOCKET": "docker-sock"}})
	if fe := fault.As(err); fe == nil || fe.Reason != toolbox.ReasonInvalidTemplate {
		t.Errorf("invalid interpolated template: %v", err)
	}
}

func TestIsSecret(t *testing.T) {
	for name, want := range map[string]bool{
		"ADMIN_TOKEN": true, "DB_PASSWORD": true, "MYSQLPASSWORD": true, "API_KEY": true, "AWS_SECRET_ACCESS_KEY": true,
		"PASS": true, "KEY": true, "DATABASE_DSN": true, "private_key": true,
		"PATH": false, "GREETING": false, "KEYBOARD": false, "PORT": false, "DOMAIN": false, "TZ": false,
	} {
		if got := toolbox.IsSecret(name); got != want {
			t.Errorf("IsSecret(%s) = %v", name, got)
		}
	}
}
