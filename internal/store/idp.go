package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/idp"
)

var _ idp.Store = (*Store)(nil)

const idpColumns = `id, name, slug, provider_type, enabled, COALESCE(client_id, ''), COALESCE(client_secret, ''),
	COALESCE(issuer_url, ''), authorization_endpoint, token_endpoint, userinfo_endpoint, jwks_uri, scopes, icon,
	auto_create_users, sync_user_info, link_by_verified_email, user_mapping, token_endpoint_auth_method, created_at, updated_at`

func scanProvider(r rowScanner) (*idp.Provider, string, error) {
	p := &idp.Provider{}
	var secret string
	var mapping *string
	err := r.Scan(&p.ID, &p.Name, &p.Slug, &p.ProviderType, &p.Enabled, &p.ClientID, &secret, &p.IssuerURL,
		&p.AuthorizationEndpoint, &p.TokenEndpoint, &p.UserinfoEndpoint, &p.JWKSURI, &p.Scopes, &p.Icon,
		&p.AutoCreateUsers, &p.SyncUserInfo, &p.LinkByVerifiedEmail, &mapping, &p.TokenEndpointAuthMethod, scanTime(&p.CreatedAt), scanTime(&p.UpdatedAt))
	if err != nil {
		return nil, "", err
	}
	if mapping != nil && *mapping != "" {
		if err := json.Unmarshal([]byte(*mapping), &p.UserMapping); err != nil {
			return nil, "", fmt.Errorf("decode user_mapping of provider %d: %w", p.ID, err)
		}
	}
	p.HasClientSecret = secret != ""
	return p, secret, nil
}

func encodeMapping(m idp.UserMapping) (*string, error) {
	if m == nil {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode user_mapping: %w", err)
	}
	s := string(b)
	return &s, nil
}

func slugConflict(err error) error {
	if account.ErrorCode(err) == account.ECONFLICT {
		return account.Errorf(account.ECONFLICT, "Identity provider with this slug already exists")
	}
	return err
}

