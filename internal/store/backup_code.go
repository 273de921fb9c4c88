package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/trailpass/trailpass/internal/mfa"
)

// ListUnusedBackupCodes returns the hashes of the user's unused backup codes.
func (s *Store) ListUnusedBackupCodes(ctx context.Context, userID int64) ([]mfa.BackupCode, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, code_hash FROM backup_codes
		WHERE user_id = $1 AND used_at IS NULL ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list backup codes: %w", mapErr(err))
	}
	defer rows.Close()
	var out []mfa.BackupCode
	for rows.Next() {
		var c mfa.BackupCode
		if err := rows.Scan(&c.ID, &c.Hash); err != nil {
			return nil, fmt.Errorf("scan backup code: %w", err)
		}
		out = append(out, c)
	}
	return out, mapErr(rows.Err())
}

// UseBackupCode marks backup code id of the user as used, atomically: of several
// concurrent requests with the same code exactly one gets true.
func (s *Store) UseBackupCode(ctx context.Context, userID, id int64, now time.Time) (bool, error) {
	var used bool
	err := s.withMail(ctx, func(q querier) (bool, error) {
		res, err := q.ExecContext(ctx, `UPDATE backup_codes SET used_at = $1
		WHERE id = $2 AND user_id = $3 AND used_at IS NULL`, s.ts(now), id, userID)
		if err != nil {
			return false, fmt.Errorf("use backup code: %w", mapErr(err))
		}
		n, err := res.RowsAffected()
		if err != nil {
			return false, fmt.Errorf("use backup code: %w", err)
		}
		used = n == 1
		return used, nil
	})
	return used, err
}

// ReplaceBackupCodes swaps all of the user's backup codes for codeHashes in one
// transaction.
func (s *Store) ReplaceBackupCodes(ctx context.Context, userID int64, codeHashes []string, now time.Time) error {
	return s.withTx(ctx, func(tx *sql.Tx) error {
		return s.replaceBackupCodes(ctx, tx, userID, codeHashes, now)
	})
}

func (s *Store) replaceBackupCodes(ctx context.Context, tx *sql.Tx, userID int64, codeHashes []string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM backup_codes WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("delete backup codes: %w", mapErr(err))
	}
	for _, h := range codeHashes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO backup_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)`,
			userID, h, s.ts(now)); err != nil {
			return fmt.Errorf("insert backup code: %w", mapErr(err))
		}
	}
	return nil
}

// BackupCodeStats counts the user's backup codes and tells when they were made.
func (s *Store) BackupCodeStats(ctx context.Context, userID int64) (mfa.BackupCodeStats, error) {
	var st mfa.BackupCodeStats
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(*) - COUNT(used_at), MIN(created_at)
		FROM backup_codes WHERE user_id = $1`, userID).Scan(&st.Total, &st.Remaining, nullTime{&st.CreatedAt})
	if err != nil {
		return st, fmt.Errorf("count backup codes: %w", mapErr(err))
	}
	return st, nil
}

// CountBackupCodesNotUnder counts the unused backup codes kept as keyed hashes
// (prefix "hs1.") that do not start with prefix, the current key's, and the
// users they belong to: codes that stop working when an older key is dropped.
func (s *Store) CountBackupCodesNotUnder(ctx context.Context, prefix string) (codes, users int, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT user_id) FROM backup_codes
		WHERE used_at IS NULL AND code_hash LIKE 'hs1.%' AND code_hash NOT LIKE $1`, prefix+"%").Scan(&codes, &users)
	if err != nil {
		return 0, 0, fmt.Errorf("count backup codes: %w", mapErr(err))
	}
	return codes, users, nil
}
