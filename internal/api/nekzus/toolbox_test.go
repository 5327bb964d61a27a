package nekzus_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"netkeep/internal/api/apitest"
	"netkeep/internal/config"
	"netkeep/internal/docker"
	"netkeep/internal/docker/dockertest"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
	"netkeep/internal/toolbox"
)

// toolboxName is a unique name for the test's engine objects.
func toolboxName(tb testing.TB, what string) string {
	tb.Helper()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	return "toolbox-" + what + "-" + hex.EncodeToString(b[:])
}

// dockerOut runs the docker CLI (the engine's own view, independent of
// netkeep's client) and returns its trimmed output.
func dockerOut(tb testing.TB, args ...string) string {
	tb.Helper()
	out, err := exec.Command("docker", args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("docker %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// removeDeployment removes whatever a deployment left on the engine.
func removeDeployment(tb testing.TB, id string) {
	tb.Helper()
	tb.Cleanup(func() {
		f := "label=" + toolbox.LabelDeployment + "=" + id
		for _, kind := range [][]string{{"ps", "-aq"}, {"network", "ls", "-q"}, {"volume", "ls", "-q"}} {
			out, _ := exec.Command("docker", append(kind, "--filter", f)...).Output()
			for _, obj := range strings.Fields(string(out)) {
				rm := map[string][]string{"ps": {"rm", "-f"}, "network": {"network", "rm"}, "volume": {"volume", "rm", "-f"}}[kind[0]]
				_ = exec.Command("docker", append(rm, obj)...).Run()
			}
		}
	})
}

// nextOf waits for a message of type typ on s, skipping others.
func (s *stream) nextOf(tb testing.TB, typ string, within time.Duration) wsFrame {
	tb.Helper()
	_, f := s.until(tb, typ, within)
	return f
}

// until waits for a message of type typ on s and returns it with the
// messages before it.
func (s *stream) until(tb testing.TB, typ string, within time.Duration) (before []wsFrame, f wsFrame) {
	tb.Helper()
	deadline := time.After(within)
	for {
		select {
		case m := <-s.msgs:
			if m.Type == typ {
				return before, m
			}
			before = append(before, m)
		case err := <-s.end:
			tb.Fatalf("stream ended waiting for %s: %v", typ, err)
		case <-deadline:
			tb.Fatalf("no %s within %v", typ, within)
		}
	}
}

var deployID = regexp.MustCompile(`^deploy_\d{16}$`)

// The toolbox end to end on a real engine: the busybox template deploys
// (202, then deploying → running on the WebSocket), its containers run
// with netkeep's labels on their network and volume, the page answers,
// discovery proposes it; removal keeps or removes the volume as asked; a
// template whose image is absent fails saying so; bad requests are
// refused in the envelope with nothing written.
func TestToolboxDeploy(t *testing.T) {
	host := dockertest.Engine(t)
	img := dockertest.Busybox(t)
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			e := servertest.StartWith(t, kind, func(c *config.Config) { c.DockerHost = host })
			e.CreateUser(t, "root", "password1", identity.SuperAdmin, "default")
			e.CreateUser(t, "admin", "password1", identity.GroupAdmin, "acme")
			rootTok, _ := e.Login(t, "root", "password1")
			adminTok, _ := e.Login(t, "admin", "password1")
			as := servertest.Bearer(rootTok)
			ws := listen(t, e, rootTok)
			adminWS := listen(t, e, adminTok)

			name := toolboxName(t, "web")
			port := dockertest.FreePort(t)
			deploy := func(name string, volumes ...string) *servertest.Response {
				return e.Do(t, "POST", "/api/v1/toolbox/deploy", map[string]any{"serviceId": "busybox-web", "serviceName": name,
					"envVars": map[string]string{"IMAGE": img, "GREETING": "hi $there"}, "customPort": port, "autoStart": true}, as...)
			}
			r := deploy(name)
			if r.Status != http.StatusAccepted || !deployID.MatchString(fmt.Sprint(r.JSON["deployment_id"])) || r.JSON["status"] != "pending" ||
				r.JSON["message"] != "Deployment '"+name+"' initiated" {
				t.Fatalf("deploy: %d %s", r.Status, r.Raw)
			}
			apitest.AssertShape(t, r.Raw, "testdata/seed/toolbox_deploy.json")
			id := r.JSON["deployment_id"].(string)
			removeDeployment(t, id)
			var done struct {
				DeploymentID string `json:"deploymentId"`
				Status       string `json:"status"`
			}
			f := ws.nextOf(t, toolbox.ActionCompleted, 60*time.Second)
			if err := json.Unmarshal(f.Data, &done); err != nil || done.DeploymentID != id || done.Status != "running" {
				t.Fatalf("completion message: %s", f.Data)
			}
			// A group's administrator is not told of the host's deployments.
			adminWS.send(t, map[string]any{"type": "ping"})
			before, _ := adminWS.until(t, "pong", wsWait)
			for _, f := range before {
				if strings.HasPrefix(f.Type, "toolbox.") {
					t.Errorf("a group admin was sent %s", f.Type)
				}
			}
			r = e.Do(t, "GET", "/api/v1/toolbox/deployments/"+id, nil, as...)
			cs := servertest.Strings(r.JSON["containers"])
			if r.Status != http.StatusOK || r.JSON["status"] != "running" || len(cs) != 2 || r.JSON["serviceName"] != name {
				t.Fatalf("deployment: %d %s", r.Status, r.Raw)
			}
			for _, c := range cs {
				got := dockerOut(t, "inspect", "-f", `{{.State.Running}} {{index .Config.Labels "netkeep.deployment"}} {{index .Config.Labels "com.docker.compose.project"}}`, c)
				if got != "true "+id+" "+name {
					t.Errorf("container %s: %s", c, got)
				}
			}
			if got := dockerOut(t, "volume", "inspect", "-f", `{{index .Labels "netkeep.deployment"}}`, name+"_data"); got != id {
				t.Errorf("volume label: %q", got)
			}
			if got := dockerOut(t, "network", "inspect", "-f", `{{index .Labels "netkeep.deployment"}}`, name+"_default"); got != id {
				t.Errorf("network label: %q", got)
			}
			// $$ in the template reached the shell as $: the worker wrote the value.
			if got := dockerOut(t, "exec", name+"-worker-1", "sh", "-c", `read -r l < /data/greeting && echo "$l"`); got != "hi $there" {
				t.Errorf("worker wrote %q", got)
			}
			servertest.Eventually(t, 30*time.Second, func() bool {
				res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
				if err != nil {
					return false
				}
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				return res.StatusCode == http.StatusOK && strings.Contains(string(b), "netkeep test app")
			}, "the deployed page never answered")
			servertest.Eventually(t, 30*time.Second, func() bool {
				r := e.Do(t, "GET", "/api/v1/discovery/proposals", nil, servertest.Master()...)
				return strings.Contains(string(r.Raw), `"id":"`+name+`"`)
			}, "the deployment was never proposed to discovery")

			if r := e.Do(t, "GET", "/api/v1/toolbox/deployments?status=running", nil, as...); r.Status != http.StatusOK || r.JSON["count"] != float64(1) {
				t.Errorf("running deployments: %d %s", r.Status, r.Raw)
			}
			if r := e.Do(t, "GET", "/api/v1/toolbox/deployments?status=failed", nil, as...); r.JSON["count"] != float64(0) {
				t.Errorf("failed deployments: %s", r.Raw)
			}

			// Refusals: the envelope, the code, and nothing recorded.
			refused := []struct {
				name, method, path string
				body               any
				hdr                []string
				status             int
				code               string
			}{
				{"404/unknown template", "POST", "/api/v1/toolbox/deploy", map[string]any{"serviceId": "nope"}, as, 404, "SERVICE_NOT_FOUND"},
				{"400/unknown variable", "POST", "/api/v1/toolbox/deploy", map[string]any{"serviceId": "busybox-web", "serviceName": toolboxName(t, "x"),
					"envVars": map[string]string{"NOPE": "1"}}, as, 400, "INVALID_ENV"},
				{"400/port not a number", "POST", "/api/v1/toolbox/deploy", map[string]any{"serviceId": "busybox-web", "serviceName": toolboxName(t, "x"),
					"envVars": map[string]string{"PORT": "not-a-port"}}, as, 400, "INVALID_ENV"},
				{"400/invalid with these values", "POST", "/api/v1/toolbox/deploy", map[string]any{"serviceId": "portainer", "serviceName": toolboxName(t, "x"),
					"envVars": map[string]string{"DOCKER_SOCKET": "docker-sock"}}, as, 400, "INVALID_TEMPLATE"},
				{"400/no serviceId", "POST", "/api/v1/toolbox/deploy", map[string]any{}, as, 400, "BAD_REQUEST"},
				{"409/name deployed", "POST", "/api/v1/toolbox/deploy", map[string]any{"serviceId": "busybox-web", "serviceName": name,
					"envVars": map[string]string{"IMAGE": img}}, as, 409, "CONFLICT"},
				{"403/group admin", "POST", "/api/v1/toolbox/deploy", map[string]any{"serviceId": "busybox-web"}, servertest.Bearer(adminTok), 403, "FORBIDDEN"},
				{"403/group admin reads", "GET", "/api/v1/toolbox/deployments", nil, servertest.Bearer(adminTok), 403, "FORBIDDEN"},
				{"400/bad status", "GET", "/api/v1/toolbox/deployments?status=bogus", nil, as, 400, "BAD_REQUEST"},
				{"404/unknown deployment", "GET", "/api/v1/toolbox/deployments/deploy_1", nil, as, 404, "DEPLOYMENT_NOT_FOUND"},
				{"400/bad removeVolumes", "DELETE", "/api/v1/toolbox/deployments/" + id + "?removeVolumes=maybe", nil, as, 400, "BAD_REQUEST"},
			}
			for _, c := range refused {
				r := e.Do(t, c.method, c.path, c.body, c.hdr...)
				if r.Status != c.status || r.ErrorCode() != c.code {
					t.Errorf("%s: %d %s", c.name, r.Status, r.Raw)
				}
			}
			if r := e.Do(t, "GET", "/api/v1/toolbox/deployments", nil, as...); r.JSON["count"] != float64(1) {
				t.Errorf("a refused deployment was recorded: %s", r.Raw)
			}

			// Removal without volumes keeps the data; with them, removes it.
			if r := e.Do(t, "DELETE", "/api/v1/toolbox/deployments/"+id, nil, as...); r.Status != http.StatusOK || r.JSON["status"] != "removed" {
				t.Fatalf("remove: %d %s", r.Status, r.Raw)
			}
			if out := dockerOut(t, "ps", "-aq", "--filter", "label=netkeep.deployment="+id); out != "" {
				t.Errorf("containers left: %s", out)
			}
			if out := dockerOut(t, "network", "ls", "-q", "--filter", "label=netkeep.deployment="+id); out != "" {
				t.Errorf("network left: %s", out)
			}
			if out := dockerOut(t, "volume", "ls", "-q", "--filter", "name="+name+"_data"); out == "" {
				t.Error("the volume went without removeVolumes")
			}
			_ = exec.Command("docker", "volume", "rm", name+"_data").Run()
			if r := e.Do(t, "GET", "/api/v1/toolbox/deployments/"+id, nil, as...); r.Status != http.StatusNotFound {
				t.Errorf("removed deployment: %d", r.Status)
			}
			r = deploy(name)
			if r.Status != http.StatusAccepted {
				t.Fatalf("redeploy: %d %s", r.Status, r.Raw)
			}
			id = r.JSON["deployment_id"].(string)
			removeDeployment(t, id)
			servertest.Eventually(t, 60*time.Second, func() bool {
				return e.Do(t, "GET", "/api/v1/toolbox/deployments/"+id, nil, as...).JSON["status"] == "running"
			}, "redeployment never ran")
			if r := e.Do(t, "DELETE", "/api/v1/toolbox/deployments/"+id+"?removeVolumes=true", nil, as...); r.Status != http.StatusOK {
				t.Fatalf("remove with volumes: %d %s", r.Status, r.Raw)
			}
			if out := dockerOut(t, "volume", "ls", "-q", "--filter", "label=netkeep.deployment="+id); out != "" {
				t.Errorf("volumes left: %s", out)
			}

			// An image not on the engine: failed, saying so, nothing left.
			kuma := toolboxName(t, "kuma")
			r = e.Do(t, "POST", "/api/v1/toolbox/deploy", map[string]any{"serviceId": "uptime-kuma", "serviceName": kuma,
				"customPort": dockertest.FreePort(t)}, as...)
			if r.Status != http.StatusAccepted {
				t.Fatalf("deploy uptime-kuma: %d %s", r.Status, r.Raw)
			}
			kid := r.JSON["deployment_id"].(string)
			removeDeployment(t, kid)
			f = ws.nextOf(t, toolbox.ActionFailed, 60*time.Second)
			r = e.Do(t, "GET", "/api/v1/toolbox/deployments/"+kid, nil, as...)
			if r.JSON["status"] != "failed" || !strings.Contains(fmt.Sprint(r.JSON["error"]), "louislam/uptime-kuma:1 is not present") {
				t.Errorf("missing image: %s (event %s)", r.Raw, f.Data)
			}
			if out := dockerOut(t, "volume", "ls", "-q", "--filter", "label=netkeep.deployment="+kid); out != "" {
				t.Errorf("a failed deployment left volumes: %s", out)
			}
			if r := e.Do(t, "DELETE", "/api/v1/toolbox/deployments/"+kid, nil, as...); r.Status != http.StatusOK {
				t.Errorf("remove failed deployment: %d %s", r.Status, r.Raw)
			}

			// In progress: removal waits, unless the deployment went stale
			// (the replica bringing it up stopped halfway).
			for _, c := range []struct {
				age    time.Duration
				status int
			}{{time.Minute, http.StatusConflict}, {toolbox.StaleAfter + time.Minute, http.StatusOK}} {
				at := time.Now().UTC().Add(-c.age).Truncate(time.Microsecond)
				d := &toolbox.Deployment{ID: fmt.Sprintf("deploy_%d", at.UnixMicro()), TemplateID: "busybox-web", Name: toolboxName(t, "stuck"),
					Status: toolbox.Deploying, CreatedBy: "test", CreatedAt: at, UpdatedAt: at}
				if err := e.DB.InTx(context.Background(), func(tx *store.Tx) error { return tx.CreateDeployment(context.Background(), d) }); err != nil {
					t.Fatal(err)
				}
				if r := e.Do(t, "DELETE", "/api/v1/toolbox/deployments/"+d.ID, nil, as...); r.Status != c.status {
					t.Errorf("removing a deployment deploying for %v: %d %s", c.age, r.Status, r.Raw)
				} else if c.status == http.StatusConflict && r.ErrorCode() != "DEPLOYMENT_IN_PROGRESS" {
					t.Errorf("conflict code: %s", r.Raw)
				}
			}
		})
	}
}

