package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Meta returns the server setting name; ok is false when it is unset.
func (s *Store) Meta(ctx context.Context, name string) (value string, ok bool, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT value FROM server_meta WHERE name = $1`, name).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	} else if err != nil {
		return "", false, fmt.Errorf("read server setting %s: %w", name, mapErr(err))
	}
	return value, true, nil
}

// InitMeta sets the server setting name unless it is set already, and returns
// the value it holds afterwards: of two instances starting at once, the first
// write wins and both read it.
func (s *Store) InitMeta(ctx context.Context, name, value string, now time.Time) (string, error) {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO server_meta (name, value, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO NOTHING`, name, value, s.ts(now)); err != nil {
		return "", fmt.Errorf("write server setting %s: %w", name, mapErr(err))
	}
	v, _, err := s.Meta(ctx, name)
	return v, err
}

// SetMeta sets the server setting name.
func (s *Store) SetMeta(ctx context.Context, name, value string, now time.Time) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO server_meta (name, value, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		name, value, s.ts(now)); err != nil {
		return fmt.Errorf("write server setting %s: %w", name, mapErr(err))
	}
	return nil
}
