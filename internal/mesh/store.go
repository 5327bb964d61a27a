package mesh

import (
	"context"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/identity"
)

// Store is mesh's view of persistence; internal/store binds it with
// store.For[mesh.Tx].
type Store interface {
	InTx(ctx context.Context, fn func(Tx) error) error
	Read() Tx
}

// Tx is one transaction over the mesh tables. Lookups return a not_found
// fault for a missing row. Writes that break a uniqueness rule return a
// conflict fault whose details name the field ("netid", "name",
// "macaddress", "publickey", "address", "address6").
type Tx interface {
	audit.Writer

	// LockScope serialises check-then-act sequences across replicas for the
	// rest of the transaction (a no-op on SQLite's single writer).
	LockScope(ctx context.Context, key int64) error
	GroupByID(ctx context.Context, id int64) (*identity.Group, error)
	GroupByName(ctx context.Context, name string) (*identity.Group, error)

	// CreateNetwork inserts n and sets its ID; Revision is stored as given.
	CreateNetwork(ctx context.Context, n *Network) error
	NetworkByNetID(ctx context.Context, netid string) (*Network, error)
	// ListNetworks returns groupID's networks (every network for 0), by ID.
	ListNetworks(ctx context.Context, groupID int64) ([]*Network, error)
	// UpdateNetwork writes every mutable field of n and sets n.Revision to
	// the stored revision plus one.
	UpdateNetwork(ctx context.Context, n *Network) error
	// DeleteNetwork removes the network and its access keys; a network that
	// still has nodes is a conflict.
	DeleteNetwork(ctx context.Context, id int64) error
	CountNodes(ctx context.Context, networkID int64) (int, error)
	// TouchNetworkNodes raises the network's nodes-modified time to at
	// without counting a revision of the network's settings.
	TouchNetworkNodes(ctx context.Context, networkID int64, at time.Time) error

	CreateAccessKey(ctx context.Context, k *SealedAccessKey) error
	ListAccessKeys(ctx context.Context, networkID int64) ([]*SealedAccessKey, error)
	DeleteAccessKey(ctx context.Context, networkID int64, name string) error
	AccessKeyByHash(ctx context.Context, networkID int64, hash [32]byte) (*SealedAccessKey, error)
	// ConsumeAccessKey takes one use of the network's key with hash if it
	// has uses left and is unexpired at now, atomically with respect to
	// concurrent transactions, and returns the key as it is after the use.
	// Otherwise it returns not_found and changes nothing.
	ConsumeAccessKey(ctx context.Context, networkID int64, hash [32]byte, now time.Time) (*AccessKey, error)

	// CreateNode inserts n with its secrets and sets its ID; Revision is
	// stored as given.
	CreateNode(ctx context.Context, n *Node, sec NodeSecrets) error
	// NodeForUpdate returns the node, locking its row until the transaction
	// ends (PostgreSQL; SQLite's single writer already serialises).
	NodeForUpdate(ctx context.Context, networkID int64, mac string) (*Node, error)
	NodeByID(ctx context.Context, id int64) (*Node, error)
	// ScanNodes calls fn for every node of networkID (every node for 0), by ID.
	ScanNodes(ctx context.Context, networkID int64, fn func(*Node) error) error
	// UpdateNode writes every mutable field of n and sets n.Revision to the
	// stored revision plus one.
	UpdateNode(ctx context.Context, n *Node) error
	// SetNodePassword replaces the node's password hash.
	SetNodePassword(ctx context.Context, id int64, hash string) error
	// SetServerKey replaces the sealed key of the server's own node.
	SetServerKey(ctx context.Context, id int64, sealed []byte) error
	NodeSecrets(ctx context.Context, id int64) (NodeSecrets, error)
	DeleteNode(ctx context.Context, id int64) error
	// TouchNodes raises each node's last check-in to the given time, never
	// lowering it; IDs that no longer exist are ignored.
	TouchNodes(ctx context.Context, seen map[int64]time.Time) error
}
