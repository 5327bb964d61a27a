package server_test

import (
	"fmt"
	"net/http"
	"testing"

	"netkeep/internal/api"
	"netkeep/internal/config"
	"netkeep/internal/server/servertest"
	"netkeep/internal/store/storetest"
)

// seedLocal is every endpoint the Nekzus document marks "IP-based (local)
// or JWT" (with or without a scope), plus GET /api/v1/auth/qr, which the
// document leaves open ("None") and netkeep keeps to local callers and
// administrators: a pairing code is a credential. Endpoints of facets
// another part of netkeep serves are listed too, so their routes are held
// to the same rule when they register.
var seedLocal = map[string]bool{
	"GET /api/v1/auth/qr":                                   true,
	"GET /api/v1/admin/info":                                true,
	"GET /api/v1/stats":                                     true,
	"GET /api/v1/activity/recent":                           true,
	"GET /api/v1/apps":                                      true,
	"GET /api/v1/apps/{appId}/favicon":                      true,
	"GET /api/v1/routes":                                    true,
	"POST /api/v1/routes":                                   true, // netkeep's create, beside the documented PUT
	"PUT /api/v1/routes/{routeId}":                          true,
	"DELETE /api/v1/routes/{routeId}":                       true,
	"GET /api/v1/discovery/proposals":                       true,
	"POST /api/v1/discovery/proposals/{proposalId}/approve": true,
	"POST /api/v1/discovery/proposals/{proposalId}/dismiss": true,
	"POST /api/v1/discovery/rediscover":                     true,
	"GET /api/v1/services/{appId}/health":                   true,
	"GET /api/v1/devices":                                   true,
	"GET /api/v1/devices/{deviceId}":                        true,
	"PATCH /api/v1/devices/{deviceId}":                      true,
	"DELETE /api/v1/devices/{deviceId}":                     true,
	"GET /api/v1/apikeys":                                   true,
	"POST /api/v1/apikeys":                                  true,
	"GET /api/v1/apikeys/{keyId}":                           true,
	"DELETE /api/v1/apikeys/{keyId}":                        true,
	"GET /api/v1/containers":                                true,
	"GET /api/v1/containers/{containerId}":                  true,
	"POST /api/v1/containers/{containerId}/start":           true,
	"POST /api/v1/containers/{containerId}/stop":            true,
	"POST /api/v1/containers/{containerId}/restart":         true,
	"GET /api/v1/containers/{containerId}/stats":            true,
	"GET /api/v1/containers/stats":                          true,
	"GET /api/v1/containers/{containerId}/export/preview":   true,
	"POST /api/v1/containers/{containerId}/export":          true,
	"GET /api/v1/toolbox/services":                          true,
	"GET /api/v1/toolbox/services/{id}":                     true,
	"POST /api/v1/toolbox/deploy":                           true,
	"GET /api/v1/toolbox/deployments":                       true,
	"GET /api/v1/toolbox/deployments/{id}":                  true,
	"DELETE /api/v1/toolbox/deployments/{id}":               true,
	"GET /api/v1/scripts":                                   true,
	"GET /api/v1/scripts/available":                         true,
	"POST /api/v1/scripts":                                  true,
	"POST /api/v1/scripts/{id}/execute":                     true,
	"GET /api/v1/backups":                                   true,
	"POST /api/v1/backups":                                  true,
	"GET /api/v1/system/resources":                          true,
	// Endpoints without a line of their own take the last line stated
	// before them in their chapter (and so do netkeep's own routes set
	// beside them: a workflow's run, federation's join tokens).
	// Certificates ("JWT token") and session cookies ("JWT token
	// (strict)") follow theirs to need a credential.
	"GET /api/v1/scripts/{id}":                     true,
	"PUT /api/v1/scripts/{id}":                     true,
	"DELETE /api/v1/scripts/{id}":                  true,
	"POST /api/v1/scripts/{id}/dry-run":            true,
	"GET /api/v1/executions":                       true,
	"GET /api/v1/executions/{id}":                  true,
	"GET /api/v1/workflows":                        true,
	"POST /api/v1/workflows":                       true,
	"GET /api/v1/workflows/{id}":                   true,
	"DELETE /api/v1/workflows/{id}":                true,
	"POST /api/v1/workflows/{id}/execute":          true,
	"GET /api/v1/schedules":                        true,
	"POST /api/v1/schedules":                       true,
	"GET /api/v1/schedules/{id}":                   true,
	"DELETE /api/v1/schedules/{id}":                true,
	"GET /api/v1/backups/{id}":                     true,
	"DELETE /api/v1/backups/{id}":                  true,
	"POST /api/v1/backups/{id}/restore":            true,
	"GET /api/v1/backups/scheduler/status":         true,
	"POST /api/v1/backups/scheduler/trigger":       true,
	"GET /api/v1/federation/peers":                 true,
	"GET /api/v1/federation/peers/{id}":            true,
	"DELETE /api/v1/federation/peers/{id}":         true,
	"POST /api/v1/federation/sync":                 true,
	"GET /api/v1/federation/status":                true,
	"POST /api/v1/federation/tokens":               true,
	"POST /api/v1/federation/join":                 true,
	"POST /api/v1/containers/start-all":            true,
	"POST /api/v1/containers/stop-all":             true,
	"POST /api/v1/containers/restart-all":          true,
	"POST /api/v1/containers/batch":                true,
	"POST /api/v1/containers/batch/export/preview": true,
	"POST /api/v1/containers/batch/export":         true,
}

