package httpapi

import (
	"net/http"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/auth"
)

// handlePasskeys: GET /api/v1/profile/passkeys.
func (s *Server) handlePasskeys(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	list, err := s.Passkeys.List(r.Context(), p.User.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

// writeCeremony answers a begun WebAuthn ceremony with its options, or err.
// The options carry a single-use challenge, so no cache may keep them.
func (s *Server) writeCeremony(w http.ResponseWriter, r *http.Request, opts any, err error) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, opts)
}

// handlePasskeyRegisterBegin: POST /api/v1/profile/passkeys/register/begin.
func (s *Server) handlePasskeyRegisterBegin(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	opts, err := s.Passkeys.BeginRegistration(r.Context(), s.caller(r, p))
	s.writeCeremony(w, r, opts, err)
}

// handlePasskeyRegisterFinish: POST /api/v1/profile/passkeys/register/finish
// {name, credential} → the new passkey, 201.
func (s *Server) handlePasskeyRegisterFinish(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	var body passkeyRegisterRequest
	if err := decodeJSON(w, r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	info, err := s.Passkeys.FinishRegistration(r.Context(), p.User, p.Session.ID, body.Name, body.Credential, s.device(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, info)
}

// handlePasskeyRename: PUT /api/v1/profile/passkeys/{id} {name}.
func (s *Server) handlePasskeyRename(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var body passkeyNameBody
	if err := decodeJSON(w, r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.Passkeys.Rename(r.Context(), p.User.ID, id, body.Name, s.device(r)); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, messageBody{Message: "Passkey renamed"})
}

// handlePasskeyDelete: DELETE /api/v1/profile/passkeys/{id}.
func (s *Server) handlePasskeyDelete(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.Passkeys.Delete(r.Context(), s.caller(r, p), id, s.device(r)); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handlePasskeyLoginBegin: POST /api/v1/passkeys/login/begin.
func (s *Server) handlePasskeyLoginBegin(w http.ResponseWriter, r *http.Request) {
	opts, err := s.Passkeys.BeginLogin(r.Context(), s.device(r))
	s.writeCeremony(w, r, opts, err)
}

// handlePasskeyLoginFinish: POST /api/v1/passkeys/login/finish {credential},
// answered as /token answers.
func (s *Server) handlePasskeyLoginFinish(w http.ResponseWriter, r *http.Request) {
	ct, err := clientType(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var body passkeyCredentialRequest
	if err := decodeJSON(w, r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.Passkeys.FinishLogin(r.Context(), body.Credential, ct, s.device(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeLoginResult(w, ct, res)
}

// mfaPasskeyBody reads what both steps of the passkey second factor send into
// body, whose step part must name a well-formed username, and returns the
// client type and the pending sign-in's ticket: the body's, or for web the
// cookie.
func mfaPasskeyBody(w http.ResponseWriter, r *http.Request, body any, step *passkeyMFABeginRequest) (ct, ticket string, err error) {
	if ct, err = clientType(r); err != nil {
		return "", "", err
	}
	if err := decodeJSON(w, r, body); err != nil {
		return "", "", err
	}
	if err := validUsername(step.Username); err != nil {
		return "", "", err
	}
	if step.MFATicket == "" && ct == auth.ClientWeb {
		return ct, cookieValue(r, cookieMFATicket), nil
	}
	return ct, step.MFATicket, nil
}

// handleMFAPasskeyBegin: POST /api/v1/mfa/passkey/begin {username, mfa_ticket}.
func (s *Server) handleMFAPasskeyBegin(w http.ResponseWriter, r *http.Request) {
	var body passkeyMFABeginRequest
	_, ticket, err := mfaPasskeyBody(w, r, &body, &body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	opts, err := s.Passkeys.BeginMFA(r.Context(), body.Username, ticket, s.device(r))
	s.writeCeremony(w, r, opts, err)
}

// handleMFAPasskeyFinish: POST /api/v1/mfa/passkey/finish {username,
// mfa_ticket, credential}, answered as /mfa/verify answers.
func (s *Server) handleMFAPasskeyFinish(w http.ResponseWriter, r *http.Request) {
	var body passkeyMFAFinishRequest
	ct, ticket, err := mfaPasskeyBody(w, r, &body, &body.passkeyMFABeginRequest)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	tok, err := s.Passkeys.FinishMFA(r.Context(), body.Username, ticket, body.Credential, s.device(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeTokens(w, ct, tok, "Bearer")
}

// handlePasskeyReauthBegin: POST /api/v1/profile/passkeys/reauth/begin.
func (s *Server) handlePasskeyReauthBegin(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	opts, err := s.Passkeys.BeginReauth(r.Context(), p)
	s.writeCeremony(w, r, opts, err)
}

// handlePasskeyReauthFinish: POST /api/v1/profile/passkeys/reauth/finish
// {credential} renews the session's recent authentication, as
// /profile/mfa/verify does.
func (s *Server) handlePasskeyReauthFinish(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	var body passkeyCredentialRequest
	if err := decodeJSON(w, r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.Passkeys.FinishReauth(r.Context(), p, body.Credential, s.device(r)); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, validUntilBody{Message: "Passkey verified", ValidUntil: p.Session.AuthenticatedAt.Add(s.Auth.Window())})
}

// validUsername checks the username of an MFA step as /mfa/verify does.
func validUsername(name string) error {
	if name == "" || len(name) > 250 {
		return account.ValidationError(account.FieldError{Field: "username", Message: "String should have 1 to 250 characters"})
	}
	return nil
}
