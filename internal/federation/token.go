package federation

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strings"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// TokenPrefix starts every join token.
const TokenPrefix = "nkfed_"

// tokenBody is what a join token carries: where the issuer listens, the
// pin of its CA, and the one-time secret. The joining side learns the pin
// from the token (out of band), never from the network.
type tokenBody struct {
	URL         string `json:"u"`
	Fingerprint string `json:"f"`
	Secret      string `json:"s"`
}

// MaxTokenTTL bounds a join token's lifetime.
const MaxTokenTTL = 7 * 24 * time.Hour

// NewToken is a created join token: the token itself, shown once.
type NewToken struct {
	Token     string
	ID        string
	ExpiresAt time.Time
}

// CreateToken makes a one-time join token valid for ttl (0: the default).
// Only the SHA-256 of its secret is stored. Errors: unauthorized,
// forbidden, invalid (ttl), conflict (federation off).
func (s *Service) CreateToken(ctx context.Context, p *authz.Principal, src audit.Source, ttl time.Duration) (*NewToken, error) {
	if err := authz.AllowServer(p, actWrite); err != nil {
		return nil, err
	}
	id, err := s.local()
	if err != nil {
		return nil, err
	}
	switch {
	case ttl == 0:
		ttl = s.cfg.TokenTTL
	case ttl < time.Minute || ttl > MaxTokenTTL:
		return nil, fault.Errorf(fault.Invalid, "a join token lives between 1 minute and %s", MaxTokenTTL).
			WithDetails(map[string]any{"field": "expires_in"})
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	secret := base64.RawURLEncoding.EncodeToString(raw[:])
	body, err := json.Marshal(tokenBody{URL: s.URL(), Fingerprint: id.fingerprint, Secret: secret})
	if err != nil {
		return nil, err
	}
	now := s.stamp()
	t := &Token{ID: newID("fjt_"), SecretHash: hashSecret(secret), CreatedBy: src.Actor, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.InsertFederationToken(ctx, t); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, 0, "federation.token.create", "federation-token:"+t.ID, map[string]any{"expires_at": t.ExpiresAt})
	})
	if err != nil {
		return nil, err
	}
	return &NewToken{Token: TokenPrefix + base64.RawURLEncoding.EncodeToString(body), ID: t.ID, ExpiresAt: t.ExpiresAt}, nil
}

func hashSecret(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

var errBadToken = fault.New(fault.Invalid, "not a netkeep federation join token").WithDetails(map[string]any{"field": "token"})

func parseToken(token string) (*tokenBody, error) {
	raw, ok := strings.CutPrefix(strings.TrimSpace(token), TokenPrefix)
	if !ok {
		return nil, errBadToken
	}
	data, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return nil, errBadToken
	}
	var b tokenBody
	if err := json.Unmarshal(data, &b); err != nil || b.Secret == "" || len(b.Fingerprint) != 64 {
		return nil, errBadToken
	}
	if _, err := hex.DecodeString(b.Fingerprint); err != nil {
		return nil, errBadToken
	}
	if err := validURL(b.URL); err != nil {
		return nil, errBadToken
	}
	return &b, nil
}

// validURL checks a federation listener's address: https with a host.
func validURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fault.New(fault.Invalid, "a federation URL is https://host:port").WithDetails(map[string]any{"field": "url"})
	}
	return nil
}

// Join presents another instance's join token to it: this instance
// connects to the URL in the token, accepts only the CA the token pins,
// proves itself with its own certificate, and records the other as a peer
// pinned to that CA. The other side records this one the same way.
// Errors: unauthorized, forbidden, invalid (the token), conflict
// (federation off, the token is this instance's own), unavailable (the
// peer cannot be reached or its certificate is not the pinned one),
// forbidden or invalid as the peer answered (a used or expired token).
func (s *Service) Join(ctx context.Context, p *authz.Principal, src audit.Source, token string) (*Peer, error) {
	if err := authz.AllowServer(p, actWrite); err != nil {
		return nil, err
	}
	id, err := s.local()
	if err != nil {
		return nil, err
	}
	b, err := parseToken(token)
	if err != nil {
		return nil, err
	}
	if b.Fingerprint == id.fingerprint {
		return nil, fault.New(fault.Conflict, "this is a join token of this instance: present it to the other one")
	}
	ans, err := s.link.Join(ctx, b.URL, b.Fingerprint, JoinRequest{Secret: b.Secret, Name: s.name(), URL: s.URL()})
	if err != nil {
		return nil, err
	}
	now := s.stamp()
	peer := &Peer{ID: PeerID(b.Fingerprint), Name: ans.Name, URL: b.URL, CAFingerprint: b.Fingerprint,
		Status: StatusConnected, CreatedAt: now}
	if err := s.savePeer(ctx, src, peer, "federation.peer.join"); err != nil {
		return nil, err
	}
	_ = s.syncPeer(ctx, peer)
	return s.peer(ctx, s.store.Read(), peer.ID)
}

// Redeem is the other half of Join, on the token's issuer: the caller
// presented a chain whose CA has fingerprint (Presented) and the token's
// secret. The token is used up whether or not anything else fails after
// it. Errors: forbidden (unknown, used or expired token), invalid (the
// request), conflict (the caller is this instance).
func (s *Service) Redeem(ctx context.Context, fingerprint string, req JoinRequest) (*JoinAnswer, error) {
	id, err := s.local()
	if err != nil {
		return nil, err
	}
	if err := validURL(req.URL); err != nil {
		return nil, err
	}
	name := strings.TrimSpace(req.Name)
	if name == "" || len(name) > 64 {
		return nil, fault.New(fault.Invalid, "name is 1 to 64 characters").WithDetails(map[string]any{"field": "name"})
	}
	if fingerprint == id.fingerprint {
		return nil, fault.New(fault.Conflict, "an instance cannot join itself")
	}
	now := s.stamp()
	peer := &Peer{ID: PeerID(fingerprint), Name: name, URL: req.URL, CAFingerprint: fingerprint,
		Status: StatusConnected, CreatedAt: now}
	src := audit.Source{Actor: "peer:" + peer.ID}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.UseFederationToken(ctx, hashSecret(req.Secret), peer.ID, now); err != nil {
			if fault.Is(err, fault.NotFound) {
				return fault.New(fault.Forbidden, "the join token is unknown, used or expired")
			}
			return err
		}
		return s.savePeerTx(ctx, tx, src, peer, "federation.peer.join")
	})
	if err != nil {
		return nil, err
	}
	// No sync of the new peer from here: it records this instance only
	// after this answer reaches it, so a sync now would be refused and mark
	// it disconnected. Its own first sync, which follows its join, reaches
	// Authenticate, and that starts this side's (see there).
	return &JoinAnswer{PeerID: id.peerID, Name: s.name()}, nil
}

func (s *Service) savePeer(ctx context.Context, src audit.Source, peer *Peer, action string) error {
	return s.store.InTx(ctx, func(tx Tx) error { return s.savePeerTx(ctx, tx, src, peer, action) })
}

func (s *Service) savePeerTx(ctx context.Context, tx Tx, src audit.Source, peer *Peer, action string) error {
	if err := tx.SaveFederationPeer(ctx, peer); err != nil {
		return err
	}
	return audit.Record(ctx, tx, src, 0, action, peerTarget(peer.ID), map[string]any{
		"name": peer.Name, "url": peer.URL, "ca_fingerprint": peer.CAFingerprint})
}

func newID(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
