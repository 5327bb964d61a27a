package identity

import "context"

// LoginGate decides whether u, who has proved who they are, may sign in
// from addr (the client's address); an error refuses the login and is
// returned as it is (geo-fencing returns forbidden, reason geo_blocked).
// The gate audits its own refusals.
type LoginGate func(ctx context.Context, u *User, addr string) error

// WithLoginGate asks g before every session is opened, whichever dialect
// or method signed the user in.
func WithLoginGate(g LoginGate) Option { return func(s *Service) { s.gate = g } }

// admit asks the gate, if any.
func (s *Service) admit(ctx context.Context, u *User, addr string) error {
	if s.gate == nil {
		return nil
	}
	return s.gate(ctx, u, addr)
}
