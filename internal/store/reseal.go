package store

import (
	"context"
	"database/sql"
	"fmt"
)

// SealedColumn names a column holding keyring ciphertexts and how each row's
// binding is derived from its key column. Table, Key and Column are code
// constants, never input.
type SealedColumn struct {
	Table, Key, Column string
	Binding            func(key string) string
}

// Reseal rewrites every ciphertext of cols through reseal (typically
// Keyring.Reseal: open with any known key, seal with the primary one), one
// transaction per table, and returns how many values changed. A row changed
// meanwhile by someone else is left alone (its new value is already sealed by
// the primary key).
func (s *Store) Reseal(ctx context.Context, cols []SealedColumn, reseal func(ciphertext, binding string) (string, bool, error)) (int, error) {
	total := 0
	for _, c := range cols {
		err := s.withTx(ctx, func(tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, `SELECT `+c.Key+`, `+c.Column+` FROM `+c.Table+` WHERE `+c.Column+` IS NOT NULL AND `+c.Column+` <> ''`)
			if err != nil {
				return fmt.Errorf("read %s.%s: %w", c.Table, c.Column, mapErr(err))
			}
			type item struct{ key, ct string }
			var items []item
			for rows.Next() {
				var it item // database/sql turns integer keys into their decimal text
				if err := rows.Scan(&it.key, &it.ct); err != nil {
					rows.Close()
					return err
				}
				items = append(items, it)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, it := range items {
				out, changed, err := reseal(it.ct, c.Binding(it.key))
				if err != nil {
					return fmt.Errorf("%s.%s of %s %s: %w", c.Table, c.Column, c.Key, it.key, err)
				}
				if !changed {
					continue
				}
				if _, err := tx.ExecContext(ctx, `UPDATE `+c.Table+` SET `+c.Column+` = $1 WHERE `+c.Key+` = $2 AND `+c.Column+` = $3`,
					out, it.key, it.ct); err != nil {
					return fmt.Errorf("rewrite %s.%s: %w", c.Table, c.Column, mapErr(err))
				}
				total++
			}
			return nil
		})
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
