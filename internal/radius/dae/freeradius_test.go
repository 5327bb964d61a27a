package dae_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"netkeep/internal/radius/dae"
	"netkeep/internal/testpeer"
)

// TestFreeRADIUS sends Disconnect and CoA requests to a real FreeRADIUS
// acting as the NAS: it receives the session's attributes with a
// Message-Authenticator it accepts; its ACK, its NAK and its silence are
// each reported as such; a request signed with the wrong secret is dropped
// by it.
func TestFreeRADIUS(t *testing.T) {
	const secret = "dae-shared-secret"
	nas := testpeer.FreeRADIUSDAE(t, secret)
	c := &dae.Client{Wait: 300 * time.Millisecond, Attempts: 2}
	ctx := context.Background()
	sess := func(user string) dae.Session {
		return dae.Session{
			UserName: user, CallingStationID: "AA-BB-CC-DD-EE-FF", AcctSessionID: "sess-" + user,
			NASIPAddress: netip.MustParseAddr("192.0.2.10"), FramedIPAddress: netip.MustParseAddr("10.1.2.3"),
		}
	}
	cases := []struct {
		name     string
		req      dae.Request
		user     string
		secret   string
		want     dae.Outcome
		kind     string // how FreeRADIUS logs the request
		accepted bool   // FreeRADIUS processed it (authentic)
	}{
		{"disconnect acked", dae.Disconnect, "alice", secret, dae.ACK, "Disconnect-Request", true},
		{"disconnect naked", dae.Disconnect, "nak-me", secret, dae.NAK, "Disconnect-Request", true},
		{"disconnect unanswered", dae.Disconnect, "drop-me", secret, dae.Timeout, "Disconnect-Request", true},
		{"coa acked", dae.CoA, "bob", secret, dae.ACK, "CoA-Request", true},
		{"coa naked", dae.CoA, "nak-me", secret, dae.NAK, "CoA-Request", true},
		{"wrong secret dropped", dae.Disconnect, "mallory", "not-the-secret", dae.Timeout, "Disconnect-Request", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := c.Send(ctx, tc.req, dae.Target{Addr: nas.Addr, Secret: tc.secret}, sess(tc.user))
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tc.want {
				t.Fatalf("outcome %q, want %q (%+v)", res.Outcome, tc.want, res)
			}
			if tc.want == dae.Timeout && res.Attempts != 2 {
				t.Fatalf("timeout after %d attempts, want 2", res.Attempts)
			}
			if !tc.accepted {
				if !strings.Contains(nas.Log(), "invalid Message-Authenticator") {
					t.Fatalf("FreeRADIUS did not drop the request for its Message-Authenticator:\n%s", nas.Log())
				}
				if strings.Contains(nas.Log(), `User-Name = "`+tc.user+`"`) {
					t.Fatal("FreeRADIUS processed a request signed with the wrong secret")
				}
				return
			}
			log := nas.Received(tc.kind, tc.user)
			if log == "" {
				t.Fatalf("FreeRADIUS did not process the %s for %s", tc.kind, tc.user)
			}
			for _, want := range []string{
				`Calling-Station-Id = "AA-BB-CC-DD-EE-FF"`,
				`Acct-Session-Id = "sess-` + tc.user + `"`,
				`NAS-IP-Address = 192.0.2.10`,
				`Framed-IP-Address = 10.1.2.3`,
				`Message-Authenticator = 0x`,
			} {
				if !strings.Contains(log, want) {
					t.Fatalf("FreeRADIUS received no %s:\n%s", want, log)
				}
			}
			if tc.req == dae.CoA && !strings.Contains(log, "Session-Timeout = 1") {
				t.Fatalf("CoA without Session-Timeout:\n%s", log)
			}
		})
	}
}
