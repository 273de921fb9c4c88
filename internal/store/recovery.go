package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/trailpass/trailpass/internal/account"
)

// CreatePasswordResetToken stores the hash of a reset token for userID (with
// the reset mail ctx carries, in the same transaction).
func (s *Store) CreatePasswordResetToken(ctx context.Context, userID int64, hash string, now, expiresAt time.Time) error {
	return s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO password_reset_tokens (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
			hash, userID, s.ts(now), s.ts(expiresAt))
		if err != nil {
			return fmt.Errorf("store reset token: %w", mapErr(err))
		}
		return nil
	})
}

// ErrTokenInvalid is returned for an unknown, used or expired token.
var ErrTokenInvalid = account.ErrBadToken

// PasswordResetTokenUser returns the user of a valid, unspent reset token.
func (s *Store) PasswordResetTokenUser(ctx context.Context, tokenHash string, now time.Time) (int64, error) {
	return s.tokenUser(ctx, "password_reset_tokens", "reset", tokenHash, now)
}

// tokenUser returns the user of a valid, unspent token in table (one of the
// single-use token tables, never input), or ErrTokenInvalid; what names the
// token in errors.
func (s *Store) tokenUser(ctx context.Context, table, what, tokenHash string, now time.Time) (int64, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT user_id FROM `+table+` WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2`,
		tokenHash, s.ts(now)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrTokenInvalid
	} else if err != nil {
		return 0, fmt.Errorf("find %s token: %w", what, mapErr(err))
	}
	return id, nil
}

// spendToken marks a valid, unspent token in table used inside tx and returns
// its user, or ErrTokenInvalid; the UPDATE makes spending atomic, so a token
// raced by two requests is spent by one.
func (s *Store) spendToken(ctx context.Context, tx *sql.Tx, table, what, tokenHash string, now time.Time) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `UPDATE `+table+` SET used_at = $1
			WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING user_id`, s.ts(now), tokenHash).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrTokenInvalid
	} else if err != nil {
		return 0, fmt.Errorf("spend %s token: %w", what, mapErr(err))
	}
	return id, nil
}

// ResetPassword spends the reset token with hash tokenHash and, in the same
// transaction, sets the password through the one password write (so the
// credential version moves), ends every session, pending sign-in and OIDC
// state of the user, spends the user's other reset tokens, and queues the mail
// ctx carries. It returns the user's id, or ErrTokenInvalid. MFA factors are
// untouched: a reset never removes the second factor.
func (s *Store) ResetPassword(ctx context.Context, tokenHash, passwordHash string, now time.Time) (int64, error) {
	var userID int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		if userID, err = s.spendToken(ctx, tx, "password_reset_tokens", "reset", tokenHash, now); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, setPassword, passwordHash, userID)
		if err != nil {
			return fmt.Errorf("set password: %w", mapErr(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrTokenInvalid
		}
		for _, q := range []string{
			`DELETE FROM login_tickets WHERE user_id = $1`,
			`DELETE FROM oidc_states WHERE user_id = $1`,
			`DELETE FROM sessions WHERE user_id = $1`,
			`DELETE FROM password_reset_tokens WHERE user_id = $1 AND used_at IS NULL`,
		} {
			if _, err := tx.ExecContext(ctx, q, userID); err != nil {
				return fmt.Errorf("end sign-ins: %w", mapErr(err))
			}
		}
		return nil
	})
	return userID, err
}

// CreateSignUpToken stores the hash of an email verification token.
func (s *Store) CreateSignUpToken(ctx context.Context, userID int64, hash string, now, expiresAt time.Time) error {
	return s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sign_up_tokens (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
			hash, userID, s.ts(now), s.ts(expiresAt))
		if err != nil {
			return fmt.Errorf("store sign-up token: %w", mapErr(err))
		}
		return nil
	})
}

// VerifyEmailWithToken spends a sign-up token and marks the user's email
// verified; when activate is set the account becomes active too (no approval
// waits). It queues the mail ctx carries and returns the user's id, or
// ErrTokenInvalid.
func (s *Store) VerifyEmailWithToken(ctx context.Context, tokenHash string, activate bool, now time.Time) (int64, error) {
	var userID int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		if userID, err = s.spendToken(ctx, tx, "sign_up_tokens", "sign-up", tokenHash, now); err != nil {
			return err
		}
		q := `UPDATE users SET email_verified = TRUE, updated_at = $2 WHERE id = $1`
		if activate {
			q = `UPDATE users SET email_verified = TRUE, active = TRUE, updated_at = $2 WHERE id = $1`
		}
		if _, err := tx.ExecContext(ctx, q, userID, s.ts(now)); err != nil {
			return fmt.Errorf("verify email: %w", mapErr(err))
		}
		return nil
	})
	return userID, err
}

// NoteSignInDevice remembers that userID signed in from the device deviceKey
// and reports whether it was new to an account that had signed in before. Only
// then is the mail ctx carries queued, in the same transaction.
func (s *Store) NoteSignInDevice(ctx context.Context, userID int64, deviceKey string, now time.Time) (bool, error) {
	fresh := false
	err := s.withTx(account.WithoutMail(ctx), func(tx *sql.Tx) error {
		var known int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM known_devices WHERE user_id = $1`, userID).Scan(&known); err != nil {
			return fmt.Errorf("count devices: %w", mapErr(err))
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO known_devices (user_id, device_key, first_seen_at) VALUES ($1, $2, $3)
			ON CONFLICT (user_id, device_key) DO NOTHING`, userID, deviceKey, s.ts(now))
		if err != nil {
			return fmt.Errorf("remember device: %w", mapErr(err))
		}
		n, _ := res.RowsAffected()
		fresh = n > 0 && known > 0
		if fresh {
			return s.insertMail(ctx, tx, account.MailFrom(ctx))
		}
		return nil
	})
	return fresh, err
}

// NewSignInNotices reports whether the user wants the new-device notice.
func (s *Store) NewSignInNotices(ctx context.Context, userID int64) (bool, error) {
	var on bool
	err := s.db.QueryRowContext(ctx, `SELECT new_sign_in FROM notice_settings WHERE user_id = $1`, userID).Scan(&on)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	} else if err != nil {
		return false, fmt.Errorf("read notice settings: %w", mapErr(err))
	}
	return on, nil
}

// SetNewSignInNotices turns the new-device notice on or off for the user.
func (s *Store) SetNewSignInNotices(ctx context.Context, userID int64, on bool) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO notice_settings (user_id, new_sign_in) VALUES ($1, $2)
		ON CONFLICT (user_id) DO UPDATE SET new_sign_in = excluded.new_sign_in`, userID, on)
	if err != nil {
		return fmt.Errorf("write notice settings: %w", mapErr(err))
	}
	return nil
}

