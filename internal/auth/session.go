package auth

import (
	"context"
	"time"

	"github.com/trailpass/trailpass/internal/account"
)

// Token lifetimes. A refresh slides the session's expiry forward by RefreshTTL, but
// never past AbsoluteTTL after the sign-in.
const (
	AccessTTL     = 15 * time.Minute
	RefreshTTL    = 7 * 24 * time.Hour
	AbsoluteTTL   = 30 * 24 * time.Hour
	TicketTTL     = 5 * time.Minute
	RecentAuthTTL = 10 * time.Minute
	touchInterval = time.Minute
	refreshGrace  = 10 * time.Second
	tokenAccess   = "access"
	tokenRefresh  = "refresh"
)

// Authentication methods recorded on a session.
const (
	MethodPassword           = "password"
	MethodPasswordTOTP       = "password+totp"
	MethodPasswordBackupCode = "password+backup_code"
	MethodSSO                = "sso"
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
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// Store is what sessions need from storage.
type Store interface {
	CreateSession(ctx context.Context, s *Session, tokens []TokenRow) error
	// FindAccessSession returns the live session owning an unexpired access
	// token, with its user, in one round trip. ENOTFOUND when there is none.
	FindAccessSession(ctx context.Context, hash string, now time.Time) (*Session, *account.User, error)
	// FindSessionByToken returns the live session owning an unexpired token of kind.
	// ENOTFOUND when there is none.
	FindSessionByToken(ctx context.Context, hash, kind string, now time.Time) (*Session, *TokenRow, error)
	// RotateRefresh supersedes oldHash (only if it still is current) and adds the new
	// tokens, sliding the session's expiry. rotated is false when oldHash was already
	// superseded by a concurrent refresh; nothing is written then.
	RotateRefresh(ctx context.Context, sessionID, oldHash string, now, expiresAt time.Time, ip string, tokens []TokenRow) (rotated bool, err error)
	// GraceRefresh spends the single grace use of a superseded refresh token;
	// ok is false (and nothing written) when it was spent already.
	GraceRefresh(ctx context.Context, sessionID, oldHash string, now, expiresAt time.Time, tokens []TokenRow) (ok bool, err error)
	TouchSession(ctx context.Context, id string, now time.Time, olderThan time.Time) error
	SetSessionAuthenticatedAt(ctx context.Context, id string, at time.Time) error
	ListSessions(ctx context.Context, userID int64, now time.Time) ([]*Session, error)
	DeleteSession(ctx context.Context, id string) (bool, error)
	DeleteUserSession(ctx context.Context, userID int64, id string) (bool, error)
	DeleteOtherSessions(ctx context.Context, userID int64, keepID string) (int64, error)
	CreateLoginTicket(ctx context.Context, t *LoginTicket) error
	FindLoginTicket(ctx context.Context, hash string, now time.Time) (*LoginTicket, error)
	DeleteLoginTicket(ctx context.Context, hash string) (bool, error)
	UpdatePasswordHashIf(ctx context.Context, userID int64, oldHash, newHash string) error
}
