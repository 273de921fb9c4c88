package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/passkey"
)

var _ passkey.Store = (*Store)(nil)

// EnsureUserHandle returns the user's WebAuthn handle, storing candidate first
// if there is none; of two concurrent first registrations one handle wins.
func (s *Store) EnsureUserHandle(ctx context.Context, userID int64, candidate []byte) ([]byte, error) {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO webauthn_users (user_id, handle) VALUES ($1, $2)
		ON CONFLICT (user_id) DO NOTHING`, userID, candidate); err != nil {
		return nil, fmt.Errorf("store user handle: %w", mapErr(err))
	}
	return s.UserHandle(ctx, userID)
}

// UserHandle returns the user's WebAuthn handle, or ENOTFOUND.
func (s *Store) UserHandle(ctx context.Context, userID int64) ([]byte, error) {
	var h []byte
	if err := s.db.QueryRowContext(ctx, `SELECT handle FROM webauthn_users WHERE user_id = $1`, userID).Scan(&h); err != nil {
		return nil, notFound(err, "No passkey user handle")
	}
	return h, nil
}

const passkeyColumns = `id, user_id, credential_id, public_key, attestation_type, aaguid, sign_count, transports,
	user_verified, backup_eligible, backup_state, name, created_at, last_used_at`

func scanPasskey(r rowScanner) (*passkey.Credential, error) {
	c := &passkey.Credential{}
	var count int64
	var transports string
	if err := r.Scan(&c.ID, &c.UserID, &c.CredentialID, &c.PublicKey, &c.AttestationType, &c.AAGUID, &count, &transports,
		&c.UserVerified, &c.BackupEligible, &c.BackupState, &c.Name, scanTime(&c.CreatedAt), nullTime{&c.LastUsedAt}); err != nil {
		return nil, err
	}
	c.SignCount = uint32(count)
	if transports != "" {
		c.Transports = strings.Split(transports, ",")
	}
	return c, nil
}

// ListPasskeys returns the user's passkeys, oldest first.
func (s *Store) ListPasskeys(ctx context.Context, userID int64) ([]*passkey.Credential, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+passkeyColumns+` FROM passkeys WHERE user_id = $1 ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list passkeys: %w", mapErr(err))
	}
	defer rows.Close()
	var out []*passkey.Credential
	for rows.Next() {
		c, err := scanPasskey(rows)
		if err != nil {
			return nil, fmt.Errorf("scan passkey: %w", err)
		}
		out = append(out, c)
	}
	return out, mapErr(rows.Err())
}

// FindPasskeyByCredentialID returns the passkey with that credential id, or ENOTFOUND.
func (s *Store) FindPasskeyByCredentialID(ctx context.Context, credentialID []byte) (*passkey.Credential, error) {
	c, err := scanPasskey(s.db.QueryRowContext(ctx, `SELECT `+passkeyColumns+` FROM passkeys WHERE credential_id = $1`, credentialID))
	if err != nil {
		return nil, notFound(err, "Passkey not found")
	}
	return c, nil
}

