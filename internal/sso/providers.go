package sso

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
)

// ProviderInput is a provider as an administrator (or the configuration
// file) describes it. ClientSecret nil keeps the stored secret on update.
type ProviderInput struct {
	Name         string
	Kind         Kind
	DisplayName  string
	GroupID      int64  // 0: the caller's group
	Group        string // or by name (configuration file)
	Settings     Settings
	ClientSecret *string
}

const secretContext = "sso-provider-secret"

var providerName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

func invalid(field, msg string) error {
	return fault.New(fault.Invalid, msg).WithDetails(map[string]any{"field": field})
}

// mayManageProviders: identity providers decide who becomes which user in
// which group, so only super principals (SUPER_ADMIN, the master key, their
// keys with groups:write) manage them.
func mayManageProviders(p *authz.Principal) error {
	if err := authz.Allow(p, "groups:write", authz.Any); err != nil {
		return err
	}
	if !p.IsSuper() {
		return fault.New(fault.Forbidden, "only a SUPER_ADMIN manages identity providers")
	}
	return nil
}

// validate checks in and fills defaults.
func (in *ProviderInput) validate() error {
	in.Name = strings.TrimSpace(in.Name)
	if !providerName.MatchString(in.Name) {
		return invalid("name", "name must be 1-63 lowercase letters, digits, '-' or '_'")
	}
	if in.DisplayName = strings.TrimSpace(in.DisplayName); in.DisplayName == "" {
		in.DisplayName = in.Name
	}
	st := &in.Settings
	switch in.Kind {
	case OIDC:
		u, err := url.Parse(st.Issuer)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return invalid("issuer", "issuer must be an http(s) URL")
		}
		if st.ClientID == "" {
			return invalid("client_id", "client_id is required")
		}
		if len(st.Scopes) == 0 {
			st.Scopes = []string{"profile", "email"}
		}
		defaults(&st.UsernameClaim, "preferred_username")
		defaults(&st.EmailClaim, "email")
		defaults(&st.NameClaim, "name")
	case SAML:
		if (st.MetadataURL == "") == (st.MetadataXML == "") {
			return invalid("metadata_url", "exactly one of metadata_url and metadata_xml is required")
		}
		if st.MetadataURL != "" {
			if u, err := url.Parse(st.MetadataURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") {
				return invalid("metadata_url", "metadata_url must be an http(s) URL")
			}
		}
		if in.ClientSecret != nil && *in.ClientSecret != "" {
			return invalid("client_secret", "a SAML provider has no client secret")
		}
		defaults(&st.EmailClaim, "email")
		defaults(&st.NameClaim, "displayName")
	default:
		return invalid("type", `type must be "oidc" or "saml"`)
	}
	for i, m := range st.GroupMappings {
		if m.Claim == "" {
			return invalid("group_mappings", fmt.Sprintf("group_mappings[%d].claim is required", i))
		}
		if m.Role == "" {
			st.GroupMappings[i].Role = identity.RoleUser
		} else if !m.Role.Valid() {
			return invalid("group_mappings", fmt.Sprintf("group_mappings[%d].role is not a role", i))
		}
	}
	for i, d := range st.AllowedDomains {
		st.AllowedDomains[i] = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))
	}
	return nil
}

func defaults(v *string, d string) {
	if *v == "" {
		*v = d
	}
}

// CreateProvider adds an identity provider. Errors: forbidden, invalid (a
// field, named in details), conflict (the name is taken).
func (s *Service) CreateProvider(ctx context.Context, p *authz.Principal, src audit.Source, in ProviderInput) (*Provider, error) {
	if err := mayManageProviders(p); err != nil {
		return nil, err
	}
	return s.createProvider(ctx, src, in, false)
}

