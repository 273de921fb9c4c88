package httpapi

import (
	"context"
	"net/http"
	"time"
)

// handleHealthz answers while the process is alive.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, statusBody{Status: "ok"})
}

// handleReadyz answers 200 only when the database is reachable and migrated.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if err := s.Ready.Ready(ctx); err != nil {
		s.Logger.WarnContext(ctx, "not ready", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, statusBody{Status: "unavailable", Detail: "Database unavailable or not migrated"})
		return
	}
	writeJSON(w, http.StatusOK, statusBody{Status: "ready"})
}
