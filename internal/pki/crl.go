package pki

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
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

// regenerate signs a new CRL of the active CA with the next CRL number,
// stores it for the other replicas, serves it here and announces it.
//
// The number is allocated and the revoked certificates read in one
// transaction, which the store serialises on the number: a CRL with a larger
// number therefore lists at least what a smaller one lists. Signing happens
// outside the transaction; the stored CRL is only ever replaced by one with
// a larger number.
func (s *Service) regenerate(ctx context.Context) (*RevocationList, error) {
	s.regenMu.Lock()
	defer s.regenMu.Unlock()
	a, err := s.current()
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Second)
	var number, revision int64
	var entries []Revocation
	err = s.store.InTx(ctx, func(tx Tx) error {
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

// install serves l unless this replica already serves a CRL of the same CA
// with a number at least as large, or l is not of the active CA.
func (s *Service) install(l *RevocationList) bool {
	for {
		a, cur := s.ca.Load(), s.crl.Load()
		if a == nil || a.ID != l.AuthorityID {
			return false
		}
		if cur != nil && cur.AuthorityID == l.AuthorityID && cur.Number >= l.Number {
			return false
		}
		if s.crl.CompareAndSwap(cur, l) {
			return true
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
	if cur := s.crl.Load(); cur != nil {
		return cur, nil
	}
	return l, nil
}

// sync brings this replica in line with the store: it loads the active CA
// if it changed, loads a newer stored CRL, and regenerates the CRL when none
// is stored, it misses revocations, or half its validity has passed.
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
	}
	if st.CRL != nil {
		if cur := s.crl.Load(); cur == nil || cur.AuthorityID != st.CRL.AuthorityID || cur.Number < st.CRL.Number {
			if _, err := s.loadStored(ctx, st.CRL.AuthorityID); err != nil {
				return err
			}
		}
	}
	refreshAt := time.Time{}
	if st.CRL != nil {
		refreshAt = st.CRL.NextUpdate.Add(-s.cfg.CRLValidity / 2)
	}
	if st.CRL == nil || st.Revision > st.CRL.Revision || !s.now().Before(refreshAt) {
		if _, err := s.regenerate(ctx); err != nil {
			return err
		}
	}
	return nil
}