// TestMatrixLocalTrust is the authorization matrix's IP-trust column. With
// loopback trusted, every route the document marks "IP-based (local)" is
// api.Local and lets a credential-less loopback request through (it may
// still be refused 403 or 404 by the domain, never 401), but not one that
// came through a proxy; every other route that needs a credential,
// "JWT (strict)" ones included, still answers 401.
func TestMatrixLocalTrust(t *testing.T) {
	t.Parallel()
	e := servertest.StartWith(t, storetest.Kinds()[0], func(c *config.Config) {
		c.LocalTrust = "loopback"
		c.ScriptsDir = matrixScriptsDir(t)
	})
	for _, rt := range e.Server.Routes() {
		if rt.Access != api.Authenticated && rt.Access != api.Local {
			continue
		}
		local := seedLocal[rt.Pattern]
		if local != (rt.Access == api.Local) {
			t.Errorf("%s: access %v, but the document %s", rt.Pattern, rt.Access,
				map[bool]string{true: "marks it IP-based (local)", false: "does not mark it IP-based (local)"}[local])
			continue
		}
		method, pattern := splitPattern(rt.Pattern)
		path := pathVar.ReplaceAllString(pattern, "1")
		t.Run(rt.Pattern, func(t *testing.T) {
			r := e.Do(t, method, path, nil)
			switch {
			case local && r.Status == http.StatusUnauthorized:
				t.Errorf("loopback without a credential: 401, want local trust (%s)", r.Raw)
			case !local && r.Status != http.StatusUnauthorized:
				t.Errorf("loopback without a credential: %d, want 401 (%s)", r.Status, r.Raw)
			}
			if !local {
				return
			}
			if r := e.Do(t, method, path, nil, "X-Forwarded-For", "127.0.0.1"); r.Status != http.StatusUnauthorized {
				t.Errorf("forwarded request: %d, want 401 (%s)", r.Status, r.Raw)
			}
		})
	}
}

// TestMatrixLocalTrustRoles runs the matrix's permitted request of every
// api.Local route without a credential from loopback, under each role
// local trust may act with (--local-trust-role). The local administrator
// lives in the default group, a group other than the world's A and B:
//   - as GROUP_ADMIN (the default) it gets 403 from every server-wide
//     route (the matrix makes those as the master key) and 404 for group
//     A's objects, as any other group's administrator does;
//   - as SUPER_ADMIN it gets what the master key and A's administrator
//     get, A's objects included.
//
// Either way a request forwarded through an untrusted proxy claiming
// loopback is 401, and with local trust off (TestAuthorizationMatrix)
// every such route is 401 without a credential.
func TestMatrixLocalTrustRoles(t *testing.T) {
	t.Parallel()
	scripts := matrixScriptsDir(t)
	for _, role := range []string{config.LocalTrustGroupAdmin, config.LocalTrustSuperAdmin} {
		t.Run(role, func(t *testing.T) {
			t.Parallel()
			e := servertest.StartWith(t, storetest.Kinds()[0], func(c *config.Config) {
				c.LocalTrust, c.LocalTrustRole = "loopback", role
				c.ScriptsDir, c.FederationListen = scripts, "127.0.0.1:0"
			})
			w := newWorld(t, e)
			for _, rt := range e.Server.Routes() {
				if rt.Access != api.Local {
					continue
				}
				c, ok := matrix[rt.Pattern]
				if !ok {
					continue // TestAuthorizationMatrix names it
				}
				method, _ := splitPattern(rt.Pattern)
				t.Run(rt.Pattern, func(t *testing.T) {
					path, body := c.ok(t, w)
					if r := e.Do(t, method, path, body, "X-Forwarded-For", "127.0.0.1"); r.Status != http.StatusUnauthorized {
						t.Errorf("forwarded, claiming loopback: %d, want 401 (%s)", r.Status, r.Raw)
					}
					path, body = c.ok(t, w)
					r := e.Do(t, method, path, body)
					want := localWant(role, rt.Pattern, c)
					if (want == 0 && (r.Status < 200 || r.Status > 299)) || (want != 0 && r.Status != want) {
						t.Errorf("local %s: %d, want %s (%s)", role, r.Status, map[bool]string{true: "2xx", false: fmt.Sprint(want)}[want == 0], r.Raw)
					}
				})
			}
		})
	}
}

// localWant is the status a credential-less loopback request gets on a
// Local route under local trust's role (0: any 2xx).
func localWant(role, pattern string, c matrixCase) int {
	switch {
	case role == config.LocalTrustGroupAdmin && c.actor == "master":
		return http.StatusForbidden
	case role == config.LocalTrustGroupAdmin && c.cross:
		return http.StatusNotFound
	case pattern == "POST /api/v1/apikeys":
		return http.StatusBadRequest // a key needs a user to own it
	}
	return c.okStatus
}
