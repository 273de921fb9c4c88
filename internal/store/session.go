package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/auth"
	"github.com/trailpass/trailpass/internal/profile"
)

var _ auth.Store = (*Store)(nil)

const sessionColumns = `s.id, s.user_id, s.family_id, s.auth_method, s.ip_address, s.device_type, s.operating_system,
	s.operating_system_version, s.browser, s.browser_version, s.created_at, s.authenticated_at, s.last_active_at,
	s.expires_at, s.absolute_expires_at`

func scanSession(r rowScanner, extra ...any) (*auth.Session, error) {
	s := &auth.Session{}
	dest := []any{&s.ID, &s.UserID, &s.FamilyID, &s.AuthMethod, &s.IPAddress, &s.DeviceType, &s.OperatingSystem,
		&s.OperatingSystemVersion, &s.Browser, &s.BrowserVersion, scanTime(&s.CreatedAt), scanTime(&s.AuthenticatedAt),
		scanTime(&s.LastActiveAt), scanTime(&s.ExpiresAt), scanTime(&s.AbsoluteExpiresAt)}
	if err := r.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) insertTokens(ctx context.Context, tx *sql.Tx, tokens []auth.TokenRow) error {
	for _, t := range tokens {
		if _, err := tx.ExecContext(ctx, `INSERT INTO session_tokens (token_hash, session_id, kind, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5)`, t.Hash, t.SessionID, t.Kind, s.ts(t.CreatedAt), s.ts(t.ExpiresAt)); err != nil {
			return fmt.Errorf("insert token: %w", mapErr(err))
		}
	}
	return nil
}

// CreateSession inserts a session with its first tokens, in one transaction
// that first checks g: the user must be active, not waiting for approval, and at the credential
// version the sign-in checked, and a claimed ticket must still be held (it is
// consumed). Otherwise nothing is written and the error is auth.ErrSignInStale.
func (s *Store) CreateSession(ctx context.Context, sess *auth.Session, tokens []auth.TokenRow, g auth.SessionGuard) error {
	return s.withTx(ctx, func(tx *sql.Tx) error {
		// FOR SHARE makes a concurrent password write (which updates this row)
		// wait for this sign-in, or this sign-in wait for it and then see the
		// new version; the write then deletes the sessions it finds, this one
		// included. SQLite's IMMEDIATE transactions serialise the two anyway.
		q := `SELECT credential_version, active, pending_admin_approval FROM users WHERE id = $1`
		if s.dialect == Postgres {
			q += ` FOR SHARE`
		}
		var version int64
		var active, pending bool
		if err := tx.QueryRowContext(ctx, q, sess.UserID).Scan(&version, &active, &pending); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return auth.ErrSignInStale
			}
			return fmt.Errorf("check credential version: %w", mapErr(err))
		}
		if !active || pending || version != g.CredentialVersion {
			return auth.ErrSignInStale
		}
		if g.TicketHash != "" {
			res, err := tx.ExecContext(ctx, `DELETE FROM login_tickets WHERE ticket_hash = $1 AND claim_token = $2`, g.TicketHash, g.ClaimToken)
			if err != nil {
				return fmt.Errorf("consume login ticket: %w", mapErr(err))
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return auth.ErrSignInStale
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, family_id, auth_method, ip_address, device_type,
			operating_system, operating_system_version, browser, browser_version, created_at, authenticated_at,
			last_active_at, expires_at, absolute_expires_at, user_agent)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
			sess.ID, sess.UserID, sess.FamilyID, sess.AuthMethod, sess.IPAddress, sess.DeviceType, sess.OperatingSystem,
			sess.OperatingSystemVersion, sess.Browser, sess.BrowserVersion, s.ts(sess.CreatedAt), s.ts(sess.AuthenticatedAt),
			s.ts(sess.LastActiveAt), s.ts(sess.ExpiresAt), s.ts(sess.AbsoluteExpiresAt), clipUserAgent(sess.UserAgent))
		if err != nil {
			return fmt.Errorf("insert session: %w", mapErr(err))
		}
		return s.insertTokens(ctx, tx, tokens)
	})
}

