package pki

import (
	"context"
	"crypto/x509"
	"strconv"
	"strings"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// CA rotation, per group. A group starts out trusting and issuing with the
// server-wide CA. Rotate adds a CA of the group's own that is trusted at once
// (gateways and clients receive it in their bundles) but issues nothing
// until Activate makes it the group's issuer; the previous issuer stays
// trusted ("retired") until RevokeCA removes it, which also revokes every
// unexpired certificate it issued to the group.

// CAState is a CA's state as one group sees it.
type CAState string

// The states: pending (rotated in, never issued), current (the group's
// issuer), retired (issued before, still trusted), revoked (the group no
// longer trusts it) and expired.
const (
	StatePending CAState = "pending"
	StateCurrent CAState = "current"
	StateRetired CAState = "retired"
	StateRevoked CAState = "revoked"
	StateExpired CAState = "expired"
)

// Trusted reports whether a CA in state st is in the group's bundle.
func (st CAState) Trusted() bool {
	return st == StatePending || st == StateCurrent || st == StateRetired
}

// GroupCA is one CA as a group sees it.
type GroupCA struct {
	ID          int64
	GroupID     int64 // 0: the server-wide CA
	Name        string
	Certificate *x509.Certificate
	PEM         []byte
	Fingerprint string
	State       CAState
	CreatedAt   time.Time
	ActivatedAt *time.Time
	RevokedAt   *time.Time
}

// RotateRequest asks for a new CA of the caller's group.
type RotateRequest struct {
	Name     string        // subject CN; "" is the configured name with the date
	Validity time.Duration // 0: Config.CAValidity
}

// MaxCAValidity bounds a rotated CA's lifetime (30 years).
const MaxCAValidity = 30 * 365 * 24 * time.Hour

// The actions guarding the CA views and changes.
const actionRead authz.Action = "pki:read"

// GroupCAs lists the CAs of p's group (its own and the server-wide one), in
// creation order. Errors: unauthorized, forbidden.
func (s *Service) GroupCAs(ctx context.Context, p *authz.Principal) ([]*GroupCA, error) {
	if err := allowOwnGroup(p, actionRead); err != nil {
		return nil, err
	}
	return s.groupCAs(ctx, s.store.Read(), p.GroupID)
}

// GroupCAsAsAdmin is GroupCAs for the administration console
// (gatekey-admin's "ca show" and "ca list"): administrators only
// (authz.Administer), although any member may read one CA's CRL elsewhere.
// Errors: unauthorized, forbidden.
func (s *Service) GroupCAsAsAdmin(ctx context.Context, p *authz.Principal) ([]*GroupCA, error) {
	if err := authz.Allow(p, authz.Administer, authz.Any); err != nil {
		return nil, err
	}
	return s.GroupCAs(ctx, p)
}

// GroupCA returns one CA of p's group. Errors: unauthorized, forbidden,
// not_found (also another group's CA).
func (s *Service) GroupCA(ctx context.Context, p *authz.Principal, id int64) (*GroupCA, error) {
	cas, err := s.GroupCAs(ctx, p)
	if err != nil {
		return nil, err
	}
	return findCA(cas, id)
}

func findCA(cas []*GroupCA, id int64) (*GroupCA, error) {
	for _, c := range cas {
		if c.ID == id {
			return c, nil
		}
	}
	return nil, errCANotFound
}

// groupCAs reads the group's CAs through tx and derives their states.
func (s *Service) groupCAs(ctx context.Context, tx Tx, groupID int64) ([]*GroupCA, error) {
	recs, err := tx.GroupAuthorities(ctx, groupID)
	if err != nil {
		return nil, err
	}
	issuer := issuerIn(recs, groupID)
	now := s.now()
	out := make([]*GroupCA, 0, len(recs))
	for _, rec := range recs {
		cert, err := x509.ParseCertificate(rec.CertDER)
		if err != nil {
			return nil, fault.Errorf(fault.Internal, "CA %d does not parse", rec.ID).Wrap(err)
		}
		c := &GroupCA{ID: rec.ID, GroupID: rec.GroupID, Name: rec.Name, Certificate: cert, Fingerprint: rec.Fingerprint,
			PEM: pemCert(rec.CertDER), CreatedAt: rec.CreatedAt, ActivatedAt: rec.ActivatedAt}
		if c.Name == "" {
			c.Name = cert.Subject.CommonName
		}
		switch {
		case rec.DistrustedAt != nil:
			c.State, c.RevokedAt = StateRevoked, rec.DistrustedAt
		case !rec.Active:
			c.State, c.RevokedAt = StateRevoked, rec.RetiredAt
		case !now.Before(cert.NotAfter):
			c.State = StateExpired
		case rec.ID == issuer:
			c.State = StateCurrent
		case rec.ActivatedAt == nil:
			c.State = StatePending
		default:
			c.State = StateRetired
		}
		out = append(out, c)
	}
	return out, nil
}

// Rotate creates a new CA for p's group: trusted at once, issuing nothing
// until Activate. Its key is sealed like every CA key. Errors: unauthorized,
// forbidden, invalid (name, validity).
func (s *Service) Rotate(ctx context.Context, p *authz.Principal, src audit.Source, req RotateRequest) (*GroupCA, error) {
	if err := allowOwnGroup(p, actionWrite); err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Second)
	name := strings.TrimSpace(req.Name)
	if name == "" {
		name = s.cfg.CAName + " " + now.Format("2006-01-02 15:04:05")
	}
	if err := validCommonName(name); err != nil {
		return nil, fault.As(err).WithDetails(map[string]any{"field": "name"})
	}
	validity := req.Validity
	switch {
	case validity == 0:
		validity = s.cfg.CAValidity
	case validity < 24*time.Hour || validity > MaxCAValidity:
		return nil, invalidField("validity", "a CA's validity must lie between one day and 30 years")
	}
	a, err := generateCA(now, name, validity)
	if err != nil {
		return nil, err
	}
	rec, err := s.seal(a, OriginGenerated, now)
	if err != nil {
		return nil, err
	}
	rec.GroupID, rec.Name, rec.Issuing, rec.ActivatedAt = p.GroupID, name, false, nil
	var out *GroupCA
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.InsertAuthority(ctx, rec); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, src, p.GroupID, "pki.ca.rotate", caTarget(rec.ID), map[string]any{
			"fingerprint": rec.Fingerprint, "subject": a.Certificate.Subject.String(), "not_after": a.Certificate.NotAfter,
		}); err != nil {
			return err
		}
		cas, err := s.groupCAs(ctx, tx, p.GroupID)
		if err != nil {
			return err
		}
		out, err = findCA(cas, rec.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	a.ID = rec.ID
	s.loaded.Store(a.ID, a)
	if _, err := s.regenerate(ctx, a); err != nil {
		// Committed; the next sync (or the first bundle) generates it.
		s.log.Warn("generating a rotated CA's first CRL", "ca", a.ID, "error", err)
	}
	s.publish(ctx, actionCA, p.GroupID, rec.Fingerprint)
	return out, nil
}

