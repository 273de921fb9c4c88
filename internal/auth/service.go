package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/secret"
)

// Client types, from the X-Client-Type header.
const (
	ClientWeb    = "web"
	ClientMobile = "mobile"
)

// Messages the web app knows.
const (
	msgBadCredentials = "Invalid username or password"
	msgInactive       = "Inactive user"
	msgNoTicket       = "No pending MFA login found for this username"
	msgBadMFA         = "Invalid MFA code"
	msgBadRefresh     = "Invalid refresh token"
	msgBadAccess      = "Could not validate credentials"
)

// MFAVerifier is the MFA capability as sign-in needs it.
type MFAVerifier interface {
	Enabled(ctx context.Context, userID int64) (bool, error)
	// Verify checks a TOTP or backup code and returns which kind matched. A wrong
	// code is EINVALID; a locked account ETOOMANY.
	Verify(ctx context.Context, userID int64, code string) (method string, err error)
}

// Service signs users in and manages their sessions.
type Service struct {
	Store    Store
	Users    account.Store
	Hasher   *secret.Hasher
	Throttle *Throttle
	Events   account.EventStore
	MFA      MFAVerifier
	Logger   *slog.Logger
	// Settings, when set, is read on every password sign-in, so switching
	// local login off holds on every instance at once.
	Settings interface {
		ServerSettings(ctx context.Context) (*account.ServerSettings, error)
	}
	Now func() time.Time
}

// Tokens are what a sign-in or refresh hands to the client. They exist only in
// this value and in the response; the database keeps their hashes.
type Tokens struct {
	SessionID        string
	AccessToken      string
	RefreshToken     string
	CSRFToken        string
	AccessExpiresAt  time.Time
	RefreshExpiresAt time.Time
}

// LoginResult is the outcome of a password sign-in: either tokens, or a pending
// MFA step identified by Ticket.
type LoginResult struct {
	Tokens      *Tokens
	MFARequired bool
	Ticket      string
	Username    string // as submitted, echoed back like Endurain
	User        *account.User
}

// Login checks a username and password. Unknown users and wrong passwords get the
// same error after the same work; an inactive account is refused only after a
// correct password. Accounts with MFA get a single-use ticket instead of tokens.
func (s *Service) Login(ctx context.Context, username, password, clientType string, dev Device) (*LoginResult, error) {
	if err := s.Throttle.Limit(ctx, "login:ip:"+dev.IP, LoginRate); err != nil {
		return nil, err
	}
	if err := s.localLoginAllowed(ctx); err != nil {
		return nil, err
	}
	name := account.NormalizeUsername(username)
	// Counted per submitted name, whether or not the account exists, so the lockout
	// itself does not reveal which accounts exist.
	if err := s.Throttle.Attempt(ctx, "login:name:"+name, PasswordLockout); err != nil {
		return nil, err
	}
	if len(password) > account.MaxPasswordLength {
		s.Hasher.VerifyDummy(ctx, "")
		return nil, account.Errorf(account.EUNAUTHORIZED, msgBadCredentials)
	}
	u, err := s.Users.FindUserByUsername(ctx, name)
	if account.ErrorCode(err) == account.ENOTFOUND || (err == nil && !u.HasPassword()) {
		if err := s.Hasher.VerifyDummy(ctx, password); ctx.Err() != nil {
			return nil, err
		}
		s.event(ctx, nil, account.EventLoginFailed, dev, map[string]any{"reason": "unknown user or no password"})
		return nil, account.Errorf(account.EUNAUTHORIZED, msgBadCredentials)
	} else if err != nil {
		return nil, err
	}
	needsRehash, err := s.Hasher.Verify(ctx, *u.PasswordHash, password)
	if errors.Is(err, secret.ErrMismatch) {
		s.event(ctx, &u.ID, account.EventLoginFailed, dev, map[string]any{"reason": "wrong password"})
		return nil, account.Errorf(account.EUNAUTHORIZED, msgBadCredentials)
	} else if err != nil {
		return nil, fmt.Errorf("verify password: %w", err)
	}
	if err := s.Throttle.Succeeded(ctx, "login:name:"+name); err != nil {
		return nil, err
	}
	if needsRehash {
		s.rehash(ctx, u, password)
	}
	if !canSignIn(u) {
		return nil, account.Errorf(account.EFORBIDDEN, msgInactive)
	}
	res := &LoginResult{Username: username, User: u}
	if enabled, err := s.mfaEnabled(ctx, u.ID); err != nil {
		return nil, err
	} else if enabled {
		res.MFARequired = true
		res.Ticket, err = s.NewLoginTicket(ctx, u, username, clientType, MethodPassword)
		return res, err
	}
	res.Tokens, err = s.CreateSession(ctx, u, MethodPassword, dev)
	return res, err
}