// FindSessionByToken returns the live session owning an unexpired token.
func (s *Store) FindSessionByToken(ctx context.Context, hash, kind string, now time.Time) (*auth.Session, *auth.TokenRow, error) {
	t := &auth.TokenRow{Hash: hash, Kind: kind}
	sess, err := scanSession(s.db.QueryRowContext(ctx, `SELECT `+sessionColumns+`, t.created_at, t.expires_at, t.superseded_at
		FROM session_tokens t JOIN sessions s ON s.id = t.session_id
		WHERE t.token_hash = $1 AND t.kind = $2 AND t.expires_at > $3 AND s.expires_at > $3`, hash, kind, s.ts(now)),
		scanTime(&t.CreatedAt), scanTime(&t.ExpiresAt), nullTime{&t.SupersededAt})
	if err != nil {
		return nil, nil, notFound(err, "Session not found")
	}
	t.SessionID = sess.ID
	return sess, t, nil
}

// findAccessSessionQuery is built once: it runs on every authenticated request.
var findAccessSessionQuery = `SELECT ` + sessionColumns + `, ` + userColumnsOf("u") + `
	FROM session_tokens t JOIN sessions s ON s.id = t.session_id JOIN users u ON u.id = s.user_id
	WHERE t.token_hash = $1 AND t.kind = 'access' AND t.expires_at > $2 AND s.expires_at > $2`

// findAccessProfileQuery is findAccessSessionQuery with GET /profile's
// privacy row and links. The privacy row is an inner join: a user without one
// falls back to findAccessSessionQuery (see FindAccessSessionProfile).
var findAccessProfileQuery = `SELECT ` + sessionColumns + `, ` + userColumnsOf("u") + `, p.id, p.user_id, ` + privacyColumns + `,
		COALESCE((SELECT strava_token IS NOT NULL FROM users_integrations WHERE user_id = u.id), FALSE),
		COALESCE((SELECT garminconnect_oauth1 IS NOT NULL FROM users_integrations WHERE user_id = u.id), FALSE),
		EXISTS (SELECT 1 FROM mfa_factors WHERE user_id = u.id),
		COALESCE((SELECT version FROM user_versions WHERE user_id = u.id), -1)
	FROM session_tokens t JOIN sessions s ON s.id = t.session_id JOIN users u ON u.id = s.user_id
		JOIN users_privacy_settings p ON p.user_id = u.id
	WHERE t.token_hash = $1 AND t.kind = 'access' AND t.expires_at > $2 AND s.expires_at > $2`

// FindAccessSessionProfile returns the live session owning an unexpired access
// token with the whole of GET /profile (user, privacy settings, links) in one
// query, and the user's data version (user_versions; -1 when unknown), read by
// the same statement. When there is no such row it asks
// findAccessSessionQuery, so an unknown token is still ENOTFOUND and a user
// without privacy settings gets a profile with a nil Privacy.
func (s *Store) FindAccessSessionProfile(ctx context.Context, hash string, now time.Time) (*auth.Session, *profile.Profile, int64, error) {
	prof := &profile.Profile{User: &account.User{}, Privacy: &profile.Privacy{}}
	var version int64
	dest := userDest(prof.User)
	dest = append(dest, &prof.Privacy.ID, &prof.Privacy.UserID)
	dest = append(dest, privacyFields(&prof.Privacy.PrivacyFlags)...)
	dest = append(dest, &prof.Links.StravaLinked, &prof.Links.GarminConnectLinked, &prof.Links.MFAEnabled, &version)
	sess, err := scanSession(s.readRow(ctx, findAccessProfileQuery, hash, s.ts(now)), dest...)
	if errors.Is(err, sql.ErrNoRows) {
		sess, u, err := s.FindAccessSession(ctx, hash, now)
		if err != nil {
			return nil, nil, -1, err
		}
		return sess, &profile.Profile{User: u}, -1, nil
	}
	if err != nil {
		return nil, nil, -1, mapErr(err)
	}
	return sess, prof, version, nil
}

// checkAccessQuery is findAccessSessionQuery with the user's data version in
// place of the user: three index lookups and one narrow row.
const checkAccessQuery = `SELECT ` + sessionColumns + `, v.version
	FROM session_tokens t JOIN sessions s ON s.id = t.session_id JOIN user_versions v ON v.user_id = s.user_id
	WHERE t.token_hash = $1 AND t.kind = 'access' AND t.expires_at > $2 AND s.expires_at > $2`

