package httpapi

import (
	"net/http"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/auth"
)

// withClient puts the requesting client (address, User-Agent, a readable
// device) on the request's context, where security notices find it.
func (s *Server) withClient(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := s.device(r)
		c := account.Client{IP: d.IP, UserAgent: d.UserAgent, Device: DeviceLabel(d)}
		next.ServeHTTP(w, r.WithContext(account.WithClient(r.Context(), c)))
	})
}

// DeviceLabel describes a device for people: "Firefox on Linux (PC)".
func DeviceLabel(d auth.Device) string {
	return d.Browser + " on " + d.OperatingSystem + " (" + d.DeviceType + ")"
}

type resetRequestBody struct {
	Email string `json:"email"`
}

type resetConfirmBody struct {
	Token       string `json:"token"`
	NewPassword string `json:"new_password"`
}

// handleResetRequest: POST /api/v1/password-reset/request {email}.
func (s *Server) handleResetRequest(w http.ResponseWriter, r *http.Request) {
	var in resetRequestBody
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if in.Email == "" {
		s.writeError(w, r, account.ValidationError(account.FieldError{Field: "email", Message: "Field required", Type: "missing"}))
		return
	}
	if err := s.Recovery.RequestReset(r.Context(), in.Email, s.clientIP(r)); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, messageBody{Message: account.MsgResetRequested})
}

// handleResetConfirm: POST /api/v1/password-reset/confirm {token, new_password}.
func (s *Server) handleResetConfirm(w http.ResponseWriter, r *http.Request) {
	var in resetConfirmBody
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	var missing []account.FieldError
	if in.Token == "" {
		missing = append(missing, account.FieldError{Field: "token", Message: "Field required", Type: "missing"})
	}
	if in.NewPassword == "" {
		missing = append(missing, account.FieldError{Field: "new_password", Message: "Field required", Type: "missing"})
	}
	if len(missing) > 0 {
		s.writeError(w, r, account.ValidationError(missing...))
		return
	}
	if err := s.Recovery.ConfirmReset(r.Context(), in.Token, in.NewPassword); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, messageBody{Message: account.MsgResetDone})
}
