package pki

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"sync"
	"time"

	"netkeep/internal/fault"
)

// CRL returns the current revocation list of the active CA, as cached: the
// call costs an atomic load. Errors: unavailable before Start.
func (s *Service) CRL() (*RevocationList, error) {
	if l := s.crl.Load(); l != nil {
		return l, nil
	}
	return nil, errNoCRL
}

var errNoCRL = fault.New(fault.Unavailable, "the CRL is not available yet")

// CRLOf returns the current revocation list of the CA with the given id,
// which must be in service, as cached. Errors: unavailable (not loaded yet),
// not_found (no such CA in service).
func (s *Service) CRLOf(id int64) (*RevocationList, error) {
	if l, ok := s.crls.Load(id); ok {
		return l.(*RevocationList), nil
	}
	if _, ok := s.loaded.Load(id); ok {
		return nil, errNoCRL
	}
	if a := s.ca.Load(); a != nil && a.ID == id {
		return nil, errNoCRL
	}
	return nil, errCANotFound
}

// regenerate signs a new CRL of the CA a with the next CRL number, stores
// it for the other replicas, serves it here and announces it.
//
// The number is allocated and the revoked certificates read in one
// transaction, which the store serialises on the number: a CRL with a larger
// number therefore lists at least what a smaller one lists. Signing happens
// outside the transaction; the stored CRL is only ever replaced by one with
// a larger number.
func (s *Service) regenerate(ctx context.Context, a *authority) (*RevocationList, error) {
	s.regenMu.Lock()
	defer s.regenMu.Unlock()
	now := s.now().UTC().Truncate(time.Second)
	var number, revision int64
	var entries []Revocation
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if number, revision, err = tx.NextCRLNumber(ctx); err != nil {
			return err
		}
		entries, err = tx.RevokedEntries(ctx, a.ID, now)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading revocations: %w", err)
	}
	l, err := a.signCRL(number, revision, entries, now.Add(-backdate), now.Add(s.cfg.CRLValidity))
	if err != nil {
		return nil, err
	}
	var saved bool
	err = s.store.InTx(ctx, func(tx Tx) error {
		var err error
		saved, err = tx.SaveCRL(ctx, &StoredCRL{AuthorityID: l.AuthorityID, Number: l.Number, Revision: l.Revision,
			Entries: l.Entries, DER: l.DER, ThisUpdate: l.ThisUpdate, NextUpdate: l.NextUpdate})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("storing CRL %d: %w", number, err)
	}
	if !saved {
		// A newer CRL was stored meanwhile; serve that one.
		return s.loadStored(ctx, a.ID)
	}
	s.install(l)
	s.publish(ctx, actionCRL, 0, fmt.Sprint(l.Number))
	return l, nil
}

// signCRL builds and signs the CRL listing entries. It touches no store.
func (a *authority) signCRL(number, revision int64, entries []Revocation, thisUpdate, nextUpdate time.Time) (*RevocationList, error) {
	tmpl := &x509.RevocationList{Number: big.NewInt(number), ThisUpdate: thisUpdate, NextUpdate: nextUpdate}
	der, err := createCRL(tmpl, entries, a.Certificate, a.signer)
	if err != nil {
		return nil, fmt.Errorf("signing CRL %d: %w", number, err)
	}
	return newRevocationList(a.ID, number, revision, len(entries), der, thisUpdate, nextUpdate), nil
}

func newRevocationList(authorityID, number, revision int64, entries int, der []byte, thisUpdate, nextUpdate time.Time) *RevocationList {
	return &RevocationList{
		AuthorityID: authorityID, Number: number, Revision: revision, Entries: entries,
		ThisUpdate: thisUpdate.UTC(), NextUpdate: nextUpdate.UTC(),
		DER: der, PEM: pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}),
	}
}

// install serves l as its CA's CRL unless this replica already serves one
// of that CA with a number at least as large, and reports whether it did.
// The server-wide issuer's newest CRL is also kept where CRL loads it with
// one atomic read; that pointer is brought up to date on every call, since
// a CA's CRL may arrive before the replica switches to that CA.
func (s *Service) install(l *RevocationList) bool {
	l, installed := s.installOf(l)
	for {
		a, cur := s.ca.Load(), s.crl.Load()
		if a == nil || a.ID != l.AuthorityID || cur != nil && cur.AuthorityID == l.AuthorityID && cur.Number >= l.Number {
			return installed
		}
		if s.crl.CompareAndSwap(cur, l) {
			return installed
		}
	}
}