// CheckAccessSession returns the live session owning an unexpired access token
// and its user's data version, without the user. ENOTFOUND when there is none.
func (s *Store) CheckAccessSession(ctx context.Context, hash string, now time.Time) (*auth.Session, int64, error) {
	var version int64
	sess, err := scanSession(s.readRow(ctx, checkAccessQuery, hash, s.ts(now)), &version)
	if err != nil {
		return nil, -1, notFound(err, "Session not found")
	}
	return sess, version, nil
}

// FindAccessSession returns the live session owning an unexpired access token,
// with its user, in one query: this runs on every authenticated request.
// ENOTFOUND when there is none.
func (s *Store) FindAccessSession(ctx context.Context, hash string, now time.Time) (*auth.Session, *account.User, error) {
	u := &account.User{}
	sess, err := scanSession(s.readRow(ctx, findAccessSessionQuery, hash, s.ts(now)),
		userDest(u)...)
	if err != nil {
		return nil, nil, notFound(err, "Session not found")
	}
	return sess, u, nil
}

// RotateRefresh supersedes oldHash if it is still current, records its
// successor (the refresh token among tokens) and the seed it was derived from,
// and adds the new tokens.
func (s *Store) RotateRefresh(ctx context.Context, sessionID, oldHash, seed string, now, expiresAt time.Time, ip string, tokens []auth.TokenRow) (bool, error) {
	successor := ""
	for _, t := range tokens {
		if t.Kind == "refresh" {
			successor = t.Hash
		}
	}
	rotated := false
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE session_tokens SET superseded_at = $1, successor_hash = $2, successor_seed = $3
			WHERE token_hash = $4 AND session_id = $5 AND superseded_at IS NULL`, s.ts(now), successor, seed, oldHash, sessionID)
		if err != nil {
			return fmt.Errorf("supersede token: %w", mapErr(err))
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil
		}
		rotated = true
		if err := s.insertTokens(ctx, tx, tokens); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET expires_at = $1, last_active_at = $2, ip_address = $3 WHERE id = $4`,
			s.ts(expiresAt), s.ts(now), ip, sessionID); err != nil {
			return fmt.Errorf("slide session: %w", mapErr(err))
		}
		return nil
	})
	return rotated, err
}

// FindRefreshSuccessor returns the seed a superseded refresh token's successor
// was derived from, and that successor's row (its superseded_at tells whether it
// has been used). ENOTFOUND when oldHash has no live successor.
func (s *Store) FindRefreshSuccessor(ctx context.Context, oldHash string, now time.Time) (string, *auth.TokenRow, error) {
	var seed string
	t := &auth.TokenRow{Kind: "refresh"}
	err := s.db.QueryRowContext(ctx, `SELECT o.successor_seed, n.token_hash, n.session_id, n.created_at, n.expires_at, n.superseded_at
		FROM session_tokens o JOIN session_tokens n ON n.token_hash = o.successor_hash
		WHERE o.token_hash = $1 AND o.successor_seed IS NOT NULL AND n.expires_at > $2`, oldHash, s.ts(now)).
		Scan(&seed, &t.Hash, &t.SessionID, scanTime(&t.CreatedAt), scanTime(&t.ExpiresAt), nullTime{&t.SupersededAt})
	if err != nil {
		return "", nil, notFound(err, "No successor")
	}
	return seed, t, nil
}

// TouchSession sets last_active_at when it is older than olderThan.
func (s *Store) TouchSession(ctx context.Context, id string, now, olderThan time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE sessions SET last_active_at = $1 WHERE id = $2 AND last_active_at < $3`,
		s.ts(now), id, s.ts(olderThan))
	if err != nil {
		return fmt.Errorf("touch session: %w", mapErr(err))
	}
	return nil
}

// SetSessionAuthenticatedAt records a step-up on the session.
func (s *Store) SetSessionAuthenticatedAt(ctx context.Context, id string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE sessions SET authenticated_at = $1 WHERE id = $2`, s.ts(at), id)
	if err != nil {
		return fmt.Errorf("set authenticated_at: %w", mapErr(err))
	}
	return nil
}

