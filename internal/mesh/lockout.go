package mesh

import (
	"time"

	"netkeep/internal/fault"
	"netkeep/internal/lockout"
)

// nodeLocks slows node-password guessing per network and MAC: ten
// consecutive failures lock that node for 30 s, doubling up to 15 min. MACs
// are counted whether or not such a node exists, so a lock never tells
// whether one does.
var nodeLocks = lockout.Policy{After: 10, Base: 30 * time.Second, Max: 15 * time.Minute, Idle: time.Hour, MaxKeys: 100_000}

// errNodeLocked is the answer while a node is locked: 429, with the wait
// in details.retry_after (seconds, at least 1).
func errNodeLocked(d time.Duration) error {
	secs := lockout.Seconds(d)
	return fault.Errorf(fault.RateLimited, "too many failed attempts for this node; retry in %d seconds", secs).
		WithReason(ReasonNodeLocked).WithDetails(map[string]any{"retry_after": secs})
}