// installOf keeps l as its CA's CRL unless one with a number at least as
// large is kept, and returns the one kept.
func (s *Service) installOf(l *RevocationList) (*RevocationList, bool) {
	for {
		cur, ok := s.crls.Load(l.AuthorityID)
		if !ok {
			if _, raced := s.crls.LoadOrStore(l.AuthorityID, l); !raced {
				return l, true
			}
			continue
		}
		if kept := cur.(*RevocationList); kept.Number >= l.Number {
			return kept, false
		}
		if s.crls.CompareAndSwap(l.AuthorityID, cur, l) {
			return l, true
		}
	}
}

// loadStored serves the CRL stored for the authority.
func (s *Service) loadStored(ctx context.Context, authorityID int64) (*RevocationList, error) {
	st, err := s.store.Read().LoadCRL(ctx, authorityID)
	if err != nil {
		return nil, fmt.Errorf("loading the stored CRL: %w", err)
	}
	l := newRevocationList(st.AuthorityID, st.Number, st.Revision, st.Entries, st.DER, st.ThisUpdate, st.NextUpdate)
	s.install(l)
	if cur, ok := s.crls.Load(authorityID); ok {
		return cur.(*RevocationList), nil
	}
	return l, nil
}

// sync brings this replica in line with the store: it loads the
// server-wide CA if it changed, forgets the CAs that left service, loads
// newer stored CRLs, and regenerates a CA's CRL when none is stored, it
// misses revocations, or half its validity has passed.
func (s *Service) sync(ctx context.Context) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	st, err := s.store.Read().PKIStatus(ctx)
	if err != nil {
		return fmt.Errorf("reading the PKI state: %w", err)
	}
	if st.AuthorityID == 0 {
		return fault.New(fault.Unavailable, "no certificate authority exists yet")
	}
	if a := s.ca.Load(); a == nil || a.ID != st.AuthorityID {
		rec, err := s.store.Read().ActiveAuthority(ctx)
		if err != nil {
			return fmt.Errorf("loading the CA: %w", err)
		}
		a, err := s.open(rec)
		if err != nil {
			return err
		}
		s.ca.Store(a)
		s.log.Info("loaded the certificate authority", "fingerprint", a.Fingerprint)
		if l, err := s.CRLOf(a.ID); err == nil {
			s.install(l)
		}
	}
	s.forgetRetired(st.InService)
	for _, in := range st.InService {
		if err := s.syncCRL(ctx, st.Revision, in); err != nil {
			return err
		}
	}
	return nil
}

// forgetRetired drops the keys and CRLs of CAs no longer in service.
func (s *Service) forgetRetired(inService []AuthorityCRL) {
	keep := make(map[int64]bool, len(inService))
	for _, in := range inService {
		keep[in.AuthorityID] = true
	}
	for _, m := range []*sync.Map{&s.loaded, &s.crls} {
		m.Range(func(id, _ any) bool {
			if !keep[id.(int64)] {
				m.Delete(id)
			}
			return true
		})
	}
}

// syncCRL serves the newest stored CRL of the CA and regenerates it when
// it is missing or stale.
func (s *Service) syncCRL(ctx context.Context, revision int64, in AuthorityCRL) error {
	if in.CRL != nil {
		if cur, err := s.CRLOf(in.AuthorityID); err != nil || cur.Number < in.CRL.Number {
			if _, err := s.loadStored(ctx, in.AuthorityID); err != nil {
				return err
			}
		}
		refreshAt := in.CRL.NextUpdate.Add(-s.cfg.CRLValidity / 2)
		if revision <= in.CRL.Revision && s.now().Before(refreshAt) {
			return nil
		}
	}
	a, err := s.authorityOf(ctx, in.AuthorityID)
	if err != nil {
		return err
	}
	_, err = s.regenerate(ctx, a)
	return err
}
