package account

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/trailpass/trailpass/internal/secret"
)

// PasswordStore is what a password change needs from storage.
type PasswordStore interface {
	// ReplacePassword sets the password hash and, in the same transaction,
	// drops the user's pending sign-in tickets and OIDC states and, when
	// signOut is set, every session but keepSessionID. It returns how many
	// sessions it ended. ENOTFOUND if no such user.
	ReplacePassword(ctx context.Context, userID int64, hash, keepSessionID string, signOut bool) (int, error)
}

// AttemptGuard limits guesses of the current password. The HTTP wiring adapts
// auth.Throttle with its password lockout policy to it.
type AttemptGuard interface {
	// Attempt counts one attempt on key and returns ETOOMANY while key is locked.
	Attempt(ctx context.Context, key string) error
	// Succeeded forgets the failures of key.
	Succeeded(ctx context.Context, key string) error
}

// PasswordChange is the body of PUT /api/v1/profile/password plus who asks.
type PasswordChange struct {
	Password        string  `json:"password"`
	CurrentPassword *string `json:"current_password"`
	// SignOutOtherSessions, true when absent, ends every other session of the
	// user; the console offers it as a box ticked by default.
	SignOutOtherSessions *bool `json:"sign_out_other_sessions"`
	// SessionID is the caller's session, which stays signed in.
	SessionID string `json:"-"`
	// RecentlyAuthenticated tells whether that session signed in or stepped up
	// recently enough (the auth package decides) to skip the current password.
	RecentlyAuthenticated bool   `json:"-"`
	IPAddress             string `json:"-"`
	UserAgent             string `json:"-"`
}

// Password-change messages.
const (
	MsgReauthRequired       = "Confirm your current password, or sign in again, to change your password"
	MsgWrongCurrentPassword = "The current password is incorrect"
)

// ChangePassword sets a new password for the caller. The caller must give the
// current password, or use a recently authenticated session (EFORBIDDEN
// MsgReauthRequired otherwise). A wrong current
// password is EFORBIDDEN MsgWrongCurrentPassword (never 401, which would sign the
// web app out) and counts against the guard; a new password breaking the policy
// is EUNPROCESSABLE on the field password with PasswordPolicy. Every other session of the user is revoked;
// the count is returned, and a password_changed security event is recorded.
func (s *ProfileService) ChangePassword(ctx context.Context, userID int64, in PasswordChange) (revoked int, err error) {
	u, err := s.Store.FindUserByID(ctx, userID)
	if err != nil {
		return 0, err
	}
	now := s.Now()
	if in.CurrentPassword != nil && *in.CurrentPassword != "" {
		if err := s.checkCurrentPassword(ctx, u, *in.CurrentPassword); err != nil {
			return 0, err
		}
	} else if !in.RecentlyAuthenticated {
		return 0, Errorf(EFORBIDDEN, MsgReauthRequired)
	}
	if err := ValidatePassword(in.Password); err != nil {
		return 0, err
	}
	hash, err := s.Hasher.Hash(ctx, in.Password)
	if err != nil {
		return 0, fmt.Errorf("hash password: %w", err)
	}
	keep := in.SessionID
	if in.SignOutOtherSessions != nil && !*in.SignOutOtherSessions {
		keep = "" // "" keeps every session
	}
	revoked, err = s.Store.ReplacePassword(Notify(ctx, s.Notices, userID, Notice{Kind: NoticePasswordChanged, At: now}), userID, hash, keep, in.SignOutOtherSessions == nil || *in.SignOutOtherSessions)
	if err != nil {
		return 0, fmt.Errorf("replace password: %w", err)
	}
	uid := userID
	ev := &SecurityEvent{UserID: &uid, Type: EventPasswordChanged, IPAddress: in.IPAddress, UserAgent: in.UserAgent,
		Detail: map[string]any{"sessions_revoked": revoked}, CreatedAt: now.UTC()}
	// The password has changed; failing to log it must not report the change as
	// failed.
	_ = s.Events.RecordSecurityEvent(ctx, ev)
	return revoked, nil
}

func (s *ProfileService) checkCurrentPassword(ctx context.Context, u *User, current string) error {
	// The same counter as the password step-up (auth.Reauthenticate), so a stolen
	// session gets one budget of password guesses, not one per route.
	key := "reauth:user:" + strconv.FormatInt(u.ID, 10)
	if s.Guard != nil {
		if err := s.Guard.Attempt(ctx, key); err != nil {
			return err
		}
	}
	if !u.HasPassword() {
		// Same answer as a wrong password, after the same work.
		s.Hasher.VerifyDummy(ctx, current)
		return Errorf(EFORBIDDEN, MsgWrongCurrentPassword)
	}
	_, err := s.Hasher.Verify(ctx, *u.PasswordHash, current)
	if errors.Is(err, secret.ErrMismatch) {
		return Errorf(EFORBIDDEN, MsgWrongCurrentPassword)
	} else if err != nil {
		return fmt.Errorf("verify password: %w", err)
	}
	if s.Guard != nil {
		if err := s.Guard.Succeeded(ctx, key); err != nil {
			return err
		}
	}
	return nil
}
