package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/trailpass/trailpass/internal/account"
)

var _ account.AdminStore = (*Store)(nil)

// ListUsersPage returns users ordered by id.
func (s *Store) ListUsersPage(ctx context.Context, offset, limit int) ([]*account.User, error) {
	return s.queryUsers(ctx, `SELECT `+userColumns+` FROM users ORDER BY id LIMIT $1 OFFSET $2`, limit, offset)
}

// AdminUpdateUser writes the admin-editable fields, keeping at least one active
// admin and ending the sessions of a deactivated account.
func (s *Store) AdminUpdateUser(ctx context.Context, u *account.User) error {
	return s.withTx(ctx, func(tx *sql.Tx) error {
		// Lock the admins first so two concurrent demotions cannot both see the
		// other as the remaining admin (SQLite's IMMEDIATE transactions already
		// serialise writers).
		lock := `SELECT id FROM users WHERE access_type = 2 AND active`
		if s.dialect == Postgres {
			lock += ` FOR UPDATE`
		}
		rows, err := tx.QueryContext(ctx, lock)
		if err != nil {
			return fmt.Errorf("lock admins: %w", mapErr(err))
		}
		rows.Close()
		res, err := tx.ExecContext(ctx, `UPDATE users SET name = $1, username = $2, email = $3, access_type = $4, active = $5,
			updated_at = $6 WHERE id = $7`, u.Name, u.Username, u.Email, u.AccessType, u.Active, s.ts(u.UpdatedAt), u.ID)
		if err != nil {
			if account.ErrorCode(mapErr(err)) == account.ECONFLICT {
				return account.Errorf(account.ECONFLICT, "Duplicate entry error. Check if email and username are unique")
			}
			return fmt.Errorf("update user: %w", mapErr(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return account.Errorf(account.ENOTFOUND, "User not found")
		}
		var admins int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE access_type = 2 AND active`).Scan(&admins); err != nil {
			return fmt.Errorf("count admins: %w", mapErr(err))
		}
		if admins == 0 {
			return account.Errorf(account.EFORBIDDEN, account.MsgLastAdmin)
		}
		if !u.Active {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, u.ID); err != nil {
				return fmt.Errorf("end sessions: %w", mapErr(err))
			}
		}
		return nil
	})
}