func (s *Service) createProvider(ctx context.Context, src audit.Source, in ProviderInput, managed bool) (*Provider, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	pr := &Provider{Name: in.Name, Kind: in.Kind, DisplayName: in.DisplayName, Settings: in.Settings, Managed: managed,
		CreatedAt: now, UpdatedAt: now}
	if err := s.setSecret(pr, in.ClientSecret); err != nil {
		return nil, err
	}
	err := s.store.InTx(ctx, func(tx Tx) error {
		gid, err := resolveGroup(ctx, tx, in)
		if err != nil {
			return err
		}
		if err := checkMappings(ctx, tx, in.Settings); err != nil {
			return err
		}
		pr.GroupID = gid
		if err := tx.CreateSSOProvider(ctx, pr); err != nil {
			if fault.Is(err, fault.Conflict) {
				return fault.Errorf(fault.Conflict, "an identity provider named %q exists", in.Name).WithDetails(map[string]any{"field": "name"})
			}
			return err
		}
		return audit.Record(ctx, tx, src, gid, "sso.provider_create", providerTarget(pr), map[string]any{"type": pr.Kind, "managed": managed})
	})
	if err != nil {
		return nil, err
	}
	return pr, nil
}

func providerTarget(p *Provider) string { return fmt.Sprintf("sso_provider:%d", p.ID) }

// setSecret seals secret into p (nil: leave p's).
func (s *Service) setSecret(p *Provider, secret *string) error {
	if secret == nil {
		return nil
	}
	p.ClientSecret, p.HasSecret, p.SealedSecret = *secret, *secret != "", nil
	if *secret == "" {
		return nil
	}
	sealed, err := s.keys.Seal([]byte(*secret), secretContext)
	if err != nil {
		return err
	}
	p.SealedSecret = sealed
	return nil
}

// resolveGroup is the group a provider's users land in by default.
func resolveGroup(ctx context.Context, tx Tx, in ProviderInput) (int64, error) {
	if in.Group != "" {
		g, err := tx.GroupByName(ctx, in.Group)
		if err != nil {
			return 0, invalid("group", fmt.Sprintf("group %q does not exist", in.Group))
		}
		return g.ID, nil
	}
	if in.GroupID == 0 {
		g, err := tx.GroupByName(ctx, identity.DefaultGroupName)
		if err != nil {
			return 0, err
		}
		return g.ID, nil
	}
	if _, err := tx.GroupByID(ctx, in.GroupID); err != nil {
		return 0, invalid("group_id", "group does not exist")
	}
	return in.GroupID, nil
}

// checkMappings checks that every mapped group exists.
func checkMappings(ctx context.Context, tx Tx, st Settings) error {
	for _, m := range st.GroupMappings {
		if m.Group == "" {
			continue
		}
		if _, err := tx.GroupByName(ctx, m.Group); err != nil {
			return invalid("group_mappings", fmt.Sprintf("group %q does not exist", m.Group))
		}
	}
	return nil
}

// UpdateProvider replaces a provider's settings (its name stays). Managed
// providers are changed in the configuration file only (conflict).
func (s *Service) UpdateProvider(ctx context.Context, p *authz.Principal, src audit.Source, name string, in ProviderInput) (*Provider, error) {
	if err := mayManageProviders(p); err != nil {
		return nil, err
	}
	in.Name = name
	if err := in.validate(); err != nil {
		return nil, err
	}
	var pr *Provider
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if pr, err = tx.SSOProviderByName(ctx, name); err != nil {
			return err
		}
		if pr.Managed {
			return fault.New(fault.Conflict, "this identity provider comes from the configuration file; change it there")
		}
		return s.update(ctx, tx, src, pr, in)
	})
	return pr, err
}

func (s *Service) update(ctx context.Context, tx Tx, src audit.Source, pr *Provider, in ProviderInput) error {
	if pr.Kind != in.Kind {
		return invalid("type", "the type of a provider cannot change")
	}
	gid, err := resolveGroup(ctx, tx, in)
	if err != nil {
		return err
	}
	if err := checkMappings(ctx, tx, in.Settings); err != nil {
		return err
	}
	pr.DisplayName, pr.Settings, pr.GroupID, pr.UpdatedAt = in.DisplayName, in.Settings, gid, s.now().UTC()
	if err := s.setSecret(pr, in.ClientSecret); err != nil {
		return err
	}
	if err := tx.UpdateSSOProvider(ctx, pr); err != nil {
		return err
	}
	return audit.Record(ctx, tx, src, gid, "sso.provider_update", providerTarget(pr), map[string]any{"secret_changed": in.ClientSecret != nil})
}

