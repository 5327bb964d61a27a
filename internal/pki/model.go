package pki

import (
	"crypto/x509"
	"time"
)

// Kind is what a certificate authenticates.
type Kind string

// The certificate kinds: a VPN user's client (ExtKeyUsageClientAuth) and a
// gateway's server (ExtKeyUsageServerAuth).
const (
	KindClient Kind = "client"
	KindServer Kind = "server"
)

// Certificate is the record of one issued certificate. It never holds the
// private key.
type Certificate struct {
	Serial      Serial
	AuthorityID int64 // the CA that issued it
	Kind        Kind
	CommonName  string
	UserID      int64  // the client's user; 0 for server certificates and a mesh spoke's
	GatewayID   string // the server's gateway, or the mesh spoke's that holds a client certificate; "" for a user's
	GroupID     int64  // the owning group; 0 for server-wide objects
	NotBefore   time.Time
	NotAfter    time.Time
	DER         []byte // the certificate itself (public)
	RevokedAt   *time.Time
	Reason      Reason // set when revoked
	CreatedAt   time.Time
}

// Revoked reports whether c has been revoked.
func (c *Certificate) Revoked() bool { return c.RevokedAt != nil }

// target names c in audit entries.
func (c *Certificate) target() string { return "certificate:" + string(c.Serial) }

// Issued is a freshly issued certificate with its private key, which exists
// only here: hand it to its holder and drop it.
type Issued struct {
	Certificate *Certificate
	CertPEM     []byte // "CERTIFICATE"
	KeyPEM      []byte // "PRIVATE KEY" (PKCS #8, ECDSA P-256)
	CAPEM       []byte // the issuing CA's certificate
}

// Authority is a stored CA: its certificate and its sealed key.
type Authority struct {
	ID          int64
	GroupID     int64  // the owning group; 0 for the server-wide CA
	Name        string // an operator's label; "" shows the subject CN
	CertDER     []byte
	KeySealed   []byte // nil once out of service
	Fingerprint string // lowercase hex SHA-256 of CertDER
	Origin      string // "generated" or "imported"
	// Active is "in service": the CA keeps its key, signs its CRL and is
	// trusted by its group (every group, for the server-wide CA) unless the
	// group revoked it.
	Active bool
	// Issuing marks the CA that signs its group's new certificates: at
	// most one per group.
	Issuing     bool
	CreatedAt   time.Time
	ActivatedAt *time.Time // the first time it issued; nil while pending
	RetiredAt   *time.Time // taken out of service (replaced or revoked)
	// DistrustedAt is when the group a listing was read for revoked this
	// CA; only GroupAuthorities fills it.
	DistrustedAt *time.Time
}

// The origins of an authority.
const (
	OriginGenerated = "generated"
	OriginImported  = "imported"
)

// CA is the public face of the active authority.
type CA struct {
	ID          int64
	Certificate *x509.Certificate
	DER         []byte
	PEM         []byte
	Fingerprint string // lowercase hex SHA-256 of DER
}

// RevocationList is a signed CRL as served. Its byte slices are shared by
// every reader: never modify them.
type RevocationList struct {
	AuthorityID int64
	Number      int64 // the CRL number extension; grows with every regeneration
	Revision    int64 // the revocation count it includes (see Status)
	ThisUpdate  time.Time
	NextUpdate  time.Time
	Entries     int // revoked certificates listed
	DER         []byte
	PEM         []byte // "X509 CRL"
}

// StoredCRL is a CRL as the store keeps it, shared by replicas.
type StoredCRL struct {
	AuthorityID int64
	Number      int64
	Revision    int64
	Entries     int
	DER         []byte // nil when only the metadata was read
	ThisUpdate  time.Time
	NextUpdate  time.Time
}

// Revocation is one entry of a CRL.
type Revocation struct {
	Serial    Serial
	RevokedAt time.Time
	Reason    Reason
}

// Status is the shared PKI state a replica compares its caches with.
type Status struct {
	AuthorityID int64 // the active authority; 0 when there is none yet
	// Revision counts revocations (and CA replacements) ever committed: a
	// stored CRL older than it misses some and must be regenerated.
	Revision int64
	CRL      *StoredCRL // the active authority's stored CRL without DER; nil if none
	// InService lists every authority in service (the server-wide issuer
	// included) with its stored CRL's metadata (nil when none is stored).
	InService []AuthorityCRL
}

// AuthorityCRL is an authority in service and the metadata of its stored CRL.
type AuthorityCRL struct {
	AuthorityID int64
	CRL         *StoredCRL
}

// Owner selects certificates by holder, for bulk revocation. Exactly one
// of UserID, GatewayID and GroupID is set; Kind, when set, narrows the
// selection to that kind (a gateway holds its server certificates and, as
// a mesh spoke, client certificates).
type Owner struct {
	UserID    int64
	GatewayID string
	GroupID   int64 // every certificate of the group (with an authority: that CA's)
	Kind      Kind
}