// ListIdentityProviders returns every provider ordered by name.
func (s *Store) ListIdentityProviders(ctx context.Context) ([]*idp.Provider, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+idpColumns+` FROM identity_providers ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("list identity providers: %w", mapErr(err))
	}
	defer rows.Close()
	var out []*idp.Provider
	for rows.Next() {
		p, _, err := scanProvider(rows)
		if err != nil {
			return nil, fmt.Errorf("scan identity provider: %w", err)
		}
		out = append(out, p)
	}
	return out, mapErr(rows.Err())
}

// FindIdentityProvider returns a provider and its sealed client secret.
func (s *Store) FindIdentityProvider(ctx context.Context, id int64) (*idp.Provider, string, error) {
	p, secret, err := scanProvider(s.db.QueryRowContext(ctx, `SELECT `+idpColumns+` FROM identity_providers WHERE id = $1`, id))
	if err != nil {
		return nil, "", notFound(err, fmt.Sprintf("Identity provider with id %d not found", id))
	}
	return p, secret, nil
}

// FindIdentityProviderBySlug returns a provider by slug and its sealed client secret.
func (s *Store) FindIdentityProviderBySlug(ctx context.Context, slug string) (*idp.Provider, string, error) {
	p, secret, err := scanProvider(s.db.QueryRowContext(ctx, `SELECT `+idpColumns+` FROM identity_providers WHERE slug = $1`, slug))
	if err != nil {
		return nil, "", notFound(err, "Identity provider not found or disabled")
	}
	return p, secret, nil
}

// CreateIdentityProvider inserts p and its sealed secret in one transaction.
func (s *Store) CreateIdentityProvider(ctx context.Context, p *idp.Provider, seal func(id int64) string) error {
	mapping, err := encodeMapping(p.UserMapping)
	if err != nil {
		return err
	}
	return s.withTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO identity_providers (name, slug, provider_type, enabled, client_id,
			issuer_url, authorization_endpoint, token_endpoint, userinfo_endpoint, jwks_uri, scopes, icon,
			auto_create_users, sync_user_info, link_by_verified_email, user_mapping, token_endpoint_auth_method,
			created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING id`,
			p.Name, p.Slug, p.ProviderType, p.Enabled, p.ClientID, p.IssuerURL, p.AuthorizationEndpoint,
			p.TokenEndpoint, p.UserinfoEndpoint, p.JWKSURI, p.Scopes, p.Icon, p.AutoCreateUsers, p.SyncUserInfo,
			p.LinkByVerifiedEmail, mapping, p.TokenEndpointAuthMethod, s.ts(p.CreatedAt), s.ts(p.UpdatedAt)).Scan(&p.ID)
		if err != nil {
			return slugConflict(mapErr(fmt.Errorf("insert identity provider: %w", err)))
		}
		if seal != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE identity_providers SET client_secret = $1 WHERE id = $2`, seal(p.ID), p.ID); err != nil {
				return fmt.Errorf("store client secret: %w", mapErr(err))
			}
			p.HasClientSecret = true
		}
		return nil
	})
}

// UpdateIdentityProvider replaces p's fields if updated_at is still prev: the
// service merges a partial update into the row it read, so a save that came
// between must not be overwritten unseen. A nil seal keeps the stored secret.
func (s *Store) UpdateIdentityProvider(ctx context.Context, p *idp.Provider, prev time.Time, seal func(id int64) string) error {
	mapping, err := encodeMapping(p.UserMapping)
	if err != nil {
		return err
	}
	var secret *string
	if seal != nil {
		v := seal(p.ID)
		secret = &v
	}
	res, err := s.db.ExecContext(ctx, `UPDATE identity_providers SET name = $1, slug = $2, provider_type = $3,
		enabled = $4, client_id = $5, issuer_url = $6, authorization_endpoint = $7, token_endpoint = $8,
		userinfo_endpoint = $9, jwks_uri = $10, scopes = $11, icon = $12, auto_create_users = $13,
		sync_user_info = $14, link_by_verified_email = $15, user_mapping = $16, updated_at = $17,
		client_secret = COALESCE($18, client_secret), token_endpoint_auth_method = $19
		WHERE id = $20 AND updated_at = $21`,
		p.Name, p.Slug, p.ProviderType, p.Enabled, p.ClientID, p.IssuerURL, p.AuthorizationEndpoint,
		p.TokenEndpoint, p.UserinfoEndpoint, p.JWKSURI, p.Scopes, p.Icon, p.AutoCreateUsers, p.SyncUserInfo,
		p.LinkByVerifiedEmail, mapping, s.ts(p.UpdatedAt), secret, p.TokenEndpointAuthMethod, p.ID, s.ts(prev))
	if err != nil {
		return slugConflict(mapErr(fmt.Errorf("update identity provider: %w", err)))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, _, err := s.FindIdentityProvider(ctx, p.ID); err != nil {
			return err
		}
		return account.Errorf(account.ECONFLICT, "The identity provider was changed meanwhile; reload it and try again")
	}
	return nil
}

// SessionActive reports whether a session of userID is still signed in.
func (s *Store) SessionActive(ctx context.Context, id string, userID int64, now time.Time) (bool, error) {
	return s.exists(ctx, `SELECT EXISTS (SELECT 1 FROM sessions WHERE id = $1 AND user_id = $2 AND expires_at > $3)`, id, userID, s.ts(now))
}

// CountIdentityLinks counts the accounts linked to a provider.
func (s *Store) CountIdentityLinks(ctx context.Context, idpID int64) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users_identity_providers WHERE idp_id = $1`, idpID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count identity links: %w", mapErr(err))
	}
	return n, nil
}

