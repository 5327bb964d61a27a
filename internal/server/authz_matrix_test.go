package server_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/authz"
	"netkeep/internal/automation"
	"netkeep/internal/config"
	"netkeep/internal/device"
	"netkeep/internal/gateway"
	"netkeep/internal/identity"
	"netkeep/internal/pki"
	"netkeep/internal/server/servertest"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
	"netkeep/internal/tlscert"
	"netkeep/internal/toolbox"
)

// The authorization matrix walks every route the server registers. Every
// Authenticated route must answer 401 without a credential and with a bad
// one; and every such route must have an entry in matrix below saying how a
// permitted caller succeeds, who is refused (403), and whether another
// group's caller must get 404. A route added without an entry fails the test.

// world is the fixture the matrix runs in: groups A and B, a GROUP_ADMIN
// and a USER in A, a GROUP_ADMIN in B, and an API key in A whose only scope
// is audit:read.
type world struct {
	e                  *servertest.Env
	n                  int    // counter for unique names
	fresh              string // token of the last freshUser
	device             string // token of the last newDevice
	adminA, userA      string // access tokens
	adminB             string
	narrowKeyA         string
	adminAID, userAID  int64
	adminBID           int64
	groupAID, groupBID int64
}

// A case describes one route. ok builds a request a GROUP_ADMIN of A may
// make (it may create what it needs first); deny names who gets 403
// ("user": A's USER; "scope": A's audit:read-only key; "": nobody, any
// authenticated caller may); cross says B's admin gets 404 for the object
// the path names.
type matrixCase struct {
	ok    func(t *testing.T, w *world) (path string, body any)
	deny  string
	cross bool
	// okStatus, when set, is the ok request's expected status instead of
	// any 2xx (a documented refusal of a permitted caller).
	okStatus int
	// actor is who makes the ok request: "" A's GROUP_ADMIN, "master" the
	// master key (SUPER_ADMIN-only routes), "fresh" the user last made by
	// freshUser (for routes that change the caller's own account), "device"
	// the device last paired by newDevice (routes of a device's own data).
	actor string
}

// freshUser creates a new GROUP_ADMIN in A, logs in, and remembers its token
// for actor "fresh".
func freshUser(t *testing.T, w *world) (id int64, name string) {
	t.Helper()
	w.n++
	name = fmt.Sprintf("fresh-%d", w.n)
	u := w.e.CreateUser(t, name, "password1", identity.GroupAdmin, "A")
	w.fresh, _ = w.e.Login(t, name, "password1")
	return u.ID, name
}

// mfaSecret starts MFA enrolment for the fresh user and returns the secret.
func mfaSecret(t *testing.T, w *world) string {
	t.Helper()
	r := w.e.Do(t, "POST", "/api/auth/mfa/setup", nil, servertest.Bearer(w.fresh)...)
	if r.Status != 200 {
		t.Fatalf("mfa setup: %d %s", r.Status, r.Raw)
	}
	return r.JSON["secret"].(string)
}

