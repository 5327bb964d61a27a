package nas

import (
	"context"
	"log/slog"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/event"
	"netkeep/internal/fault"
)

// Topic is the event topic of client changes.
const Topic = "radius_client"

// The authz actions.
const (
	actionRead  authz.Action = "radius:read"
	actionWrite authz.Action = "radius:write"
)

// Service manages RADIUS clients and the session view. It is safe for
// concurrent use.
type Service struct {
	store Store
	seal  Sealer
	bus   event.Bus
	now   func() time.Time
	log   *slog.Logger
	dae   Disconnector
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets where failures that cannot be returned are reported.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// NewService returns the service.
func NewService(st Store, seal Sealer, bus event.Bus, opts ...Option) *Service {
	s := &Service{store: st, seal: seal, bus: bus, now: time.Now, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	return s
}

// ReasonNotFound is the reason of a missing (or another group's) client.
const ReasonNotFound fault.Reason = "radius_client_not_found"

var errNotFound = fault.New(fault.NotFound, "RADIUS client not found").WithReason(ReasonNotFound)

// NotFound returns the not_found error naming id, as every method does.
func NotFound(id int64) error {
	return errNotFound.WithDetails(map[string]any{"client_id": id})
}

// List returns the clients p may see (its group's; every group's for super
// principals), without secrets. Errors: unauthorized, forbidden.
func (s *Service) List(ctx context.Context, p *authz.Principal) ([]*Client, error) {
	if err := authz.Allow(p, actionRead, authz.Any); err != nil {
		return nil, err
	}
	cs, err := s.store.Read().ListRadiusClients(ctx, p.GroupScope())
	for _, c := range cs {
		c.forget()
	}
	return cs, err
}

// Get returns one client without its secret; another group's is not_found.
func (s *Service) Get(ctx context.Context, p *authz.Principal, id int64) (*Client, error) {
	c, err := s.load(ctx, s.store.Read(), p, actionRead, id)
	if err != nil {
		return nil, err
	}
	c.forget()
	return c, nil
}

// Create adds a client. Errors: invalid (a field, named in details),
// conflict (address in use), forbidden, not_found (group_id of another
// group for a non-super principal).
func (s *Service) Create(ctx context.Context, p *authz.Principal, src audit.Source, in NewClient) (*Client, error) {
	if err := authz.Allow(p, actionWrite, authz.Any); err != nil {
		return nil, err
	}
	c := &Client{GroupID: in.GroupID, Vendor: in.Vendor, RequireMessageAuthenticator: true, MACPassword: MACPasswordMAC}
	if c.GroupID == 0 {
		c.GroupID = p.GroupID
	}
	if c.GroupID == 0 {
		return nil, invalidField("group_id", "group_id is required")
	}
	if err := authz.Allow(p, actionWrite, authz.Resource{GroupID: c.GroupID}); err != nil {
		return nil, err
	}
	if in.RequireMessageAuthenticator != nil {
		c.RequireMessageAuthenticator = *in.RequireMessageAuthenticator
	}
	var err error
	if c.Name, err = checkName(in.Name); err != nil {
		return nil, err
	}
	if c.Address, c.Prefix, err = ParseAddress(in.Address); err != nil {
		return nil, err
	}
	if err := checkSecret(in.Secret); err != nil {
		return nil, err
	}
	c.Secret = in.Secret
	if c.Vendor, err = checkVendor(in.Vendor); err != nil {
		return nil, err
	}
	if c.SSIDs, err = checkSSIDs(in.SSIDs); err != nil {
		return nil, err
	}
	if in.MACAuthPassword != nil {
		if c.MACPassword, c.FixedMACPassword, _, err = ParseMACAuthPassword(*in.MACAuthPassword, ""); err != nil {
			return nil, err
		}
	}
	if _, err = applyDAE(c, in.DAE); err != nil {
		return nil, err
	}
	c.CreatedAt = s.now().UTC().Truncate(time.Microsecond)
	c.UpdatedAt = c.CreatedAt
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.CreateRadiusClient(ctx, c); err != nil {
			return err
		}
		// The sealed secrets are bound to the row id, known only now.
		if err := s.sealSecret(c); err != nil {
			return err
		}
		if err := s.sealMACPassword(c); err != nil {
			return err
		}
		if err := tx.UpdateRadiusClient(ctx, c); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, c.GroupID, "radius_client.create", c.target(), c.auditDetails())
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, "created", c)
	c.forget()
	return c, nil
}

