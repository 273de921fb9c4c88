package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/auth"
	"github.com/trailpass/trailpass/internal/profile"
	"github.com/trailpass/trailpass/internal/signup"
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

// handleNoticeSettings: GET /api/v1/profile/notices.
func (s *Server) handleNoticeSettings(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	on, err := s.NoticeSettings.NewSignIn(r.Context(), p.User.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, noticeSettingsBody{NewSignIn: &on})
}

// handleNoticeSettingsUpdate: PUT /api/v1/profile/notices {new_sign_in}.
func (s *Server) handleNoticeSettingsUpdate(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	var in noticeSettingsBody
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if in.NewSignIn == nil {
		s.writeError(w, r, account.ValidationError(account.FieldError{Field: "new_sign_in", Message: "Field required", Type: "missing"}))
		return
	}
	if err := s.NoticeSettings.SetNewSignIn(r.Context(), s.caller(r, p), p.User.ID, *in.NewSignIn); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, in)
}

// handleSignUp: POST /api/v1/sign-up/request (Endurain's UserSignup), 201.
func (s *Server) handleSignUp(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in, err := profile.DecodeUpdate(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var pw struct {
		Password *string `json:"password"`
	}
	if json.Unmarshal(body, &pw) != nil || pw.Password == nil {
		s.writeError(w, r, account.ValidationError(account.FieldError{Field: "password", Message: "Field required", Type: "missing"}))
		return
	}
	res, err := s.SignUps.SignUp(r.Context(), signup.Request{Profile: in, Password: *pw.Password}, s.clientIP(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, res)
}

// handleSignUpConfirm: POST /api/v1/sign-up/confirm {token}.
func (s *Server) handleSignUpConfirm(w http.ResponseWriter, r *http.Request) {
	var in signUpConfirmBody
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if in.Token == "" {
		s.writeError(w, r, account.ValidationError(account.FieldError{Field: "token", Message: "Field required", Type: "missing"}))
		return
	}
	res, err := s.SignUps.Confirm(r.Context(), in.Token)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
