package httpapi

import (
	"fmt"
	"net/http"

	"github.com/trailpass/trailpass/internal/auth"
	"github.com/trailpass/trailpass/internal/profile"
)

// handle registers a route and remembers its pattern, so the OpenAPI test can
// hold the document to what the server really serves.
func (s *Server) handle(pattern string, h http.HandlerFunc) {
	s.patterns = append(s.patterns, pattern)
	s.mux.HandleFunc(pattern, h)
}

// routes registers every route of apiOps behind its authentication, then the
// catch-alls.
func (s *Server) routes() {
	for _, op := range s.apiOps() {
		if op.Handle != nil {
			s.handle(op.pattern(), s.guard(op))
		}
	}

	// Anything else under /api answers JSON, never an HTML page, so clients can
	// always read the detail.
	s.handle("/api/", notFound)
	if s.Fallback != nil {
		s.mux.Handle("/", s.Fallback)
	}
}

// notFound answers a JSON 404, as Endurain does for paths it does not serve.
func notFound(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, ErrorBody{Detail: "Not Found", RequestID: requestIDFrom(r.Context())})
}

// pattern is the ServeMux pattern serving op.
func (op apiOp) pattern() string {
	if op.Pattern != "" {
		return op.Pattern
	}
	return op.Method + " " + op.Path
}

// guard puts op's handler behind the authentication op.Auth names. A handler
// whose signature does not fit its Auth is a programming error, found when the
// first server starts.
func (s *Server) guard(op apiOp) http.HandlerFunc {
	switch h := op.Handle.(type) {
	case func(http.ResponseWriter, *http.Request):
		switch op.Auth {
		case "", "refresh", "any", "ticket":
			return h // these check their own credentials, if any
		}
	case func(http.ResponseWriter, *http.Request, *auth.Principal):
		switch op.Auth {
		case "user":
			return s.authed(h)
		case "admin":
			return s.admin(h)
		case "browser":
			return s.browser(h)
		}
	case func(http.ResponseWriter, *http.Request, *auth.Principal, *profile.Profile):
		if op.Auth == "user" {
			return s.authedProfile(h)
		}
	}
	panic(fmt.Sprintf("httpapi: route %s: a %T handler does not fit Auth %q", op.pattern(), op.Handle, op.Auth))
}