// Update changes the fields set in patch. Errors as for Create, and
// not_found.
func (s *Service) Update(ctx context.Context, p *authz.Principal, src audit.Source, id int64, patch Patch) (*Client, error) {
	var c *Client
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if c, err = s.load(ctx, tx, p, actionWrite, id); err != nil {
			return err
		}
		changed := []string{}
		if patch.Name != nil {
			if c.Name, err = checkName(*patch.Name); err != nil {
				return err
			}
			changed = append(changed, "name")
		}
		if patch.Address != nil {
			if c.Address, c.Prefix, err = ParseAddress(*patch.Address); err != nil {
				return err
			}
			changed = append(changed, "address")
		}
		if patch.Secret != nil {
			if err := checkSecret(*patch.Secret); err != nil {
				return err
			}
			c.Secret = *patch.Secret
			if err := s.sealSecret(c); err != nil {
				return err
			}
			changed = append(changed, "secret")
		}
		if patch.Vendor != nil {
			if c.Vendor, err = checkVendor(*patch.Vendor); err != nil {
				return err
			}
			changed = append(changed, "vendor")
		}
		if patch.RequireMessageAuthenticator != nil {
			c.RequireMessageAuthenticator = *patch.RequireMessageAuthenticator
			changed = append(changed, "require_message_authenticator")
		}
		if patch.SSIDs != nil {
			if c.SSIDs, err = checkSSIDs(*patch.SSIDs); err != nil {
				return err
			}
			changed = append(changed, "ssids")
		}
		if patch.MACAuthPassword != nil {
			mode, fixed, keep, err := ParseMACAuthPassword(*patch.MACAuthPassword, c.MACPassword)
			if err != nil {
				return err
			}
			if !keep {
				c.MACPassword, c.FixedMACPassword = mode, fixed
				if err := s.sealMACPassword(c); err != nil {
					return err
				}
			}
			changed = append(changed, "mac_auth_password")
		}
		dae, err := applyDAE(c, patch.DAE)
		if err != nil {
			return err
		}
		changed = append(changed, dae...)
		c.UpdatedAt = s.now().UTC().Truncate(time.Microsecond)
		if err := tx.UpdateRadiusClient(ctx, c); err != nil {
			return err
		}
		d := c.auditDetails()
		d["changed"] = changed
		return audit.Record(ctx, tx, src, c.GroupID, "radius_client.update", c.target(), d)
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, "updated", c)
	c.forget()
	return c, nil
}

// Delete removes a client. Errors: not_found, forbidden.
func (s *Service) Delete(ctx context.Context, p *authz.Principal, src audit.Source, id int64) error {
	var c *Client
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if c, err = s.load(ctx, tx, p, actionWrite, id); err != nil {
			return err
		}
		if err := tx.DeleteRadiusClient(ctx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, c.GroupID, "radius_client.delete", c.target(), c.auditDetails())
	})
	if err != nil {
		return err
	}
	s.publish(ctx, "deleted", c)
	return nil
}

// load reads client id and checks p may perform a on it.
func (s *Service) load(ctx context.Context, tx Tx, p *authz.Principal, a authz.Action, id int64) (*Client, error) {
	if err := authz.Allow(p, a, authz.Any); err != nil {
		return nil, err
	}
	c, err := tx.RadiusClientByID(ctx, id)
	if fault.Is(err, fault.NotFound) {
		return nil, NotFound(id)
	}
	if err != nil {
		return nil, err
	}
	if err := authz.Allow(p, a, authz.Resource{GroupID: c.GroupID}); err != nil {
		if fault.Is(err, fault.NotFound) {
			return nil, NotFound(id)
		}
		return nil, err
	}
	return c, nil
}

func (s *Service) sealSecret(c *Client) error {
	sealed, err := s.seal.Seal([]byte(c.Secret), sealContext(c.ID))
	if err != nil {
		return fault.New(fault.Internal, "sealing the client secret").Wrap(err)
	}
	c.SealedSecret = sealed
	return nil
}

// sealMACPassword seals the fixed MAC-authentication password (nothing
// for the other modes).
func (s *Service) sealMACPassword(c *Client) error {
	c.SealedMACPassword = []byte{}
	if c.MACPassword != MACPasswordFixed {
		return nil
	}
	sealed, err := s.seal.Seal([]byte(c.FixedMACPassword), macPasswordContext(c.ID))
	if err != nil {
		return fault.New(fault.Internal, "sealing the MAC-authentication password").Wrap(err)
	}
	c.SealedMACPassword = sealed
	return nil
}

// forget drops the secrets before c is returned to an API caller.
func (c *Client) forget() {
	c.Secret, c.SealedSecret = "", nil
	c.FixedMACPassword, c.SealedMACPassword = "", nil
}

// auditDetails never includes the secret or the fixed password, only the
// MAC-password mode.
func (c *Client) auditDetails() map[string]any {
	return map[string]any{"name": c.Name, "address": c.Address, "vendor": c.Vendor,
		"require_message_authenticator": c.RequireMessageAuthenticator, "ssids": c.SSIDs,
		"mac_auth_password": c.MACPassword, "dae_mode": c.DAE.Mode, "dae_port": c.DAE.Port, "dae_address": c.DAE.Address}
}

// publish announces a committed change; a failure is logged, since other
// replicas also reload their clients on a bus resync.
func (s *Service) publish(ctx context.Context, action string, c *Client) {
	err := s.bus.Publish(ctx, event.Event{Topic: Topic, Action: action, GroupID: c.GroupID, ID: itoa(c.ID)})
	if err != nil {
		s.log.Warn("publishing RADIUS client event", "action", action, "client", c.ID, "error", err)
	}
}
