package auth

import (
	"context"
	"errors"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/profile"
)

// Token lifetimes. A refresh slides the session's expiry forward by RefreshTTL, but
// never past AbsoluteTTL after the sign-in.
const (
	AccessTTL     = 15 * time.Minute
	RefreshTTL    = 7 * 24 * time.Hour
	AbsoluteTTL   = 30 * 24 * time.Hour
	TicketTTL     = 5 * time.Minute
	touchInterval = time.Minute
	refreshGrace  = 10 * time.Second
	// DefaultRecentAuthWindow is how long a sign-in or step-up counts as recent
	// when Service.RecentAuthWindow is unset (TRAILPASS_RECENT_AUTH_WINDOW).
	DefaultRecentAuthWindow = 10 * time.Minute
	// reauthKeyPrefix names the throttle counter of current-password checks,
	// one per user: a stolen session gets one budget of guesses, not one per
	// route.
	reauthKeyPrefix = "reauth:user:"
	// ticketLease bounds how long one verification holds a ticket: longer than
	// checking a code takes, short enough that a crashed request frees it soon.
	ticketLease  = time.Minute
	tokenAccess  = "access"
	tokenRefresh = "refresh"
)

// Authentication methods recorded on a session.
const (
	MethodPassword           = "password"
	MethodPasswordTOTP       = "password+totp"
	MethodPasswordBackupCode = "password+backup_code"
	MethodSSO                = "sso"
	MethodPasskey            = "passkey"
)

// Session is one signed-in device. Tokens are never part of it.
type Session struct {
	ID                     string
	UserID                 int64
	FamilyID               string
	AuthMethod             string
	IPAddress              string
	DeviceType             string
	OperatingSystem        string
	OperatingSystemVersion string
	Browser                string
	BrowserVersion         string
	UserAgent              string // raw, for devices the parser does not recognise
	CreatedAt              time.Time
	AuthenticatedAt        time.Time
	LastActiveAt           time.Time
	ExpiresAt              time.Time
	AbsoluteExpiresAt      time.Time
}

// Principal is the caller of an authenticated request.
type Principal struct {
	User    *account.User
	Session *Session
}

// Caller is p as the services see it. IP is the session's sign-in address; the
// HTTP layer overwrites IP and UserAgent with the request's.
func (p *Principal) Caller() *account.Caller {
	return &account.Caller{User: p.User, SessionID: p.Session.ID, AuthenticatedAt: p.Session.AuthenticatedAt,
		IP: p.Session.IPAddress}
}

// TokenRow is a stored token hash.
type TokenRow struct {
	Hash         string
	SessionID    string
	Kind         string
	CreatedAt    time.Time
	ExpiresAt    time.Time
	SupersededAt *time.Time
}

// LoginTicket is a sign-in that passed the password and waits for its MFA code.
type LoginTicket struct {
	Hash       string
	UserID     int64
	Username   string
	ClientType string
	AuthMethod string
	// CredentialVersion is the user's credential version when the first step
	// passed; a password write since then voids the ticket.
	CredentialVersion int64
	IPAddress         string // of the first step, as computed for throttling
	CreatedAt         time.Time
	ExpiresAt         time.Time
}

// SessionGuard is what must still hold when a session is inserted.
type SessionGuard struct {
	// CredentialVersion is the user's version the sign-in checked.
	CredentialVersion int64
	// TicketHash and ClaimToken, when set, name a claimed ticket the sign-in
	// consumes in the same transaction.
	TicketHash, ClaimToken string
}

// ErrSignInStale is the store's answer when a SessionGuard no longer holds: the
// password changed, the account was deactivated or the ticket was lost.
var ErrSignInStale = errors.New("auth: sign-in no longer valid")

// Store is what sessions need from storage.
type Store interface {
	// CreateSession inserts the session and its tokens only while g holds;
	// ErrSignInStale (nothing written) otherwise.
	CreateSession(ctx context.Context, s *Session, tokens []TokenRow, g SessionGuard) error
	// FindAccessSession returns the live session owning an unexpired access
	// token, with its user, in one round trip. ENOTFOUND when there is none.
	FindAccessSession(ctx context.Context, hash string, now time.Time) (*Session, *account.User, error)
	// FindAccessSessionProfile is FindAccessSession that also reads what GET
	// /profile shows beside the user (privacy settings, links), and the user's
	// data version, still in one round trip. The profile's Privacy is nil when
	// the user has no privacy row; the version is -1 when unknown.
	FindAccessSessionProfile(ctx context.Context, hash string, now time.Time) (*Session, *profile.Profile, int64, error)
	// CheckAccessSession is FindAccessSession with the user's data version in
	// place of the user. The version changes, in the same transaction, with
	// the user row and everything else GET /profile shows.
	CheckAccessSession(ctx context.Context, hash string, now time.Time) (*Session, int64, error)
	// FindSessionByToken returns the live session owning an unexpired token of kind.
	// ENOTFOUND when there is none.
	FindSessionByToken(ctx context.Context, hash, kind string, now time.Time) (*Session, *TokenRow, error)
	// RotateRefresh supersedes oldHash (only if it still is current), records the
	// new refresh token as its successor derived from seed, and adds the new
	// tokens, sliding the session's expiry. rotated is false when oldHash was
	// already superseded by a concurrent refresh; nothing is written then.
	RotateRefresh(ctx context.Context, sessionID, oldHash, seed string, now, expiresAt time.Time, ip string, tokens []TokenRow) (rotated bool, err error)
	// FindRefreshSuccessor returns the seed and the unexpired successor row of a
	// rotated refresh token; ENOTFOUND when there is none.
	FindRefreshSuccessor(ctx context.Context, oldHash string, now time.Time) (seed string, successor *TokenRow, err error)
	TouchSession(ctx context.Context, id string, now time.Time, olderThan time.Time) error
	SetSessionAuthenticatedAt(ctx context.Context, id string, at time.Time) error
	ListSessions(ctx context.Context, userID int64, now time.Time) ([]*Session, error)
	DeleteSession(ctx context.Context, id string) (bool, error)
	DeleteUserSession(ctx context.Context, userID int64, id string) (bool, error)
	DeleteOtherSessions(ctx context.Context, userID int64, keepID string) (int64, error)
	CreateLoginTicket(ctx context.Context, t *LoginTicket) error
	// ClaimLoginTicket and ClaimLoginTicketByAddress take an unclaimed,
	// unexpired ticket for claim until leaseUntil; of concurrent claims one
	// wins. ENOTFOUND when there is none free.
	ClaimLoginTicket(ctx context.Context, hash, username, claim string, now, leaseUntil time.Time) (*LoginTicket, error)
	ClaimLoginTicketByAddress(ctx context.Context, username, ip, method, claim string, now, leaseUntil time.Time) (*LoginTicket, error)
	// FindLoginTicket returns, without claiming it, the unexpired ticket hash
	// of username, or when hash is empty the newest one whose first step was
	// method from ip. ENOTFOUND when there is none.
	FindLoginTicket(ctx context.Context, hash, username, ip, method string, now time.Time) (*LoginTicket, error)
	// ReleaseLoginTicket frees a ticket claim still holds.
	ReleaseLoginTicket(ctx context.Context, hash, claim string) error
	UpdatePasswordHashIf(ctx context.Context, userID int64, oldHash, newHash string) error
}
