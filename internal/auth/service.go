package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/profile"
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
	// WellFormed reports whether code has the shape of a TOTP or backup code.
	WellFormed(code string) bool
}

// PasskeyCounter tells how many passkeys a user has.
type PasskeyCounter interface {
	CountPasskeys(ctx context.Context, userID int64) (int, error)
}

// Service signs users in and manages their sessions.
type Service struct {
	Store    Store
	Users    account.Store
	Hasher   *secret.Hasher
	Throttle *Throttle
	// Events is required: every sign-in and refusal is recorded.
	Events account.EventStore
	MFA    MFAVerifier
	// Passkeys, when set, makes a registered passkey count as a second
	// factor, as TOTP does.
	Passkeys PasskeyCounter
	Logger   *slog.Logger // required
	// Settings (required) is read on every password sign-in, so switching
	// local login off holds on every instance at once.
	Settings interface {
		ServerSettings(ctx context.Context) (*account.ServerSettings, error)
	}
	Now func() time.Time
	// RecentAuthWindow is how long a sign-in or step-up counts as recent for
	// sensitive operations; zero means DefaultRecentAuthWindow.
	RecentAuthWindow time.Duration
	// Devices (required) remembers where accounts signed in from, and Notices
	// tells the user of a sign-in from a device and browser the account had not
	// used; nil Notices sends no new-device notice.
	Devices KnownDevices
	Notices account.Notifier
	// SignUps, when set, tells a sign-up still waiting for its email to be
	// verified, so its owner is told why the right password does not sign in.
	SignUps interface {
		SignUpPending(ctx context.Context, userID int64) (bool, error)
	}

	// profiles keeps GET /profile's answers between requests (AuthenticateProfile).
	profiles profileCache
}

// KnownDevices remembers the devices each account signed in from.
type KnownDevices interface {
	// NoteSignInDevice records the device and reports whether it was new to an
	// account that had signed in before; only then is the mail ctx carries
	// queued, in the same transaction.
	NoteSignInDevice(ctx context.Context, userID int64, deviceKey string, now time.Time) (bool, error)
}

// DeviceKey identifies a device and browser family (not versions, which
// change with every update) for the new-device notice.
func DeviceKey(d Device) string {
	sum := sha256.Sum256([]byte(d.DeviceType + "\x00" + d.OperatingSystem + "\x00" + d.Browser))
	return hex.EncodeToString(sum[:])
}

// Window is the effective recent-authentication window.
func (s *Service) Window() time.Duration {
	if s.RecentAuthWindow > 0 {
		return s.RecentAuthWindow
	}
	return DefaultRecentAuthWindow
}

var _ account.RecentAuthChecker = (*Service)(nil)

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

// Login checks a username and password. Unknown users, wrong passwords and
// inactive accounts (with the right password or not) get the same error after
// the same work, so the answer never tells a guessed password was right.
// Accounts with MFA get a single-use ticket instead of tokens. The session (or
// ticket) is bound to the credential version the password was checked at: if
// the password changes meanwhile, no session results and the answer is that of
// a wrong password.
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
	if !u.Active && !u.EmailVerified && s.SignUps != nil {
		if pending, err := s.SignUps.SignUpPending(ctx, u.ID); err == nil && pending {
			return nil, account.Errorf(account.EFORBIDDEN, account.MsgEmailNotVerifiedLogin)
		}
	}
	if u.PendingAdminApproval {
		// Endurain keeps accounts that wait for approval inactive and tells their
		// owner so (403 "Inactive user"); the owner needs to know why sign-in fails.
		return nil, account.Errorf(account.EFORBIDDEN, account.MsgPendingApprovalLogin)
	}
	if !u.Active {
		// Counted as a failure, not a success, so that neither the answer nor the
		// lockout counter tells that the password was right.
		s.event(ctx, &u.ID, account.EventLoginFailed, dev, map[string]any{"reason": "inactive"})
		return nil, account.Errorf(account.EUNAUTHORIZED, msgBadCredentials)
	}
	if err := s.Throttle.Succeeded(ctx, "login:name:"+name); err != nil {
		return nil, err
	}
	if needsRehash {
		s.rehash(ctx, u, password)
	}
	res := &LoginResult{Username: username, User: u}
	if enabled, err := s.mfaEnabled(ctx, u.ID); err != nil {
		return nil, err
	} else if enabled {
		res.MFARequired = true
		res.Ticket, err = s.NewLoginTicket(ctx, u, username, clientType, MethodPassword, dev.IP)
		return res, err
	}
	res.Tokens, err = s.CreateSession(ctx, u, MethodPassword, dev)
	return res, err
}