// DeleteIdentityProvider deletes a provider no account is linked to. The link
// check is part of the DELETE so a link created meanwhile cannot be cascaded away.
func (s *Store) DeleteIdentityProvider(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM identity_providers WHERE id = $1
		AND NOT EXISTS (SELECT 1 FROM users_identity_providers WHERE idp_id = $1)`, id)
	if err != nil {
		return fmt.Errorf("delete identity provider: %w", mapErr(err))
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return nil
	}
	if _, _, err := s.FindIdentityProvider(ctx, id); err != nil {
		return err
	}
	return account.Errorf(account.ECONFLICT, "Cannot delete identity provider: users are linked to it")
}

const stateColumns = `state_hash, binding_hash, idp_id, mode, user_id, session_id, nonce, code_verifier, redirect, created_at, expires_at`

// CreateOIDCState stores a pending authorization request.
func (s *Store) CreateOIDCState(ctx context.Context, st *idp.State) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO oidc_states (`+stateColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		st.StateHash, st.BindingHash, st.IdPID, st.Mode, st.UserID, st.SessionID, st.Nonce, st.CodeVerifier,
		st.Redirect, s.ts(st.CreatedAt), s.ts(st.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store oidc state: %w", mapErr(err))
	}
	return nil
}

// ConsumeOIDCState deletes and returns a state in one statement: of two
// concurrent callbacks with the same state only one gets the row.
func (s *Store) ConsumeOIDCState(ctx context.Context, stateHash string) (*idp.State, error) {
	st := &idp.State{}
	err := s.db.QueryRowContext(ctx, `DELETE FROM oidc_states WHERE state_hash = $1 RETURNING `+stateColumns, stateHash).Scan(
		&st.StateHash, &st.BindingHash, &st.IdPID, &st.Mode, &st.UserID, &st.SessionID, &st.Nonce, &st.CodeVerifier,
		&st.Redirect, scanTime(&st.CreatedAt), scanTime(&st.ExpiresAt))
	if err != nil {
		return nil, notFound(err, "Invalid or expired state")
	}
	return st, nil
}

// DeleteExpiredOIDCStates drops states that expired before now.
func (s *Store) DeleteExpiredOIDCStates(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM oidc_states WHERE expires_at < $1`, s.ts(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired oidc states: %w", mapErr(err))
	}
	n, _ := res.RowsAffected()
	return n, nil
}

const linkColumns = `l.id, l.user_id, l.idp_id, l.idp_subject, l.linked_at, l.last_login, l.idp_access_token_expires_at,
	l.idp_refresh_token_updated_at, p.name, p.slug, p.icon, p.provider_type`

const linkFrom = ` FROM users_identity_providers l JOIN identity_providers p ON p.id = l.idp_id `

func scanLink(r rowScanner) (*idp.Link, error) {
	l := &idp.Link{}
	err := r.Scan(&l.ID, &l.UserID, &l.IdPID, &l.IdPSubject, scanTime(&l.LinkedAt), nullTime{&l.LastLogin},
		nullTime{&l.IdPAccessTokenExpiresAt}, nullTime{&l.IdPRefreshTokenUpdatedAt}, &l.IdPName, &l.IdPSlug,
		&l.IdPIcon, &l.IdPProviderType)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// FindIdentityLink finds the link of (idpID, subject).
func (s *Store) FindIdentityLink(ctx context.Context, idpID int64, subject string) (*idp.Link, error) {
	l, err := scanLink(s.db.QueryRowContext(ctx, `SELECT `+linkColumns+linkFrom+`WHERE l.idp_id = $1 AND l.idp_subject = $2`, idpID, subject))
	if err != nil {
		return nil, notFound(err, "Identity link not found")
	}
	return l, nil
}

// FindUserIdentityLink finds userID's link to idpID.
func (s *Store) FindUserIdentityLink(ctx context.Context, userID, idpID int64) (*idp.Link, error) {
	l, err := scanLink(s.db.QueryRowContext(ctx, `SELECT `+linkColumns+linkFrom+`WHERE l.user_id = $1 AND l.idp_id = $2`, userID, idpID))
	if err != nil {
		return nil, notFound(err, "Identity link not found")
	}
	return l, nil
}

// CreateIdentityLink inserts l and sets its ID.
func (s *Store) CreateIdentityLink(ctx context.Context, l *idp.Link) error {
	return s.withMail(ctx, func(q querier) (bool, error) {
		err := q.QueryRowContext(ctx, `INSERT INTO users_identity_providers (user_id, idp_id, idp_subject, linked_at, last_login)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			l.UserID, l.IdPID, l.IdPSubject, s.ts(l.LinkedAt), s.tsPtr(l.LastLogin)).Scan(&l.ID)
		if err != nil {
			return false, fmt.Errorf("insert identity link: %w", mapErr(err))
		}
		return true, nil
	})
}

