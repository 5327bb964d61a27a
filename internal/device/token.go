package device

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
)

// AudienceDevice is the audience of device tokens: never accepted as a
// user's access token, nor the other way round.
const AudienceDevice = "netkeep-device"

// tokenKeyID marks a device token's JWT header, so that an authenticator
// can tell one from a user's access token without verifying it twice.
const tokenKeyID = "device"

// tokenPrefix is the encoded header every device token starts with: the
// JWT library marshals the header map with sorted keys, so it is constant.
var tokenPrefix = func() string {
	h, _ := json.Marshal(map[string]any{"alg": jwt.SigningMethodHS256.Alg(), "kid": tokenKeyID, "typ": "JWT"})
	return base64.RawURLEncoding.EncodeToString(h) + "."
}()

// IsToken reports whether s looks like a device token (its header). It
// proves nothing: Authenticate verifies.
func IsToken(s string) bool { return strings.HasPrefix(s, tokenPrefix) }

// claims are a device token's: the subject is the device id, Epoch its
// pairing.
type claims struct {
	jwt.RegisteredClaims
	Epoch   string `json:"ep"`
	GroupID int64  `json:"gid"`
}

// issue signs a token for d.
func (s *Service) issue(d *Device) (*Token, error) {
	now := s.now()
	c := &claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    identity.Issuer,
			Subject:   d.ID,
			Audience:  jwt.ClaimStrings{AudienceDevice},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now.Add(-5 * time.Second)),
			ExpiresAt: jwt.NewNumericDate(now.Add(TokenTTL)),
			ID:        randomHex(8),
		},
		Epoch:   d.Epoch,
		GroupID: d.GroupID,
	}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	t.Header["kid"] = tokenKeyID
	signed, err := t.SignedString(s.keys.JWTKey())
	if err != nil {
		return nil, fault.New(fault.Internal, "signing device token").Wrap(err)
	}
	return &Token{AccessToken: signed, ExpiresIn: TokenTTL, Scopes: d.Scopes, DeviceID: d.ID}, nil
}

// Authenticate verifies a device token and returns its principal: the
// device, acting within its scopes with the current role of the user who
// paired it, in its group. It fails (unauthorized) for a bad or expired
// token, a revoked or re-paired device, and a device whose user is gone,
// inactive or moved to another group. It reads memory only, but for a
// device not yet cached.
func (s *Service) Authenticate(ctx context.Context, token string) (*authz.Principal, error) {
	p, _, err := s.verify(ctx, token, false)
	return p, err
}

// Refresh renews a valid, or recently expired (within the refresh grace),
// device token of a live device: a new 12-hour token of the same pairing.
func (s *Service) Refresh(ctx context.Context, token string) (*Token, error) {
	_, st, err := s.verify(ctx, token, true)
	if err != nil {
		return nil, err
	}
	return s.issue(st.device)
}

func (s *Service) verify(ctx context.Context, token string, withGrace bool) (*authz.Principal, *state, error) {
	c, ok := s.verified.Get(token, s.now())
	if !ok || withGrace {
		c = &claims{}
		if err := s.signer.Verify(token, AudienceDevice, c, withGrace); err != nil {
			return nil, nil, err
		}
		if !withGrace {
			s.verified.Put(token, c)
		}
	}
	st, err := s.registry.get(ctx, c.Subject)
	switch {
	case fault.Is(err, fault.NotFound):
		return nil, nil, errRevoked
	case err != nil:
		return nil, nil, err
	case st.device.RevokedAt != nil || st.device.Epoch != c.Epoch:
		return nil, nil, errRevoked
	}
	p := &authz.Principal{
		Kind: authz.KindDevice, Subject: st.device.ID, GroupID: st.device.GroupID,
		UserID: st.device.UserID, Scopes: st.scopes, Role: authz.GroupAdmin, Username: st.device.Name,
	}
	if uid := st.device.UserID; uid != 0 {
		role, gid, _, active, err := s.users.UserState(ctx, uid)
		switch {
		case fault.Is(err, fault.NotFound), err == nil && (!active || gid != st.device.GroupID):
			return nil, nil, errOwnerGone
		case err != nil:
			return nil, nil, fault.New(fault.Unavailable, "device owner cannot be checked right now").Wrap(err)
		}
		p.Role = role
	}
	s.touch(ctx, st)
	return p, st, nil
}

// touch records the device's last use, at most every touchEvery per
// replica; a failure is logged (the next use retries).
func (s *Service) touch(ctx context.Context, st *state) {
	now := s.now()
	last := st.touched.Load()
	if now.UnixNano()-last < int64(touchEvery) || !st.touched.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	err := s.store.InTx(context.WithoutCancel(ctx), func(tx Tx) error { return tx.TouchDevice(ctx, st.device.ID, now) })
	if err != nil {
		s.log.Warn("recording device use", "device", st.device.ID, "err", err)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
