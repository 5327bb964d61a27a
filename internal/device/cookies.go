package device

import (
	"context"
	"slices"
	"strings"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// Cookie is one cookie a proxied app set in a device's webview. Value is
// plaintext in the domain; the store only ever holds Sealed.
type Cookie struct {
	AppID     string
	Name      string
	Value     string
	Sealed    []byte
	Path      string
	Domain    string
	ExpiresAt *time.Time
	Secure    bool
	HTTPOnly  bool
	SameSite  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// AppSession summarises the cookies a device holds for one app.
type AppSession struct {
	AppID       string
	CookieCount int
	LastUpdated time.Time
	ExpiresAt   *time.Time // the earliest expiry, if any cookie has one
}

func cookieContext(deviceID, appID, name, path string) string {
	return "device-cookie:" + deviceID + "\x00" + appID + "\x00" + name + "\x00" + path
}

// SaveCookies stores cookies an app set for a live device, sealed, by
// (name, path): the reverse proxy calls it when an app's answer sets
// cookies for a device's webview. Errors: not_found (no live device),
// invalid.
func (s *Service) SaveCookies(ctx context.Context, src audit.Source, deviceID, appID string, cs []Cookie) error {
	if appID == "" || len(appID) > 128 {
		return invalidField("appId", "appId must be 1 to 128 characters")
	}
	now := s.now()
	rows := make([]*Cookie, 0, len(cs))
	for _, c := range cs {
		if c.Name == "" || len(c.Name) > 256 || len(c.Value) > 8192 {
			return invalidField("cookie", "a cookie needs a name (at most 256 bytes) and a value of at most 8192 bytes")
		}
		if c.Path == "" {
			c.Path = "/"
		}
		sealed, err := s.keys.Seal([]byte(c.Value), cookieContext(deviceID, appID, c.Name, c.Path))
		if err != nil {
			return err
		}
		c.AppID, c.Value, c.Sealed, c.CreatedAt, c.UpdatedAt = appID, "", sealed, now, now
		rows = append(rows, &c)
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		d, err := tx.DeviceByID(ctx, deviceID)
		if fault.Is(err, fault.NotFound) || (err == nil && d.RevokedAt != nil) {
			return errNotFound
		}
		if err != nil {
			return err
		}
		if err := tx.SaveCookies(ctx, deviceID, appID, rows); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, d.GroupID, "session_cookies.saved", deviceID, map[string]any{"app_id": appID, "count": len(rows)})
	})
}

// Cookies returns the unexpired cookies of a device for an app, opened,
// for the reverse proxy to send on the device's behalf.
func (s *Service) Cookies(ctx context.Context, deviceID, appID string) ([]Cookie, error) {
	rows, err := s.store.Read().Cookies(ctx, deviceID, appID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]Cookie, 0, len(rows))
	for _, c := range rows {
		if c.ExpiresAt != nil && !now.Before(*c.ExpiresAt) {
			continue
		}
		v, err := s.keys.Open(c.Sealed, cookieContext(deviceID, appID, c.Name, c.Path))
		if err != nil {
			return nil, fault.New(fault.Internal, "opening a stored cookie").Wrap(err)
		}
		c.Value, c.Sealed = string(v), nil
		out = append(out, *c)
	}
	return out, nil
}

// cookieOwner is the device whose cookies p manages: only a device's own
// token may (the cookies live in that device's webview).
func cookieOwner(p *authz.Principal) (string, error) {
	if p == nil {
		return "", authz.Allow(p, "devices:read", authz.Any)
	}
	if p.Kind != authz.KindDevice {
		return "", fault.New(fault.Forbidden, "session cookies belong to a paired device: use the device's token")
	}
	return p.Subject, nil
}

// Sessions summarises the calling device's stored cookies by app, never
// their values. Errors: forbidden for callers that are no device.
func (s *Service) Sessions(ctx context.Context, p *authz.Principal) ([]AppSession, error) {
	id, err := cookieOwner(p)
	if err != nil {
		return nil, err
	}
	rows, err := s.store.Read().Cookies(ctx, id, "")
	if err != nil {
		return nil, err
	}
	by := map[string]*AppSession{}
	for _, c := range rows {
		a := by[c.AppID]
		if a == nil {
			a = &AppSession{AppID: c.AppID}
			by[a.AppID] = a
		}
		a.CookieCount++
		if c.UpdatedAt.After(a.LastUpdated) {
			a.LastUpdated = c.UpdatedAt
		}
		if c.ExpiresAt != nil && (a.ExpiresAt == nil || c.ExpiresAt.Before(*a.ExpiresAt)) {
			a.ExpiresAt = c.ExpiresAt
		}
	}
	out := make([]AppSession, 0, len(by))
	for _, a := range by {
		out = append(out, *a)
	}
	slices.SortFunc(out, func(a, b AppSession) int { return strings.Compare(a.AppID, b.AppID) })
	return out, nil
}

// ClearSessions deletes the calling device's cookies, of one app when appID
// is set. Errors: forbidden for callers that are no device.
func (s *Service) ClearSessions(ctx context.Context, p *authz.Principal, src audit.Source, appID string) error {
	id, err := cookieOwner(p)
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		n, err := tx.DeleteCookies(ctx, id, appID)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, p.GroupID, "session_cookies.cleared", id, map[string]any{"app_id": appID, "count": n})
	})
}