// ListSessions returns a user's live sessions, newest first.
func (s *Store) ListSessions(ctx context.Context, userID int64, now time.Time) ([]*auth.Session, error) {
	// The raw agent is read here only, not on the hot session lookup.
	rows, err := s.readRows(ctx, `SELECT `+sessionColumns+`, COALESCE(s.user_agent, '') FROM sessions s
		WHERE s.user_id = $1 AND s.expires_at > $2 ORDER BY s.created_at DESC, s.id`, userID, s.ts(now))
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", mapErr(err))
	}
	defer rows.Close()
	out := []*auth.Session{}
	for rows.Next() {
		var ua string
		sess, err := scanSession(rows, &ua)
		if err != nil {
			return nil, fmt.Errorf("scan session: %w", err)
		}
		sess.UserAgent = ua
		out = append(out, sess)
	}
	return out, mapErr(rows.Err())
}

// DeleteSession deletes a session and, by cascade, its tokens.
func (s *Store) DeleteSession(ctx context.Context, id string) (bool, error) {
	return s.affected(s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id = $1`, id))
}

// DeleteUserSession deletes a session only if it belongs to userID.
func (s *Store) DeleteUserSession(ctx context.Context, userID int64, id string) (bool, error) {
	return s.affected(s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id = $1 AND user_id = $2`, id, userID))
}

// DeleteOtherSessions deletes every session of userID but keepID.
func (s *Store) DeleteOtherSessions(ctx context.Context, userID int64, keepID string) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1 AND id <> $2`, userID, keepID)
	if err != nil {
		return 0, fmt.Errorf("delete sessions: %w", mapErr(err))
	}
	return res.RowsAffected()
}

// affected reports whether a write changed any row.
func (s *Store) affected(res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, fmt.Errorf("delete: %w", mapErr(err))
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// CreateLoginTicket stores a pending MFA sign-in.
func (s *Store) CreateLoginTicket(ctx context.Context, t *auth.LoginTicket) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO login_tickets (ticket_hash, user_id, username, client_type, auth_method,
		credential_version, ip_address, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, t.Hash, t.UserID, t.Username, t.ClientType, t.AuthMethod,
		t.CredentialVersion, t.IPAddress, s.ts(t.CreatedAt), s.ts(t.ExpiresAt))
	if err != nil {
		return fmt.Errorf("insert login ticket: %w", mapErr(err))
	}
	return nil
}

const ticketReturning = ` RETURNING ticket_hash, user_id, username, client_type, auth_method, credential_version, ip_address, created_at, expires_at`

// unclaimed is the condition of a ticket nobody holds: never claimed, claim
// released, or a lease left by a verification that died.
const unclaimed = `expires_at > $1 AND (claimed_until IS NULL OR claimed_until <= $1)`

func (s *Store) claimTicket(ctx context.Context, q string, args ...any) (*auth.LoginTicket, error) {
	t := &auth.LoginTicket{}
	err := s.db.QueryRowContext(ctx, q+ticketReturning, args...).Scan(&t.Hash, &t.UserID, &t.Username, &t.ClientType,
		&t.AuthMethod, &t.CredentialVersion, &t.IPAddress, scanTime(&t.CreatedAt), scanTime(&t.ExpiresAt))
	if err != nil {
		return nil, notFound(err, "No pending MFA login")
	}
	return t, nil
}

// ClaimLoginTicket takes the unexpired, unclaimed ticket hash of username for
// claim until leaseUntil, atomically: of concurrent claims one wins. ENOTFOUND
// when there is no such ticket or another verification holds it.
func (s *Store) ClaimLoginTicket(ctx context.Context, hash, username, claim string, now, leaseUntil time.Time) (*auth.LoginTicket, error) {
	return s.claimTicket(ctx, `UPDATE login_tickets SET claim_token = $2, claimed_until = $3
		WHERE ticket_hash = $4 AND username = $5 AND `+unclaimed, s.ts(now), claim, s.ts(leaseUntil), hash, username)
}

// ClaimLoginTicketByAddress claims, as ClaimLoginTicket, the newest ticket of
// username whose first step was method from ip: a client that does not send the
// ticket is bound to it by its address.
func (s *Store) ClaimLoginTicketByAddress(ctx context.Context, username, ip, method, claim string, now, leaseUntil time.Time) (*auth.LoginTicket, error) {
	return s.claimTicket(ctx, `UPDATE login_tickets SET claim_token = $2, claimed_until = $3
		WHERE ticket_hash = (SELECT ticket_hash FROM login_tickets WHERE username = $4 AND ip_address = $5 AND auth_method = $6
			AND expires_at > $1 ORDER BY created_at DESC, ticket_hash LIMIT 1) AND `+unclaimed,
		s.ts(now), claim, s.ts(leaseUntil), username, ip, method)
}

// FindLoginTicket returns a pending ticket without claiming it; see
// auth.Store.
func (s *Store) FindLoginTicket(ctx context.Context, hash, username, ip, method string, now time.Time) (*auth.LoginTicket, error) {
	q := `SELECT ticket_hash, user_id, username, client_type, auth_method, credential_version, ip_address, created_at, expires_at
		FROM login_tickets WHERE username = $1 AND expires_at > $2 AND `
	args := []any{username, s.ts(now)}
	if hash != "" {
		q += `ticket_hash = $3`
		args = append(args, hash)
	} else {
		q += `ip_address = $3 AND auth_method = $4 ORDER BY created_at DESC, ticket_hash LIMIT 1`
		args = append(args, ip, method)
	}
	t := &auth.LoginTicket{}
	err := s.db.QueryRowContext(ctx, q, args...).Scan(&t.Hash, &t.UserID, &t.Username, &t.ClientType,
		&t.AuthMethod, &t.CredentialVersion, &t.IPAddress, scanTime(&t.CreatedAt), scanTime(&t.ExpiresAt))
	if err != nil {
		return nil, notFound(err, "No pending MFA login")
	}
	return t, nil
}

// ReleaseLoginTicket gives a claimed ticket back (after a wrong code), if claim
// still holds it.
func (s *Store) ReleaseLoginTicket(ctx context.Context, hash, claim string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE login_tickets SET claim_token = NULL, claimed_until = NULL
		WHERE ticket_hash = $1 AND claim_token = $2`, hash, claim)
	if err != nil {
		return fmt.Errorf("release login ticket: %w", mapErr(err))
	}
	return nil
}