// The catalog as documented: list, filter, one template with its
// variables and ports.
func TestToolboxCatalog(t *testing.T) {
	e := servertest.Start(t, config.SQLite)
	as := servertest.Master()
	r := e.Do(t, "GET", "/api/v1/toolbox/services", nil, as...)
	if r.Status != http.StatusOK || r.JSON["count"] == float64(0) {
		t.Fatalf("services: %d %s", r.Status, r.Raw)
	}
	apitest.AssertShape(t, r.Raw, "testdata/seed/toolbox_services.json")
	first := r.JSON["services"].([]any)[0].(map[string]any)
	for _, k := range []string{"id", "name", "description", "category", "icon", "difficulty"} {
		if first[k] == "" || first[k] == nil {
			t.Errorf("service field %s missing: %v", k, first)
		}
	}
	r = e.Do(t, "GET", "/api/v1/toolbox/services?category=management", nil, as...)
	if r.JSON["count"] != float64(1) || !strings.Contains(string(r.Raw), `"id":"portainer"`) {
		t.Errorf("category filter: %s", r.Raw)
	}
	r = e.Do(t, "GET", "/api/v1/toolbox/services/vaultwarden", nil, as...)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Raw), `"name":"ADMIN_TOKEN"`) || !strings.Contains(string(r.Raw), `"secret":true`) ||
		r.JSON["ports"] == nil || !strings.Contains(fmt.Sprint(r.JSON["compose"]), "vaultwarden/server") {
		t.Errorf("template: %d %s", r.Status, r.Raw)
	}
	if r := e.Do(t, "GET", "/api/v1/toolbox/services/nope", nil, as...); r.Status != http.StatusNotFound || r.ErrorCode() != "SERVICE_NOT_FOUND" {
		t.Errorf("unknown template: %d %s", r.Status, r.Raw)
	}
	// Without an engine, deploying is unavailable and nothing is recorded.
	r = e.Do(t, "POST", "/api/v1/toolbox/deploy", map[string]any{"serviceId": "busybox-web"}, as...)
	if r.Status != http.StatusServiceUnavailable || r.ErrorCode() != "CONTAINER_RUNTIME_UNAVAILABLE" {
		t.Errorf("no engine: %d %s", r.Status, r.Raw)
	}
	if r := e.Do(t, "GET", "/api/v1/toolbox/deployments", nil, as...); r.JSON["count"] != float64(0) {
		t.Errorf("recorded without an engine: %s", r.Raw)
	}
}

