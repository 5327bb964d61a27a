package radius

import "netkeep/internal/mac"

// MAC is a station address: mac.Addr, the one MAC type netkeep has, named
// here for the signatures of this package.
type MAC = mac.Addr
