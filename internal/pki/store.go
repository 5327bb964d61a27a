package pki

import (
	"context"
	"time"

	"netkeep/internal/audit"
)

// Store is pki's view of persistence; internal/store binds it with
// store.For[pki.Tx].
type Store interface {
	InTx(ctx context.Context, fn func(Tx) error) error
	Read() Tx
}

// Tx is one transaction over the PKI tables. Lookups return a not_found
// fault for missing rows.
type Tx interface {
	audit.Writer
	// LockScope serialises check-then-act sequences across replicas.
	LockScope(ctx context.Context, key int64) error

	// ActiveAuthority returns the server-wide issuing CA, or not_found
	// before there is one.
	ActiveAuthority(ctx context.Context) (*Authority, error)
	// InsertAuthority stores a and sets a.ID. A second issuing authority
	// of a's group is a conflict.
	InsertAuthority(ctx context.Context, a *Authority) error
	// RetireAuthority takes an authority in service out of it: it stops
	// issuing and its sealed key is erased. not_found if it is not in
	// service.
	RetireAuthority(ctx context.Context, id int64, at time.Time) error
	// AuthorityByID returns the authority or not_found.
	AuthorityByID(ctx context.Context, id int64) (*Authority, error)
	// GroupAuthorities returns the group's own authorities and the
	// server-wide ones in service, oldest first, with DistrustedAt set on
	// those the group revoked.
	GroupAuthorities(ctx context.Context, groupID int64) ([]*Authority, error)
	// IssuerID returns the authority that signs the group's new
	// certificates: the group's own issuer, else the server-wide one;
	// not_found when there is neither.
	IssuerID(ctx context.Context, groupID int64) (int64, error)
	// SetIssuer makes authorityID (0: none of its own) the group's issuer,
	// recording the first activation at at.
	SetIssuer(ctx context.Context, groupID, authorityID int64, at time.Time) error
	// Distrust records that the group revoked the authority; a second
	// revocation is a conflict.
	Distrust(ctx context.Context, groupID, authorityID int64, at time.Time) error
	// CountCertificates counts the certificates an authority issued.
	CountCertificates(ctx context.Context, authorityID int64) (int, error)

	// InsertCertificate records c; a duplicate serial is a conflict.
	InsertCertificate(ctx context.Context, c *Certificate) error
	CertificateBySerial(ctx context.Context, serial Serial) (*Certificate, error)
	// UnrevokedCertificates returns the certificates of o (or, with a zero
	// Owner and authorityID > 0, of that authority) that are neither revoked
	// nor expired at now.
	UnrevokedCertificates(ctx context.Context, o Owner, authorityID int64, now time.Time) ([]*Certificate, error)
	// RevokeCertificate marks an unrevoked certificate revoked; not_found
	// when no unrevoked certificate has serial.
	RevokeCertificate(ctx context.Context, serial Serial, at time.Time, reason Reason) error
	// RevokedEntries lists the authority's revoked certificates that have
	// not expired at now, in serial order.
	RevokedEntries(ctx context.Context, authorityID int64, now time.Time) ([]Revocation, error)

	// BumpRevision records that the revoked set changed (see Status).
	BumpRevision(ctx context.Context) error
	// NextCRLNumber allocates a CRL number, larger than any before it, and
	// returns it with the current revision. Concurrent callers are
	// serialised until commit.
	NextCRLNumber(ctx context.Context) (number, revision int64, err error)
	// SaveCRL stores c as its authority's CRL unless one with a number at
	// least as large is stored; it reports whether c was stored.
	SaveCRL(ctx context.Context, c *StoredCRL) (bool, error)
	// LoadCRL returns the authority's stored CRL with its DER.
	LoadCRL(ctx context.Context, authorityID int64) (*StoredCRL, error)
	// PKIStatus reads the shared state (no DER).
	PKIStatus(ctx context.Context) (*Status, error)
}

// lockCA serialises CA creation and import across replicas.
const lockCA = 0x6e6b6361 // "nkca"
