package mesh

import "netkeep/internal/fault"

// The reasons mesh gives its errors, beyond their codes; each dialect's
// renderer spells them.
const (
	// ReasonNetworkHasNodes: a network with nodes cannot be deleted
	// (conflict; details.nodes counts them).
	ReasonNetworkHasNodes fault.Reason = "network_has_nodes"
	// ReasonNodeLocked: node authentication refused while the node is
	// locked out after repeated failures (rate_limited; details.retry_after
	// in seconds).
	ReasonNodeLocked fault.Reason = "node_locked"
)