// canSignIn reports whether the account may start a session: active, and not
// waiting for an admin's approval (Endurain keeps such accounts inactive; both
// are checked so neither flag alone lets them in).
func canSignIn(u *account.User) bool { return u.Active && !u.PendingAdminApproval }

// localLoginAllowed refuses password sign-in while the server settings switch
// local login off. The way back for a locked-out operator is the CLI:
// trailpass settings set local_login_enabled=true.
func (s *Service) localLoginAllowed(ctx context.Context) error {
	if s.Settings == nil {
		return nil
	}
	st, err := s.Settings.ServerSettings(ctx)
	if err != nil {
		return err
	}
	if !st.LocalLoginEnabled {
		return account.Errorf(account.EFORBIDDEN, account.MsgLocalLoginDisabled)
	}
	return nil
}

// rehash replaces a hash made with other parameters (or bcrypt) by the current
// argon2id one. A failure only delays the upgrade to the next sign-in.
func (s *Service) rehash(ctx context.Context, u *account.User, password string) {
	hash, err := s.Hasher.Hash(ctx, password)
	if err == nil {
		err = s.Store.UpdatePasswordHashIf(ctx, u.ID, *u.PasswordHash, hash)
	}
	if err != nil && s.Logger != nil {
		s.Logger.WarnContext(ctx, "password rehash failed", "user_id", u.ID, "err", err)
	}
}

// NewLoginTicket records a sign-in waiting for its MFA code and returns the raw
// ticket: 256 random bits, stored hashed, valid for five minutes and one use.
func (s *Service) NewLoginTicket(ctx context.Context, u *account.User, username, clientType, method string) (string, error) {
	raw := secret.NewToken()
	now := s.Now()
	t := &LoginTicket{Hash: secret.HashToken(raw), UserID: u.ID, Username: account.NormalizeUsername(username),
		ClientType: clientType, AuthMethod: method, CreatedAt: now, ExpiresAt: now.Add(TicketTTL)}
	if err := s.Store.CreateLoginTicket(ctx, t); err != nil {
		return "", err
	}
	return raw, nil
}

// VerifyMFA completes a sign-in with the MFA code, given the ticket from Login.
// Without a valid ticket for that username: EINVALID (400), as Endurain.
func (s *Service) VerifyMFA(ctx context.Context, username, code, ticket string, dev Device) (*Tokens, *account.User, error) {
	if err := s.Throttle.Limit(ctx, "mfa:ip:"+dev.IP, MFARate); err != nil {
		return nil, nil, err
	}
	if ticket == "" {
		return nil, nil, account.Errorf(account.EINVALID, msgNoTicket)
	}
	hash := secret.HashToken(ticket)
	t, err := s.Store.FindLoginTicket(ctx, hash, s.Now())
	if account.ErrorCode(err) == account.ENOTFOUND || (err == nil && t.Username != account.NormalizeUsername(username)) {
		return nil, nil, account.Errorf(account.EINVALID, msgNoTicket)
	} else if err != nil {
		return nil, nil, err
	}
	if s.MFA == nil {
		return nil, nil, account.Errorf(account.EINVALID, msgNoTicket)
	}
	if t.AuthMethod == MethodPassword {
		if err := s.localLoginAllowed(ctx); err != nil {
			return nil, nil, err
		}
	}
	method, err := s.MFA.Verify(ctx, t.UserID, code)
	if account.ErrorCode(err) == account.EINVALID {
		s.event(ctx, &t.UserID, account.EventMFAFailed, dev, nil)
		return nil, nil, account.Errorf(account.EUNAUTHORIZED, msgBadMFA)
	} else if err != nil {
		return nil, nil, err
	}
	// Single use: of two concurrent successes only one deletes the ticket.
	if ok, err := s.Store.DeleteLoginTicket(ctx, hash); err != nil {
		return nil, nil, err
	} else if !ok {
		return nil, nil, account.Errorf(account.EINVALID, msgNoTicket)
	}
	u, err := s.Users.FindUserByID(ctx, t.UserID)
	if err != nil {
		return nil, nil, err
	}
	if !canSignIn(u) {
		return nil, nil, account.Errorf(account.EFORBIDDEN, msgInactive)
	}
	full := t.AuthMethod + "+totp"
	if method == "backup_code" {
		full = t.AuthMethod + "+backup_code"
	}
	tok, err := s.CreateSession(ctx, u, full, dev)
	return tok, u, err
}

