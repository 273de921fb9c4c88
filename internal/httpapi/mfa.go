package httpapi

import (
	"net/http"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/auth"
)

// mfaCode reads {"mfa_code": "..."}; a missing code is a 422 like FastAPI's.
func (s *Server) mfaCode(w http.ResponseWriter, r *http.Request) (string, error) {
	var b mfaCodeBody
	if err := decodeJSON(w, r, &b); err != nil {
		return "", err
	}
	if b.MFACode == "" || len(b.MFACode) > 32 {
		return "", account.ValidationError(account.FieldError{Field: "mfa_code", Message: "A 6-digit code or a backup code is required"})
	}
	return b.MFACode, nil
}

// handleMFAStatus: GET /api/v1/profile/mfa/status.
func (s *Server) handleMFAStatus(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	st, err := s.MFA.Status(r.Context(), p.User.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// factors is trailpass's addition: which second factors the account has.
	// A passkey is one, so an account whose only factor is a passkey has MFA.
	factors := []string{}
	if st.Enabled {
		factors = append(factors, "totp")
	}
	n, err := s.Passkeys.Count(r.Context(), p.User.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if n > 0 {
		factors = append(factors, "passkey")
	}
	writeJSON(w, http.StatusOK, mfaStatusBody{MFAEnabled: len(factors) > 0, BackupCodesRemaining: st.BackupCodesRemaining,
		Factors: factors})
}

// handleMFASetup: POST /api/v1/profile/mfa/setup starts an enrolment; the pending
// secret waits, encrypted, in the database for ten minutes.
func (s *Server) handleMFASetup(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	setup, err := s.MFA.BeginSetup(r.Context(), s.caller(r, p), p.User)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, mfaSetupBody{Secret: setup.Secret, SecretGrouped: setup.SecretGrouped,
		QRCode: setup.QRCode, AppName: setup.AppName, OTPAuthURI: setup.OTPAuthURI})
}

// handleMFAEnable: POST /api/v1/profile/mfa/enable {mfa_code} → the backup codes,
// shown this once.
func (s *Server) handleMFAEnable(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	code, err := s.mfaCode(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	codes, err := s.MFA.Enable(r.Context(), s.caller(r, p), p.User.ID, code)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, mfaCodesBody{Message: "MFA enabled successfully", BackupCodes: codes})
}

// handleMFADisable: POST /api/v1/profile/mfa/disable {mfa_code} removes the factor
// and the backup codes, and signs out every other session.
func (s *Server) handleMFADisable(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	code, err := s.mfaCode(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	dev := s.device(r)
	n, err := s.MFA.Disable(r.Context(), s.caller(r, p), p.User.ID, code, p.Session.ID)
	if err != nil {
		s.mfaFailed(r, p, dev, err)
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, mfaDisableBody{Message: "MFA disabled successfully", SessionsRevoked: n})
}

// handleMFAStepUp: POST /api/v1/profile/mfa/verify {mfa_code} proves the user
// again and marks the session as recently authenticated for the window.
func (s *Server) handleMFAStepUp(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	code, err := s.mfaCode(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	dev := s.device(r)
	method, err := s.MFA.Verify(r.Context(), p.User.ID, code)
	if err != nil {
		s.mfaFailed(r, p, dev, err)
		s.writeError(w, r, err)
		return
	}
	if err := s.Auth.MarkStepUp(r.Context(), p, dev, method); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, validUntilBody{Message: "MFA code verified successfully",
		ValidUntil: p.Session.AuthenticatedAt.Add(s.Auth.Window())})
}

// mfaFailed records a wrong code in the security log (the MFA service does not
// know the client's address).
func (s *Server) mfaFailed(r *http.Request, p *auth.Principal, dev auth.Device, err error) {
	if account.ErrorCode(err) != account.EINVALID {
		return
	}
	uid := p.User.ID
	e := &account.SecurityEvent{UserID: &uid, Type: account.EventMFAFailed, IPAddress: dev.IP, UserAgent: dev.UserAgent, CreatedAt: s.Now()}
	if err := s.Events.RecordSecurityEvent(r.Context(), e); err != nil {
		s.Logger.WarnContext(r.Context(), "record security event", "err", err)
	}
}

// handleBackupCodesStatus: GET /api/v1/profile/mfa/backup-codes/status, in later
// Endurain's shape ({has_codes, total, unused, used, created_at}); remaining is
// trailpass's older name for unused.
func (s *Server) handleBackupCodesStatus(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	st, err := s.MFA.BackupCodesStatus(r.Context(), p.User.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, backupStatusBody{HasCodes: st.Total > 0, Total: st.Total, Unused: st.Unused,
		Used: st.Total - st.Unused, CreatedAt: st.CreatedAt, Remaining: st.Unused})
}

// handleBackupCodesRegenerate: POST /api/v1/profile/mfa/backup-codes replaces every
// code after a recent step-up and shows the new ones once: 201 {codes, created_at}
// as later Endurain answers, plus backup_codes and message as MFA enable does.
func (s *Server) handleBackupCodesRegenerate(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	codes, made, err := s.MFA.RegenerateBackupCodes(r.Context(), s.caller(r, p), p.User.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, backupCodesBody{Codes: codes, CreatedAt: made, BackupCodes: codes, Message: "Backup codes regenerated"})
}