func totp(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := identity.TOTPCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func freshPath(prefix string, byName bool) func(*testing.T, *world) (string, any) {
	return func(t *testing.T, w *world) (string, any) {
		id, name := freshUser(t, w)
		if byName {
			return prefix + name, map[string]any{"password": "password2"}
		}
		return fmt.Sprintf("%s%d", prefix, id), map[string]any{"full_name": "Changed"}
	}
}

func fixed(path string) func(*testing.T, *world) (string, any) {
	return func(*testing.T, *world) (string, any) { return path, nil }
}

// rotatedCA adds a pending CA to group A and returns its id.
func rotatedCA(t *testing.T, w *world) string {
	t.Helper()
	p := &authz.Principal{Kind: authz.KindUser, UserID: w.adminAID, Role: authz.GroupAdmin, GroupID: w.groupAID}
	c, err := w.e.Server.PKI.Rotate(context.Background(), p, servertest.Src, pki.RotateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(c.ID)
}

func newKey(t *testing.T, w *world) string {
	t.Helper()
	r := w.e.Do(t, "POST", "/api/v1/apikeys", map[string]any{"name": "m", "scopes": []string{"users:read"}}, servertest.Bearer(w.adminA)...)
	if r.Status != 201 {
		t.Fatalf("creating key: %d %s", r.Status, r.Raw)
	}
	return r.JSON["id"].(string)
}

// newApp creates an app of group A (and its route) as its administrator and
// returns its id; the upstream is a closed port, which the catalog routes
// never need to reach.
func newApp(t *testing.T, w *world) string {
	t.Helper()
	w.n++
	id := fmt.Sprintf("app-%d", w.n)
	if r := w.e.Do(t, "POST", "/api/v1/routes", map[string]any{"appId": id, "to": "http://127.0.0.1:9"}, servertest.Bearer(w.adminA)...); r.Status != 201 {
		t.Fatalf("app: %d %s", r.Status, r.Raw)
	}
	return id
}

var matrix = map[string]matrixCase{
	// Nekzus apps: USERs read the catalog and change only their own apps;
	// discovery decisions are administrators'. Proposals are made through
	// the domain (appsProposal); rediscovery needs a container engine, so
	// its ok case expects the documented 503 when there is none and is
	// checked in internal/docker with a real one.
	"GET /api/v1/apps":   {deny: "scope", ok: fixed("/api/v1/apps")},
	"GET /api/v1/routes": {deny: "scope", ok: fixed("/api/v1/routes")},
	"POST /api/v1/routes": {deny: "scope", ok: func(t *testing.T, w *world) (string, any) {
		w.n++
		return "/api/v1/routes", map[string]any{"appId": fmt.Sprintf("new-%d", w.n), "to": "http://127.0.0.1:9"}
	}},
	"GET /api/v1/apps/{appId}/favicon": {deny: "scope", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/apps/" + newApp(t, w) + "/favicon", nil
	}},
	"GET /api/v1/services/{appId}/health": {deny: "scope", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/services/" + newApp(t, w) + "/health", nil
	}},
	"PUT /api/v1/routes/{routeId}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/routes/route_" + newApp(t, w), map[string]any{"websocket": true}
	}},
	"DELETE /api/v1/routes/{routeId}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/routes/route_" + newApp(t, w), nil
	}},
	"GET /api/v1/discovery/proposals": {deny: "scope", ok: fixed("/api/v1/discovery/proposals")},
	"POST /api/v1/discovery/proposals/{proposalId}/approve": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/discovery/proposals/" + appsProposal(t, w) + "/approve", map[string]any{"port": 8080}
	}},
	"POST /api/v1/discovery/proposals/{proposalId}/dismiss": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/discovery/proposals/" + appsProposal(t, w) + "/dismiss", nil
	}},
	"POST /api/v1/discovery/rediscover": {deny: "user", ok: fixed("/api/v1/discovery/rediscover"), okStatus: 503},

	"GET /api/v1/auth/me":      {ok: fixed("/api/v1/auth/me")},
	"POST /api/v1/auth/logout": {ok: fixed("/api/v1/auth/logout")},
	"GET /api/v1/audit-logs":   {ok: fixed("/api/v1/audit-logs"), deny: "user"},
	"GET /api/v1/apikeys":      {ok: fixed("/api/v1/apikeys"), deny: "scope"},

	// Backups hold every group's data: SUPER_ADMIN only (a GROUP_ADMIN is
	// refused like a USER; TestBackupsAPI checks both).
	"GET /api/v1/backups":  {actor: "master", deny: "user", ok: fixed("/api/v1/backups")},
	"POST /api/v1/backups": {actor: "master", deny: "user", ok: fixed("/api/v1/backups")},
	"GET /api/v1/backups/{id}": {actor: "master", deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/backups/" + newBackup(t, w), nil
	}},
	"DELETE /api/v1/backups/{id}": {actor: "master", deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/backups/" + newBackup(t, w), nil
	}},
	"POST /api/v1/backups/{id}/restore": {actor: "master", deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		// A facet without tables yet: the restore changes nothing the
		// other cases rely on.
		return "/api/v1/backups/" + newBackup(t, w) + "/restore", map[string]any{"restoreApps": true}
	}},
	"GET /api/v1/backups/scheduler/status":   {actor: "master", deny: "user", ok: fixed("/api/v1/backups/scheduler/status")},
	"POST /api/v1/backups/scheduler/trigger": {actor: "master", deny: "user", ok: fixed("/api/v1/backups/scheduler/trigger")},

	// Federation peers are server-wide: SUPER_ADMIN only. The matrix's
	// server has no peer, so a peer's own routes answer the documented
	// 404 to a permitted caller (TestFederation covers a real peer), and
	// joining with a token that is not one answers 400.
	"GET /api/v1/federation/peers":         {actor: "master", deny: "user", ok: fixed("/api/v1/federation/peers")},
	"GET /api/v1/federation/peers/{id}":    {actor: "master", deny: "user", okStatus: 404, ok: fixed("/api/v1/federation/peers/peer_000000000000")},
	"DELETE /api/v1/federation/peers/{id}": {actor: "master", deny: "user", okStatus: 404, ok: fixed("/api/v1/federation/peers/peer_000000000000")},
	"POST /api/v1/federation/sync":         {actor: "master", deny: "user", ok: fixed("/api/v1/federation/sync")},
	"GET /api/v1/federation/status":        {actor: "master", deny: "user", ok: fixed("/api/v1/federation/status")},
	"POST /api/v1/federation/tokens":       {actor: "master", deny: "user", ok: fixed("/api/v1/federation/tokens")},
	"POST /api/v1/federation/join": {actor: "master", deny: "user", okStatus: 400, ok: func(*testing.T, *world) (string, any) {
		return "/api/v1/federation/join", map[string]any{"token": "nkfed_not-a-token"}
	}},
	"GET /api/v1/system/resources": {actor: "master", deny: "user", ok: fixed("/api/v1/system/resources")},

	// The toolbox and exports drive the host's container engine:
	// SUPER_ADMIN only, like scripts. The matrix's server has no engine,
	// so what needs one answers 503 to the permitted caller.
	"GET /api/v1/toolbox/services":      {actor: "master", deny: "user", ok: fixed("/api/v1/toolbox/services")},
	"GET /api/v1/toolbox/services/{id}": {actor: "master", deny: "user", ok: fixed("/api/v1/toolbox/services/busybox-web")},
	"POST /api/v1/toolbox/deploy": {actor: "master", deny: "user", okStatus: 503, ok: func(*testing.T, *world) (string, any) {
		return "/api/v1/toolbox/deploy", map[string]any{"serviceId": "busybox-web"}
	}},
	"GET /api/v1/toolbox/deployments": {actor: "master", deny: "user", ok: fixed("/api/v1/toolbox/deployments")},
	"GET /api/v1/toolbox/deployments/{id}": {actor: "master", deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/toolbox/deployments/" + newDeployment(t, w), nil
	}},
	"DELETE /api/v1/toolbox/deployments/{id}": {actor: "master", deny: "user", okStatus: 503, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/toolbox/deployments/" + newDeployment(t, w), nil
	}},
	"GET /api/v1/containers/{containerId}/export/preview": {actor: "master", deny: "user", okStatus: 503, ok: fixed("/api/v1/containers/c1/export/preview")},
	"POST /api/v1/containers/{containerId}/export":        {actor: "master", deny: "user", okStatus: 503, ok: fixed("/api/v1/containers/c1/export")},
	"POST /api/v1/containers/batch/export/preview": {actor: "master", deny: "user", okStatus: 503, ok: func(*testing.T, *world) (string, any) {
		return "/api/v1/containers/batch/export/preview", map[string]any{"containerIds": []string{"c1"}}
	}},
	"POST /api/v1/containers/batch/export": {actor: "master", deny: "user", okStatus: 503, ok: func(*testing.T, *world) (string, any) {
		return "/api/v1/containers/batch/export", map[string]any{"containerIds": []string{"c1"}}
	}},

	// Containers are server-wide: SUPER_ADMIN only. This server has no
	// container engine, so the permitted caller gets the documented 503;
	// internal/server/containers_test.go runs them on a real engine.
	"GET /api/v1/containers":                        {actor: "master", deny: "user", ok: fixed("/api/v1/containers"), okStatus: 503},
	"GET /api/v1/containers/stats":                  {actor: "master", deny: "user", ok: fixed("/api/v1/containers/stats"), okStatus: 503},
	"GET /api/v1/containers/{containerId}":          {actor: "master", deny: "user", ok: fixed("/api/v1/containers/c1"), okStatus: 503},
	"GET /api/v1/containers/{containerId}/stats":    {actor: "master", deny: "user", ok: fixed("/api/v1/containers/c1/stats"), okStatus: 503},
	"POST /api/v1/containers/{containerId}/start":   {actor: "master", deny: "user", ok: fixed("/api/v1/containers/c1/start"), okStatus: 503},
	"POST /api/v1/containers/{containerId}/stop":    {actor: "master", deny: "user", ok: fixed("/api/v1/containers/c1/stop"), okStatus: 503},
	"POST /api/v1/containers/{containerId}/restart": {actor: "master", deny: "user", ok: fixed("/api/v1/containers/c1/restart"), okStatus: 503},
	"POST /api/v1/containers/start-all":             {actor: "master", deny: "user", ok: fixed("/api/v1/containers/start-all"), okStatus: 503},
	"POST /api/v1/containers/stop-all":              {actor: "master", deny: "user", ok: fixed("/api/v1/containers/stop-all"), okStatus: 503},
	"POST /api/v1/containers/restart-all":           {actor: "master", deny: "user", ok: fixed("/api/v1/containers/restart-all"), okStatus: 503},
	"POST /api/v1/containers/batch": {actor: "master", deny: "user", okStatus: 503, ok: func(*testing.T, *world) (string, any) {
		return "/api/v1/containers/batch", map[string]any{"operation": "restart", "containerIds": []string{"c1"}}
	}},

	// The HTTPS certificates are server-wide: SUPER_ADMIN only, like backups.
	"POST /api/v1/certificates/generate": {actor: "master", deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/certificates/generate", map[string]any{"domains": []string{"matrix.test"}, "provider": "self-signed"}
	}},
	"GET /api/v1/certificates":         {actor: "master", deny: "user", ok: fixed("/api/v1/certificates")},
	"GET /api/v1/certificates/suggest": {actor: "master", deny: "user", ok: fixed("/api/v1/certificates/suggest")},
	"GET /api/v1/certificates/{domain}": {actor: "master", deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/certificates/" + newTLSCertificate(t, w), nil
	}},
	"DELETE /api/v1/certificates/{domain}": {actor: "master", deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/certificates/" + newTLSCertificate(t, w), nil
	}},

	// Scripts run on the host: SUPER_ADMIN only, like backups.
	"GET /api/v1/scripts":           {actor: "master", deny: "user", ok: fixed("/api/v1/scripts")},
	"GET /api/v1/scripts/available": {actor: "master", deny: "user", ok: fixed("/api/v1/scripts/available")},
	"POST /api/v1/scripts": {actor: "master", deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		w.n++
		return "/api/v1/scripts", map[string]any{"name": fmt.Sprintf("matrix %d", w.n), "scriptPath": "ok.sh"}
	}},
	"GET /api/v1/scripts/{id}": {actor: "master", deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/scripts/" + newScript(t, w), nil
	}},
	"PUT /api/v1/scripts/{id}": {actor: "master", deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/scripts/" + newScript(t, w), map[string]any{"description": "changed"}
	}},
	"DELETE /api/v1/scripts/{id}": {actor: "master", deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/scripts/" + newScript(t, w), nil
	}},
	"POST /api/v1/scripts/{id}/execute": {actor: "master", deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/scripts/" + newScript(t, w) + "/execute", nil
	}},
	"POST /api/v1/scripts/{id}/dry-run": {actor: "master", deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/scripts/" + newScript(t, w) + "/dry-run", nil
	}},
	"GET /api/v1/executions": {actor: "master", deny: "user", ok: fixed("/api/v1/executions")},
	"GET /api/v1/workflows":  {actor: "master", deny: "user", ok: fixed("/api/v1/workflows")},
	"POST /api/v1/workflows": {actor: "master", deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		w.n++
		return "/api/v1/workflows", map[string]any{"name": fmt.Sprintf("matrix wf %d", w.n), "steps": []map[string]any{{"scriptId": newScript(t, w)}}}
	}},
	"GET /api/v1/workflows/{id}": {actor: "master", deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/workflows/" + newWorkflow(t, w), nil
	}},
	"DELETE /api/v1/workflows/{id}": {actor: "master", deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/workflows/" + newWorkflow(t, w), nil
	}},
	"POST /api/v1/workflows/{id}/execute": {actor: "master", deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/workflows/" + newWorkflow(t, w) + "/execute", nil
	}},
	"GET /api/v1/schedules": {actor: "master", deny: "user", ok: fixed("/api/v1/schedules")},
	"POST /api/v1/schedules": {actor: "master", deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/schedules", map[string]any{"scriptId": newScript(t, w), "cronExpression": "0 2 * * *"}
	}},
	"GET /api/v1/schedules/{id}": {actor: "master", deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/schedules/" + newSchedule(t, w), nil
	}},
	"DELETE /api/v1/schedules/{id}": {actor: "master", deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/schedules/" + newSchedule(t, w), nil
	}},
	"GET /api/v1/executions/{id}": {actor: "master", deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		e, err := w.e.Server.Scripts.Execute(context.Background(), gatekeyMaster, servertest.Src, newScript(t, w), nil, false, false)
		if err != nil {
			t.Fatal(err)
		}
		return "/api/v1/executions/" + e.ID, nil
	}},
	"GET /api/v1/api-keys": {ok: fixed("/api/v1/api-keys"), deny: "scope"},
	"POST /api/v1/apikeys": {deny: "scope", ok: func(*testing.T, *world) (string, any) {
		return "/api/v1/apikeys", map[string]any{"name": "x", "scopes": []string{"users:read"}}
	}},
	"POST /api/v1/api-keys": {deny: "scope", ok: func(*testing.T, *world) (string, any) {
		return "/api/v1/api-keys", map[string]any{"name": "x", "permissions": []string{"users_manage"}}
	}},
	"GET /api/v1/apikeys/{keyId}": {deny: "scope", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/apikeys/" + newKey(t, w), nil
	}},
	"GET /api/v1/api-keys/{key_id}": {deny: "scope", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/api-keys/" + newKey(t, w), nil
	}},
	"DELETE /api/v1/apikeys/{keyId}": {deny: "scope", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/apikeys/" + newKey(t, w), nil
	}},
	"DELETE /api/v1/api-keys/{key_id}": {deny: "scope", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/api-keys/" + newKey(t, w), nil
	}},

	// Nekzus's live side: the feed and the figures need a read of what they
	// show (the audit:read key reads none of it), webhooks write devices.
	"GET /api/v1/activity/recent": {ok: fixed("/api/v1/activity/recent"), deny: "scope"},
	"GET /api/v1/stats":           {ok: fixed("/api/v1/stats"), deny: "scope"},
	"GET /api/v1/stats/quick":     {ok: fixed("/api/v1/stats/quick"), deny: "scope"},
	"GET /api/v1/admin/info":      {ok: fixed("/api/v1/admin/info")},
	"POST /api/v1/webhooks/activity": {deny: "scope", ok: func(*testing.T, *world) (string, any) {
		return "/api/v1/webhooks/activity", map[string]any{"message": "Deployment completed"}
	}},
	"POST /api/v1/webhooks/notify": {deny: "scope", ok: func(*testing.T, *world) (string, any) {
		return "/api/v1/webhooks/notify", map[string]any{"type": "custom_event", "data": map[string]any{"status": "ok"}}
	}},

	// Nekzus devices ("IP-based (local)" routes: with IP trust off, as
	// here, they need a credential like any other) and a device's own
	// session cookies ("JWT (strict)": a device token only).
	"GET /api/v1/auth/qr": {deny: "scope", ok: fixed("/api/v1/auth/qr")},
	"GET /api/v1/devices": {deny: "scope", ok: fixed("/api/v1/devices")},
	"GET /api/v1/devices/{deviceId}": {deny: "scope", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/devices/" + newDevice(t, w), nil
	}},
	"PATCH /api/v1/devices/{deviceId}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/devices/" + newDevice(t, w), map[string]string{"deviceName": "renamed"}
	}},
	"DELETE /api/v1/devices/{deviceId}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/devices/" + newDevice(t, w), nil
	}},
	"GET /api/v1/session-cookies": {deny: "user", actor: "device", ok: func(t *testing.T, w *world) (string, any) {
		newDevice(t, w)
		return "/api/v1/session-cookies", nil
	}},
	"DELETE /api/v1/session-cookies": {deny: "user", actor: "device", ok: func(t *testing.T, w *world) (string, any) {
		newDevice(t, w)
		return "/api/v1/session-cookies", nil
	}},
	"DELETE /api/v1/session-cookies/{appId}": {deny: "user", actor: "device", ok: func(t *testing.T, w *world) (string, any) {
		newDevice(t, w)
		return "/api/v1/session-cookies/grafana", nil
	}},

	// NetKey web auth and MFA.
	"GET /api/auth/me":      {ok: fixed("/api/auth/me")},
	"POST /api/auth/logout": {ok: fixed("/api/auth/logout")},
	"POST /api/auth/mfa/setup": {actor: "fresh", ok: func(t *testing.T, w *world) (string, any) {
		freshUser(t, w)
		return "/api/auth/mfa/setup", nil
	}},
	"POST /api/auth/mfa/enable": {actor: "fresh", ok: func(t *testing.T, w *world) (string, any) {
		freshUser(t, w)
		secret := mfaSecret(t, w)
		return "/api/auth/mfa/enable", map[string]string{"totp_code": totp(t, secret, time.Now())}
	}},
	"POST /api/auth/mfa/disable": {actor: "fresh", ok: func(t *testing.T, w *world) (string, any) {
		freshUser(t, w)
		secret := mfaSecret(t, w)
		if r := w.e.Do(t, "POST", "/api/auth/mfa/enable", map[string]string{"totp_code": totp(t, secret, time.Now())}, servertest.Bearer(w.fresh)...); r.Status != 200 {
			t.Fatalf("mfa enable: %d %s", r.Status, r.Raw)
		}
		return "/api/auth/mfa/disable", map[string]string{"password": "password1", "totp_code": totp(t, secret, time.Now().Add(30*time.Second))}
	}},

	// Users: NetKey, GateKey, Netmaker.
	"GET /api/v1/users": {deny: "scope", ok: fixed("/api/v1/users")},
	"POST /api/v1/users": {deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		w.n++
		name := fmt.Sprintf("created-%d", w.n)
		return "/api/v1/users", map[string]any{"username": name, "email": name + "@example.com", "password": "password1"}
	}},
	"GET /api/v1/users/{id}": {deny: "scope", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return fmt.Sprintf("/api/v1/users/%d", w.userAID), nil
	}},
	// Offboarding (netkeep's own): administrators only; another group's
	// users, devices and nodes are invisible.
	"GET /api/v1/users/{id}/access": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return fmt.Sprintf("/api/v1/users/%d/access", w.userAID), nil
	}},
	"POST /api/v1/users/{id}/offboard": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		id, _ := freshUser(t, w)
		return fmt.Sprintf("/api/v1/users/%d/offboard", id), map[string]any{"dry_run": false}
	}},
	"POST /api/v1/offboard/devices/{id}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/offboard/devices/" + newDevice(t, w), map[string]any{}
	}},
	"POST /api/v1/offboard/nodes/{network}/{mac}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/offboard/nodes/" + newNode(t, w) + "/02:00:00:00:00:01", nil
	}},
	"PUT /api/v1/users/{id}":       {deny: "user", cross: true, ok: freshPath("/api/v1/users/", false)},
	"DELETE /api/v1/users/{id}":    {deny: "user", cross: true, ok: freshPath("/api/v1/users/", false)},
	"GET /api/v1/admin/users":      {deny: "scope", ok: fixed("/api/v1/admin/users")},
	"GET /api/v1/auth/session":     {ok: fixed("/api/v1/auth/session")},
	"GET /api/users/{username}":    {deny: "scope", cross: true, ok: fixed("/api/users/user-a")},
	"PUT /api/users/{username}":    {deny: "user", cross: true, ok: freshPath("/api/users/", true)},
	"DELETE /api/users/{username}": {deny: "user", cross: true, ok: freshPath("/api/users/", true)},

	// PKI: revocation is pki:write over the certificate's group.
	"POST /api/v1/admin/pki/revoke": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		out, err := w.e.Server.PKI.IssueClient(context.Background(), servertest.Src, pki.ClientRequest{CommonName: "m", UserID: w.userAID, GroupID: w.groupAID})
		if err != nil {
			t.Fatal(err)
		}
		return "/api/v1/admin/pki/revoke", map[string]any{"serial": string(out.Certificate.Serial), "reason": "superseded"}
	}},

	// NetKey PSKs and endpoints: USERs manage their own, so only the admin
	// key scope is refused; B's admin cannot see A's objects.
	"GET /api/v1/psks": {deny: "scope", ok: fixed("/api/v1/psks")},
	"POST /api/v1/psks": {deny: "scope", ok: func(t *testing.T, w *world) (string, any) {
		w.n++
		return "/api/v1/psks", map[string]any{"psk_id": fmt.Sprintf("c-%d", w.n)}
	}},
	"POST /api/v1/psks/bulk": {deny: "scope", ok: func(t *testing.T, w *world) (string, any) {
		w.n++
		return "/api/v1/psks/bulk", map[string]any{"psks": []map[string]any{{"psk_id": fmt.Sprintf("b-%d", w.n)}}}
	}},
	"POST /api/v1/psks/import": {deny: "scope", ok: func(t *testing.T, w *world) (string, any) {
		w.n++
		return "/api/v1/psks/import", fmt.Sprintf("psk_id\ni-%d\n", w.n)
	}},
	"GET /api/v1/psks/export": {deny: "scope", ok: fixed("/api/v1/psks/export")},
	"GET /api/v1/psks/{id}": {deny: "scope", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		id, _ := newPSK(t, w)
		return fmt.Sprintf("/api/v1/psks/%d", id), nil
	}},
	"PUT /api/v1/psks/{id}": {deny: "scope", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		id, _ := newPSK(t, w)
		return fmt.Sprintf("/api/v1/psks/%d", id), map[string]any{"description": "changed"}
	}},
	"DELETE /api/v1/psks/{id}": {deny: "scope", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		id, _ := newPSK(t, w)
		return fmt.Sprintf("/api/v1/psks/%d", id), nil
	}},
	"GET /api/v1/endpoints": {deny: "scope", ok: fixed("/api/v1/endpoints")},
	"POST /api/v1/endpoints": {deny: "scope", ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/endpoints", endpointBody(t, w)
	}},
	"POST /api/v1/endpoints/bulk": {deny: "scope", ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/endpoints/bulk", map[string]any{"endpoints": []any{endpointBody(t, w)}}
	}},
	"GET /api/v1/endpoints/{id}": {deny: "scope", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return newEndpoint(t, w), nil
	}},
	"PUT /api/v1/endpoints/{id}": {deny: "scope", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return newEndpoint(t, w), map[string]any{"description": "changed"}
	}},
	"DELETE /api/v1/endpoints/{id}": {deny: "scope", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return newEndpoint(t, w), nil
	}},

	// RADIUS clients (NAS) and sessions are administrators' business.
	"GET /api/v1/radius/clients": {deny: "user", ok: fixed("/api/v1/radius/clients")},
	"POST /api/v1/radius/clients": {deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		w.n++
		return "/api/v1/radius/clients", map[string]any{"name": fmt.Sprintf("n-%d", w.n),
			"address": fmt.Sprintf("10.8.%d.%d", w.n/256%256, w.n%256), "secret": "shared-secret-1"}
	}},
	"GET /api/v1/radius/clients/{id}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		p, _ := radiusClientPath(t, w)
		return p, nil
	}},
	"PUT /api/v1/radius/clients/{id}": {deny: "user", cross: true, ok: radiusClientPath},
	"DELETE /api/v1/radius/clients/{id}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		p, _ := radiusClientPath(t, w)
		return p, nil
	}},
	"GET /api/v1/radius/sessions": {deny: "user", ok: fixed("/api/v1/radius/sessions")},
	// Another group's station is simply not found among the caller's
	// sessions (an empty result), so there is no cross case.
	"POST /api/v1/radius/sessions/disconnect": {deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/radius/sessions/disconnect", map[string]any{"mac": "02:00:00:00:00:01"}
	}},

	// Groups: SUPER_ADMIN manages, others read their own.
	"GET /api/v1/groups": {deny: "scope", ok: fixed("/api/v1/groups")},
	"GET /api/v1/groups/{id}": {deny: "scope", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return fmt.Sprintf("/api/v1/groups/%d", w.groupAID), nil
	}},
	"POST /api/v1/groups": {actor: "master", deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		w.n++
		return "/api/v1/groups", map[string]string{"name": fmt.Sprintf("new-%d", w.n)}
	}},
	// Other groups are invisible to A's callers (404, checked as cross);
	// TestGroupAdminCannotManageGroups checks 403 on their own group.
	"PUT /api/v1/groups/{id}": {actor: "master", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/groups/" + emptyGroup(t, w), map[string]string{"name": fmt.Sprintf("renamed-%d", w.n)}
	}},
	"DELETE /api/v1/groups/{id}": {actor: "master", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/groups/" + emptyGroup(t, w), nil
	}},

	// Netmaker mesh: each case makes a fresh network (and node) of group A as
	// its administrator. Routes nodes call with their own JWT are Custom and
	// tested with the mesh API (internal/api/netmaker).
	"GET /api/networks": {deny: "scope", ok: fixed("/api/networks")},
	"POST /api/networks": {deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		w.n++
		return "/api/networks", map[string]any{"netid": fmt.Sprintf("mx%d", w.n)}
	}},
	"POST /api/network": {deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		w.n++
		return "/api/network", map[string]any{"netid": fmt.Sprintf("mx%d", w.n)}
	}},
	"GET /api/networks/{netid}": {deny: "scope", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		id := newNetwork(t, w)
		return "/api/networks/" + id, nil
	}},
	"PUT /api/networks/{netid}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		id := newNetwork(t, w)
		return "/api/networks/" + id, map[string]any{"displayname": "renamed"}
	}},
	"DELETE /api/networks/{netid}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		id := newNetwork(t, w)
		return "/api/networks/" + id, nil
	}},
	"POST /api/networks/{netid}/keyupdate": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		id := newNetwork(t, w)
		return "/api/networks/" + id + "/keyupdate", nil
	}},
	"GET /api/networks/{netid}/keys": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		id := newNetwork(t, w)
		return "/api/networks/" + id + "/keys", nil
	}},
	"POST /api/networks/{netid}/keys": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		id := newNetwork(t, w)
		return "/api/networks/" + id + "/keys", map[string]any{"uses": 3}
	}},
	"DELETE /api/networks/{netid}/keys/{keyname}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		id := newNetwork(t, w)
		if r := w.e.Do(t, "POST", "/api/networks/"+id+"/keys", map[string]any{"name": "k"}, servertest.Bearer(w.adminA)...); r.Status != 200 {
			t.Fatalf("key: %d %s", r.Status, r.Raw)
		}
		return "/api/networks/" + id + "/keys/k", nil
	}},
	"GET /api/nodes": {deny: "scope", ok: fixed("/api/nodes")},
	"GET /api/nodes/{network}": {deny: "scope", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		id := newNode(t, w)
		return "/api/nodes/" + id, nil
	}},
	"POST /api/nodes/{network}/{macaddress}/creategateway": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		id := newNode(t, w)
		return "/api/nodes/" + id + "/02:00:00:00:00:01/creategateway", map[string]any{"ranges": []string{"192.168.200.0/24"}}
	}},
	"DELETE /api/nodes/{network}/{macaddress}/deletegateway": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		id := newNode(t, w)
		return "/api/nodes/" + id + "/02:00:00:00:00:01/deletegateway", nil
	}},
	"POST /api/nodes/{network}/{macaddress}/approve": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		id := newNode(t, w)
		return "/api/nodes/" + id + "/02:00:00:00:00:01/approve", nil
	}},
	"POST /api/nodes/{network}/{macaddress}/uncordon": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		id := newNode(t, w)
		return "/api/nodes/" + id + "/02:00:00:00:00:01/uncordon", nil
	}},
	"POST /api/server/addnetwork/{netid}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		id := newNetwork(t, w)
		return "/api/server/addnetwork/" + id, nil
	}},
	"DELETE /api/server/removenetwork/{netid}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		id := newNetwork(t, w)
		if r := w.e.Do(t, "POST", "/api/server/addnetwork/"+id, nil, servertest.Bearer(w.adminA)...); r.Status != 200 {
			t.Fatalf("addnetwork: %d %s", r.Status, r.Raw)
		}
		return "/api/server/removenetwork/" + id, nil
	}},

	// GateKey gateways, networks, access rules, hubs and sessions: the admin
	// API is administrators' only, even to read; the fixtures are made through
	// the domain (newGatewayA and friends). The agent endpoints are Custom
	// (X-Gateway-Token) and tested with the GateKey API.
	"GET /api/v1/gateways":       {deny: "scope", ok: fixed("/api/v1/gateways")},
	"GET /api/v1/mesh/hubs":      {deny: "scope", ok: fixed("/api/v1/mesh/hubs")},
	"GET /api/v1/admin/gateways": {deny: "user", ok: fixed("/api/v1/admin/gateways")},
	"POST /api/v1/admin/gateways": {deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		w.n++
		return "/api/v1/admin/gateways", map[string]any{"name": fmt.Sprintf("gw-%d", w.n), "hostname": "vpn.example.com"}
	}},
	"GET /api/v1/admin/gateways/{id}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/gateways/" + newGatewayA(t, w), nil
	}},
	"PUT /api/v1/admin/gateways/{id}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/gateways/" + newGatewayA(t, w), map[string]any{"port": 443}
	}},
	"DELETE /api/v1/admin/gateways/{id}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/gateways/" + newGatewayA(t, w), nil
	}},
	"POST /api/v1/admin/gateways/{id}/regenerate-token": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/gateways/" + newGatewayA(t, w) + "/regenerate-token", nil
	}},
	"GET /api/v1/admin/networks": {deny: "user", ok: fixed("/api/v1/admin/networks")},
	"POST /api/v1/admin/networks": {deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		w.n++
		return "/api/v1/admin/networks", map[string]any{"name": fmt.Sprintf("net-%d", w.n), "cidr": "10.20.0.0/16"}
	}},
	"GET /api/v1/admin/networks/{id}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/networks/" + newVPNNetworkA(t, w), nil
	}},
	"PUT /api/v1/admin/networks/{id}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/networks/" + newVPNNetworkA(t, w), map[string]any{"description": "changed"}
	}},
	"DELETE /api/v1/admin/networks/{id}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/networks/" + newVPNNetworkA(t, w), nil
	}},
	"GET /api/v1/admin/access-rules": {deny: "user", ok: fixed("/api/v1/admin/access-rules")},
	"POST /api/v1/admin/access-rules": {deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/access-rules", map[string]any{"name": "r", "network_id": newVPNNetworkA(t, w), "user_ids": []int64{w.userAID}}
	}},
	"GET /api/v1/admin/access-rules/{id}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/access-rules/" + newRuleA(t, w), nil
	}},
	"PUT /api/v1/admin/access-rules/{id}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/access-rules/" + newRuleA(t, w), map[string]any{"enabled": false}
	}},
	"DELETE /api/v1/admin/access-rules/{id}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/access-rules/" + newRuleA(t, w), nil
	}},
	"GET /api/v1/admin/mesh/hubs": {deny: "user", ok: fixed("/api/v1/admin/mesh/hubs")},
	"POST /api/v1/admin/mesh/hubs": {deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		w.n++
		return "/api/v1/admin/mesh/hubs", map[string]any{"name": fmt.Sprintf("hub-%d", w.n), "gateway_id": newGatewayA(t, w)}
	}},
	"GET /api/v1/admin/mesh/hubs/{id}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/mesh/hubs/" + newHubA(t, w), nil
	}},
	"PUT /api/v1/admin/mesh/hubs/{id}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/mesh/hubs/" + newHubA(t, w), map[string]any{"description": "changed"}
	}},
	"DELETE /api/v1/admin/mesh/hubs/{id}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/mesh/hubs/" + newHubA(t, w), nil
	}},
	"GET /api/v1/admin/sessions": {deny: "user", ok: fixed("/api/v1/admin/sessions")},

	// gatekey-admin's own views: administrators only; another group's
	// users, groups and keys are not found.
	"GET /api/v1/admin/local-users": {deny: "user", ok: fixed("/api/v1/admin/local-users")},
	"POST /api/v1/admin/local-users": {deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		w.n++
		name := fmt.Sprintf("local-%d", w.n)
		return "/api/v1/admin/local-users", map[string]any{"username": name, "email": name + "@example.com", "password": "password1"}
	}},
	"DELETE /api/v1/admin/local-users/{id}": {deny: "user", cross: true, ok: freshPath("/api/v1/admin/local-users/", false)},
	"POST /api/v1/admin/local-users/{id}/reset-password": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		id, _ := freshUser(t, w)
		return fmt.Sprintf("/api/v1/admin/local-users/%d/reset-password", id), map[string]any{"password": "password2"}
	}},
	"GET /api/v1/admin/groups":                {deny: "user", ok: fixed("/api/v1/admin/groups")},
	"GET /api/v1/admin/groups/{name}/members": {deny: "user", cross: true, ok: fixed("/api/v1/admin/groups/A/members")},
	"GET /api/v1/admin/groups/{name}/rules":   {deny: "user", cross: true, ok: fixed("/api/v1/admin/groups/A/rules")},
	"GET /api/v1/admin/api-keys":              {deny: "user", ok: fixed("/api/v1/admin/api-keys")},
	"POST /api/v1/admin/api-keys": {deny: "user", ok: func(*testing.T, *world) (string, any) {
		return "/api/v1/admin/api-keys", map[string]any{"name": "x", "scopes": []string{"gateways:read"}}
	}},
	"GET /api/v1/admin/api-keys/{id}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/api-keys/" + newKey(t, w), nil
	}},
	"DELETE /api/v1/admin/api-keys/{id}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/api-keys/" + newKey(t, w), nil
	}},
	"GET /api/v1/admin/ca":      {deny: "user", ok: fixed("/api/v1/admin/ca")},
	"GET /api/v1/admin/ca/list": {deny: "user", ok: fixed("/api/v1/admin/ca/list")},
	// CA rotation: pki:write on the caller's group; B's admin finds none of
	// A's CAs.
	"POST /api/v1/admin/ca/rotate": {deny: "user", ok: fixed("/api/v1/admin/ca/rotate")},
	"POST /api/v1/admin/ca/{id}/activate": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/ca/" + rotatedCA(t, w) + "/activate", nil
	}},
	"POST /api/v1/admin/ca/{id}/revoke": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/ca/" + rotatedCA(t, w) + "/revoke", nil
	}},
	"GET /api/v1/admin/connections": {deny: "user", ok: fixed("/api/v1/admin/connections")},
	"GET /api/v1/admin/topology":    {deny: "user", ok: fixed("/api/v1/admin/topology")},

	// gatekey-admin's write commands: administrators of the object's group.
	"POST /api/v1/admin/connections/{id}/disconnect": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/connections/" + newSessionA(t, w) + "/disconnect", nil
	}},
	"GET /api/v1/admin/users/{id}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return fmt.Sprintf("/api/v1/admin/users/%d", w.userAID), nil
	}},
	"POST /api/v1/admin/users/{id}/revoke-configs": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return fmt.Sprintf("/api/v1/admin/users/%d/revoke-configs", w.userAID), nil
	}},
	"POST /api/v1/admin/gateways/{id}/reprovision": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/gateways/" + newGatewayA(t, w) + "/reprovision", nil
	}},
	"GET /api/v1/admin/remote-session/agents": {deny: "user", ok: fixed("/api/v1/admin/remote-session/agents")},
	// Network tools and remote sessions: administrators only; a gateway
	// of another group is not found. A's own gateway has no agent
	// connected: 503 for A, 404 for B. The session's plain GET passes the
	// checks and is refused only as no WebSocket upgrade.
	"GET /api/v1/admin/network-tools": {deny: "user", ok: fixed("/api/v1/admin/network-tools")},
	"POST /api/v1/admin/network-tools/execute": {deny: "user", cross: true, okStatus: http.StatusServiceUnavailable,
		ok: func(t *testing.T, w *world) (string, any) {
			return "/api/v1/admin/network-tools/execute", map[string]any{"tool": "ping", "target": "127.0.0.1",
				"location": "gateway:" + newGatewayA(t, w)}
		}},
	"GET /ws/admin/session": {deny: "user", okStatus: http.StatusUpgradeRequired, ok: fixed("/ws/admin/session")},
	"GET /api/v1/admin/users/{id}/api-keys": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return fmt.Sprintf("/api/v1/admin/users/%d/api-keys", w.userAID), nil
	}},
	"POST /api/v1/admin/users/{id}/api-keys": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return fmt.Sprintf("/api/v1/admin/users/%d/api-keys", w.userAID), map[string]any{"name": "x", "scopes": []string{"gateways:read"}}
	}},
	"DELETE /api/v1/admin/users/{id}/api-keys": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return fmt.Sprintf("/api/v1/admin/users/%d/api-keys", w.userAID), nil
	}},
	"GET /api/v1/admin/audit":       {deny: "user", ok: fixed("/api/v1/admin/audit")},
	"GET /api/v1/admin/mesh/spokes": {deny: "user", ok: fixed("/api/v1/admin/mesh/spokes")},
	"POST /api/v1/admin/mesh/spokes": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/mesh/spokes", map[string]any{"hub_id": newHubA(t, w), "gateway_id": newGatewayA(t, w)}
	}},
	"GET /api/v1/admin/mesh/spokes/{id}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/mesh/spokes/" + newSpokeA(t, w), nil
	}},
	"PUT /api/v1/admin/mesh/spokes/{id}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/mesh/spokes/" + newSpokeA(t, w), map[string]any{"session_enabled": false}
	}},
	"DELETE /api/v1/admin/mesh/spokes/{id}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/mesh/spokes/" + newSpokeA(t, w), nil
	}},
	"POST /api/v1/admin/mesh/hubs/{id}/provision": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/mesh/hubs/" + newHubA(t, w) + "/provision", nil
	}},
	"POST /api/v1/admin/mesh/spokes/{id}/provision": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/mesh/spokes/" + newSpokeA(t, w) + "/provision", nil
	}},
	"GET /api/v1/admin/mesh/hubs/{id}/spokes": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/mesh/hubs/" + newHubA(t, w) + "/spokes", nil
	}},
	"POST /api/v1/admin/mesh/hubs/{id}/spokes": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/mesh/hubs/" + newHubA(t, w) + "/spokes", map[string]any{"gateway_id": newGatewayA(t, w)}
	}},
	// The web UI's hub pages: its install script and network spokes.
	"GET /api/v1/admin/mesh/hubs/{id}/install-script": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/mesh/hubs/" + newHubA(t, w) + "/install-script", nil
	}},
	"GET /api/v1/admin/mesh/hubs/{id}/networks": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/mesh/hubs/" + newHubA(t, w) + "/networks", nil
	}},
	"POST /api/v1/admin/mesh/hubs/{id}/networks": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/mesh/hubs/" + newHubA(t, w) + "/networks", map[string]any{"networkId": newVPNNetworkA(t, w)}
	}},
	"DELETE /api/v1/admin/mesh/hubs/{id}/networks/{network_id}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		hub, net := newHubA(t, w), newVPNNetworkA(t, w)
		if _, err := w.e.Server.Gateways.AddSpoke(context.Background(), gatekeyMaster, servertest.Src, hub,
			gateway.Spoke{Kind: gateway.SpokeNetwork, ID: net}); err != nil {
			t.Fatal(err)
		}
		return "/api/v1/admin/mesh/hubs/" + hub + "/networks/" + net, nil
	}},
	"GET /api/v1/admin/mesh/hubs/{id}/users": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/mesh/hubs/" + newHubA(t, w) + "/users", nil
	}},
	"POST /api/v1/admin/mesh/hubs/{id}/users": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/mesh/hubs/" + newHubA(t, w) + "/users", map[string]any{"userId": fmt.Sprint(w.userAID)}
	}},
	"DELETE /api/v1/admin/mesh/hubs/{id}/users/{user_id}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/mesh/hubs/" + newHubMemberA(t, w, gateway.Member{Kind: gateway.MemberUser, ID: w.userAID}) +
			"/users/" + fmt.Sprint(w.userAID), nil
	}},
	"GET /api/v1/admin/mesh/hubs/{id}/groups": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/mesh/hubs/" + newHubA(t, w) + "/groups", nil
	}},
	"POST /api/v1/admin/mesh/hubs/{id}/groups": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/mesh/hubs/" + newHubA(t, w) + "/groups", map[string]any{"groupName": "A"}
	}},
	"DELETE /api/v1/admin/mesh/hubs/{id}/groups/{group_name}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/mesh/hubs/" + newHubMemberA(t, w, gateway.Member{Kind: gateway.MemberGroup, ID: w.groupAID}) + "/groups/A", nil
	}},

	// What GateKey's programs ask of any credential: whose it is, the server.
	"GET /api/v1/auth/api-key/validate": {ok: fixed("/api/v1/auth/api-key/validate")},
	"GET /api/v1/server/info":           {ok: fixed("/api/v1/server/info")},

	// Geo-fencing: administrators read (their own group's policy; another
	// group's is not found); only a super administrator changes.
	"GET /api/v1/admin/geo-fence":       {deny: "user", ok: fixed("/api/v1/admin/geo-fence")},
	"GET /api/v1/admin/geo-fence/check": {deny: "user", ok: fixed("/api/v1/admin/geo-fence/check?ip=192.0.2.1")},
	"PUT /api/v1/admin/geo-fence": {actor: "master", deny: "user", ok: func(*testing.T, *world) (string, any) {
		return "/api/v1/admin/geo-fence", map[string]any{"enabled": false, "mode": "deny", "countries": []string{}}
	}},
	"GET /api/v1/admin/geo-fence/groups/{group_id}": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return geoGroupA(t, w), nil
	}},
	"PUT /api/v1/admin/geo-fence/groups/{group_id}": {actor: "master", deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return fmt.Sprintf("/api/v1/admin/geo-fence/groups/%d", w.groupAID), map[string]any{"enabled": false}
	}},
	"DELETE /api/v1/admin/geo-fence/groups/{group_id}": {actor: "master", deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return geoGroupA(t, w), nil
	}},

	// GateKey client configs: a user generates and downloads its own (an API
	// key needs gateways:read); listing and revocation are the admin API's.
	"POST /api/v1/configs/generate": {deny: "scope", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/configs/generate", map[string]any{"gateway_id": configGatewayA(t, w), "protocol": "openvpn"}
	}},
	"GET /api/v1/configs/download/{config_id}": {deny: "scope", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/configs/download/" + newConfigA(t, w), nil
	}},
	"GET /api/v1/admin/configs": {deny: "user", ok: fixed("/api/v1/admin/configs")},
	"POST /api/v1/admin/configs/{config_id}/revoke": {deny: "user", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/admin/configs/" + newConfigA(t, w) + "/revoke", map[string]any{"reason": "superseded"}
	}},
}

