package httpapi

import (
	"net/http"
	"strings"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/auth"
)

// writeTokens answers a completed sign-in or refresh the way the client type
// expects: cookies and {session_id} for web, tokens in the body for mobile.
func (s *Server) writeTokens(w http.ResponseWriter, ct string, t *auth.Tokens, tokenType string) {
	w.Header().Set("Cache-Control", "no-store")
	if ct == auth.ClientWeb {
		s.setAuthCookies(w, t)
		s.clearCookies(w, cookieMFATicket)
		writeJSON(w, http.StatusOK, sessionIDBody{SessionID: t.SessionID})
		return
	}
	writeJSON(w, http.StatusOK, tokenBody{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, SessionID: t.SessionID,
		TokenType: tokenType, ExpiresIn: t.AccessExpiresAt.Unix()})
}

// handleToken is the password sign-in: POST /api/v1/token (form-encoded).
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	ct, err := clientType(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.writeError(w, r, account.ValidationError(account.FieldError{Field: "body", Message: "Invalid form body"}))
		return
	}
	username, password := r.PostForm.Get("username"), r.PostForm.Get("password")
	var missing []account.FieldError
	if username == "" {
		missing = append(missing, account.FieldError{Field: "username", Message: "Field required"})
	}
	if password == "" {
		missing = append(missing, account.FieldError{Field: "password", Message: "Field required"})
	}
	if gt := r.PostForm.Get("grant_type"); gt != "" && gt != "password" {
		missing = append(missing, account.FieldError{Field: "grant_type", Message: "String should match pattern 'password'"})
	}
	if len(missing) > 0 {
		s.writeError(w, r, account.ValidationError(missing...))
		return
	}
	res, err := s.Auth.Login(r.Context(), username, password, ct, s.device(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeLoginResult(w, ct, res)
}

// writeLoginResult answers a first sign-in step as /token does: tokens, or the
// pending MFA step (its ticket in an HttpOnly cookie for web, in the body for
// mobile).
func (s *Server) writeLoginResult(w http.ResponseWriter, ct string, res *auth.LoginResult) {
	if res.MFARequired {
		body := mfaChallengeBody{MFARequired: true, Username: res.Username, Message: "MFA verification required"}
		w.Header().Set("Cache-Control", "no-store")
		if ct == auth.ClientWeb {
			http.SetCookie(w, &http.Cookie{Name: cookieMFATicket, Value: res.Ticket, Path: "/api/v1/", MaxAge: int(auth.TicketTTL.Seconds()),
				HttpOnly: true, Secure: s.Config.PublicURL != nil && s.Config.PublicURL.Scheme == "https", SameSite: http.SameSiteLaxMode})
			writeJSON(w, http.StatusAccepted, body)
			return
		}
		body.MFATicket = res.Ticket
		writeJSON(w, http.StatusOK, body)
		return
	}
	s.writeTokens(w, ct, res.Tokens, "Bearer")
}

// handleMFAVerify completes a sign-in that needs MFA: POST /api/v1/mfa/verify.
func (s *Server) handleMFAVerify(w http.ResponseWriter, r *http.Request) {
	ct, err := clientType(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var body mfaVerifyRequest
	if err := decodeJSON(w, r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	var bad []account.FieldError
	if body.Username == "" || len(body.Username) > 250 {
		bad = append(bad, account.FieldError{Field: "username", Message: "String should have 1 to 250 characters"})
	}
	if code := strings.TrimSpace(body.MFACode); code == "" || len(code) > 32 {
		bad = append(bad, account.FieldError{Field: "mfa_code", Message: "A 6-digit code or a backup code is required"})
	}
	if len(bad) > 0 {
		s.writeError(w, r, account.ValidationError(bad...))
		return
	}
	ticket := body.MFATicket
	if ct == auth.ClientWeb && ticket == "" {
		ticket = cookieValue(r, cookieMFATicket)
	}
	tok, _, err := s.Auth.VerifyMFA(r.Context(), body.Username, body.MFACode, ticket, s.device(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeTokens(w, ct, tok, "Bearer")
}

// handleRefresh rotates the tokens: POST /api/v1/refresh.
func (s *Server) handleRefresh(w http.ResponseWriter, r *http.Request) {
	ct, err := clientType(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	tok, err := s.Auth.Refresh(r.Context(), refreshToken(r, ct), s.device(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// Endurain spells it in lower case on refresh; its clients are used to that.
	s.writeTokens(w, ct, tok, "bearer")
}

// handleLogout revokes the caller's session and clears the cookies. It needs no
// valid access token: an expired one, the refresh token or nothing at all still
// ends in a signed-out client, and repeating it is harmless.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	ct, err := clientType(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	dev := s.device(r)
	for _, tok := range []string{accessToken(r, ct), refreshToken(r, ct)} {
		if err := s.Auth.Logout(r.Context(), tok, dev); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if ct == auth.ClientWeb {
		s.clearCookies(w, cookieAccess, cookieRefresh, cookieCSRF)
	}
	writeJSON(w, http.StatusOK, messageBody{Message: "Logout successful"})
}

// handleReauth is the password step-up for accounts without MFA:
// POST /api/v1/profile/reauth {password}.
func (s *Server) handleReauth(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	var body passwordBody
	if err := decodeJSON(w, r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.Auth.Reauthenticate(r.Context(), p, body.Password, s.device(r)); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, validUntilBody{Message: "Authentication confirmed", ValidUntil: p.Session.AuthenticatedAt.Add(s.Auth.Window())})
}
