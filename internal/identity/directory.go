package identity

import (
	"context"
	"strconv"
	"sync"
	"time"

	"netkeep/internal/authz"
	"netkeep/internal/event"
	"netkeep/internal/fault"
)

// directory is the in-memory state that lets a request be authenticated
// without touching the database: users' current role, group and activity,
// the sessions known to exist (with their owner and end), and the sessions
// revoked recently enough that their access tokens could still verify. It follows the event bus, so changes made on any replica
// apply here within the bus's latency; a bus resync reloads it.
type directory struct {
	s       *Service
	mu      sync.RWMutex
	users   map[int64]UserState
	gen     uint64               // bumped on every user invalidation
	revoked map[string]time.Time // session id → when its tokens are all expired
	live    map[string]liveSession
	sub     *event.Subscription
	done    chan struct{}
}

// UserState is what authentication needs to know about a user now.
type UserState struct {
	Role     Role
	GroupID  int64
	Username string
	Active   bool
}

// liveSession is a session read from the store (or opened here): whose it
// is and when it ends. Revocation is not cached here: the revoked set is
// checked first on every request.
type liveSession struct {
	userID  int64
	expires time.Time
}

// maxLiveSessions bounds the cache of existing sessions; when full it
// starts over (sessions are re-read on their next request).
const maxLiveSessions = 100_000

func newDirectory(s *Service) *directory {
	return &directory{s: s, users: map[int64]UserState{}, revoked: map[string]time.Time{}, live: map[string]liveSession{}}
}

func (d *directory) start(ctx context.Context) error {
	if err := d.loadRevoked(ctx); err != nil {
		return err
	}
	if d.s.bus == nil {
		return nil
	}
	d.sub = d.s.bus.Subscribe("user", "session")
	d.done = make(chan struct{})
	go d.follow()
	return nil
}

func (d *directory) close() {
	if d.sub != nil {
		d.sub.Close()
		<-d.done
		d.sub = nil
	}
}

func (d *directory) follow() {
	defer close(d.done)
	for e := range d.sub.C() {
		switch e.Topic {
		case "user":
			id, _ := strconv.ParseInt(e.ID, 10, 64)
			d.forgetUser(id)
		case "session":
			d.markRevoked(e.ID)
		case event.TopicBus:
			d.mu.Lock()
			d.users = map[int64]UserState{}
			d.live = map[string]liveSession{}
			d.gen++
			d.mu.Unlock()
			if err := d.loadRevoked(context.Background()); err != nil {
				d.s.log.Error("reloading revoked sessions", "err", err)
			}
		}
	}
}

// window is how long after revocation a session's tokens could still verify.
func (d *directory) window() time.Duration {
	return d.s.cfg.AccessTTL + d.s.cfg.RefreshGrace + time.Minute
}

func (d *directory) loadRevoked(ctx context.Context) error {
	now := d.s.now()
	ids, err := d.s.store.Read().RevokedSessionsSince(ctx, now.Add(-d.window()))
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, id := range ids {
		d.revoked[id] = now.Add(d.window())
	}
	return nil
}

// forgetUser drops a user's cached state; a load racing with it will not
// store what it read (see UserState).
func (d *directory) forgetUser(id int64) {
	d.mu.Lock()
	delete(d.users, id)
	d.gen++
	d.mu.Unlock()
}

func (d *directory) markRevoked(sid string) {
	now := d.s.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.revoked[sid] = now.Add(d.window())
	delete(d.live, sid)
	if len(d.revoked)%1024 == 0 { // amortised pruning of entries past their window
		for id, until := range d.revoked {
			if now.After(until) {
				delete(d.revoked, id)
			}
		}
	}
}

// addLive records a session known to exist.
func (d *directory) addLive(sid string, ls liveSession) {
	d.mu.Lock()
	if len(d.live) >= maxLiveSessions {
		d.live = make(map[string]liveSession, maxLiveSessions/2)
	}
	d.live[sid] = ls
	d.mu.Unlock()
}

// session returns the session sid from memory, reading the store on a miss.
// A session that never existed is errSessionEnded and is not cached, so a
// session opened on another replica is found on its first request here.
func (s *Service) session(ctx context.Context, sid string) (liveSession, error) {
	d := s.dir
	d.mu.RLock()
	ls, ok := d.live[sid]
	d.mu.RUnlock()
	if ok {
		return ls, nil
	}
	sess, err := s.store.Read().SessionByID(ctx, sid)
	if fault.Is(err, fault.NotFound) {
		return liveSession{}, errSessionEnded
	}
	if err != nil {
		return liveSession{}, err
	}
	if sess.RevokedAt != nil {
		d.markRevoked(sid)
		return liveSession{}, errSessionEnded
	}
	ls = liveSession{userID: sess.UserID, expires: sess.ExpiresAt}
	d.addLive(sid, ls)
	return ls, nil
}

func (d *directory) isRevoked(sid string) bool {
	d.mu.RLock()
	_, ok := d.revoked[sid]
	d.mu.RUnlock()
	return ok
}

// UserState returns a user's current state, from memory when cached.
// A missing user is not_found.
func (s *Service) UserState(ctx context.Context, id int64) (UserState, error) {
	d := s.dir
	d.mu.RLock()
	st, ok := d.users[id]
	gen := d.gen
	d.mu.RUnlock()
	if ok {
		return st, nil
	}
	u, err := s.store.Read().UserByID(ctx, id)
	if err != nil {
		return UserState{}, err
	}
	st = UserState{Role: u.Role, GroupID: u.GroupID, Username: u.Username, Active: u.IsActive}
	d.mu.Lock()
	if d.gen == gen { // no invalidation arrived during the read: safe to keep
		d.users[id] = st
	}
	d.mu.Unlock()
	return st, nil
}

var errSessionEnded = fault.New(fault.Unauthorized, "session has ended; log in again")

// AuthenticateAccess verifies a user access token and returns its principal
// with the user's current role and group. It touches the database only for a
// user not yet cached.
func (s *Service) AuthenticateAccess(ctx context.Context, token string) (*authz.Principal, error) {
	c, ok := s.verified.Get(token, s.now())
	if !ok {
		c = &AccessClaims{}
		if err := s.signer.Verify(token, AudienceAPI, c, false); err != nil {
			return nil, err
		}
		s.verified.Put(token, c)
	}
	return s.principalFor(ctx, c)
}

// principalFor checks that c's session exists, belongs to c's subject, has
// not ended and is not revoked, and that the user is active; a correctly
// signed token naming any other session is refused.
func (s *Service) principalFor(ctx context.Context, c *AccessClaims) (*authz.Principal, error) {
	if c.SessionID == "" || s.dir.isRevoked(c.SessionID) {
		return nil, errSessionEnded
	}
	ls, err := s.session(ctx, c.SessionID)
	if err != nil {
		return nil, err
	}
	if ls.userID != c.UserID() || !s.now().Before(ls.expires) {
		return nil, errSessionEnded
	}
	st, err := s.UserState(ctx, c.UserID())
	if fault.Is(err, fault.NotFound) || (err == nil && !st.Active) {
		return nil, errSessionEnded
	}
	if err != nil {
		return nil, err
	}
	return &authz.Principal{
		Kind: authz.KindUser, UserID: c.UserID(), Username: st.Username,
		Role: authz.Role(st.Role), GroupID: st.GroupID, SessionID: c.SessionID,
	}, nil
}
