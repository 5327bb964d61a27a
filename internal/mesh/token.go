package mesh

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
)

// NodeClaims are the claims of a node JWT: audience netkeep-node, subject
// "<netid>/<node id>". It authorises that one node's own calls only.
type NodeClaims struct {
	jwt.RegisteredClaims
	MAC string `json:"mac"`
}

var errBadNodeLogin = fault.New(fault.Unauthorized, "invalid macaddress or password")

// dummyHash is checked against when the node does not exist or has no
// password, so such a failure takes the time of checking a machine
// password (a keyed hash when the service has a key).
func (s *Service) dummyHash() string {
	s.dummyOnce.Do(func() {
		s.dummy, _ = s.pw.hash(context.Background(), "netkeep dummy node password")
	})
	return s.dummy
}

// AuthenticateNode checks a node's password and returns a JWT for it and its
// expiry. Errors: unauthorized (unknown network or node, wrong password, or a
// node without a password), invalid (MAC), rate_limited (ReasonNodeLocked:
// too many failures for this network and MAC; details.retry_after says for
// how many seconds, and no password is checked meanwhile).
func (s *Service) AuthenticateNode(ctx context.Context, netid, mac, password string) (string, time.Time, error) {
	mac, err := NormalizeMAC(mac)
	if err != nil {
		return "", time.Time{}, err
	}
	lockKey := netid + "/" + mac
	if d := s.locks.Wait(lockKey, s.now()); d > 0 {
		return "", time.Time{}, errNodeLocked(d)
	}
	var n *Node
	if st := s.state(netid); st != nil {
		st.mu.RLock()
		if m := st.byMAC[mac]; m != nil {
			n = m.node
		}
		st.mu.RUnlock()
	}
	dummy := s.dummyHash()
	hash := dummy
	if n != nil {
		sec, err := s.store.Read().NodeSecrets(ctx, n.ID)
		if err != nil && !fault.Is(err, fault.NotFound) {
			return "", time.Time{}, err
		}
		if sec.PasswordHash != "" {
			hash = sec.PasswordHash
		}
	}
	ok, upgrade, err := s.pw.check(ctx, hash, password)
	if err != nil {
		return "", time.Time{}, err
	}
	if !ok || n == nil || hash == dummy {
		if d := s.locks.Fail(lockKey, s.now()); d > 0 {
			return "", time.Time{}, errNodeLocked(d)
		}
		return "", time.Time{}, errBadNodeLogin
	}
	s.locks.Succeed(lockKey)
	if upgrade {
		s.rehashPassword(ctx, n, password)
	}
	return s.IssueNodeToken(n)
}

// IssueNodeToken signs a JWT for n.
func (s *Service) IssueNodeToken(n *Node) (string, time.Time, error) {
	now := s.now()
	exp := now.Add(s.tokenTTL)
	jti := make([]byte, 8)
	_, _ = rand.Read(jti)
	tok, err := s.signer.Sign(&NodeClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    identity.Issuer,
			Subject:   nodeSubject(n.Network, n.ID),
			Audience:  jwt.ClaimStrings{identity.AudienceNode},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now.Add(-5 * time.Second)),
			ExpiresAt: jwt.NewNumericDate(exp),
			ID:        hex.EncodeToString(jti),
		},
		MAC: n.MAC,
	})
	return tok, exp, err
}

// AuthenticateNodeToken verifies a node JWT and returns its principal. The
// node must still exist: deleting a node revokes its tokens.
// Errors: unauthorized.
func (s *Service) AuthenticateNodeToken(ctx context.Context, token string) (*authz.Principal, error) {
	var c NodeClaims
	if err := s.signer.Verify(token, identity.AudienceNode, &c, false); err != nil {
		return nil, err
	}
	netid, id, ok := parseNodeSubject(c.Subject)
	if !ok {
		return nil, fault.New(fault.Unauthorized, "invalid or expired token")
	}
	st := s.state(netid)
	if st == nil {
		return nil, fault.New(fault.Unauthorized, "the node no longer exists")
	}
	st.mu.RLock()
	m := st.members[id]
	st.mu.RUnlock()
	if m == nil {
		return nil, fault.New(fault.Unauthorized, "the node no longer exists")
	}
	return &authz.Principal{Kind: authz.KindNode, Subject: c.Subject, GroupID: st.gid, Username: c.MAC}, nil
}