// geoGroupA gives group A a geo-fence of its own (through the API, as the
// master key) and returns its path.
func geoGroupA(t *testing.T, w *world) string {
	t.Helper()
	path := fmt.Sprintf("/api/v1/admin/geo-fence/groups/%d", w.groupAID)
	if r := w.e.Do(t, "PUT", path, map[string]any{"enabled": false}, servertest.Master()...); r.Status != http.StatusOK {
		t.Fatalf("geo-fence of group A: %d %s", r.Status, r.Raw)
	}
	return path
}

// newDevice pairs a device of group A for A's admin through the domain
// (sparing the pairing endpoints' rate limits), remembers its token for
// actor "device" and returns its id.
func newDevice(t *testing.T, w *world) string {
	t.Helper()
	ctx := context.Background()
	w.n++
	id := fmt.Sprintf("phone-%d", w.n)
	p, err := w.e.Server.Identity.AuthenticateAccess(ctx, w.adminA)
	if err != nil {
		t.Fatal(err)
	}
	code, _, err := w.e.Server.Devices.NewCode(ctx, p, servertest.Src)
	if err != nil {
		t.Fatal(err)
	}
	red, err := w.e.Server.Devices.Redeem(ctx, servertest.Src, code, "")
	if err != nil {
		t.Fatal(err)
	}
	_, tok, err := w.e.Server.Devices.Pair(ctx, servertest.Src, red.BootstrapToken, device.NewDevice{ID: id, Platform: "android"})
	if err != nil {
		t.Fatal(err)
	}
	w.device = tok.AccessToken
	return id
}