// localLoginAllowed refuses password sign-in while the server settings switch
// local login off. The way back for a locked-out operator is the CLI:
// trailpass settings set local_login_enabled=true.
func (s *Service) localLoginAllowed(ctx context.Context) error {
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
	if err != nil {
		s.Logger.WarnContext(ctx, "password rehash failed", "user_id", u.ID, "err", err)
	}
}

// NewLoginTicket records a sign-in waiting for its MFA code and returns the raw
// ticket: 256 random bits, stored hashed, valid for five minutes and one use. It
// carries u's credential version and the client's address ip.
func (s *Service) NewLoginTicket(ctx context.Context, u *account.User, username, clientType, method, ip string) (string, error) {
	raw := secret.NewToken()
	now := s.Now()
	t := &LoginTicket{Hash: secret.HashToken(raw), UserID: u.ID, Username: account.NormalizeUsername(username),
		ClientType: clientType, AuthMethod: method, CredentialVersion: u.CredentialVersion, IPAddress: ip,
		CreatedAt: now, ExpiresAt: now.Add(TicketTTL)}
	if err := s.Store.CreateLoginTicket(ctx, t); err != nil {
		return "", err
	}
	return raw, nil
}

// VerifyMFA completes a sign-in with the MFA code. The pending sign-in is the
// ticket from Login when the client sends one (the web cookie or mfa_ticket);
// without one, as Endurain's clients send only {username, mfa_code}, it is the
// newest password step of that username from the same address (dev.IP).
//
// The ticket is claimed before the code is checked, so concurrent requests on
// one ticket cannot spend codes in parallel: one holds it, the others find no
// pending sign-in. A wrong code gives it back for a retry within its lifetime.
//
// Errors: EUNPROCESSABLE for a code of neither shape (as Endurain's validation);
// EINVALID "No pending MFA login found for this username" when there is no free
// pending sign-in, or it no longer holds (password changed, account
// deactivated); EUNAUTHORIZED "Invalid MFA code"; ETOOMANY when locked.
func (s *Service) VerifyMFA(ctx context.Context, username, code, ticket string, dev Device) (*Tokens, *account.User, error) {
	if s.MFA == nil {
		return nil, nil, account.Errorf(account.EINVALID, msgNoTicket)
	}
	if !s.MFA.WellFormed(code) {
		return nil, nil, account.ValidationError(account.FieldError{Field: "mfa_code", Type: "string_pattern_mismatch",
			Message: "String should match pattern '^\\d{6}$' (or be a backup code, XXXXX-XXXXX)"})
	}
	return s.VerifySecondFactor(ctx, username, ticket, dev, func(ctx context.Context, t *LoginTicket) (string, error) {
		method, err := s.MFA.Verify(ctx, t.UserID, code)
		if method == "backup_code" {
			return "backup_code", err
		}
		return "totp", err
	})
}

// SecondFactorCheck verifies the second factor of the pending sign-in t and
// returns its name for the session's method ("totp", "passkey"). EINVALID
// means the factor was wrong.
type SecondFactorCheck func(ctx context.Context, t *LoginTicket) (string, error)

