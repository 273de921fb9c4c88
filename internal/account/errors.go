package account

import (
	"errors"
	"fmt"
)

// Error codes. The HTTP layer maps each to one status code, in one place.
const (
	EINVALID       = "invalid"              // bad input: 400
	EUNPROCESSABLE = "unprocessable"        // well-formed but semantically wrong input: 422
	EUNAUTHORIZED  = "unauthorized"         // failed authentication: 401
	EFORBIDDEN     = "forbidden"            // authenticated but not allowed: 403
	ENOTFOUND      = "not_found"            // 404
	ECONFLICT      = "conflict"             // 409
	EPRECONDITION  = "precondition"         // a server setting rules the action out: 412
	ETIMEOUT       = "timeout"              // the client stopped sending: 408
	ETOOLARGE      = "too_large"            // 413
	ETOOMANY       = "too_many"             // 429
	EUNAVAILABLE   = "unavailable"          // a dependency (the database) is down: 503
	EUPSTREAM      = "upstream"             // a remote service (an identity provider) failed or is unreachable: 502
	EINSUFFICIENT  = "insufficient_storage" // 507
	EINTERNAL      = "internal"             // everything else: 500
)

// Error is returned by services and stores for failures the caller can act on.
// Message is safe to show to the client; it never carries a secret.
type Error struct {
	Code    string
	Message string
	// Fields lists per-field validation problems; the HTTP layer renders them as
	// FastAPI-style 422 lists.
	Fields []FieldError
	// RetryAfter is set on ETOOMANY errors, in whole seconds.
	RetryAfter int
}

// FieldError is one validation problem of one input field.
type FieldError struct {
	// In is where the field was sent: "" for the body, "query" for the URL.
	In      string
	Field   string
	Message string
	// Type is the FastAPI error type shown with it; empty means "value_error".
	Type string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any
// other non-nil error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of err's *Error, or a generic text
// for internal errors, whose details belong in the log only.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal server error"
}

// ValidationError builds an EUNPROCESSABLE error from field problems.
func ValidationError(fields ...FieldError) *Error {
	return &Error{Code: EUNPROCESSABLE, Message: "Validation error", Fields: fields}
}
