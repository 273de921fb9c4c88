package httpapi

import "net/http"

// routes registers every route. Keep this the one list of what the server serves.
func (s *Server) routes() {
	s.mux.HandleFunc("GET /healthz", s.handleHealthz)
	s.mux.HandleFunc("GET /readyz", s.handleReadyz)

	// Sign-in and sessions.
	s.mux.HandleFunc("POST /api/v1/token", s.handleToken)
	s.mux.HandleFunc("POST /api/v1/mfa/verify", s.handleMFAVerify)
	s.mux.HandleFunc("POST /api/v1/refresh", s.handleRefresh)
	s.mux.HandleFunc("POST /api/v1/logout", s.handleLogout)
	s.mux.HandleFunc("POST /api/v1/profile/reauth", s.authed(s.handleReauth))
	s.mux.HandleFunc("GET /api/v1/profile/sessions", s.authed(s.handleMySessions))
	s.mux.HandleFunc("DELETE /api/v1/profile/sessions", s.authed(s.handleRevokeOtherSessions))
	s.mux.HandleFunc("DELETE /api/v1/profile/sessions/{session_id}", s.authed(s.handleRevokeMySession))
	s.mux.HandleFunc("GET /api/v1/sessions/user/{user_id}", s.admin(s.handleUserSessions))
	s.mux.HandleFunc("DELETE /api/v1/sessions/{session_id}/user/{user_id}", s.admin(s.handleDeleteUserSession))

	// Anything else under /api answers JSON, never an HTML page, so clients can
	// always read the detail.
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"detail": "Not Found"})
	})
}