// The GateKey fixtures of group A, made through the domain as the master
// key so that making them does not spend A's admin API budget.
var gatekeyMaster = &authz.Principal{Kind: authz.KindMaster, Role: authz.SuperAdmin}

func newGatewayA(t *testing.T, w *world) string {
	t.Helper()
	w.n++
	name, host := fmt.Sprintf("gw-%d", w.n), "vpn.example.com"
	c, err := w.e.Server.Gateways.CreateGateway(context.Background(), gatekeyMaster, servertest.Src,
		gateway.GatewayInput{GroupID: &w.groupAID, Name: &name, Hostname: &host})
	if err != nil {
		t.Fatal(err)
	}
	return c.Gateway.ID
}

// newSessionA opens a VPN session of A's USER on a new gateway of A, as
// the gateway's agent reports it, and returns the session's id.
func newSessionA(t *testing.T, w *world) string {
	t.Helper()
	ctx := context.Background()
	w.n++
	name, host, cidr := fmt.Sprintf("gw-%d", w.n), "vpn.example.com", "10.31.0.0/16"
	c, err := w.e.Server.Gateways.CreateGateway(ctx, gatekeyMaster, servertest.Src,
		gateway.GatewayInput{GroupID: &w.groupAID, Name: &name, Hostname: &host})
	if err != nil {
		t.Fatal(err)
	}
	gws, users := []string{c.Gateway.ID}, []int64{w.userAID}
	n, err := w.e.Server.Gateways.CreateNetwork(ctx, gatekeyMaster, servertest.Src,
		gateway.NetworkInput{GroupID: &w.groupAID, Name: &name, CIDR: &cidr, GatewayIDs: &gws})
	if err == nil {
		_, err = w.e.Server.Gateways.CreateRule(ctx, gatekeyMaster, servertest.Src,
			gateway.RuleInput{Name: &name, NetworkID: &n.ID, UserIDs: &users})
	}
	if err != nil {
		t.Fatal(err)
	}
	cert, err := w.e.Server.PKI.IssueClient(ctx, servertest.Src, pki.ClientRequest{CommonName: name, UserID: w.userAID, GroupID: w.groupAID})
	if err != nil {
		t.Fatal(err)
	}
	r := w.e.Do(t, "POST", "/api/v1/gateway/connect", map[string]any{"serial": string(cert.Certificate.Serial),
		"common_name": name, "client_ip": "198.51.100.7"}, "X-Gateway-Token", c.Token)
	if r.Status != http.StatusCreated {
		t.Fatalf("connect: %d %s", r.Status, r.Raw)
	}
	return r.JSON["id"].(string)
}