// TouchIdentityLink sets a link's last_login.
func (s *Store) TouchIdentityLink(ctx context.Context, id int64, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE users_identity_providers SET last_login = $1 WHERE id = $2`, s.ts(at), id); err != nil {
		return fmt.Errorf("touch identity link: %w", mapErr(err))
	}
	return nil
}

// ListIdentityLinks returns userID's links with their provider's fields.
func (s *Store) ListIdentityLinks(ctx context.Context, userID int64) ([]*idp.Link, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+linkColumns+linkFrom+`WHERE l.user_id = $1 ORDER BY l.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list identity links: %w", mapErr(err))
	}
	defer rows.Close()
	out := []*idp.Link{}
	for rows.Next() {
		l, err := scanLink(rows)
		if err != nil {
			return nil, fmt.Errorf("scan identity link: %w", err)
		}
		out = append(out, l)
	}
	return out, mapErr(rows.Err())
}

// DeleteIdentityLink removes a link unless it is the user's last way to sign in.
func (s *Store) DeleteIdentityLink(ctx context.Context, userID, idpID int64, lastMethodMsg string) error {
	return s.withTx(ctx, func(tx *sql.Tx) error {
		// Only links to enabled providers count: a disabled one signs nobody in.
		// A no-op write locks the user row in PostgreSQL (SQLite's IMMEDIATE
		// transactions already serialise), so two concurrent unlinks cannot each
		// see the other's link as the remaining method and remove both.
		if _, err := tx.ExecContext(ctx, `UPDATE users SET id = id WHERE id = $1`, userID); err != nil {
			return fmt.Errorf("lock user: %w", mapErr(err))
		}
		var hasPassword bool
		var others int
		err := tx.QueryRowContext(ctx, `SELECT COALESCE(u.password, '') <> '',
			(SELECT COUNT(*) FROM users_identity_providers l JOIN identity_providers p ON p.id = l.idp_id
				WHERE l.user_id = u.id AND l.idp_id <> $2 AND p.enabled) +
			(SELECT COUNT(*) FROM passkeys k WHERE k.user_id = u.id)
			FROM users u WHERE u.id = $1`, userID, idpID).Scan(&hasPassword, &others)
		if err != nil {
			return notFound(err, "User not found")
		}
		if !hasPassword && others == 0 {
			return account.Errorf(account.EINVALID, "%s", lastMethodMsg)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM users_identity_providers WHERE user_id = $1 AND idp_id = $2`, userID, idpID)
		if err != nil {
			return fmt.Errorf("delete identity link: %w", mapErr(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return account.Errorf(account.ENOTFOUND, "Identity link not found")
		}
		return nil
	})
}

// FindUserByEmail returns the user with the lower-cased email, or ENOTFOUND.
func (s *Store) FindUserByEmail(ctx context.Context, email string) (*account.User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = $1`, account.NormalizeEmail(email)))
	if err != nil {
		return nil, notFound(err, "User not found")
	}
	return u, nil
}

// SyncUserFromIdP copies name and email from an identity provider's claims.
func (s *Store) SyncUserFromIdP(ctx context.Context, userID int64, name, email string, verified bool, at time.Time) error {
	var emailArg *string
	if email != "" {
		e := account.NormalizeEmail(email)
		emailArg = &e
	}
	_, err := s.db.ExecContext(ctx, `UPDATE users SET name = $1, email = COALESCE($2, email),
		email_verified = (email_verified OR $3), updated_at = $4 WHERE id = $5`,
		name, emailArg, verified, s.ts(at), userID)
	if err != nil {
		return fmt.Errorf("sync user from identity provider: %w", mapErr(err))
	}
	return nil
}

// DeleteUserWithoutCredentials deletes a user with no password and no link.
func (s *Store) DeleteUserWithoutCredentials(ctx context.Context, userID int64) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM users WHERE id = $1 AND COALESCE(password, '') = ''
		AND NOT EXISTS (SELECT 1 FROM users_identity_providers WHERE user_id = $1)`, userID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("delete user without credentials: %w", mapErr(err))
	}
	return nil
}