// ListNotifiableAdmins returns the active admins with a verified address.
func (s *Store) ListNotifiableAdmins(ctx context.Context) ([]*account.User, error) {
	return s.queryUsers(ctx, `SELECT `+userColumns+` FROM users WHERE access_type = $1 AND active = TRUE AND email_verified = TRUE ORDER BY id`,
		account.AccessAdmin)
}

// CreateSignUpUser stores a signed-up account like CreateUser and, when
// tokenHash is set, its email verification token, with the mail ctx carries,
// in one transaction.
func (s *Store) CreateSignUpUser(ctx context.Context, u *account.User, tokenHash string, now, expiresAt time.Time) error {
	return s.withTx(ctx, func(tx *sql.Tx) error {
		if err := s.insertUser(ctx, tx, u); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sign_ups (user_id, verify_required, created_at) VALUES ($1, $2, $3)`,
			u.ID, tokenHash != "", s.ts(now)); err != nil {
			return fmt.Errorf("record sign-up: %w", mapErr(err))
		}
		if tokenHash == "" {
			return nil
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sign_up_tokens (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
			tokenHash, u.ID, s.ts(now), s.ts(expiresAt))
		if err != nil {
			return fmt.Errorf("store sign-up token: %w", mapErr(err))
		}
		return nil
	})
}

// SignUpTokenUser returns the user of a valid, unspent verification token.
func (s *Store) SignUpTokenUser(ctx context.Context, tokenHash string, now time.Time) (int64, error) {
	return s.tokenUser(ctx, "sign_up_tokens", "sign-up", tokenHash, now)
}

// SignUpPending reports whether the user signed up and has not yet verified
// their email: an unspent verification token exists, expired or not.
func (s *Store) SignUpPending(ctx context.Context, userID int64) (bool, error) {
	return s.exists(ctx, `SELECT 1 FROM sign_up_tokens WHERE user_id = $1 AND used_at IS NULL`, userID)
}