// VerifySecondFactor completes the pending sign-in of username (see VerifyMFA
// for how it is found and claimed) when check passes, and returns the new
// session's tokens. Errors as VerifyMFA's.
func (s *Service) VerifySecondFactor(ctx context.Context, username, ticket string, dev Device, check SecondFactorCheck) (*Tokens, *account.User, error) {
	if err := s.Throttle.Limit(ctx, "mfa:ip:"+dev.IP, MFARate); err != nil {
		return nil, nil, err
	}
	name := account.NormalizeUsername(username)
	claim := secret.NewToken()
	now := s.Now()
	var t *LoginTicket
	var err error
	if ticket != "" {
		t, err = s.Store.ClaimLoginTicket(ctx, secret.HashToken(ticket), name, claim, now, now.Add(ticketLease))
	} else {
		t, err = s.Store.ClaimLoginTicketByAddress(ctx, name, dev.IP, MethodPassword, claim, now, now.Add(ticketLease))
	}
	if account.ErrorCode(err) == account.ENOTFOUND {
		return nil, nil, account.Errorf(account.EINVALID, msgNoTicket)
	} else if err != nil {
		return nil, nil, err
	}
	if t.AuthMethod == MethodPassword {
		if err := s.localLoginAllowed(ctx); err != nil {
			if rerr := s.Store.ReleaseLoginTicket(context.WithoutCancel(ctx), t.Hash, claim); rerr != nil {
				return nil, nil, rerr
			}
			return nil, nil, err
		}
	}
	method, err := check(ctx, t)
	if err != nil {
		// Give the ticket back even if the request was cancelled meanwhile.
		if rerr := s.Store.ReleaseLoginTicket(context.WithoutCancel(ctx), t.Hash, claim); rerr != nil {
			return nil, nil, rerr
		}
		if account.ErrorCode(err) == account.EINVALID {
			s.event(ctx, &t.UserID, account.EventMFAFailed, dev, map[string]any{"factor": method})
			return nil, nil, account.Errorf(account.EUNAUTHORIZED, msgBadMFA)
		}
		return nil, nil, err
	}
	tok, err := s.createSession(ctx, t.UserID, t.AuthMethod+"+"+method, dev, SessionGuard{CredentialVersion: t.CredentialVersion, TicketHash: t.Hash, ClaimToken: claim})
	if errors.Is(err, ErrSignInStale) {
		return nil, nil, account.Errorf(account.EINVALID, msgNoTicket)
	} else if err != nil {
		return nil, nil, err
	}
	u, err := s.Users.FindUserByID(ctx, t.UserID)
	if err != nil {
		return nil, nil, err
	}
	return tok, u, nil
}

// PendingSignIn returns the unexpired sign-in of username waiting for its
// second factor, found as VerifyMFA finds it, without claiming it. EINVALID
// "No pending MFA login found for this username" when there is none.
func (s *Service) PendingSignIn(ctx context.Context, username, ticket string, dev Device) (*LoginTicket, error) {
	if err := s.Throttle.Limit(ctx, "mfa:ip:"+dev.IP, MFARate); err != nil {
		return nil, err
	}
	hash := ""
	if ticket != "" {
		hash = secret.HashToken(ticket)
	}
	t, err := s.Store.FindLoginTicket(ctx, hash, account.NormalizeUsername(username), dev.IP, MethodPassword, s.Now())
	if account.ErrorCode(err) == account.ENOTFOUND {
		return nil, account.Errorf(account.EINVALID, msgNoTicket)
	}
	return t, err
}

// CreateSession signs u in on a new session and returns its first tokens. The
// session is created only if u is still active and its password has not been
// written since u was read; otherwise EUNAUTHORIZED, as a failed sign-in.
func (s *Service) CreateSession(ctx context.Context, u *account.User, method string, dev Device) (*Tokens, error) {
	tok, err := s.createSession(ctx, u.ID, method, dev, SessionGuard{CredentialVersion: u.CredentialVersion})
	if errors.Is(err, ErrSignInStale) {
		return nil, account.Errorf(account.EUNAUTHORIZED, msgBadCredentials)
	}
	return tok, err
}