// newVPNNetworkA creates a network of A behind a new gateway.
func newVPNNetworkA(t *testing.T, w *world) string {
	t.Helper()
	gws := []string{newGatewayA(t, w)}
	name, cidr := fmt.Sprintf("net-%d", w.n), "10.30.0.0/16"
	n, err := w.e.Server.Gateways.CreateNetwork(context.Background(), gatekeyMaster, servertest.Src,
		gateway.NetworkInput{GroupID: &w.groupAID, Name: &name, CIDR: &cidr, GatewayIDs: &gws})
	if err != nil {
		t.Fatal(err)
	}
	return n.ID
}

func newRuleA(t *testing.T, w *world) string {
	t.Helper()
	netID, name, users := newVPNNetworkA(t, w), "r", []int64{w.userAID}
	r, err := w.e.Server.Gateways.CreateRule(context.Background(), gatekeyMaster, servertest.Src,
		gateway.RuleInput{Name: &name, NetworkID: &netID, UserIDs: &users})
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

func newHubA(t *testing.T, w *world) string {
	t.Helper()
	gw := newGatewayA(t, w)
	name := fmt.Sprintf("hub-%d", w.n)
	h, err := w.e.Server.Gateways.CreateHub(context.Background(), gatekeyMaster, servertest.Src,
		gateway.HubInput{GroupID: &w.groupAID, Name: &name, GatewayID: &gw})
	if err != nil {
		t.Fatal(err)
	}
	return h.ID
}

// newHubMemberA makes m a member of a new hub of A and returns the hub's
// id.
func newHubMemberA(t *testing.T, w *world, m gateway.Member) string {
	t.Helper()
	hub := newHubA(t, w)
	if err := w.e.Server.Gateways.AddHubMember(context.Background(), gatekeyMaster, servertest.Src, hub, m); err != nil {
		t.Fatal(err)
	}
	return hub
}

// newSpokeA joins a new gateway of A to a new hub of A and returns the
// spoke's id as gatekey-admin names it.
func newSpokeA(t *testing.T, w *world) string {
	t.Helper()
	hub, gw := newHubA(t, w), newGatewayA(t, w)
	if _, err := w.e.Server.Gateways.AddSpoke(context.Background(), gatekeyMaster, servertest.Src, hub,
		gateway.Spoke{Kind: gateway.SpokeGateway, ID: gw}); err != nil {
		t.Fatal(err)
	}
	return hub + ":" + gw
}

// newNetwork creates a mesh network of group A as its administrator and
// returns its netid.
func newNetwork(t *testing.T, w *world) string {
	t.Helper()
	w.n++
	id := fmt.Sprintf("mx%d", w.n)
	if r := w.e.Do(t, "POST", "/api/networks", map[string]any{"netid": id}, servertest.Bearer(w.adminA)...); r.Status != 200 {
		t.Fatalf("network: %d %s", r.Status, r.Raw)
	}
	return id
}

// newNode creates a network with one node, MAC 02:00:00:00:00:01, and
// returns the netid.
func newNode(t *testing.T, w *world) string {
	t.Helper()
	id := newNetwork(t, w)
	node := map[string]any{"macaddress": "02:00:00:00:00:01", "publickey": fmt.Sprintf("%042dA=", w.n)}
	if r := w.e.Do(t, "POST", "/api/nodes/"+id, node, servertest.Bearer(w.adminA)...); r.Status != 200 {
		t.Fatalf("node: %d %s", r.Status, r.Raw)
	}
	return id
}

// newPSK creates a PSK of group A as its administrator and returns its
// numeric id and psk_id.
func newPSK(t *testing.T, w *world) (id int64, pskID string) {
	t.Helper()
	w.n++
	pskID = fmt.Sprintf("m-%d", w.n)
	r := w.e.Do(t, "POST", "/api/v1/psks", map[string]any{"psk_id": pskID}, servertest.Bearer(w.adminA)...)
	if r.Status != 201 {
		t.Fatalf("psk: %d %s", r.Status, r.Raw)
	}
	return int64(r.JSON["id"].(float64)), pskID
}

// endpointBody is a new endpoint bound to a fresh PSK of group A.
func endpointBody(t *testing.T, w *world) map[string]any {
	t.Helper()
	_, pskID := newPSK(t, w)
	return map[string]any{"mac_address": fmt.Sprintf("02:00:00:00:%02x:%02x", w.n/256%256, w.n%256), "psk_id": pskID}
}

// newEndpoint creates an endpoint of group A and returns its path.
func newEndpoint(t *testing.T, w *world) string {
	t.Helper()
	r := w.e.Do(t, "POST", "/api/v1/endpoints", endpointBody(t, w), servertest.Bearer(w.adminA)...)
	if r.Status != 201 {
		t.Fatalf("endpoint: %d %s", r.Status, r.Raw)
	}
	return fmt.Sprintf("/api/v1/endpoints/%d", int64(r.JSON["id"].(float64)))
}

// radiusClientPath creates a RADIUS client of group A and returns its path
// and an update body.
func radiusClientPath(t *testing.T, w *world) (string, any) {
	t.Helper()
	w.n++
	r := w.e.Do(t, "POST", "/api/v1/radius/clients", map[string]any{"name": fmt.Sprintf("ap-%d", w.n),
		"address": fmt.Sprintf("10.9.%d.%d", w.n/256%256, w.n%256), "secret": "shared-secret-1"}, servertest.Bearer(w.adminA)...)
	if r.Status != 201 {
		t.Fatalf("radius client: %d %s", r.Status, r.Raw)
	}
	return fmt.Sprintf("/api/v1/radius/clients/%d", int64(r.JSON["id"].(float64))), map[string]any{"name": fmt.Sprintf("renamed-%d", w.n)}
}

func emptyGroup(t *testing.T, w *world) string {
	t.Helper()
	w.n++
	r := w.e.Do(t, "POST", "/api/v1/groups", map[string]string{"name": fmt.Sprintf("empty-%d", w.n)}, servertest.Master()...)
	if r.Status != 201 {
		t.Fatalf("creating group: %d %s", r.Status, r.Raw)
	}
	return fmt.Sprint(r.JSON["id"])
}

func TestGroupAdminCannotManageGroups(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		w := newWorld(t, e)
		own := fmt.Sprintf("/api/v1/groups/%d", w.groupAID)
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"POST", "/api/v1/groups", map[string]string{"name": "mine"}},
			{"PUT", own, map[string]string{"name": "renamed"}},
			{"DELETE", own, nil},
		} {
			if r := e.Do(t, c.method, c.path, c.body, servertest.Bearer(w.adminA)...); r.Status != 403 {
				t.Errorf("%s %s as GROUP_ADMIN: %d, want 403 (%s)", c.method, c.path, r.Status, r.Raw)
			}
		}
	})
}

