package httpapi

import (
	"net/http"
	"strconv"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/auth"
)

func sessionsJSON(list []*auth.Session, currentID string) []sessionJSON {
	out := make([]sessionJSON, 0, len(list))
	for _, s := range list {
		out = append(out, sessionJSON{ID: s.ID, UserID: s.UserID, IPAddress: s.IPAddress, DeviceType: s.DeviceType,
			OperatingSystem: s.OperatingSystem, OperatingSystemVersion: s.OperatingSystemVersion, Browser: s.Browser,
			BrowserVersion: s.BrowserVersion, CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt, LastActiveAt: s.LastActiveAt,
			AuthMethod: s.AuthMethod, Current: s.ID == currentID, UserAgent: unrecognisedUA(s.Browser, s.OperatingSystem, s.UserAgent)})
	}
	return out
}

// handleMySessions lists the caller's live sessions: GET /api/v1/profile/sessions.
func (s *Server) handleMySessions(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	list, err := s.Auth.ListSessions(r.Context(), p.User.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sessionsJSON(list, p.Session.ID))
}

// handleRevokeMySession ends one of the caller's sessions (200 null, as Endurain):
// DELETE /api/v1/profile/sessions/{session_id}.
func (s *Server) handleRevokeMySession(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if err := s.Auth.RevokeSession(r.Context(), s.caller(r, p), p.User.ID, r.PathValue("session_id"), s.device(r)); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, nil)
}

// handleRevokeOtherSessions ends every session of the caller but this one, after
// a recent authentication: DELETE /api/v1/profile/sessions.
func (s *Server) handleRevokeOtherSessions(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	n, err := s.Auth.RevokeOtherSessions(r.Context(), s.caller(r, p), p.User.ID, p.Session.ID, s.device(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, revokedBody{Detail: "Other sessions revoked", Revoked: n})
}

func pathUserID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("user_id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, account.ValidationError(account.FieldError{Field: "user_id", Message: "Input should be a valid integer"})
	}
	return id, nil
}

// handleUserSessions lists any user's sessions, for admins:
// GET /api/v1/sessions/user/{user_id}.
func (s *Server) handleUserSessions(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	uid, err := pathUserID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	list, err := s.Auth.ListSessions(r.Context(), uid)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sessionsJSON(list, p.Session.ID))
}

// handleDeleteUserSession ends any user's session, for admins:
// DELETE /api/v1/sessions/{session_id}/user/{user_id}.
func (s *Server) handleDeleteUserSession(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	uid, err := pathUserID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.Auth.RevokeSession(r.Context(), s.caller(r, p), uid, r.PathValue("session_id"), s.device(r)); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, nil)
}

// unrecognisedUA returns ua, shortened to 120 characters, when the parser
// recognised neither browser nor OS in it, and "" otherwise.
func unrecognisedUA(browser, os, ua string) string {
	known := func(v string) bool { return v != "" && v != "Unknown" }
	if known(browser) || known(os) || ua == "" {
		return ""
	}
	if r := []rune(ua); len(r) > 120 {
		return string(r[:119]) + "…"
	}
	return ua
}
