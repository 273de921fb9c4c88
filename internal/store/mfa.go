package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/trailpass/trailpass/internal/mfa"
)

// The MFA rules define the storage they need, and its types; this is it.
var _ mfa.Store = (*Store)(nil)

// MFAEnabled reports whether the user has a TOTP factor.
func (s *Store) MFAEnabled(ctx context.Context, userID int64) (bool, error) {
	on, err := s.MFAEnabledUsers(ctx, []int64{userID})
	return on[userID], err
}

// MFAEnabledUsers returns which of the users have a TOTP factor, in one query
// (a page of the admin user list asks for all of them at once).
func (s *Store) MFAEnabledUsers(ctx context.Context, userIDs []int64) (map[int64]bool, error) {
	out := make(map[int64]bool, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	ph := make([]string, len(userIDs))
	args := make([]any, len(userIDs))
	for i, id := range userIDs {
		ph[i] = "$" + strconv.Itoa(i+1)
		args[i] = id
	}
	rows, err := s.db.QueryContext(ctx, `SELECT user_id FROM mfa_factors WHERE type = 'totp' AND user_id IN (`+strings.Join(ph, ", ")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("check mfa factors: %w", mapErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, mapErr(rows.Err())
}

// FindMFAFactor returns the user's TOTP factor, or ENOTFOUND.
func (s *Store) FindMFAFactor(ctx context.Context, userID int64) (*mfa.MFAFactor, error) {
	f := &mfa.MFAFactor{UserID: userID}
	err := s.db.QueryRowContext(ctx, `SELECT secret_ciphertext, last_used_step, created_at
		FROM mfa_factors WHERE user_id = $1 AND type = 'totp'`, userID).
		Scan(&f.SecretCiphertext, &f.LastUsedStep, scanTime(&f.CreatedAt))
	if err != nil {
		return nil, notFound(err, "MFA is not enabled for this user")
	}
	return f, nil
}

// PutMFASetup stores a pending enrolment, replacing an earlier one and its attempts.
func (s *Store) PutMFASetup(ctx context.Context, userID int64, ciphertext string, now, expiresAt time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO mfa_setups (user_id, secret_ciphertext, attempts, created_at, expires_at)
		VALUES ($1, $2, 0, $3, $4)
		ON CONFLICT (user_id) DO UPDATE SET secret_ciphertext = excluded.secret_ciphertext, attempts = 0,
			created_at = excluded.created_at, expires_at = excluded.expires_at`,
		userID, ciphertext, s.ts(now), s.ts(expiresAt))
	if err != nil {
		return fmt.Errorf("store mfa setup: %w", mapErr(err))
	}
	return nil
}

// ClaimMFASetupAttempt counts one attempt at finishing the user's pending
// enrolment and returns it, with the count including this attempt. The count is
// raised before the code is checked and only while it is below maxAttempts, so
// concurrent guesses cannot exceed the limit. Returns ENOTFOUND when there is no
// unexpired setup with attempts left.
func (s *Store) ClaimMFASetupAttempt(ctx context.Context, userID int64, now time.Time, maxAttempts int) (*mfa.MFASetup, error) {
	st := &mfa.MFASetup{UserID: userID}
	err := s.db.QueryRowContext(ctx, `UPDATE mfa_setups SET attempts = attempts + 1
		WHERE user_id = $1 AND expires_at > $2 AND attempts < $3
		RETURNING secret_ciphertext, attempts, expires_at`, userID, s.ts(now), maxAttempts).
		Scan(&st.SecretCiphertext, &st.Attempts, scanTime(&st.ExpiresAt))
	if err != nil {
		return nil, notFound(err, "No MFA setup in progress. Please run setup first.")
	}
	return st, nil
}

// DeleteMFASetup discards the user's pending enrolment.
func (s *Store) DeleteMFASetup(ctx context.Context, userID int64) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM mfa_setups WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("delete mfa setup: %w", mapErr(err))
	}
	return nil
}

// DeleteExpiredMFASetups removes pending enrolments that expired by now, for the
// cleanup loop, and returns how many.
func (s *Store) DeleteExpiredMFASetups(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM mfa_setups WHERE expires_at <= $1`, s.ts(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired mfa setups: %w", mapErr(err))
	}
	return res.RowsAffected()
}

// EnableMFA finishes an enrolment in one transaction: it inserts the TOTP factor
// with lastUsedStep (the enabling code counts as used), replaces the backup codes
// with codeHashes and deletes the pending setup. Returns ECONFLICT when the user
// already has a factor.
func (s *Store) EnableMFA(ctx context.Context, userID int64, ciphertext string, lastUsedStep int64, codeHashes []string, now time.Time) error {
	return s.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO mfa_factors (user_id, type, secret_ciphertext, last_used_step, created_at)
			VALUES ($1, 'totp', $2, $3, $4)`, userID, ciphertext, lastUsedStep, s.ts(now)); err != nil {
			return fmt.Errorf("insert mfa factor: %w", mapErr(err))
		}
		if err := s.replaceBackupCodes(ctx, tx, userID, codeHashes, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM mfa_setups WHERE user_id = $1`, userID); err != nil {
			return fmt.Errorf("delete mfa setup: %w", mapErr(err))
		}
		return nil
	})
}

// AdvanceTOTPStep moves the factor's last used step forward to step, atomically:
// it reports false when the step is not beyond the last used one (a replay, or a
// concurrent request that won) or when there is no factor.
func (s *Store) AdvanceTOTPStep(ctx context.Context, userID, step int64) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE mfa_factors SET last_used_step = $1
		WHERE user_id = $2 AND type = 'totp' AND last_used_step < $1`, step, userID)
	if err != nil {
		return false, fmt.Errorf("advance totp step: %w", mapErr(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("advance totp step: %w", err)
	}
	return n == 1, nil
}

// DeleteMFA removes the user's factor, backup codes and pending setup and ends
// every session of the user but keepSessionID ("" ends all), in one
// transaction: a removed factor must not leave behind sessions it may have let
// in. It reports whether there was a factor and how many sessions ended.
func (s *Store) DeleteMFA(ctx context.Context, userID int64, keepSessionID string) (bool, int, error) {
	var had bool
	var ended int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM mfa_factors WHERE user_id = $1`, userID)
		if err != nil {
			return fmt.Errorf("delete mfa factor: %w", mapErr(err))
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("delete mfa factor: %w", err)
		}
		had = n > 0
		for _, table := range []string{"backup_codes", "mfa_setups"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE user_id = $1`, userID); err != nil {
				return fmt.Errorf("delete %s: %w", table, mapErr(err))
			}
		}
		res, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1 AND id <> $2`, userID, keepSessionID)
		if err != nil {
			return fmt.Errorf("end sessions: %w", mapErr(err))
		}
		ended, _ = res.RowsAffected()
		return nil
	})
	return had, int(ended), err
}