var pathVar = regexp.MustCompile(`\{[^}]+\}`)

func splitPattern(p string) (method, path string) {
	method, path, _ = strings.Cut(p, " ")
	return method, path
}

func newWorld(t *testing.T, e *servertest.Env) *world {
	w := &world{e: e}
	ga := e.CreateUser(t, "admin-a", "password1", identity.GroupAdmin, "A")
	ua := e.CreateUser(t, "user-a", "password1", identity.RoleUser, "A")
	gb := e.CreateUser(t, "admin-b", "password1", identity.GroupAdmin, "B")
	w.adminAID, w.userAID, w.adminBID, w.groupAID, w.groupBID = ga.ID, ua.ID, gb.ID, ga.GroupID, gb.GroupID
	w.adminA, _ = e.Login(t, "admin-a", "password1")
	w.userA, _ = e.Login(t, "user-a", "password1")
	w.adminB, _ = e.Login(t, "admin-b", "password1")
	r := e.Do(t, "POST", "/api/v1/apikeys", map[string]any{"name": "narrow", "scopes": []string{"audit:read"}}, servertest.Bearer(w.adminA)...)
	if r.Status != 201 {
		t.Fatalf("narrow key: %d %s", r.Status, r.Raw)
	}
	w.narrowKeyA = r.JSON["key"].(string)
	return w
}

