package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/trailpass/trailpass/internal/account"
)

// statusOf is the one map from domain error codes to HTTP status codes.
var statusOf = map[string]int{
	account.EINVALID:       http.StatusBadRequest,
	account.EUNPROCESSABLE: http.StatusUnprocessableEntity,
	account.EUNAUTHORIZED:  http.StatusUnauthorized,
	account.EFORBIDDEN:     http.StatusForbidden,
	account.ENOTFOUND:      http.StatusNotFound,
	account.ECONFLICT:      http.StatusConflict,
	account.ETIMEOUT:       http.StatusRequestTimeout,
	account.ETOOLARGE:      http.StatusRequestEntityTooLarge,
	account.EPRECONDITION:  http.StatusPreconditionFailed,
	account.ETOOMANY:       http.StatusTooManyRequests,
	account.EUNAVAILABLE:   http.StatusServiceUnavailable,
	account.EUPSTREAM:      http.StatusBadGateway,
	account.EINSUFFICIENT:  http.StatusInsufficientStorage,
	account.EINTERNAL:      http.StatusInternalServerError,
}

// statusClientClosed is recorded for a request its client abandoned (nginx's
// 499): nobody reads the answer, and it is no server error.
const statusClientClosed = 499

// writeError answers with err's status and a JSON detail. Internal errors are
// logged with the request id and shown to the client only as a generic message.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		s.Logger.DebugContext(r.Context(), "client closed the request", "err", err)
		w.WriteHeader(statusClientClosed)
		return
	}
	code := account.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	body := ErrorBody{Detail: account.ErrorMessage(err), RequestID: requestIDFrom(r.Context())}
	var e *account.Error
	if asError(err, &e) {
		if len(e.Fields) > 0 {
			items := make([]validationItem, len(e.Fields))
			for i, f := range e.Fields {
				in := f.In
				if in == "" {
					in = "body"
				}
				typ := f.Type
				if typ == "" {
					typ = "value_error"
				}
				items[i] = validationItem{Loc: []string{in, f.Field}, Msg: f.Message, Type: typ}
			}
			body.Detail = items
		}
		if e.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
		}
	}
	if status >= 500 {
		s.Logger.ErrorContext(r.Context(), "request failed", "err", err, "status", status)
	}
	writeJSON(w, status, body)
}

// writeJSON writes v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
