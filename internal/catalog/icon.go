package catalog

import (
	"context"
	"time"

	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// IconFetcher fetches an upstream's favicon; internal/proxy implements it
// over HTTP. It returns nil (and no error) when the upstream has none.
type IconFetcher interface {
	FetchIcon(ctx context.Context, upstream string) (*Icon, error)
}

// IconRetry is how long an upstream that had no favicon (or did not
// answer) is left alone before it is asked again.
const IconRetry = time.Hour

// Icon returns the favicon of an app p may see: fetched from its upstream
// the first time, then from the store. It returns nil when the upstream has
// none (the caller shows a fallback). Errors: unauthorized, forbidden,
// not_found.
func (s *Service) Icon(ctx context.Context, p *authz.Principal, appID string) (*Icon, error) {
	e, err := s.App(ctx, p, appID)
	if err != nil || e.Remote != nil {
		return nil, err // a peer's app: the fallback icon
	}
	icon, err := s.store.Read().AppIcon(ctx, appID)
	switch {
	case err == nil && (len(icon.Data) > 0 || s.now().Sub(icon.FetchedAt) < IconRetry):
		return nonEmpty(icon), nil
	case err != nil && !fault.Is(err, fault.NotFound):
		return nil, err
	case s.icons == nil:
		return nil, nil
	}
	// One fetch at a time in this process, so a page of app tiles does not
	// ask every upstream many times over.
	s.iconLock.Lock()
	defer s.iconLock.Unlock()
	if icon, err := s.store.Read().AppIcon(ctx, appID); err == nil && (len(icon.Data) > 0 || s.now().Sub(icon.FetchedAt) < IconRetry) {
		return nonEmpty(icon), nil
	}
	fetched, ferr := s.icons.FetchIcon(ctx, e.Route.To)
	if ferr != nil || fetched == nil {
		if ferr != nil {
			s.log.Debug("fetching favicon", "app", appID, "error", ferr)
		}
		fetched = &Icon{}
	}
	fetched.FetchedAt = s.stamp()
	if err := s.store.InTx(ctx, func(tx Tx) error { return tx.SetAppIcon(ctx, appID, fetched) }); err != nil {
		if fault.Is(err, fault.NotFound) {
			return nil, errAppNotFound
		}
		return nil, err
	}
	return nonEmpty(fetched), nil
}

func nonEmpty(i *Icon) *Icon {
	if len(i.Data) == 0 {
		return nil
	}
	return i
}