func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	scripts := matrixScriptsDir(t)
	eachWithScripts := func(t *testing.T, fn func(t *testing.T, e *servertest.Env)) {
		for _, k := range storetest.Kinds() {
			t.Run(string(k), func(t *testing.T) {
				fn(t, servertest.StartWith(t, k, func(c *config.Config) { c.ScriptsDir, c.FederationListen = scripts, "127.0.0.1:0" }))
			})
		}
	}
	eachWithScripts(t, func(t *testing.T, e *servertest.Env) {
		w := newWorld(t, e)
		var missing []string
		for _, rt := range e.Server.Routes() {
			if rt.Access != api.Authenticated && rt.Access != api.Local {
				continue
			}
			method, pattern := splitPattern(rt.Pattern)
			concrete := pathVar.ReplaceAllString(pattern, "1")
			t.Run(rt.Pattern, func(t *testing.T) {
				for name, hdr := range map[string][]string{
					"no credential":  nil,
					"bad token":      servertest.Bearer("eyJhbGciOiJIUzI1NiJ9.e30.x"),
					"unknown apikey": {"X-API-Key", "nk_" + strings.Repeat("Z", 43)},
				} {
					if r := e.Do(t, method, concrete, nil, hdr...); r.Status != http.StatusUnauthorized {
						t.Errorf("%s: %d, want 401 (%s)", name, r.Status, r.Raw)
					}
				}
				c, ok := matrix[rt.Pattern]
				if !ok {
					return
				}
				if c.deny != "" {
					path, body := c.ok(t, w)
					hdr := servertest.Bearer(w.userA)
					if c.deny == "scope" {
						hdr = []string{"X-API-Key", w.narrowKeyA}
					}
					if r := e.Do(t, method, path, body, hdr...); r.Status != http.StatusForbidden {
						t.Errorf("as %s: %d, want 403 (%s)", c.deny, r.Status, r.Raw)
					}
				}
				if c.cross {
					path, body := c.ok(t, w)
					if r := e.Do(t, method, path, body, servertest.Bearer(w.adminB)...); r.Status != http.StatusNotFound {
						t.Errorf("as group B: %d, want 404 (%s)", r.Status, r.Raw)
					}
				}
				path, body := c.ok(t, w)
				hdr := servertest.Bearer(w.adminA)
				switch {
				case c.actor == "master":
					hdr = servertest.Master()
				case c.actor == "fresh":
					hdr = servertest.Bearer(w.fresh)
				case c.actor == "device":
					hdr = servertest.Bearer(w.device)
				case strings.HasSuffix(rt.Pattern, "/logout"):
					fresh, _ := e.Login(t, "admin-a", "password1") // keep adminA's session alive
					hdr = servertest.Bearer(fresh)
				}
				r := e.Do(t, method, path, body, hdr...)
				switch {
				case c.okStatus != 0 && r.Status != c.okStatus:
					t.Errorf("as group A admin: %d, want %d (%s)", r.Status, c.okStatus, r.Raw)
				case c.okStatus == 0 && (r.Status < 200 || r.Status > 299):
					t.Errorf("as group A admin: %d, want 2xx (%s)", r.Status, r.Raw)
				}
			})
			if _, ok := matrix[rt.Pattern]; !ok {
				missing = append(missing, rt.Pattern)
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			t.Errorf("routes without an authorization matrix entry (add them to matrix):\n%s", strings.Join(missing, "\n"))
		}
		for p := range matrix {
			found := false
			for _, rt := range e.Server.Routes() {
				found = found || rt.Pattern == p
			}
			if !found {
				t.Errorf("matrix entry %q names no registered route", p)
			}
		}
	})
}

