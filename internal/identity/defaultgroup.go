package identity

import (
	"context"
	"fmt"

	"netkeep/internal/fault"
)

// The default group exists from the first start: migration 00014 creates it
// on a database that has none (goose serialises migrations across
// replicas), and it can be neither renamed nor deleted. It is where the
// master key's objects, and those of any client that names no group, go;
// the first administrator is created in it.

var errDefaultGroup = fault.New(fault.Conflict, "the default group cannot be renamed or deleted").
	WithReason(ReasonDefaultGroup)

// DefaultGroupID returns the default group's id. The id never changes, so
// after the first read it is served from memory.
func (s *Service) DefaultGroupID(ctx context.Context) (int64, error) {
	if id := s.defaultGroup.Load(); id != 0 {
		return id, nil
	}
	g, err := s.store.Read().GroupByName(ctx, DefaultGroupName)
	if err != nil {
		return 0, fmt.Errorf("reading the default group: %w", err)
	}
	s.defaultGroup.Store(g.ID)
	return g.ID, nil
}

// groupOrDefault returns id, or the default group's id when id is 0.
func (s *Service) groupOrDefault(ctx context.Context, id int64) (int64, error) {
	if id != 0 {
		return id, nil
	}
	return s.DefaultGroupID(ctx)
}

// refuseDefault fails for the default group.
func (s *Service) refuseDefault(ctx context.Context, id int64) error {
	def, err := s.DefaultGroupID(ctx)
	if err != nil {
		return err
	}
	if id == def {
		return errDefaultGroup
	}
	return nil
}