// An engine that does not answer: exports are 503, a deployment fails
// saying so, and nothing of the cause reaches the client.
func TestToolboxEngineDown(t *testing.T) {
	e := servertest.StartWith(t, config.SQLite, func(c *config.Config) { c.DockerHost = "unix://" + t.TempDir() + "/docker.sock" })
	as := servertest.Master()
	r := e.Do(t, "GET", "/api/v1/containers/web/export/preview", nil, as...)
	if r.Status != http.StatusServiceUnavailable || r.ErrorCode() != "CONTAINER_RUNTIME_UNAVAILABLE" || strings.Contains(string(r.Raw), "docker.sock") {
		t.Errorf("export: %d %s", r.Status, r.Raw)
	}
	r = e.Do(t, "POST", "/api/v1/toolbox/deploy", map[string]any{"serviceId": "busybox-web", "serviceName": "toolbox-down"}, as...)
	if r.Status != http.StatusAccepted {
		t.Fatalf("deploy: %d %s", r.Status, r.Raw)
	}
	id := r.JSON["deployment_id"].(string)
	servertest.Eventually(t, 30*time.Second, func() bool {
		r = e.Do(t, "GET", "/api/v1/toolbox/deployments/"+id, nil, as...)
		return r.JSON["status"] == "failed"
	}, "the deployment never failed")
	if r.JSON["error"] != "the Docker engine cannot be reached" {
		t.Errorf("reason: %s", r.Raw)
	}
	if r := e.Do(t, "DELETE", "/api/v1/toolbox/deployments/"+id, nil, as...); r.Status != http.StatusServiceUnavailable {
		t.Errorf("remove with the engine down: %d %s", r.Status, r.Raw)
	}
}

