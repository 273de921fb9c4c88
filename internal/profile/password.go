package profile

import (
	"context"
	"fmt"

	"github.com/trailpass/trailpass/internal/account"
)

// PasswordChange is the body of PUT /api/v1/profile/password plus who asks.
type PasswordChange struct {
	Password string `json:"password"`
	// CurrentPassword may be left out after a recent step-up. (omitempty
	// documents the optional fields in the OpenAPI document; this type is only
	// decoded.)
	CurrentPassword *string `json:"current_password,omitempty"`
	// SignOutOtherSessions, true when absent, ends every other session of the
	// user; the console offers it as a box ticked by default.
	SignOutOtherSessions *bool `json:"sign_out_other_sessions,omitempty"`
}

// ChangePassword sets a new password for c, the user userID on their own
// session. c proves itself with a recent authentication, or with the current
// password, which the checker's ConfirmPassword checks (and which for an
// account with MFA never counts alone). Without either, EFORBIDDEN saying how to
// step up; a wrong current password is the checker's answer (never 401, which
// would sign the web app out). A new password breaking the policy is
// EUNPROCESSABLE on the field password with PasswordPolicy. Every other session
// of the user is revoked; the count is returned, and a password_changed
// security event is recorded.
func (s *Service) ChangePassword(ctx context.Context, c *account.Caller, userID int64, in PasswordChange) (revoked int, err error) {
	if c == nil || (!c.IsOperator() && (c.User == nil || c.User.ID != userID)) {
		return 0, account.Errorf(account.EFORBIDDEN, "Only the account's owner can change its password here")
	}
	if in.CurrentPassword != nil && *in.CurrentPassword != "" && !c.IsOperator() {
		if s.Recent == nil {
			return 0, account.ErrNoChecker
		}
		if err := s.Recent.ConfirmPassword(ctx, c, *in.CurrentPassword); err != nil {
			return 0, err
		}
	} else if err := account.RequireRecentAuth(ctx, s.Recent, c); err != nil {
		return 0, err
	}
	now := s.Now()
	if err := account.ValidatePassword(in.Password); err != nil {
		return 0, err
	}
	hash, err := s.Hasher.Hash(ctx, in.Password)
	if err != nil {
		return 0, fmt.Errorf("hash password: %w", err)
	}
	keep := c.SessionID
	if in.SignOutOtherSessions != nil && !*in.SignOutOtherSessions {
		keep = "" // "" keeps every session
	}
	revoked, err = s.Store.ReplacePassword(account.Notify(ctx, s.Notices, userID, account.Notice{Kind: account.NoticePasswordChanged, At: now}), userID, hash, keep, in.SignOutOtherSessions == nil || *in.SignOutOtherSessions)
	if err != nil {
		return 0, fmt.Errorf("replace password: %w", err)
	}
	uid := userID
	ev := &account.SecurityEvent{UserID: &uid, Type: account.EventPasswordChanged, IPAddress: c.IP, UserAgent: c.UserAgent,
		Detail: map[string]any{"sessions_revoked": revoked}, CreatedAt: now.UTC()}
	// The password has changed; failing to log it must not report the change as
	// failed.
	_ = s.Events.RecordSecurityEvent(ctx, ev)
	return revoked, nil
}