// CreateSession signs u in on a new session and returns its first tokens.
func (s *Service) CreateSession(ctx context.Context, u *account.User, method string, dev Device) (*Tokens, error) {
	now := s.Now()
	sess := &Session{
		ID: newUUID(), UserID: u.ID, FamilyID: newUUID(), AuthMethod: method,
		IPAddress: dev.IP, DeviceType: dev.DeviceType, OperatingSystem: dev.OperatingSystem,
		OperatingSystemVersion: dev.OperatingSystemVersion, Browser: dev.Browser, BrowserVersion: dev.BrowserVersion,
		CreatedAt: now, AuthenticatedAt: now, LastActiveAt: now,
		ExpiresAt: now.Add(RefreshTTL), AbsoluteExpiresAt: now.Add(AbsoluteTTL),
	}
	tok, rows := s.newTokens(sess.ID, now, sess.ExpiresAt)
	if err := s.Store.CreateSession(ctx, sess, rows); err != nil {
		return nil, err
	}
	s.event(ctx, &u.ID, account.EventLogin, dev, map[string]any{"session_id": sess.ID, "method": method})
	return tok, nil
}

func (s *Service) newTokens(sessionID string, now, refreshExpires time.Time) (*Tokens, []TokenRow) {
	t := &Tokens{SessionID: sessionID, AccessToken: secret.NewToken(), RefreshToken: secret.NewToken(), CSRFToken: secret.NewToken(),
		AccessExpiresAt: now.Add(AccessTTL), RefreshExpiresAt: refreshExpires}
	return t, []TokenRow{
		{Hash: secret.HashToken(t.AccessToken), SessionID: sessionID, Kind: tokenAccess, CreatedAt: now, ExpiresAt: t.AccessExpiresAt},
		{Hash: secret.HashToken(t.RefreshToken), SessionID: sessionID, Kind: tokenRefresh, CreatedAt: now, ExpiresAt: refreshExpires},
	}
}

// Refresh rotates a session's tokens. A refresh token that was already rotated away
// revokes the whole session (it was probably stolen), except within a short grace
// period, where two tabs refreshing at once both get working tokens.
func (s *Service) Refresh(ctx context.Context, refreshToken string, dev Device) (*Tokens, error) {
	if err := s.Throttle.Limit(ctx, "refresh:ip:"+dev.IP, RefreshRate); err != nil {
		return nil, err
	}
	if refreshToken == "" {
		return nil, account.Errorf(account.EUNAUTHORIZED, "Refresh token missing")
	}
	now := s.Now()
	hash := secret.HashToken(refreshToken)
	sess, tok, err := s.Store.FindSessionByToken(ctx, hash, tokenRefresh, now)
	if account.ErrorCode(err) == account.ENOTFOUND {
		return nil, account.Errorf(account.EUNAUTHORIZED, msgBadRefresh)
	} else if err != nil {
		return nil, err
	}
	u, err := s.Users.FindUserByID(ctx, sess.UserID)
	if err != nil {
		return nil, err
	}
	if !u.Active {
		return nil, account.Errorf(account.EFORBIDDEN, msgInactive)
	}
	expires := now.Add(RefreshTTL)
	if expires.After(sess.AbsoluteExpiresAt) {
		expires = sess.AbsoluteExpiresAt
	}
	newTok, rows := s.newTokens(sess.ID, now, expires)
	if tok.SupersededAt == nil {
		rotated, err := s.Store.RotateRefresh(ctx, sess.ID, hash, now, expires, dev.IP, rows)
		if err != nil {
			return nil, err
		}
		if rotated {
			return newTok, nil
		}
		// Rotated by a concurrent request a moment ago: fall through to the grace rule.
		tok.SupersededAt = &now
	}
	// The grace is single-use and only for the address that rotated the token
	// (two tabs of one browser): a second presentation, another address, or one
	// after the grace period is a replay of a token someone else rotated.
	if now.Sub(*tok.SupersededAt) <= refreshGrace && dev.IP == sess.IPAddress {
		ok, err := s.Store.GraceRefresh(ctx, sess.ID, hash, now, expires, rows)
		if err != nil {
			return nil, err
		}
		if ok {
			return newTok, nil
		}
	}
	if _, err := s.Store.DeleteSession(ctx, sess.ID); err != nil {
		return nil, err
	}
	s.event(ctx, &sess.UserID, account.EventRefreshReuse, dev, map[string]any{"session_id": sess.ID})
	return nil, account.Errorf(account.EUNAUTHORIZED, msgBadRefresh)
}

