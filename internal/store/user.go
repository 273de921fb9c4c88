package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/trailpass/trailpass/internal/account"
)

var _ account.Store = (*Store)(nil)

var userColumnList = []string{"id", "name", "username", "email", "password", "city", "birthdate",
	"preferred_language", "gender", "units", "height", "max_heart_rate", "access_type", "photo_path", "active",
	"first_day_of_week", "currency", "email_verified", "pending_admin_approval", "created_at", "updated_at", "credential_version"}

// userColumns selects a user in the order userDest scans it; userColumnsOf
// qualifies them for joins.
var userColumns = userColumnsOf("")

var findUserByIDQuery = `SELECT ` + userColumns + ` FROM users WHERE id = $1`

func userColumnsOf(alias string) string {
	if alias == "" {
		return strings.Join(userColumnList, ", ")
	}
	return alias + "." + strings.Join(userColumnList, ", "+alias+".")
}

type rowScanner interface{ Scan(dest ...any) error }

// userDest is where userColumns scan into.
func userDest(u *account.User) []any {
	return []any{&u.ID, &u.Name, &u.Username, &u.Email, &u.PasswordHash, &u.City, nullDate{&u.Birthdate},
		&u.PreferredLanguage, &u.Gender, &u.Units, &u.Height, &u.MaxHeartRate, &u.AccessType, &u.PhotoPath,
		&u.Active, &u.FirstDayOfWeek, &u.Currency, &u.EmailVerified, &u.PendingAdminApproval,
		scanTime(&u.CreatedAt), scanTime(&u.UpdatedAt), &u.CredentialVersion}
}

func scanUser(r rowScanner) (*account.User, error) {
	u := &account.User{}
	if err := r.Scan(userDest(u)...); err != nil {
		return nil, err
	}
	return u, nil
}

// queryUsers runs a query selecting userColumns and scans every row.
func (s *Store) queryUsers(ctx context.Context, q string, args ...any) ([]*account.User, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", mapErr(err))
	}
	defer rows.Close()
	out := []*account.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("scan user: %w", err)
		}
		out = append(out, u)
	}
	return out, mapErr(rows.Err())
}

// CreateUser inserts u and its one-per-user child rows in one transaction.
func (s *Store) CreateUser(ctx context.Context, u *account.User) error {
	return s.withTx(ctx, func(tx *sql.Tx) error { return s.insertUser(ctx, tx, u) })
}

// insertUser inserts u and its child rows in tx.
func (s *Store) insertUser(ctx context.Context, tx *sql.Tx, u *account.User) error {
	err := tx.QueryRowContext(ctx, `INSERT INTO users (name, username, email, password, city, birthdate,
		preferred_language, gender, units, height, max_heart_rate, access_type, photo_path, active,
		first_day_of_week, currency, email_verified, pending_admin_approval, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
		RETURNING id`,
		u.Name, u.Username, u.Email, u.PasswordHash, u.City, u.Birthdate, u.PreferredLanguage, u.Gender,
		u.Units, u.Height, u.MaxHeartRate, u.AccessType, u.PhotoPath, u.Active, u.FirstDayOfWeek,
		u.Currency, u.EmailVerified, u.PendingAdminApproval, s.ts(u.CreatedAt), s.ts(u.UpdatedAt)).Scan(&u.ID)
	if err != nil {
		if account.ErrorCode(mapErr(err)) == account.ECONFLICT {
			return account.Errorf(account.ECONFLICT, "Duplicate entry error. Check if email and username are unique")
		}
		return fmt.Errorf("insert user: %w", mapErr(err))
	}
	for _, table := range []string{"users_privacy_settings", "users_integrations", "health_targets", "users_default_gear"} {
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (user_id) VALUES ($1)`, u.ID); err != nil {
			return fmt.Errorf("insert %s: %w", table, mapErr(err))
		}
	}
	return nil
}

// FindUserByID returns the user with id, or ENOTFOUND.
func (s *Store) FindUserByID(ctx context.Context, id int64) (*account.User, error) {
	u, err := scanUser(s.readRow(ctx, findUserByIDQuery, id))
	if err != nil {
		return nil, notFound(err, "User not found")
	}
	return u, nil
}

// FindUserByUsername returns the user with the lower-cased username, or ENOTFOUND.
func (s *Store) FindUserByUsername(ctx context.Context, username string) (*account.User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE username = $1`,
		account.NormalizeUsername(username)))
	if err != nil {
		return nil, notFound(err, "User not found")
	}
	return u, nil
}

// ListUsers returns every user ordered by id.
func (s *Store) ListUsers(ctx context.Context) ([]*account.User, error) {
	return s.queryUsers(ctx, `SELECT `+userColumns+` FROM users ORDER BY id`)
}

// CountUsers returns the number of users.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", mapErr(err))
	}
	return n, nil
}

// SetPasswordHash replaces a user's password hash, through the one password
// write (setPassword), so it bumps the credential version too.
func (s *Store) SetPasswordHash(ctx context.Context, id int64, hash string) error {
	res, err := s.db.ExecContext(ctx, setPassword, hash, id)
	if err != nil {
		return fmt.Errorf("set password: %w", mapErr(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return account.Errorf(account.ENOTFOUND, "User not found")
	}
	return nil
}

// setPassword is the one statement that writes a password. It bumps the
// credential version, so every sign-in that checked the previous password
// (a pending MFA ticket, a login racing this write) can no longer create a
// session. Every password write (profile change, admin or CLI reset, a future
// reset by email) goes through it; only the same-password rehash does not.
const setPassword = `UPDATE users SET password = $1, credential_version = credential_version + 1 WHERE id = $2`
