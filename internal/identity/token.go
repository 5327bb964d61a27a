package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"netkeep/internal/fault"
)

// Token issuer and audiences. Access tokens and node tokens share the signing
// key but never each other's audience.
const (
	Issuer        = "netkeep"
	AudienceAPI   = "netkeep-api"
	AudienceNode  = "netkeep-node"
	refreshPrefix = "rt_"
)

// AccessClaims are the claims of a user access token.
type AccessClaims struct {
	jwt.RegisteredClaims
	SessionID string `json:"sid"`
	Role      Role   `json:"role"`
	GroupID   int64  `json:"gid"`
	Username  string `json:"name"`
}

// UserID returns the subject as a user id.
func (c *AccessClaims) UserID() int64 {
	id, _ := strconv.ParseInt(c.Subject, 10, 64)
	return id
}

// Signer issues and verifies HS256 JWTs with the server's key.
type Signer struct {
	key    []byte
	strict *jwt.Parser
	grace  *jwt.Parser
}

// NewSigner returns a signer. grace is how long after expiry a token may still
// be presented for refresh (Nekzus accepts "recently expired" tokens there).
func NewSigner(key []byte, grace time.Duration, now func() time.Time) *Signer {
	opts := []jwt.ParserOption{
		jwt.WithTimeFunc(now),
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	}
	return &Signer{
		key:    key,
		strict: jwt.NewParser(opts...),
		grace:  jwt.NewParser(append(opts, jwt.WithLeeway(grace))...),
	}
}

// Sign signs claims.
func (s *Signer) Sign(claims jwt.Claims) (string, error) {
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.key)
}

var errBadToken = fault.New(fault.Unauthorized, "invalid or expired token")

// Verify parses a token into claims, checking signature, algorithm, issuer,
// audience and expiry. withGrace accepts a recently expired token.
func (s *Signer) Verify(token, audience string, claims jwt.Claims, withGrace bool) error {
	p := s.strict
	if withGrace {
		p = s.grace
	}
	_, err := p.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return s.key, nil })
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return fault.New(fault.Unauthorized, "token expired")
		}
		return errBadToken
	}
	aud, err := claims.GetAudience()
	if err != nil || len(aud) != 1 || aud[0] != audience {
		return errBadToken
	}
	return nil
}

// newAccessClaims builds the claims of a user's access token.
func newAccessClaims(u *User, sessionID string, now time.Time, ttl time.Duration) *AccessClaims {
	return &AccessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    Issuer,
			Subject:   strconv.FormatInt(u.ID, 10),
			Audience:  jwt.ClaimStrings{AudienceAPI},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now.Add(-5 * time.Second)),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
			ID:        randomID(8),
		},
		SessionID: sessionID,
		Role:      u.Role,
		GroupID:   u.GroupID,
		Username:  u.Username,
	}
}

// newRefreshToken returns an opaque refresh token and its stored hash.
func newRefreshToken() (token, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token = refreshPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken is the stored form of a high-entropy token: hex SHA-256.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