// UpdatePasswordHashIf replaces the hash only if it is still oldHash, so a rehash
// at sign-in never undoes a concurrent password change.
func (s *Store) UpdatePasswordHashIf(ctx context.Context, userID int64, oldHash, newHash string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE users SET password = $1 WHERE id = $2 AND password = $3`, newHash, userID, oldHash)
	if err != nil {
		return fmt.Errorf("rehash: %w", mapErr(err))
	}
	return nil
}

// DeleteExpired removes expired sessions, tokens, sign-in tickets and throttle
// counters, and returns how many rows went.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for _, q := range []string{
		`DELETE FROM sessions WHERE expires_at <= $1`,
		`DELETE FROM session_tokens WHERE expires_at <= $1`,
		`DELETE FROM login_tickets WHERE expires_at <= $1`,
		`DELETE FROM throttle_counters WHERE expires_at <= $1 AND (locked_until IS NULL OR locked_until <= $1)`,
		`DELETE FROM mfa_setups WHERE expires_at <= $1`,
		`DELETE FROM oidc_states WHERE expires_at <= $1`,
		`DELETE FROM webauthn_challenges WHERE expires_at <= $1`,
		`DELETE FROM password_reset_tokens WHERE expires_at <= $1`,
		`DELETE FROM sign_up_tokens WHERE expires_at <= $1 AND used_at IS NOT NULL`,
	} {
		res, err := s.db.ExecContext(ctx, q, s.ts(now))
		if err != nil {
			return total, fmt.Errorf("delete expired: %w", mapErr(err))
		}
		n, _ := res.RowsAffected()
		total += n
	}
	// Delivered mail is kept a day (to answer "did it go?"), mail given up on
	// a month (its last_error explains why).
	n, err := s.PruneMail(ctx, now.Add(-MailKeepSent), now.Add(-MailKeepFailed))
	return total + n, err
}

// How long the outbox keeps delivered and given-up messages.
const (
	MailKeepSent   = 24 * time.Hour
	MailKeepFailed = 30 * 24 * time.Hour
)