func (s *Service) createSession(ctx context.Context, userID int64, method string, dev Device, g SessionGuard) (*Tokens, error) {
	now := s.Now()
	sess := &Session{
		ID: newUUID(), UserID: userID, FamilyID: newUUID(), AuthMethod: method,
		IPAddress: dev.IP, DeviceType: dev.DeviceType, OperatingSystem: dev.OperatingSystem,
		OperatingSystemVersion: dev.OperatingSystemVersion, Browser: dev.Browser, BrowserVersion: dev.BrowserVersion,
		UserAgent: dev.UserAgent, CreatedAt: now, AuthenticatedAt: now, LastActiveAt: now,
		ExpiresAt: now.Add(RefreshTTL), AbsoluteExpiresAt: now.Add(AbsoluteTTL),
	}
	tok, rows := s.newTokens(sess.ID, secret.NewToken(), secret.NewToken(), secret.NewToken(), now, sess.ExpiresAt)
	if err := s.Store.CreateSession(ctx, sess, rows, g); err != nil {
		return nil, err
	}
	s.event(ctx, &userID, account.EventLogin, dev, map[string]any{"session_id": sess.ID, "method": method})
	s.noteDevice(ctx, userID, dev, now)
	return tok, nil
}

// noteDevice remembers the sign-in's device and, when the account had not
// used it before, queues the new-device notice. The sign-in has succeeded; a
// failure here is only logged.
func (s *Service) noteDevice(ctx context.Context, userID int64, dev Device, now time.Time) {
	nctx := account.Notify(ctx, s.Notices, userID, account.Notice{Kind: account.NoticeNewSignIn, At: now})
	if _, err := s.Devices.NoteSignInDevice(nctx, userID, DeviceKey(dev), now); err != nil {
		s.Logger.WarnContext(ctx, "remember sign-in device", "err", err)
	}
}

func (s *Service) newTokens(sessionID, access, refresh, csrf string, now, refreshExpires time.Time) (*Tokens, []TokenRow) {
	t := &Tokens{SessionID: sessionID, AccessToken: access, RefreshToken: refresh, CSRFToken: csrf,
		AccessExpiresAt: now.Add(AccessTTL), RefreshExpiresAt: refreshExpires}
	return t, []TokenRow{
		{Hash: secret.HashToken(t.AccessToken), SessionID: sessionID, Kind: tokenAccess, CreatedAt: now, ExpiresAt: t.AccessExpiresAt},
		{Hash: secret.HashToken(t.RefreshToken), SessionID: sessionID, Kind: tokenRefresh, CreatedAt: now, ExpiresAt: refreshExpires},
	}
}

