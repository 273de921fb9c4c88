package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/auth"
)

// handleNotificationsCount: GET /api/v1/notifications/number. Every page of the
// web app asks it, so it must answer for every signed-in user.
func (s *Server) handleNotificationsCount(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	n, err := s.Notifications.CountNotifications(r.Context(), p.User.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, n)
}

// handleNotificationsPage: GET /api/v1/notifications/page_number/{page_number}/num_records/{num_records}.
func (s *Server) handleNotificationsPage(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	page, err1 := strconv.Atoi(r.PathValue("page_number"))
	per, err2 := strconv.Atoi(r.PathValue("num_records"))
	if err1 != nil || err2 != nil || page < 1 || per < 1 || per > 500 || page > 1<<20 {
		s.writeError(w, r, account.ValidationError(account.FieldError{Field: "page_number", Message: "page_number must be at least 1 and num_records between 1 and 500"}))
		return
	}
	list, err := s.Notifications.ListNotifications(r.Context(), p.User.ID, (page-1)*per, per)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]notificationJSON, 0, len(list))
	for _, n := range list {
		opts := n.Options
		if len(opts) == 0 {
			opts = json.RawMessage("null")
		}
		out = append(out, notificationJSON{ID: n.ID, UserID: n.UserID, Type: n.Type, Options: opts, Read: n.Read, CreatedAt: n.CreatedAt})
	}
	writeJSON(w, http.StatusOK, out)
}

// handleNotificationRead: PUT /api/v1/notifications/{notification_id}/mark_as_read.
func (s *Server) handleNotificationRead(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	id, err := pathID(r, "notification_id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.Notifications.MarkNotificationRead(r.Context(), p.User.ID, id); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, detailBody{Detail: "Notification marked as read"})
}
