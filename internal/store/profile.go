package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/big"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/profile"
)

var _ profile.Store = (*Store)(nil)

// UpdateProfile writes the editable columns of u and, when recomputeBMI is set,
// the BMI of the user's weight entries, in one transaction.
func (s *Store) UpdateProfile(ctx context.Context, u *account.User, recomputeBMI bool) error {
	return s.withTx(ctx, func(tx *sql.Tx) error {
		// A new email is the user's word alone: it is no longer vouched for, so
		// no identity provider can be linked to the account by it.
		res, err := tx.ExecContext(ctx, `UPDATE users SET email_verified = CASE WHEN email = $3 THEN email_verified ELSE FALSE END,
			name = $1, username = $2, email = $3, city = $4,
			birthdate = $5, gender = $6, units = $7, height = $8, max_heart_rate = $9, preferred_language = $10,
			first_day_of_week = $11, currency = $12, updated_at = $13 WHERE id = $14`,
			u.Name, u.Username, u.Email, u.City, u.Birthdate, u.Gender, u.Units, u.Height, u.MaxHeartRate,
			u.PreferredLanguage, u.FirstDayOfWeek, u.Currency, s.ts(u.UpdatedAt), u.ID)
		if err != nil {
			return fmt.Errorf("update profile: %w", mapErr(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return account.Errorf(account.ENOTFOUND, "User not found")
		}
		if recomputeBMI {
			return s.recomputeBMI(ctx, tx, u.ID, u.Height)
		}
		return nil
	})
}

// recomputeBMI sets the BMI of every weight entry of the user from heightCM
// (NULL without a height): weight / (height in m)², rounded to 2 decimals.
func (s *Store) recomputeBMI(ctx context.Context, tx *sql.Tx, userID int64, heightCM *int) error {
	if heightCM == nil {
		if _, err := tx.ExecContext(ctx, `UPDATE health_weight SET bmi = NULL WHERE user_id = $1`, userID); err != nil {
			return fmt.Errorf("clear bmi: %w", mapErr(err))
		}
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, weight FROM health_weight WHERE user_id = $1`, userID)
	if err != nil {
		return fmt.Errorf("list weights: %w", mapErr(err))
	}
	type entry struct {
		id  int64
		bmi string
	}
	var entries []entry
	h := big.NewRat(int64(*heightCM)*int64(*heightCM), 10000) // m²
	for rows.Next() {
		var id int64
		var weight string
		if err := rows.Scan(&id, &weight); err != nil {
			rows.Close()
			return fmt.Errorf("scan weight: %w", err)
		}
		w, ok := new(big.Rat).SetString(weight)
		if !ok {
			rows.Close()
			return fmt.Errorf("weight %d: bad decimal %q", id, weight)
		}
		entries = append(entries, entry{id, new(big.Rat).Quo(w, h).FloatString(2)})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list weights: %w", mapErr(err))
	}
	for _, e := range entries {
		if _, err := tx.ExecContext(ctx, `UPDATE health_weight SET bmi = $1 WHERE id = $2`, e.bmi, e.id); err != nil {
			return fmt.Errorf("update bmi: %w", mapErr(err))
		}
	}
	return nil
}

// ProfileLinks reports the user's linked integrations and whether MFA is on.
func (s *Store) ProfileLinks(ctx context.Context, userID int64) (profile.Links, error) {
	var l profile.Links
	err := s.db.QueryRowContext(ctx, `SELECT
		COALESCE((SELECT strava_token IS NOT NULL FROM users_integrations WHERE user_id = $1), FALSE),
		COALESCE((SELECT garminconnect_oauth1 IS NOT NULL FROM users_integrations WHERE user_id = $1), FALSE),
		EXISTS (SELECT 1 FROM mfa_factors WHERE user_id = $1)`, userID).
		Scan(&l.StravaLinked, &l.GarminConnectLinked, &l.MFAEnabled)
	if err != nil {
		return l, fmt.Errorf("profile links: %w", mapErr(err))
	}
	return l, nil
}

// ProfileExtras returns the user's privacy settings and profile links in one
// read: GET /profile needs both on every call.
func (s *Store) ProfileExtras(ctx context.Context, userID int64) (*profile.Privacy, profile.Links, error) {
	p := &profile.Privacy{}
	var l profile.Links
	dest := append([]any{&p.ID, &p.UserID}, privacyFields(&p.PrivacyFlags)...)
	dest = append(dest, &l.StravaLinked, &l.GarminConnectLinked, &l.MFAEnabled)
	err := s.readRow(ctx, `SELECT id, user_id, `+privacyColumns+`,
		COALESCE((SELECT strava_token IS NOT NULL FROM users_integrations WHERE user_id = $1), FALSE),
		COALESCE((SELECT garminconnect_oauth1 IS NOT NULL FROM users_integrations WHERE user_id = $1), FALSE),
		EXISTS (SELECT 1 FROM mfa_factors WHERE user_id = $1)
		FROM users_privacy_settings WHERE user_id = $1`, userID).Scan(dest...)
	if err != nil {
		return nil, l, notFound(err, "User privacy settings not found")
	}
	return p, l, nil
}

// SetPhotoPath sets or clears users.photo_path.
func (s *Store) SetPhotoPath(ctx context.Context, userID int64, path *string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE users SET photo_path = $1 WHERE id = $2`, path, userID)
	if err != nil {
		return fmt.Errorf("set photo path: %w", mapErr(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return account.Errorf(account.ENOTFOUND, "User not found")
	}
	return nil
}

// UsernameTaken reports whether a user has exactly this username.
func (s *Store) UsernameTaken(ctx context.Context, username string) (bool, error) {
	return s.exists(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE username = $1)`, username)
}

// EmailTaken reports whether a user has exactly this email address.
func (s *Store) EmailTaken(ctx context.Context, email string) (bool, error) {
	return s.exists(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE email = $1)`, email)
}

func (s *Store) exists(ctx context.Context, q string, args ...any) (bool, error) {
	var ok bool
	if err := s.db.QueryRowContext(ctx, q, args...).Scan(&ok); err != nil {
		return false, fmt.Errorf("exists: %w", mapErr(err))
	}
	return ok, nil
}

// SetActivitiesVisibility sets the visibility of all the user's activities.
func (s *Store) SetActivitiesVisibility(ctx context.Context, userID int64, visibility int) (int64, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE activities SET visibility = $1 WHERE user_id = $2`, visibility, userID)
	if err != nil {
		return 0, fmt.Errorf("set activities visibility: %w", mapErr(err))
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// ReplacePassword sets the password hash and ends what the old password
// started: pending sign-in tickets, OIDC states and, when signOut is set, every
// other session of the user, in one transaction.
func (s *Store) ReplacePassword(ctx context.Context, userID int64, hash, keepSessionID string, signOut bool) (int, error) {
	var revoked int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, setPassword, hash, userID)
		if err != nil {
			return fmt.Errorf("set password: %w", mapErr(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return account.Errorf(account.ENOTFOUND, "User not found")
		}
		for _, q := range []string{`DELETE FROM login_tickets WHERE user_id = $1`, `DELETE FROM oidc_states WHERE user_id = $1`} {
			if _, err := tx.ExecContext(ctx, q, userID); err != nil {
				return fmt.Errorf("drop pending sign-ins: %w", mapErr(err))
			}
		}
		if !signOut {
			return nil
		}
		// session_tokens rows go with their session (ON DELETE CASCADE).
		res, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1 AND id <> $2`, userID, keepSessionID)
		if err != nil {
			return fmt.Errorf("revoke sessions: %w", mapErr(err))
		}
		revoked, _ = res.RowsAffected()
		return nil
	})
	return int(revoked), err
}