// CreatePasskey stores a new passkey and sets c.ID; ECONFLICT if its
// credential id is already registered.
func (s *Store) CreatePasskey(ctx context.Context, c *passkey.Credential) error {
	err := s.withMail(ctx, func(q querier) (bool, error) {
		return true, q.QueryRowContext(ctx, `INSERT INTO passkeys (user_id, credential_id, public_key, attestation_type, aaguid,
		sign_count, transports, user_verified, backup_eligible, backup_state, name, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
			c.UserID, c.CredentialID, c.PublicKey, c.AttestationType, c.AAGUID, int64(c.SignCount), strings.Join(c.Transports, ","),
			c.UserVerified, c.BackupEligible, c.BackupState, c.Name, s.ts(c.CreatedAt)).Scan(&c.ID)
	})
	if err != nil {
		return fmt.Errorf("insert passkey: %w", mapErr(err))
	}
	return nil
}

// RenamePasskey renames userID's passkey id; ENOTFOUND unless it is theirs.
func (s *Store) RenamePasskey(ctx context.Context, userID, id int64, name string) error {
	ok, err := s.affected(s.db.ExecContext(ctx, `UPDATE passkeys SET name = $1 WHERE id = $2 AND user_id = $3`, name, id, userID))
	if err != nil {
		return fmt.Errorf("rename passkey: %w", mapErr(err))
	}
	if !ok {
		return account.Errorf(account.ENOTFOUND, "Passkey %d not found", id)
	}
	return nil
}

// DeletePasskey removes userID's passkey id unless it is the account's last
// way to sign in; see passkey.Store.
func (s *Store) DeletePasskey(ctx context.Context, userID, id int64, lastMethodMsg string) error {
	return s.withTx(ctx, func(tx *sql.Tx) error {
		// Lock the user row as DeleteIdentityLink does, so a concurrent unlink
		// and passkey removal cannot each count the other as what remains.
		if _, err := tx.ExecContext(ctx, `UPDATE users SET id = id WHERE id = $1`, userID); err != nil {
			return fmt.Errorf("lock user: %w", mapErr(err))
		}
		var owned, hasPassword bool
		var others int
		err := tx.QueryRowContext(ctx, `SELECT
			EXISTS (SELECT 1 FROM passkeys WHERE id = $2 AND user_id = u.id),
			COALESCE(u.password, '') <> '',
			(SELECT COUNT(*) FROM users_identity_providers l JOIN identity_providers p ON p.id = l.idp_id
				WHERE l.user_id = u.id AND p.enabled) +
			(SELECT COUNT(*) FROM passkeys k WHERE k.user_id = u.id AND k.id <> $2)
			FROM users u WHERE u.id = $1`, userID, id).Scan(&owned, &hasPassword, &others)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !owned) {
			return account.Errorf(account.ENOTFOUND, "Passkey %d not found", id)
		} else if err != nil {
			return fmt.Errorf("check sign-in methods: %w", mapErr(err))
		}
		if !hasPassword && others == 0 {
			return account.Errorf(account.EINVALID, "%s", lastMethodMsg)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM passkeys WHERE id = $1 AND user_id = $2`, id, userID); err != nil {
			return fmt.Errorf("delete passkey: %w", mapErr(err))
		}
		return nil
	})
}

// UsePasskey advances a passkey's counter and last use, only if the counter
// went forward (or neither side counts); see passkey.Store.
func (s *Store) UsePasskey(ctx context.Context, id int64, signCount uint32, backupState bool, now time.Time) (bool, error) {
	n := int64(signCount)
	ok, err := s.affected(s.db.ExecContext(ctx, `UPDATE passkeys SET sign_count = $1, backup_state = $2, last_used_at = $3
		WHERE id = $4 AND (sign_count < $1 OR ($1 = 0 AND sign_count = 0))`, n, backupState, s.ts(now), id))
	if err != nil {
		return false, fmt.Errorf("record passkey use: %w", mapErr(err))
	}
	return ok, nil
}

// DeleteAllPasskeys removes the user's passkeys and returns how many.
func (s *Store) DeleteAllPasskeys(ctx context.Context, userID int64) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM passkeys WHERE user_id = $1`, userID)
	if err != nil {
		return 0, fmt.Errorf("delete passkeys: %w", mapErr(err))
	}
	return res.RowsAffected()
}

// CountPasskeys returns how many passkeys the user has.
func (s *Store) CountPasskeys(ctx context.Context, userID int64) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM passkeys WHERE user_id = $1`, userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count passkeys: %w", mapErr(err))
	}
	return n, nil
}

// PutChallenge stores a pending ceremony.
func (s *Store) PutChallenge(ctx context.Context, c *passkey.Challenge) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO webauthn_challenges (challenge_hash, purpose, user_id, binding, session_data,
		created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		c.Hash, c.Purpose, c.UserID, c.Binding, string(c.Data), s.ts(c.CreatedAt), s.ts(c.ExpiresAt))
	if err != nil {
		return fmt.Errorf("insert webauthn challenge: %w", mapErr(err))
	}
	return nil
}

// TakeChallenge deletes and returns a pending ceremony in one statement, so it
// is used at most once whichever instance finishes it.
func (s *Store) TakeChallenge(ctx context.Context, hash, purpose, binding string, now time.Time) (*passkey.Challenge, error) {
	c := &passkey.Challenge{}
	var data string
	err := s.db.QueryRowContext(ctx, `DELETE FROM webauthn_challenges
		WHERE challenge_hash = $1 AND purpose = $2 AND binding = $3 AND expires_at > $4
		RETURNING challenge_hash, purpose, user_id, binding, session_data, created_at, expires_at`,
		hash, purpose, binding, s.ts(now)).Scan(&c.Hash, &c.Purpose, &c.UserID, &c.Binding, &data, scanTime(&c.CreatedAt), scanTime(&c.ExpiresAt))
	if err != nil {
		return nil, notFound(err, "No pending passkey ceremony")
	}
	c.Data = []byte(data)
	return c, nil
}