// DeleteProvider removes a provider; its users stay, unlinked.
func (s *Service) DeleteProvider(ctx context.Context, p *authz.Principal, src audit.Source, name string) error {
	if err := mayManageProviders(p); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		pr, err := tx.SSOProviderByName(ctx, name)
		if err != nil {
			return err
		}
		if pr.Managed {
			return fault.New(fault.Conflict, "this identity provider comes from the configuration file; remove it there")
		}
		if err := tx.DeleteSSOProvider(ctx, pr.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, pr.GroupID, "sso.provider_delete", providerTarget(pr), map[string]any{"name": pr.Name})
	})
}

// GetProvider returns one provider (secret hidden) to an administrator.
func (s *Service) GetProvider(ctx context.Context, p *authz.Principal, name string) (*Provider, error) {
	if err := mayManageProviders(p); err != nil {
		return nil, err
	}
	pr, err := s.store.Read().SSOProviderByName(ctx, name)
	if err != nil {
		return nil, err
	}
	pr.ClientSecret = ""
	return pr, nil
}

// ListProviders returns every provider (secrets hidden) to an administrator.
func (s *Service) ListProviders(ctx context.Context, p *authz.Principal) ([]*Provider, error) {
	if err := mayManageProviders(p); err != nil {
		return nil, err
	}
	return s.store.Read().ListSSOProviders(ctx, 0)
}

// Providers lists the configured identity providers for a login page (no
// credential needed): name, type and display name, sorted by name.
func (s *Service) Providers(ctx context.Context) ([]ProviderInfo, error) {
	ps, err := s.store.Read().ListSSOProviders(ctx, 0)
	if err != nil {
		return nil, err
	}
	out := make([]ProviderInfo, 0, len(ps))
	for _, p := range ps {
		out = append(out, ProviderInfo{Name: p.Name, Kind: p.Kind, DisplayName: p.DisplayName})
	}
	slices.SortFunc(out, func(a, b ProviderInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Provider returns a provider with its client secret opened, for the
// protocol layer. Errors: not_found.
func (s *Service) Provider(ctx context.Context, name string) (*Provider, error) {
	pr, err := s.store.Read().SSOProviderByName(ctx, name)
	if err != nil {
		return nil, fault.New(fault.NotFound, "unknown identity provider").WithDetails(map[string]any{"provider": name})
	}
	if len(pr.SealedSecret) > 0 {
		b, err := s.keys.Open(pr.SealedSecret, secretContext)
		if err != nil {
			return nil, fmt.Errorf("opening the client secret of provider %s: %w", pr.Name, err)
		}
		pr.ClientSecret = string(b)
	}
	return pr, nil
}

// ApplyManaged makes the providers of the configuration file exist as
// given: created, or updated when they exist. Providers created through the
// API with the same name are taken over by the file.
func (s *Service) ApplyManaged(ctx context.Context, ins []ProviderInput) error {
	src := audit.Source{Actor: "config"}
	for _, in := range ins {
		if err := in.validate(); err != nil {
			return fmt.Errorf("identity provider %q: %w", in.Name, err)
		}
		_, err := s.store.Read().SSOProviderByName(ctx, in.Name)
		if fault.Is(err, fault.NotFound) {
			// Another replica starting at the same time may create it
			// first: then update it like an existing one.
			if _, err = s.createProvider(ctx, src, in, true); !fault.Is(err, fault.Conflict) {
				if err != nil {
					return fmt.Errorf("identity provider %q: %w", in.Name, err)
				}
				continue
			}
			err = nil
		}
		if err == nil {
			err = s.store.InTx(ctx, func(tx Tx) error {
				pr, err := tx.SSOProviderByName(ctx, in.Name)
				if err != nil {
					return err
				}
				pr.Managed = true
				return s.update(ctx, tx, src, pr, in)
			})
		}
		if err != nil {
			return fmt.Errorf("identity provider %q: %w", in.Name, err)
		}
	}
	return nil
}
