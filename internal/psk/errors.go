package psk

import (
	"maps"

	"netkeep/internal/fault"
)

// The reasons this package's errors carry, in the domain's words; NetKey
// shows them upper-cased ("PSK_NOT_FOUND").
const (
	ReasonPSKNotFound      fault.Reason = "psk_not_found"
	ReasonPSKIDExists      fault.Reason = "psk_id_exists"
	ReasonEndpointNotFound fault.Reason = "endpoint_not_found"
	ReasonEndpointExists   fault.Reason = "endpoint_exists"
)

func invalid(field, msg string) *fault.Error {
	return fault.New(fault.Invalid, msg).WithDetails(map[string]any{"field": field})
}

// withField names field in the details of a shared validator's error (e.g.
// name.Check's), as this package's own invalid errors do.
func withField(err error, field string) error {
	fe := fault.As(err)
	if fe == nil {
		return err
	}
	return fe.WithDetails(map[string]any{"field": field})
}

// PSKNotFound is the not_found PSK_NOT_FOUND error for the PSK id (a
// number, or the text of a malformed one).
func PSKNotFound(id any) error {
	return fault.New(fault.NotFound, "PSK not found").WithReason(ReasonPSKNotFound).
		WithDetails(map[string]any{"psk_id": id})
}

func pskIDExists(name string) error {
	return fault.Errorf(fault.Conflict, "a PSK with psk_id %q already exists", name).WithReason(ReasonPSKIDExists).
		WithDetails(map[string]any{"psk_id": name})
}

// EndpointNotFound is the not_found ENDPOINT_NOT_FOUND error for the
// endpoint id (a number, or the text of a malformed one).
func EndpointNotFound(id any) error {
	return fault.New(fault.NotFound, "Endpoint not found").WithReason(ReasonEndpointNotFound).
		WithDetails(map[string]any{"endpoint_id": id})
}

func macExists(mac string) error {
	return fault.Errorf(fault.Conflict, "an endpoint with MAC address %s already exists", mac).WithReason(ReasonEndpointExists).
		WithDetails(map[string]any{"mac_address": mac})
}

// at locates err within a bulk request or an import: it adds key (e.g.
// "index", "line") to the details and prefixes the message. Errors without
// a code stay internal and are returned as they are.
func at(err error, key, prefix string, n int) error {
	fe := fault.As(err)
	if fe == nil || fe.Code == fault.Internal {
		return err
	}
	d := maps.Clone(fe.Details)
	if d == nil {
		d = map[string]any{}
	}
	d[key] = n
	c := *fe.WithDetails(d)
	c.Message = prefix + c.Message
	return &c
}
