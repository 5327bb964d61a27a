package remote_test

import (
	"context"
	"errors"
	"os/exec"
	"sync"
	"testing"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/config"
	"netkeep/internal/fault"
	"netkeep/internal/gateway"
	"netkeep/internal/remote"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// oneGateway is group 1's gateway gw-1 (its hub hub-1); everything else
// is not found.
type oneGateway struct{}

func (oneGateway) AdminGateway(_ context.Context, p *authz.Principal, id string) (*gateway.Gateway, error) {
	if id != "gw-1" || p.GroupID != 1 {
		return nil, fault.New(fault.NotFound, "gateway not found")
	}
	return &gateway.Gateway{ID: "gw-1", GroupID: 1, Name: "edge"}, nil
}

func (oneGateway) AdminHub(_ context.Context, p *authz.Principal, id string) (*gateway.Hub, error) {
	if id != "hub-1" || p.GroupID != 1 {
		return nil, fault.New(fault.NotFound, "hub not found")
	}
	return &gateway.Hub{ID: "hub-1", GroupID: 1, GatewayID: "gw-1"}, nil
}

// hostRunner runs programs for real, finding only those in have; gate,
// when set, holds every run until it is closed, after a word on started.
type hostRunner struct {
	have    map[string]bool
	gate    chan struct{}
	started chan struct{}
	mu      sync.Mutex
	runs    []remote.ProgramRun
}

func (h *hostRunner) Find(p string) (string, error) {
	if !h.have[p] {
		return "", exec.ErrNotFound
	}
	return exec.LookPath(p)
}

func (h *hostRunner) Run(ctx context.Context, r remote.ProgramRun) (*remote.ProgramResult, error) {
	h.mu.Lock()
	h.runs = append(h.runs, r)
	h.mu.Unlock()
	if h.gate != nil {
		h.started <- struct{}{}
		<-h.gate
	}
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	start := time.Now()
	out, err := exec.CommandContext(ctx, r.Path, r.Args...).CombinedOutput()
	res := &remote.ProgramResult{Output: out, Duration: time.Since(start), TimedOut: ctx.Err() != nil}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		res.ExitCode = exit.ExitCode()
	}
	return res, nil
}

// fixedAgent answers every command with one run or error.
type fixedAgent struct {
	run *remote.AgentRun
	err error
	got []string
}

func (a *fixedAgent) Exec(_ context.Context, gatewayID, command string, _ int) (*remote.AgentRun, error) {
	a.got = append(a.got, gatewayID+": "+command)
	return a.run, a.err
}

var (
	admin = &authz.Principal{Kind: authz.KindUser, UserID: 7, GroupID: 1, Role: authz.GroupAdmin, Username: "admin"}
	// super is the same user as a server-wide administrator: only it runs
	// tools on the server.
	super = &authz.Principal{Kind: authz.KindUser, UserID: 7, GroupID: 1, Role: authz.SuperAdmin, Username: "admin"}
	other = &authz.Principal{Kind: authz.KindUser, UserID: 8, GroupID: 2, Role: authz.GroupAdmin, Username: "other"}
	user  = &authz.Principal{Kind: authz.KindUser, UserID: 9, GroupID: 1, Role: authz.User, Username: "user"}
	src   = audit.Source{Actor: "user:7", IP: "192.0.2.1"}
)