// Authenticate resolves an access token to its caller. Every request looks its
// session up, so a revoked session stops working on the very next request.
func (s *Service) Authenticate(ctx context.Context, accessToken string) (*Principal, error) {
	if accessToken == "" {
		return nil, account.Errorf(account.EUNAUTHORIZED, "Access token missing")
	}
	now := s.Now()
	sess, u, err := s.Store.FindAccessSession(ctx, secret.HashToken(accessToken), now)
	if account.ErrorCode(err) == account.ENOTFOUND {
		return nil, account.Errorf(account.EUNAUTHORIZED, msgBadAccess)
	} else if err != nil {
		return nil, err
	}
	if !u.Active {
		return nil, account.Errorf(account.EUNAUTHORIZED, msgBadAccess)
	}
	// Written at most once a minute per session, so reads stay reads.
	if now.Sub(sess.LastActiveAt) >= touchInterval {
		if err := s.Store.TouchSession(ctx, sess.ID, now, now.Add(-touchInterval)); err != nil {
			return nil, err
		}
		sess.LastActiveAt = now
	}
	return &Principal{User: u, Session: sess}, nil
}

// Logout revokes the session that token (access or refresh) belongs to. Unknown
// or already revoked tokens are fine: logging out twice is harmless.
func (s *Service) Logout(ctx context.Context, token string, dev Device) error {
	if token == "" {
		return nil
	}
	hash := secret.HashToken(token)
	for _, kind := range []string{tokenAccess, tokenRefresh} {
		sess, _, err := s.Store.FindSessionByToken(ctx, hash, kind, s.Now())
		if account.ErrorCode(err) == account.ENOTFOUND {
			continue
		} else if err != nil {
			return err
		}
		if _, err := s.Store.DeleteSession(ctx, sess.ID); err != nil {
			return err
		}
		s.event(ctx, &sess.UserID, account.EventLogout, dev, map[string]any{"session_id": sess.ID})
		return nil
	}
	return nil
}

// ListSessions returns a user's live sessions, newest first.
func (s *Service) ListSessions(ctx context.Context, userID int64) ([]*Session, error) {
	return s.Store.ListSessions(ctx, userID, s.Now())
}

// RevokeSession ends one of userID's sessions; ENOTFOUND if it is not theirs.
func (s *Service) RevokeSession(ctx context.Context, userID int64, sessionID string, dev Device) error {
	ok, err := s.Store.DeleteUserSession(ctx, userID, sessionID)
	if err != nil {
		return err
	}
	if !ok {
		return account.Errorf(account.ENOTFOUND, "Session %s not found for user %d", sessionID, userID)
	}
	s.event(ctx, &userID, account.EventSessionRevoked, dev, map[string]any{"session_id": sessionID})
	return nil
}

// RevokeOtherSessions ends every session of userID except keepID and returns how
// many it ended.
func (s *Service) RevokeOtherSessions(ctx context.Context, userID int64, keepID string, dev Device) (int, error) {
	n, err := s.Store.DeleteOtherSessions(ctx, userID, keepID)
	if err != nil {
		return 0, err
	}
	if n > 0 {
		s.event(ctx, &userID, account.EventSessionRevoked, dev, map[string]any{"count": n, "kept": keepID})
	}
	return int(n), nil
}

