package pki

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"netkeep/internal/fault"
)

// Trust is what a group's gateways and clients are given: the CA that signs
// the group's new certificates and every CA they must trust meanwhile. During
// a rotation that is several: a client issued by the old CA still reaches a
// gateway whose server certificate comes from the new one, and back.
type Trust struct {
	Issuer *CA
	CAs    []*CA             // every CA the group trusts, the issuer first
	Bundle []byte            // their PEM certificates, in that order
	CRLs   []*RevocationList // one per CA, in that order
	// Digest names the set and its issuer: it changes when either does. With
	// one CA it is that CA's fingerprint.
	Digest string
}

// CRLBundle is every CRL of t in PEM, concatenated: what an OpenVPN server
// that checks CRLs for every CA of its chain (crl-verify) needs.
func (t *Trust) CRLBundle() []byte {
	var b bytes.Buffer
	for _, l := range t.CRLs {
		b.Write(l.PEM)
	}
	return b.Bytes()
}

// Trust returns the group's trust: its issuer and the CAs it trusts (its own
// in service and the server-wide one, less those it revoked or that
// expired). groupID 0 is the server-wide view. The caller has authorized
// the group. Errors: unavailable (before Start, or a CRL not generated yet).
func (s *Service) Trust(ctx context.Context, groupID int64) (*Trust, error) {
	if _, err := s.current(); err != nil {
		return nil, err
	}
	recs, err := s.store.Read().GroupAuthorities(ctx, groupID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	issuerID := issuerIn(recs, groupID)
	t := &Trust{}
	var names []string
	for _, rec := range recs {
		if !rec.Active || rec.DistrustedAt != nil {
			continue
		}
		a, err := s.authorityOf(ctx, rec.ID)
		if err != nil {
			return nil, err
		}
		if !now.Before(a.Certificate.NotAfter) {
			continue
		}
		l, err := s.crlFor(ctx, a)
		if err != nil {
			return nil, err
		}
		ca := a.CA
		if rec.ID == issuerID {
			t.Issuer = &ca
			t.CAs = append([]*CA{&ca}, t.CAs...)
			t.CRLs = append([]*RevocationList{l}, t.CRLs...)
			names = append([]string{"issuer " + ca.Fingerprint}, names...)
			continue
		}
		t.CAs = append(t.CAs, &ca)
		t.CRLs = append(t.CRLs, l)
		names = append(names, ca.Fingerprint)
	}
	if t.Issuer == nil {
		return nil, fault.New(fault.Unavailable, "the group's certificate authority has expired; rotate it")
	}
	for _, ca := range t.CAs {
		t.Bundle = append(t.Bundle, ca.PEM...)
	}
	t.Digest = t.Issuer.Fingerprint
	if len(t.CAs) > 1 {
		sum := sha256.New()
		for _, n := range names {
			fmt.Fprintln(sum, n)
		}
		t.Digest = hex.EncodeToString(sum.Sum(nil))
	}
	return t, nil
}

// issuerIn picks the group's issuer among its authorities: its own, else
// the server-wide one; 0 when there is none.
func issuerIn(recs []*Authority, groupID int64) int64 {
	var id int64
	for _, a := range recs {
		if a.Issuing && (a.GroupID == groupID || id == 0) {
			id = a.ID
		}
	}
	return id
}

// crlFor returns a's served CRL, loading or generating it when this replica
// has none yet (a CA rotated in on another replica moments ago).
func (s *Service) crlFor(ctx context.Context, a *authority) (*RevocationList, error) {
	if l, err := s.CRLOf(a.ID); err == nil {
		return l, nil
	}
	if l, err := s.loadStored(ctx, a.ID); err == nil {
		return l, nil
	} else if !fault.Is(err, fault.NotFound) {
		return nil, err
	}
	return s.regenerate(ctx, a)
}

// authorityOf returns the opened CA with the given id, which must be in
// service, opening and caching it on first use. Errors: not_found.
func (s *Service) authorityOf(ctx context.Context, id int64) (*authority, error) {
	if a := s.ca.Load(); a != nil && a.ID == id {
		return a, nil
	}
	if a, ok := s.loaded.Load(id); ok {
		return a.(*authority), nil
	}
	rec, err := s.store.Read().AuthorityByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !rec.Active {
		return nil, errCANotFound
	}
	a, err := s.open(rec)
	if err != nil {
		return nil, err
	}
	got, _ := s.loaded.LoadOrStore(id, a)
	return got.(*authority), nil
}

// issuerFor returns the CA that signs groupID's new certificates. Errors:
// unavailable (before Start, or it expired).
func (s *Service) issuerFor(ctx context.Context, groupID int64) (*authority, error) {
	a, err := s.current()
	if err != nil || groupID == 0 {
		return a, err
	}
	id, err := s.store.Read().IssuerID(ctx, groupID)
	if err != nil {
		return nil, err
	}
	return s.authorityOf(ctx, id)
}

// expired reports, as an unavailable error, that a can no longer issue.
func expired(a *authority, now time.Time) error {
	if now.Before(a.Certificate.NotAfter) {
		return nil
	}
	return fault.Errorf(fault.Unavailable, "the CA expired at %s; rotate or import a new one", a.Certificate.NotAfter.UTC().Format(time.RFC3339))
}

var errCANotFound = fault.New(fault.NotFound, "certificate authority not found")