// successorTokens are the tokens that replace the refresh token raw, derived
// from it and seed (random, stored with the old token's hash). Whoever presents
// raw again within the grace gets these same tokens back, not a second set: a
// session has one refresh chain. Without raw, the stored seed and hashes are
// useless, as a stolen table must be.
func (s *Service) successorTokens(sessionID, raw, seed string, now, refreshExpires time.Time) (*Tokens, []TokenRow) {
	derive := func(label string) string {
		m := hmac.New(sha256.New, []byte(raw))
		m.Write([]byte(seed + "\x00" + label))
		return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	return s.newTokens(sessionID, derive(tokenAccess), derive(tokenRefresh), derive("csrf"), now, refreshExpires)
}

// Refresh rotates a session's tokens. Each refresh token has one successor, so
// a session has one chain. Presenting the token rotated last again, while its
// successor is unused, within refreshGrace and from the address that rotated
// it (two tabs refreshing at once) returns that same successor. Any other
// superseded token is reuse: probably stolen, so the session ends.
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
	if tok.SupersededAt == nil {
		expires := now.Add(RefreshTTL)
		if expires.After(sess.AbsoluteExpiresAt) {
			expires = sess.AbsoluteExpiresAt
		}
		seed := secret.NewToken()
		newTok, rows := s.successorTokens(sess.ID, refreshToken, seed, now, expires)
		rotated, err := s.Store.RotateRefresh(ctx, sess.ID, hash, seed, now, expires, dev.IP, rows)
		if err != nil {
			return nil, err
		}
		if rotated {
			return newTok, nil
		}
		// Rotated by a concurrent request a moment ago: the grace rule decides.
		tok.SupersededAt = &now
	}
	if now.Sub(*tok.SupersededAt) <= refreshGrace && dev.IP == sess.IPAddress {
		seed, next, err := s.Store.FindRefreshSuccessor(ctx, hash, now)
		if err != nil && account.ErrorCode(err) != account.ENOTFOUND {
			return nil, err
		}
		// Only while the successor is unused: once it has been rotated in turn,
		// this token is two rotations old.
		if err == nil && next.SupersededAt == nil {
			same, _ := s.successorTokens(sess.ID, refreshToken, seed, next.CreatedAt, next.ExpiresAt)
			if secret.Equal(secret.HashToken(same.RefreshToken), next.Hash) {
				return same, nil
			}
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
// Once GET /profile has cached the user for this token, the lookup reads only
// the session and the user's data version (fromCache).
func (s *Service) Authenticate(ctx context.Context, accessToken string) (*Principal, error) {
	if accessToken == "" {
		return nil, account.Errorf(account.EUNAUTHORIZED, "Access token missing")
	}
	now := s.Now()
	hash := secret.HashToken(accessToken)
	if p, _, done, err := s.fromCache(ctx, hash, now); done {
		return p, err
	}
	sess, u, err := s.Store.FindAccessSession(ctx, hash, now)
	return s.admit(ctx, sess, u, now, err)
}

// AuthenticateProfile is Authenticate for GET /profile: the same checks, with
// the profile read by the same query. The profile's Privacy is nil when the
// user has no privacy row (profile.Service.ProfileOf then says so).
//
// The session is read on every request, so a revocation holds on the next one.
// The rest of the profile comes from the previous request with this token
// while the user's data version is unchanged (profileCache): three index
// lookups instead of six and three subqueries (bench/README.md, round five).
func (s *Service) AuthenticateProfile(ctx context.Context, accessToken string) (*Principal, *profile.Profile, error) {
	if accessToken == "" {
		return nil, nil, account.Errorf(account.EUNAUTHORIZED, "Access token missing")
	}
	now := s.Now()
	hash := secret.HashToken(accessToken)
	if p, prof, done, err := s.fromCache(ctx, hash, now); done {
		return p, prof, err
	}
	sess, prof, version, err := s.Store.FindAccessSessionProfile(ctx, hash, now)
	var u *account.User
	if prof != nil {
		u = prof.User
	}
	p, err := s.admit(ctx, sess, u, now, err)
	if err != nil {
		return nil, nil, err
	}
	if version >= 0 { // -1: unknown, as for a user without privacy settings
		s.profiles.put(hash, version, prof)
	}
	return p, prof, nil
}

// fromCache answers from the profile cached for hash when the session check
// says it is still current; done is false when the whole read must decide
// (no entry, a changed version, or any error of the check).
func (s *Service) fromCache(ctx context.Context, hash string, now time.Time) (p *Principal, prof *profile.Profile, done bool, err error) {
	if !s.profiles.has(hash) {
		return nil, nil, false, nil
	}
	sess, version, err := s.Store.CheckAccessSession(ctx, hash, now)
	if err != nil {
		s.profiles.drop(hash)
		return nil, nil, false, nil
	}
	prof, ok := s.profiles.get(hash, sess.UserID, version)
	if !ok {
		return nil, nil, false, nil
	}
	p, err = s.admit(ctx, sess, prof.User, now, nil)
	if err != nil {
		return nil, nil, true, err
	}
	return p, prof, true, nil
}

// admit finishes a session lookup: an unknown session or an inactive user is
// unauthorized; last_active_at is refreshed at most once a minute.
func (s *Service) admit(ctx context.Context, sess *Session, u *account.User, now time.Time, err error) (*Principal, error) {
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
// Ending a session of another user (an admin write) needs c's recent
// authentication; ending one's own is a defence and needs none.
func (s *Service) RevokeSession(ctx context.Context, c *account.Caller, userID int64, sessionID string, dev Device) error {
	if c == nil || c.User == nil || c.User.ID != userID {
		if err := account.RequireRecentAuth(ctx, s, c); err != nil {
			return err
		}
	}
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
// many it ended. It needs c's recent authentication: a stolen session must not
// sign the owner out everywhere else.
func (s *Service) RevokeOtherSessions(ctx context.Context, c *account.Caller, userID int64, keepID string, dev Device) (int, error) {
	if err := account.RequireRecentAuth(ctx, s, c); err != nil {
		return 0, err
	}
	n, err := s.Store.DeleteOtherSessions(ctx, userID, keepID)
	if err != nil {
		return 0, err
	}
	if n > 0 {
		s.event(ctx, &userID, account.EventSessionRevoked, dev, map[string]any{"count": n, "kept": keepID})
	}
	return int(n), nil
}

// recent reports whether c's session signed in or stepped up within the window.
func (s *Service) recent(c *account.Caller) bool {
	return !c.AuthenticatedAt.IsZero() && s.Now().Sub(c.AuthenticatedAt) <= s.Window()
}

// RequireRecentAuth returns EFORBIDDEN unless c authenticated recently (or is
// the operator), saying how this account can step up: an MFA code when it has
// MFA, else its password, else a new sign-in through its identity provider.
func (s *Service) RequireRecentAuth(ctx context.Context, c *account.Caller) error {
	if c.IsOperator() {
		return nil
	}
	if c == nil || c.User == nil {
		return account.Errorf(account.EUNAUTHORIZED, msgBadAccess)
	}
	if s.recent(c) {
		return nil
	}
	hint := "sign in again through your identity provider"
	totp, passkeys, err := s.factors(ctx, c.User.ID)
	if err != nil {
		return err
	}
	if totp && passkeys {
		hint = "verify an MFA code (POST /api/v1/profile/mfa/verify) or a passkey (POST /api/v1/profile/passkeys/reauth/begin)"
	} else if totp {
		hint = "verify an MFA code (POST /api/v1/profile/mfa/verify)"
	} else if passkeys {
		hint = "verify a passkey (POST /api/v1/profile/passkeys/reauth/begin)"
	} else if c.User.HasPassword() {
		hint = "confirm your password (POST /api/v1/profile/reauth)"
	}
	return account.Errorf(account.EFORBIDDEN, "Recent authentication required: %s, then retry within %s", hint, fmtWindow(s.Window()))
}

// fmtWindow writes d as people say it: "10 minutes", "1 hour", else d itself.
func fmtWindow(d time.Duration) string {
	switch {
	case d == time.Hour:
		return "1 hour"
	case d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + " hours"
	case d == time.Minute:
		return "1 minute"
	case d%time.Minute == 0:
		return strconv.Itoa(int(d/time.Minute)) + " minutes"
	}
	return d.String()
}

func (s *Service) mfaEnabled(ctx context.Context, userID int64) (bool, error) {
	totp, passkeys, err := s.factors(ctx, userID)
	return totp || passkeys, err
}

// MFAEnabled reports whether a sign-in of userID needs a second factor: a TOTP
// factor or a passkey.
func (s *Service) MFAEnabled(ctx context.Context, userID int64) (bool, error) {
	return s.mfaEnabled(ctx, userID)
}

// factors reports which second factors userID has.
func (s *Service) factors(ctx context.Context, userID int64) (totp, passkeys bool, err error) {
	if s.MFA != nil {
		if totp, err = s.MFA.Enabled(ctx, userID); err != nil {
			return false, false, err
		}
	}
	if s.Passkeys != nil {
		n, err := s.Passkeys.CountPasskeys(ctx, userID)
		if err != nil {
			return false, false, err
		}
		passkeys = n > 0
	}
	return totp, passkeys, nil
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

// Password step-up messages.
const (
	// MsgMFAPasswordNotEnough refuses a password alone as recent
	// authentication of an account with MFA.
	MsgMFAPasswordNotEnough = "Recent authentication required: this account has two-factor authentication, so a password alone is not enough; verify an MFA code (POST /api/v1/profile/mfa/verify) or a passkey (POST /api/v1/profile/passkeys/reauth/begin)"
	// MsgWrongPassword is the answer to a wrong current password. Never 401,
	// which would sign the web app out.
	MsgWrongPassword = "Invalid password"
)

// Reauthenticate is the password step-up for accounts without MFA: POST
// /api/v1/profile/reauth. An account with MFA steps up with a code.
func (s *Service) Reauthenticate(ctx context.Context, p *Principal, password string, dev Device) error {
	c := p.Caller()
	c.AuthenticatedAt = time.Time{} // a step-up proves itself, whatever the session did before
	if err := s.ConfirmPassword(ctx, c, password); err != nil {
		return err
	}
	return s.MarkStepUp(ctx, p, dev, MethodPassword)
}

// ConfirmPassword checks password as c's current password. It is the one
// check of a current password (the step-up and the password change both use
// it), counted on one throttle key per user. An account with MFA proves itself
// at its highest level: for it a password alone never counts as recent
// authentication, so unless c is recent anyway the answer is EFORBIDDEN
// MsgMFAPasswordNotEnough, before the password is looked at. A wrong password
// is EINVALID MsgWrongPassword; an account without one EINVALID.
func (s *Service) ConfirmPassword(ctx context.Context, c *account.Caller, password string) error {
	if c == nil || c.User == nil {
		return account.Errorf(account.EUNAUTHORIZED, msgBadAccess)
	}
	key := reauthKeyPrefix + strconv.FormatInt(c.User.ID, 10)
	if err := s.Throttle.Attempt(ctx, key, PasswordLockout); err != nil {
		return err
	}
	if !c.User.HasPassword() {
		return account.Errorf(account.EINVALID, "This account has no password; sign in again through your identity provider")
	}
	if !s.recent(c) {
		if on, err := s.mfaEnabled(ctx, c.User.ID); err != nil {
			return err
		} else if on {
			return account.Errorf(account.EFORBIDDEN, MsgMFAPasswordNotEnough)
		}
	}
	if len(password) > account.MaxPasswordLength {
		return account.Errorf(account.EINVALID, MsgWrongPassword)
	}
	if _, err := s.Hasher.Verify(ctx, *c.User.PasswordHash, password); errors.Is(err, secret.ErrMismatch) {
		return account.Errorf(account.EINVALID, MsgWrongPassword)
	} else if err != nil {
		return fmt.Errorf("verify password: %w", err)
	}
	return s.Throttle.Succeeded(ctx, key)
}

// event records a security event; a failure is logged, never shown to the user.
func (s *Service) event(ctx context.Context, userID *int64, typ string, dev Device, detail map[string]any) {
	e := &account.SecurityEvent{UserID: userID, Type: typ, IPAddress: dev.IP, UserAgent: dev.UserAgent, Detail: detail, CreatedAt: s.Now()}
	if err := s.Events.RecordSecurityEvent(ctx, e); err != nil {
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
