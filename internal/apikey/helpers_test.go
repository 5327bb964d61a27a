package apikey_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"netkeep/internal/apikey"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/event"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
	"netkeep/internal/store"
)

// waitFor bounds every poll; events normally arrive in milliseconds.
const waitFor = 10 * time.Second

// fakeClock is a settable clock safe for concurrent use.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2025, 1, 15, 10, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// fakeUsers is the UserLookup edge: the test decides each user's state.
type fakeUsers struct {
	mu sync.Mutex
	m  map[int64]userState
}

type userState struct {
	role   authz.Role
	group  int64
	name   string
	active bool
}

func (f *fakeUsers) UserState(_ context.Context, id int64) (authz.Role, int64, string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.m[id]
	if !ok {
		return "", 0, "", false, fault.New(fault.NotFound, "user not found")
	}
	return st.role, st.group, st.name, st.active, nil
}

func (f *fakeUsers) update(id int64, fn func(*userState)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.m[id]
	fn(&st)
	f.m[id] = st
}

func (f *fakeUsers) remove(id int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.m, id)
}

// countingStore counts how often the service reaches the store.
type countingStore struct {
	apikey.Store
	reads, writes atomic.Int64
}

func (c *countingStore) Read() apikey.Tx { c.reads.Add(1); return c.Store.Read() }

func (c *countingStore) InTx(ctx context.Context, fn func(apikey.Tx) error) error {
	c.writes.Add(1)
	return c.Store.InTx(ctx, fn)
}

// fixture is a service over a real database with two groups: A (a super
// admin, a group admin and two users) and B (a group admin).
type fixture struct {
	db     *store.DB
	st     *countingStore
	bus    *event.Local
	users  *fakeUsers
	clock  *fakeClock
	svc    *apikey.Service
	groupA int64
	groupB int64

	super, adminA, userA, userA2, adminB *authz.Principal
}

func newFixture(tb testing.TB, db *store.DB, opts ...apikey.Option) *fixture {
	tb.Helper()
	f := &fixture{db: db, bus: event.NewLocal(), users: &fakeUsers{m: map[int64]userState{}}, clock: newFakeClock()}
	tb.Cleanup(func() { f.bus.Close() })
	f.groupA, f.groupB = f.group(tb, "A"), f.group(tb, "B")
	f.super = f.user(tb, "root", authz.SuperAdmin, f.groupA)
	f.adminA = f.user(tb, "adminA", authz.GroupAdmin, f.groupA)
	f.userA = f.user(tb, "userA", authz.User, f.groupA)
	f.userA2 = f.user(tb, "userA2", authz.User, f.groupA)
	f.adminB = f.user(tb, "adminB", authz.GroupAdmin, f.groupB)
	f.svc, f.st = f.service(tb, opts...)
	return f
}

// service returns another service over the same database, bus, users and
// clock: a replica.
func (f *fixture) service(tb testing.TB, opts ...apikey.Option) (*apikey.Service, *countingStore) {
	tb.Helper()
	st := &countingStore{Store: store.For[apikey.Tx](f.db)}
	svc := apikey.NewService(st, f.bus, f.users, append([]apikey.Option{apikey.WithClock(f.clock.Now)}, opts...)...)
	tb.Cleanup(svc.Close)
	return svc, st
}

func (f *fixture) group(tb testing.TB, name string) int64 {
	tb.Helper()
	g := &identity.Group{Name: name}
	if err := f.db.InTx(context.Background(), func(tx *store.Tx) error { return tx.CreateGroup(context.Background(), g) }); err != nil {
		tb.Fatal(err)
	}
	return g.ID
}

// user creates a user in the database and the fake lookup, and returns its
// session principal.
func (f *fixture) user(tb testing.TB, name string, role authz.Role, group int64) *authz.Principal {
	tb.Helper()
	u := &identity.User{Username: name, Role: identity.Role(role), GroupID: group, PasswordHash: "x", IsActive: true}
	if err := f.db.InTx(context.Background(), func(tx *store.Tx) error { return tx.CreateUser(context.Background(), u) }); err != nil {
		tb.Fatal(err)
	}
	f.users.update(u.ID, func(st *userState) { *st = userState{role: role, group: group, name: name, active: true} })
	return &authz.Principal{Kind: authz.KindUser, UserID: u.ID, Username: name, Role: role, GroupID: group}
}

// create makes a key as p, failing tb on error.
func (f *fixture) create(tb testing.TB, p *authz.Principal, in apikey.NewKey) (*apikey.Key, string) {
	tb.Helper()
	if in.Name == "" {
		in.Name = "test key"
	}
	if in.Scopes == nil {
		in.Scopes = []string{"psks:read"}
	}
	k, secret, err := f.svc.Create(context.Background(), p, source(p), in)
	if err != nil {
		tb.Fatalf("creating key as %s: %v", p.Username, err)
	}
	return k, secret
}

// userEvent announces a change to the user, as identity does.
func (f *fixture) userEvent(tb testing.TB, p *authz.Principal) {
	tb.Helper()
	ev := event.Event{Topic: "user", Action: "updated", GroupID: p.GroupID, ID: strconv.FormatInt(p.UserID, 10)}
	if err := f.bus.Publish(context.Background(), ev); err != nil {
		tb.Fatal(err)
	}
}

func source(p *authz.Principal) audit.Source { return audit.Source{Actor: p.Actor(), IP: "127.0.0.1"} }

// mustAuth authenticates secret on svc, failing tb on error.
func mustAuth(tb testing.TB, svc *apikey.Service, secret string) *authz.Principal {
	tb.Helper()
	p, _, err := svc.Authenticate(context.Background(), secret)
	if err != nil {
		tb.Fatalf("authenticating: %v", err)
	}
	return p
}

// wantFault fails tb unless err has code and its message contains msg.
func wantFault(tb testing.TB, err error, code fault.Code, msg string) {
	tb.Helper()
	fe := fault.As(err)
	if fe == nil || fe.Code != code || !strings.Contains(fe.Message, msg) {
		tb.Fatalf("error %v, want %s containing %q", err, code, msg)
	}
}

// eventually polls cond until it holds, failing tb after waitFor.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(waitFor)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within %v", what, waitFor)
		}
		<-tick.C
	}
}

// auditActions returns the actions recorded for target, oldest first.
func auditActions(tb testing.TB, db *store.DB, target string) []string {
	tb.Helper()
	entries, err := db.Read().ListAudit(context.Background(), audit.Query{Limit: 1000})
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for i := len(entries) - 1; i >= 0; i-- {
		if entries[i].Target == target {
			out = append(out, entries[i].Action)
		}
	}
	return out
}

// receive returns the next event on sub or fails tb.
func receive(tb testing.TB, sub *event.Subscription) event.Event {
	tb.Helper()
	select {
	case e := <-sub.C():
		return e
	case <-time.After(waitFor):
		tb.Fatalf("no event within %v", waitFor)
	}
	return event.Event{}
}
