package web

import (
	"errors"
	"net/http"

	"netkeep/internal/api"
	"netkeep/internal/fault"
)

var errBadForm = fault.New(fault.Invalid, "the form could not be read")

// fail renders err as the dashboard's error page: the status the API would
// answer and the domain's user-safe message. It is the package's one
// error renderer; causes go to the log only, as in api.Error.
func (h *Handlers) fail(w http.ResponseWriter, r *http.Request, err error) {
	fe := fault.As(err)
	if fe == nil || fe.Code == fault.Internal {
		api.LoggerFrom(r.Context()).Error("internal error", "err", err, "request_id", api.RequestID(r.Context()))
		fe = fault.New(fault.Internal, "Something went wrong on the server. The request id is "+api.RequestID(r.Context())+".")
	}
	status := api.StatusOf(fe.Code)
	title := map[int]string{
		http.StatusNotFound: "Not found", http.StatusForbidden: "Not allowed", http.StatusBadRequest: "Please check the form",
		http.StatusConflict: "Already exists", http.StatusTooManyRequests: "Too many attempts",
	}[status]
	if title == "" {
		title = "Error"
	}
	h.render(w, r, status, "error", &view{Title: title, Error: fe.Message})
}

// formError keeps err on the page the user filled in (re-rendering it with
// the message) when it is the user's to fix; anything else is fail's.
func formError(err error) (string, bool) {
	var fe *fault.Error
	if errors.As(err, &fe) {
		switch fe.Code {
		case fault.Invalid, fault.Conflict, fault.Unauthorized, fault.RateLimited:
			return fe.Message, true
		}
	}
	return "", false
}