// inspected is what an export must carry over, as the engine reports it.
type inspected struct {
	Image, Cmd, Ports, Restart, Network, Mounts string
	Env, Labels                                 map[string]string
}

func inspectForExport(tb testing.TB, name string) inspected {
	tb.Helper()
	out := dockerOut(tb, "inspect", "-f", `{{json .Config.Image}}|{{json .Config.Cmd}}|{{json .HostConfig.PortBindings}}|`+
		`{{json .HostConfig.RestartPolicy}}|{{json .HostConfig.NetworkMode}}|{{range .Mounts}}{{.Name}}:{{.Destination}}:{{.RW}} {{end}}|`+
		`{{json .Config.Env}}|{{json .Config.Labels}}`, name)
	parts := strings.Split(out, "|")
	if len(parts) != 8 {
		tb.Fatalf("inspect %s: %s", name, out)
	}
	in := inspected{Image: parts[0], Cmd: parts[1], Ports: parts[2], Restart: parts[3], Network: parts[4], Mounts: parts[5],
		Env: map[string]string{}, Labels: map[string]string{}}
	var env []string
	if err := json.Unmarshal([]byte(parts[6]), &env); err != nil {
		tb.Fatal(err)
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		in.Env[k] = v
	}
	if err := json.Unmarshal([]byte(parts[7]), &in.Labels); err != nil {
		tb.Fatal(err)
	}
	delete(in.Labels, toolbox.LabelDeployment)
	return in
}

