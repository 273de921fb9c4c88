package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/admin"
)

var _ admin.Store = (*Store)(nil)

// ListUsersPage returns users ordered by id.
func (s *Store) ListUsersPage(ctx context.Context, offset, limit int) ([]*account.User, error) {
	return s.queryUsers(ctx, `SELECT `+userColumns+` FROM users ORDER BY id LIMIT $1 OFFSET $2`, limit, offset)
}

// AdminUpdateUser writes the admin-editable fields, keeping at least one active
// admin and ending the sessions of a deactivated account.
func (s *Store) AdminUpdateUser(ctx context.Context, u *account.User, recomputeBMI bool) error {
	return s.withTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockAdmins(ctx, tx); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE users SET name = $1, username = $2, email = $3, access_type = $4, active = $5,
			updated_at = $6, city = $7, birthdate = $8, gender = $9, units = $10, height = $11, max_heart_rate = $12,
			preferred_language = $13, first_day_of_week = $14, currency = $15 WHERE id = $16`,
			u.Name, u.Username, u.Email, u.AccessType, u.Active, s.ts(u.UpdatedAt), u.City, u.Birthdate, u.Gender, u.Units,
			u.Height, u.MaxHeartRate, u.PreferredLanguage, u.FirstDayOfWeek, u.Currency, u.ID)
		if err != nil {
			if account.ErrorCode(mapErr(err)) == account.ECONFLICT {
				return account.Errorf(account.ECONFLICT, "Duplicate entry error. Check if email and username are unique")
			}
			return fmt.Errorf("update user: %w", mapErr(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return account.Errorf(account.ENOTFOUND, "User not found")
		}
		if err := s.requireAdmin(ctx, tx, admin.MsgLastAdmin); err != nil {
			return err
		}
		if recomputeBMI {
			if err := s.recomputeBMI(ctx, tx, u.ID, u.Height); err != nil {
				return err
			}
		}
		if !u.Active {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, u.ID); err != nil {
				return fmt.Errorf("end sessions: %w", mapErr(err))
			}
		}
		return nil
	})
}

// lockAdmins locks the active admins' rows so two concurrent demotions or
// deletions cannot both see the other as the remaining admin (SQLite's
// IMMEDIATE transactions already serialise writers).
func (s *Store) lockAdmins(ctx context.Context, tx *sql.Tx) error {
	lock := `SELECT id FROM users WHERE access_type = 2 AND active`
	if s.dialect == Postgres {
		lock += ` FOR UPDATE`
	}
	rows, err := tx.QueryContext(ctx, lock)
	if err != nil {
		return fmt.Errorf("lock admins: %w", mapErr(err))
	}
	return rows.Close()
}

// requireAdmin fails with EFORBIDDEN msg when no active admin is left.
func (s *Store) requireAdmin(ctx context.Context, tx *sql.Tx, msg string) error {
	var admins int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE access_type = 2 AND active`).Scan(&admins); err != nil {
		return fmt.Errorf("count admins: %w", mapErr(err))
	}
	if admins == 0 {
		return account.Errorf(account.EFORBIDDEN, "%s", msg)
	}
	return nil
}

// SearchUsers returns the users whose username contains part (lower-cased,
// LIKE wildcards taken literally), ordered by id, at most limit.
func (s *Store) SearchUsers(ctx context.Context, part string, limit int) ([]*account.User, error) {
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(part))
	return s.queryUsers(ctx, `SELECT `+userColumns+` FROM users WHERE LOWER(username) LIKE $1 ESCAPE '\'
		ORDER BY id LIMIT $2`, "%"+esc+"%", limit)
}

// FindUsers returns limit users from offset, ordered by id, whose name,
// username or email contains q (lower-cased, LIKE wildcards taken literally),
// and the number that match.
func (s *Store) FindUsers(ctx context.Context, q string, offset, limit int) ([]*account.User, int, error) {
	esc := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(q)) + "%"
	const where = ` FROM users WHERE LOWER(username) LIKE $1 ESCAPE '\' OR LOWER(name) LIKE $1 ESCAPE '\' OR LOWER(email) LIKE $1 ESCAPE '\'`
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*)`+where, esc).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count users: %w", mapErr(err))
	}
	users, err := s.queryUsers(ctx, `SELECT `+userColumns+where+` ORDER BY id LIMIT $2 OFFSET $3`, esc, limit, offset)
	return users, total, err
}

// ApproveUser clears pending_admin_approval and activates the account. EINVALID
// when its email is not verified (Endurain's rule), unless the account signed
// up while verification was off (Endurain could never approve those);
// ENOTFOUND for no such user. Mail ctx carries is queued with the approval.
func (s *Store) ApproveUser(ctx context.Context, id int64, now time.Time) error {
	var done bool
	err := s.withMail(ctx, func(q querier) (bool, error) {
		res, err := q.ExecContext(ctx, `UPDATE users SET pending_admin_approval = FALSE, active = TRUE, updated_at = $1
		WHERE id = $2 AND (email_verified OR EXISTS (SELECT 1 FROM sign_ups WHERE sign_ups.user_id = users.id AND NOT sign_ups.verify_required))`, s.ts(now), id)
		if err != nil {
			return false, fmt.Errorf("approve user: %w", mapErr(err))
		}
		n, _ := res.RowsAffected()
		done = n == 1
		return done, nil
	})
	if err != nil || done {
		return err
	}
	if _, err := s.FindUserByID(ctx, id); err != nil {
		return err
	}
	return account.Errorf(account.EINVALID, admin.MsgEmailNotVerified)
}

// DeleteUser deletes the user and every row they own in one transaction and
// returns the keys of their files (activity files, media, photos, import
// staging folders) for the caller to remove after the commit. Their security
// events go too: they hold the user's addresses and browsers. EFORBIDDEN
// MsgLastAdminDelete when no active admin would remain; ENOTFOUND for no such user.
func (s *Store) DeleteUser(ctx context.Context, id int64) (files admin.UserFiles, err error) {
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockAdmins(ctx, tx); err != nil {
			return err
		}
		var photo sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT photo_path FROM users WHERE id = $1`, id).Scan(&photo); err != nil {
			return notFound(err, "User not found")
		}
		if photo.Valid {
			files.Keys = append(files.Keys, photo.String)
		}
		for _, q := range []string{
			`SELECT file_key FROM activities WHERE user_id = $1 AND file_key IS NOT NULL`,
			`SELECT t.media_path FROM activity_media t JOIN activities a ON a.id = t.activity_id WHERE a.user_id = $1`,
		} {
			keys, err := queryStrings(ctx, tx, q, id)
			if err != nil {
				return err
			}
			files.Keys = append(files.Keys, keys...)
		}
		jobs, err := queryStrings(ctx, tx, `SELECT id FROM import_jobs WHERE user_id = $1`, id)
		if err != nil {
			return err
		}
		for _, j := range jobs {
			files.Dirs = append(files.Dirs, "staging/"+j)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM security_events WHERE user_id = $1`, id); err != nil {
			return fmt.Errorf("delete security events: %w", mapErr(err))
		}
		// Every other table that references users cascades.
		if _, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = $1`, id); err != nil {
			return fmt.Errorf("delete user: %w", mapErr(err))
		}
		return s.requireAdmin(ctx, tx, admin.MsgLastAdminDelete)
	})
	if err != nil {
		return admin.UserFiles{}, err
	}
	return files, nil
}

func queryStrings(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", mapErr(err))
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, mapErr(rows.Err())
}