func runs(t *testing.T, db *store.DB) []audit.Entry {
	t.Helper()
	es, err := db.Read().ListAudit(context.Background(), audit.Query{Action: "network-tool.run", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestRun(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		host := &hostRunner{have: map[string]bool{"ping": true}}
		agent := &fixedAgent{}
		svc := remote.NewService(store.For[remote.Tx](db), oneGateway{}, host, remote.WithAgents(agent))
		ping := remote.Request{Tool: "ping", Target: "127.0.0.1", Count: 1}

		res, err := svc.Run(ctx, super, src, remote.Server, ping)
		if err != nil || res.Status != remote.StatusSuccess || res.ExitCode != 0 {
			t.Fatalf("ping = %+v, %v", res, err)
		}
		if env := host.runs[0].Env; len(env) != 2 || env[0][:5] != "PATH=" {
			t.Fatalf("the tool's environment = %q, want only PATH and LC_ALL", env)
		}
		if es := runs(t, db); len(es) != 1 || es[0].Target != "server" || es[0].Actor != "user:7" ||
			es[0].Details != `{"location":"control-plane","target":"127.0.0.1","tool":"ping"}` {
			t.Fatalf("audit = %+v", es)
		}

		// Refusals run nothing and audit nothing.
		refusals := []struct {
			name string
			p    *authz.Principal
			loc  remote.Location
			req  remote.Request
			code fault.Code
		}{
			{"user", user, remote.Server, ping, fault.Forbidden},
			{"nobody", nil, remote.Server, ping, fault.Unauthorized},
			{"a group administrator on the server", admin, remote.Server, ping, fault.Forbidden},
			{"missing here", super, remote.Server, remote.Request{Tool: "traceroute", Target: "127.0.0.1"}, fault.Unavailable},
			{"another group's gateway", other, remote.Location{Kind: remote.KindGateway, ID: "gw-1"}, ping, fault.NotFound},
			{"invalid", super, remote.Server, remote.Request{Tool: "ping", Target: "|id"}, fault.Invalid},
		}
		for _, tc := range refusals {
			if _, err := svc.Run(ctx, tc.p, src, tc.loc, tc.req); fault.CodeOf(err) != tc.code {
				t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
			}
		}
		if n := len(runs(t, db)); n != 1 || len(host.runs) != 1 || len(agent.got) != 0 {
			t.Fatalf("refusals ran or audited: %d entries, %d runs, %d relays", n, len(host.runs), len(agent.got))
		}

		// On a gateway: the agent's exit code decides.
		hub := remote.Location{Kind: remote.KindHub, ID: "hub-1"}
		outcomes := []struct {
			name   string
			run    *remote.AgentRun
			err    error
			status string
			code   fault.Code
		}{
			{"success", &remote.AgentRun{Output: []byte("1 received"), ExitCode: 0}, nil, remote.StatusSuccess, ""},
			{"failure", &remote.AgentRun{ExitCode: 1}, nil, remote.StatusError, ""},
			{"timeout(1)", &remote.AgentRun{ExitCode: 124}, nil, remote.StatusTimeout, ""},
			{"no answer in time", &remote.AgentRun{ExitCode: -1}, fault.New(fault.GatewayTimeout, "slow"), remote.StatusTimeout, ""},
			{"not installed", &remote.AgentRun{ExitCode: 127}, nil, "", fault.Unavailable},
			{"not connected", nil, fault.New(fault.Unavailable, "not connected"), "", fault.Unavailable},
		}
		for _, tc := range outcomes {
			agent.run, agent.err = tc.run, tc.err
			res, err := svc.Run(ctx, admin, src, hub, ping)
			if fault.CodeOf(err) != tc.code || (err == nil && res.Status != tc.status) {
				t.Errorf("%s: %+v, %v", tc.name, res, err)
			}
		}
		if got := agent.got[0]; got[:6] != "gw-1: " {
			t.Fatalf("relayed %q, want to the hub's gateway", got)
		}
	})
}

// TestRunLimit: runs beyond the limit are refused while the others run.
func TestRunLimit(t *testing.T) {
	db := storetest.Open(t, config.SQLite)
	host := &hostRunner{have: map[string]bool{"ping": true}, gate: make(chan struct{}), started: make(chan struct{})}
	svc := remote.NewService(store.For[remote.Tx](db), oneGateway{}, host, remote.WithRuns(1))
	ping := remote.Request{Tool: "ping", Target: "127.0.0.1", Count: 1}
	done := make(chan error)
	go func() {
		_, err := svc.Run(context.Background(), super, src, remote.Server, ping)
		done <- err
	}()
	<-host.started
	if _, err := svc.Run(context.Background(), super, src, remote.Server, ping); !fault.Is(err, fault.RateLimited) {
		t.Fatalf("a second run: %v, want rate_limited", err)
	}
	close(host.gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	go func() { <-host.started }()
	if _, err := svc.Run(context.Background(), super, src, remote.Server, ping); err != nil {
		t.Fatalf("after the first ended: %v", err)
	}
}