// Export: a container's Compose file masks its secrets unless asked,
// and re-creating the container from it with the Compose library gives
// the same image, command, environment, ports, mounts, labels, network
// and restart policy; the batch pair takes several containers.
func TestContainerExport(t *testing.T) {
	host := dockertest.Engine(t)
	img := dockertest.Busybox(t)
	e := servertest.StartWith(t, config.SQLite, func(c *config.Config) { c.DockerHost = host })
	e.CreateUser(t, "admin", "password1", identity.GroupAdmin, "acme")
	adminTok, _ := e.Login(t, "admin", "password1")
	as := servertest.Master()

	netName, vol, name := toolboxName(t, "net"), toolboxName(t, "vol"), toolboxName(t, "exp")
	dockerOut(t, "network", "create", netName)
	t.Cleanup(func() { _ = exec.Command("docker", "network", "rm", netName).Run() })
	dockerOut(t, "volume", "create", vol)
	t.Cleanup(func() { _ = exec.Command("docker", "volume", "rm", "-f", vol).Run() })
	port := dockertest.FreePort(t)
	dockerOut(t, "create", "--name", name, "--network", netName, "-p", fmt.Sprintf("127.0.0.1:%d:80/tcp", port),
		"-e", "DB_PASSWORD=s3cret", "-e", "GREETING=a $b", "--label", "app.tier=web", "--label", "nekzus.enable=true",
		"--restart", "on-failure:3", "-v", vol+":/data:ro", img, "sleep", "1000000")
	t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", name, name+"-copy").Run() })

	r := e.Do(t, "GET", "/api/v1/containers/"+name+"/export/preview", nil, as...)
	compose := fmt.Sprint(r.JSON["compose"])
	if r.Status != http.StatusOK || strings.Contains(compose, "s3cret") || !strings.Contains(compose, "${DB_PASSWORD:?") ||
		fmt.Sprint(r.JSON["maskedSecrets"]) != "["+name+".DB_PASSWORD]" || r.JSON["projectName"] != name {
		t.Fatalf("preview: %d %s", r.Status, r.Raw)
	}
	r = e.Do(t, "POST", "/api/v1/containers/"+name+"/export", map[string]any{"includeSecrets": true}, as...)
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/yaml") ||
		!strings.Contains(r.Header.Get("Content-Disposition"), name+"-compose.yaml") || !strings.Contains(string(r.Raw), "s3cret") {
		t.Fatalf("export: %d %v %s", r.Status, r.Header, r.Raw)
	}

	// Re-create from the file with the Compose library, on the engine.
	p, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{WorkingDir: t.TempDir(),
		ConfigFiles: []types.ConfigFile{{Filename: "compose.yaml", Content: r.Raw}}, Environment: types.Mapping{}})
	if err != nil {
		t.Fatalf("loading the export: %v\n%s", err, r.Raw)
	}
	svc, ok := p.Services[name]
	if !ok {
		t.Fatalf("no service %s in %s", name, r.Raw)
	}
	svc.ContainerName = name + "-copy"
	svc.Labels[toolbox.LabelDeployment] = "deploy_copy"
	p.Services[name] = svc
	engine := docker.NewProjects(host)
	defer engine.Close()
	if _, err := engine.Deploy(context.Background(), toolbox.Plan{DeploymentID: "deploy_copy", Project: p}); err != nil {
		t.Fatalf("re-creating: %v", err)
	}
	want, got := inspectForExport(t, name), inspectForExport(t, name+"-copy")
	if fmt.Sprint(want) != fmt.Sprint(got) {
		t.Errorf("re-created container differs:\nwant %+v\ngot  %+v", want, got)
	}
	if got.Env["GREETING"] != "a $b" || got.Restart != `{"Name":"on-failure","MaximumRetryCount":3}` || got.Labels["app.tier"] != "web" {
		t.Errorf("re-created: %+v", got)
	}

	r = e.Do(t, "POST", "/api/v1/containers/batch/export/preview", map[string]any{"containerIds": []string{name, name + "-copy"}}, as...)
	if r.Status != http.StatusOK || strings.Count(fmt.Sprint(r.JSON["compose"]), "container_name:") != 2 || r.JSON["projectName"] != "export" {
		t.Errorf("batch preview: %d %s", r.Status, r.Raw)
	}
	r = e.Do(t, "POST", "/api/v1/containers/batch/export", map[string]any{"containerIds": []string{name, name + "-copy"}}, as...)
	if r.Status != http.StatusOK || strings.Count(string(r.Raw), "${DB_PASSWORD:?") != 2 {
		t.Errorf("batch export: %d %s", r.Status, r.Raw)
	}
	refused := []struct {
		name, method, path string
		body               any
		hdr                []string
		status             int
		code               string
	}{
		{"404/unknown container", "GET", "/api/v1/containers/toolbox-nope-0/export/preview", nil, as, 404, "CONTAINER_NOT_FOUND"},
		{"404/one unknown in a batch", "POST", "/api/v1/containers/batch/export/preview", map[string]any{"containerIds": []string{name, "toolbox-nope-0"}}, as, 404, "CONTAINER_NOT_FOUND"},
		{"400/empty batch", "POST", "/api/v1/containers/batch/export", map[string]any{"containerIds": []string{}}, as, 400, "BAD_REQUEST"},
		{"400/twice the same", "POST", "/api/v1/containers/batch/export", map[string]any{"containerIds": []string{name, name}}, as, 400, "BAD_REQUEST"},
		{"400/bad includeSecrets", "GET", "/api/v1/containers/" + name + "/export/preview?includeSecrets=maybe", nil, as, 400, "BAD_REQUEST"},
		{"403/group admin", "GET", "/api/v1/containers/" + name + "/export/preview", nil, servertest.Bearer(adminTok), 403, "FORBIDDEN"},
	}
	for _, c := range refused {
		r := e.Do(t, c.method, c.path, c.body, c.hdr...)
		if r.Status != c.status || r.ErrorCode() != c.code {
			t.Errorf("%s: %d %s", c.name, r.Status, r.Raw)
		}
	}
}
