package server

import (
	"context"

	"netkeep/internal/authz"
	"netkeep/internal/identity"
)

// userLookup adapts identity's cached user state to what API keys need to
// confirm their creator's current rights.
type userLookup struct{ id *identity.Service }

func (l userLookup) UserState(ctx context.Context, userID int64) (authz.Role, int64, string, bool, error) {
	st, err := l.id.UserState(ctx, userID)
	if err != nil {
		return "", 0, "", false, err
	}
	return authz.Role(st.Role), st.GroupID, st.Username, st.Active, nil
}
