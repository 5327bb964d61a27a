package netkey

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/psk"
)

// PSKs is what the PSK and endpoint handlers need of the psk domain.
type PSKs interface {
	List(ctx context.Context, p *authz.Principal, f psk.Filter) (*psk.Page, error)
	Get(ctx context.Context, p *authz.Principal, id int64) (*psk.PSK, error)
	Create(ctx context.Context, p *authz.Principal, src audit.Source, groupID int64, in psk.NewPSK) (*psk.PSK, error)
	CreateBulk(ctx context.Context, p *authz.Principal, src audit.Source, groupID int64, in []psk.NewPSK) ([]*psk.PSK, error)
	Update(ctx context.Context, p *authz.Principal, src audit.Source, id int64, patch psk.Patch) (*psk.PSK, error)
	Delete(ctx context.Context, p *authz.Principal, src audit.Source, id int64) error
	Import(ctx context.Context, p *authz.Principal, src audit.Source, groupID int64, r io.Reader) (*psk.ImportResult, error)
	Export(ctx context.Context, p *authz.Principal, groupID int64, f psk.Format, w io.Writer) error
	// Now is the service's clock, at which "expired" is judged.
	Now() time.Time

	ListEndpoints(ctx context.Context, p *authz.Principal, f psk.EndpointFilter) (*psk.EndpointPage, error)
	GetEndpoint(ctx context.Context, p *authz.Principal, id int64) (*psk.Endpoint, error)
	CreateEndpoint(ctx context.Context, p *authz.Principal, src audit.Source, groupID int64, in psk.NewEndpoint) (*psk.Endpoint, error)
	CreateEndpointsBulk(ctx context.Context, p *authz.Principal, src audit.Source, groupID int64, in []psk.NewEndpoint) ([]*psk.Endpoint, error)
	UpdateEndpoint(ctx context.Context, p *authz.Principal, src audit.Source, id int64, patch psk.EndpointPatch) (*psk.Endpoint, error)
	DeleteEndpoint(ctx context.Context, p *authz.Principal, src audit.Source, id int64) error
}

// DefaultMaxImportBytes is the default bound of a CSV import: 1 GiB.
const DefaultMaxImportBytes = 1 << 30

// pathID parses the {id} path value; a malformed id names nothing, so it is
// reported as notFound would report it.
func pathID(r *http.Request, notFound func(any) error) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, notFound(r.PathValue("id"))
	}
	return id, nil
}

// query holds a request's query parameters and the first one that failed
// to parse.
type query struct {
	r   *http.Request
	err error
}

func (q *query) int(name string, def, lo, hi int) int {
	n, err := api.IntParam(q.r.URL.Query().Get(name), def, lo, hi)
	if err != nil && q.err == nil {
		q.err = fault.Errorf(fault.Invalid, "%s must be a whole number between %d and %d", name, lo, hi).
			WithDetails(map[string]any{"field": name})
	}
	return n
}

func (q *query) optInt(name string, lo, hi int) *int {
	if q.r.URL.Query().Get(name) == "" {
		return nil
	}
	n := q.int(name, 0, lo, hi)
	return &n
}

func (q *query) int64(name string) int64 {
	s := q.r.URL.Query().Get(name)
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if (err != nil || n < 1) && q.err == nil {
		q.err = fault.Errorf(fault.Invalid, "%s must be a positive whole number", name).WithDetails(map[string]any{"field": name})
	}
	return n
}

func (q *query) bool(name string) *bool {
	s := q.r.URL.Query().Get(name)
	if s == "" {
		return nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil && q.err == nil {
		q.err = fault.Errorf(fault.Invalid, "%s must be true or false", name).WithDetails(map[string]any{"field": name})
	}
	return &b
}