// RecentlyAuthenticated reports whether p's session signed in or stepped up within
// RecentAuthTTL, as sensitive actions require.
func (s *Service) RecentlyAuthenticated(p *Principal) bool {
	return s.Now().Sub(p.Session.AuthenticatedAt) <= RecentAuthTTL
}

// RequireRecentAuth returns EFORBIDDEN unless p authenticated recently, saying
// how this account can step up: an MFA code when it has MFA, else its password,
// else a new sign-in through its identity provider.
func (s *Service) RequireRecentAuth(ctx context.Context, p *Principal) error {
	if s.RecentlyAuthenticated(p) {
		return nil
	}
	hint := "sign in again through your identity provider"
	if on, err := s.mfaEnabled(ctx, p.User.ID); err != nil {
		return err
	} else if on {
		hint = "verify an MFA code (POST /api/v1/profile/mfa/verify)"
	} else if p.User.HasPassword() {
		hint = "confirm your password (POST /api/v1/profile/reauth)"
	}
	return account.Errorf(account.EFORBIDDEN, "Recent authentication required: %s, then retry within 10 minutes", hint)
}

func (s *Service) mfaEnabled(ctx context.Context, userID int64) (bool, error) {
	if s.MFA == nil {
		return false, nil
	}
	return s.MFA.Enabled(ctx, userID)
}

// MarkStepUp records that p's session just proved its user again.
func (s *Service) MarkStepUp(ctx context.Context, p *Principal, dev Device, method string) error {
	now := s.Now()
	if err := s.Store.SetSessionAuthenticatedAt(ctx, p.Session.ID, now); err != nil {
		return err
	}
	p.Session.AuthenticatedAt = now
	s.event(ctx, &p.User.ID, account.EventStepUp, dev, map[string]any{"method": method})
	return nil
}

// Reauthenticate is the password step-up for accounts without MFA.
func (s *Service) Reauthenticate(ctx context.Context, p *Principal, password string, dev Device) error {
	if err := s.Throttle.Attempt(ctx, "reauth:user:"+strconv.FormatInt(p.User.ID, 10), PasswordLockout); err != nil {
		return err
	}
	if !p.User.HasPassword() {
		return account.Errorf(account.EINVALID, "This account has no password; sign in again through your identity provider")
	}
	// An account with MFA proves itself at its highest level: a password alone
	// must not unlock what needs a recent authentication.
	if on, err := s.mfaEnabled(ctx, p.User.ID); err != nil {
		return err
	} else if on {
		return account.Errorf(account.EFORBIDDEN, "This account has two-factor authentication: confirm with a code (POST /api/v1/profile/mfa/verify)")
	}
	if _, err := s.Hasher.Verify(ctx, *p.User.PasswordHash, password); errors.Is(err, secret.ErrMismatch) {
		return account.Errorf(account.EINVALID, "Invalid password")
	} else if err != nil {
		return fmt.Errorf("verify password: %w", err)
	}
	if err := s.Throttle.Succeeded(ctx, "reauth:user:"+strconv.FormatInt(p.User.ID, 10)); err != nil {
		return err
	}
	return s.MarkStepUp(ctx, p, dev, MethodPassword)
}

// event records a security event; a failure is logged, never shown to the user.
func (s *Service) event(ctx context.Context, userID *int64, typ string, dev Device, detail map[string]any) {
	if s.Events == nil {
		return
	}
	e := &account.SecurityEvent{UserID: userID, Type: typ, IPAddress: dev.IP, UserAgent: dev.UserAgent, Detail: detail, CreatedAt: s.Now()}
	if err := s.Events.RecordSecurityEvent(ctx, e); err != nil && s.Logger != nil {
		s.Logger.WarnContext(ctx, "record security event", "type", typ, "err", err)
	}
}

// newUUID returns a random (version 4) UUID string.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hexd = "0123456789abcdef"
	var sb strings.Builder
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			sb.WriteByte('-')
		}
		sb.WriteByte(hexd[c>>4])
		sb.WriteByte(hexd[c&0xf])
	}
	return sb.String()
}