// newScript registers the scripts directory's ok.sh under a new name as
// the master key and returns its id.
func newScript(t *testing.T, w *world) string {
	t.Helper()
	w.n++
	name, path := fmt.Sprintf("matrix script %d", w.n), "ok.sh"
	sc, err := w.e.Server.Scripts.Create(context.Background(), gatekeyMaster, servertest.Src, automation.NewScript{Name: &name, ScriptPath: &path})
	if err != nil {
		t.Fatal(err)
	}
	return sc.ID
}

// newDeployment records a failed toolbox deployment (the matrix's server
// has no engine to deploy on) and returns its id.
func newDeployment(t *testing.T, w *world) string {
	t.Helper()
	w.n++
	now := time.Now().UTC().Truncate(time.Microsecond)
	d := &toolbox.Deployment{ID: fmt.Sprintf("deploy_%d", now.UnixMicro()+int64(w.n)), TemplateID: "busybox-web",
		Name: fmt.Sprintf("matrix-%d", w.n), Status: toolbox.Failed, Reason: "no engine", CreatedBy: "test", CreatedAt: now, UpdatedAt: now}
	if err := w.e.DB.InTx(context.Background(), func(tx *store.Tx) error { return tx.CreateDeployment(context.Background(), d) }); err != nil {
		t.Fatal(err)
	}
	return d.ID
}

// newWorkflow creates a one-step workflow as the master key.
func newWorkflow(t *testing.T, w *world) string {
	t.Helper()
	w.n++
	wf, err := w.e.Server.Scripts.CreateWorkflow(context.Background(), gatekeyMaster, servertest.Src,
		automation.NewWorkflow{Name: fmt.Sprintf("matrix workflow %d", w.n), Steps: []automation.Step{{ScriptID: newScript(t, w)}}})
	if err != nil {
		t.Fatal(err)
	}
	return wf.ID
}

// newSchedule schedules a new script nightly as the master key.
func newSchedule(t *testing.T, w *world) string {
	t.Helper()
	s, err := w.e.Server.Scripts.CreateSchedule(context.Background(), gatekeyMaster, servertest.Src,
		automation.NewSchedule{ScriptID: newScript(t, w), CronExpression: "0 2 * * *"})
	if err != nil {
		t.Fatal(err)
	}
	return s.ID
}

// matrixScriptsDir is a scripts directory holding ok.sh.
func matrixScriptsDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ok.sh"), []byte("#!/bin/sh\necho ok\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// newBackup takes a backup as the master key and returns its id.
func newTLSCertificate(t *testing.T, w *world) string {
	t.Helper()
	w.n++
	domain := fmt.Sprintf("matrix-%d.test", w.n)
	if _, err := w.e.Server.Certs.Generate(context.Background(), gatekeyMaster, servertest.Src,
		tlscert.GenerateRequest{Domains: []string{domain}}); err != nil {
		t.Fatal(err)
	}
	return domain
}

func newBackup(t *testing.T, w *world) string {
	t.Helper()
	b, err := w.e.Server.Backups.Create(context.Background(), gatekeyMaster, servertest.Src, "matrix")
	if err != nil {
		t.Fatal(err)
	}
	return b.ID
}

// configGatewayA creates a gateway of A that A's admin may use (an access
// rule names it) and returns its id.
func configGatewayA(t *testing.T, w *world) string {
	t.Helper()
	gw := newGatewayA(t, w)
	netName, cidr, gws := fmt.Sprintf("cfg-net-%d", w.n), "10.40.0.0/16", []string{gw}
	n, err := w.e.Server.Gateways.CreateNetwork(context.Background(), gatekeyMaster, servertest.Src,
		gateway.NetworkInput{GroupID: &w.groupAID, Name: &netName, CIDR: &cidr, GatewayIDs: &gws})
	if err != nil {
		t.Fatal(err)
	}
	ruleName, users := "cfg", []int64{w.adminAID}
	if _, err := w.e.Server.Gateways.CreateRule(context.Background(), gatekeyMaster, servertest.Src,
		gateway.RuleInput{Name: &ruleName, NetworkID: &n.ID, UserIDs: &users}); err != nil {
		t.Fatal(err)
	}
	return gw
}

// newConfigA generates a client config as A's admin and returns its id.
func newConfigA(t *testing.T, w *world) string {
	t.Helper()
	r := w.e.Do(t, "POST", "/api/v1/configs/generate", map[string]any{"gateway_id": configGatewayA(t, w)}, servertest.Bearer(w.adminA)...)
	if r.Status != 200 {
		t.Fatalf("config: %d %s", r.Status, r.Raw)
	}
	return r.JSON["config_id"].(string)
}