// Activate makes the CA the issuer of p's group: its own pending or retired
// CA, or the server-wide one (the group then has no issuer of its own). The
// previous issuer stays trusted. Activating the current issuer changes
// nothing. Errors: unauthorized, forbidden, not_found, conflict (revoked or
// expired).
func (s *Service) Activate(ctx context.Context, p *authz.Principal, src audit.Source, id int64) (*GroupCA, error) {
	if err := allowOwnGroup(p, actionWrite); err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Second)
	var out *GroupCA
	changed := false
	err := s.store.InTx(ctx, func(tx Tx) error {
		changed = false
		cas, err := s.groupCAs(ctx, tx, p.GroupID)
		if err != nil {
			return err
		}
		c, err := findCA(cas, id)
		if err != nil {
			return err
		}
		switch c.State {
		case StateCurrent:
			out = c
			return nil
		case StateRevoked, StateExpired:
			return fault.Errorf(fault.Conflict, "the CA is %s and cannot issue", c.State)
		}
		own := id
		if c.GroupID == 0 {
			own = 0
		}
		if err := tx.SetIssuer(ctx, p.GroupID, own, now); err != nil {
			return err
		}
		changed = true
		if err := audit.Record(ctx, tx, src, p.GroupID, "pki.ca.activate", caTarget(id),
			map[string]any{"fingerprint": c.Fingerprint, "previous_state": c.State}); err != nil {
			return err
		}
		if cas, err = s.groupCAs(ctx, tx, p.GroupID); err != nil {
			return err
		}
		out, err = findCA(cas, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	if changed {
		s.publish(ctx, actionCA, p.GroupID, out.Fingerprint)
	}
	return out, nil
}

// RevokeCA removes the CA from p's group's trust and revokes every
// unexpired certificate it issued to the group (cessationOfOperation), so
// it lands on the CA's CRL. A CA of the group's own also leaves service: its
// key is erased. The group's current issuer cannot be revoked: activate
// another first. Errors: unauthorized, forbidden, not_found, conflict (the
// current issuer, or already revoked).
func (s *Service) RevokeCA(ctx context.Context, p *authz.Principal, src audit.Source, id int64) (*GroupCA, error) {
	if err := allowOwnGroup(p, actionWrite); err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	var out *GroupCA
	var revoked []*Certificate
	err := s.store.InTx(ctx, func(tx Tx) error {
		revoked = nil
		cas, err := s.groupCAs(ctx, tx, p.GroupID)
		if err != nil {
			return err
		}
		c, err := findCA(cas, id)
		if err != nil {
			return err
		}
		switch c.State {
		case StateCurrent:
			return fault.New(fault.Conflict, "the CA is the group's current issuer; activate another CA first")
		case StateRevoked:
			return fault.New(fault.Conflict, "the certificate authority is already revoked")
		}
		if err := tx.Distrust(ctx, p.GroupID, id, now); err != nil {
			return err
		}
		if c.GroupID != 0 {
			if err := tx.RetireAuthority(ctx, id, now); err != nil {
				return err
			}
		}
		if revoked, err = tx.UnrevokedCertificates(ctx, Owner{GroupID: p.GroupID}, id, now); err != nil {
			return err
		}
		for _, cert := range revoked {
			if err := revokeInTx(ctx, tx, src, cert, now, CessationOfOperation); err != nil {
				return err
			}
		}
		if err := tx.BumpRevision(ctx); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, src, p.GroupID, "pki.ca.revoke", caTarget(id), map[string]any{
			"fingerprint": c.Fingerprint, "previous_state": c.State, "revoked_certificates": len(revoked),
		}); err != nil {
			return err
		}
		if cas, err = s.groupCAs(ctx, tx, p.GroupID); err != nil {
			return err
		}
		out, err = findCA(cas, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, actionCA, p.GroupID, out.Fingerprint)
	s.afterRevoke(ctx, revoked...)
	return out, nil
}

// allowOwnGroup authorizes a on the CAs of p's own group: the CA views and
// changes act on the caller's group.
func allowOwnGroup(p *authz.Principal, a authz.Action) error {
	if err := authz.Allow(p, a, authz.Any); err != nil {
		return err
	}
	return authz.Allow(p, a, authz.Resource{GroupID: p.GroupID})
}

func caTarget(id int64) string { return "ca:" + strconv.FormatInt(id, 10) }

// ParseCAID reads a CA id as the API gives it. Errors: not_found (a
// malformed id names no CA).
func ParseCAID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, errCANotFound
	}
	return id, nil
}
