package account

import (
	"context"
	"time"
)

// Security event types recorded in the security log.
const (
	EventLogin              = "login"
	EventLoginFailed        = "login_failed"
	EventLogout             = "logout"
	EventRefreshReuse       = "refresh_token_reuse"
	EventSessionRevoked     = "session_revoked"
	EventPasswordChanged    = "password_changed"
	EventMFAEnabled         = "mfa_enabled"
	EventMFADisabled        = "mfa_disabled"
	EventMFAReset           = "mfa_reset"
	EventMFAReplay          = "mfa_replay_rejected"
	EventMFAFailed          = "mfa_failed"
	EventBackupCodeUsed     = "backup_code_used"
	EventBackupCodesRenewed = "backup_codes_regenerated"
	EventStepUp             = "step_up"
	EventIdPLogin           = "idp_login"
	EventIdPLinked          = "idp_linked"
	EventIdPUnlinked        = "idp_unlinked"
	EventExport             = "export"
	EventImport             = "import"
	EventUserDeleted        = "user_deleted"
	EventPasskeyAdded       = "passkey_added"
	EventPasskeyRenamed     = "passkey_renamed"
	EventPasskeyRemoved     = "passkey_removed"
	EventPasskeyFailed      = "passkey_failed"
	EventPasskeyCounter     = "passkey_counter_rejected"
)

// SecurityEvent is one entry of the security log. Detail never holds a secret.
type SecurityEvent struct {
	ID        int64
	UserID    *int64
	Type      string
	IPAddress string
	UserAgent string
	Detail    map[string]any
	CreatedAt time.Time
}

// EventTypes lists every event type, the stable names the API answers.
var EventTypes = []string{EventLogin, EventLoginFailed, EventLogout, EventRefreshReuse, EventSessionRevoked,
	EventPasswordChanged, EventMFAEnabled, EventMFADisabled, EventMFAReset, EventMFAReplay, EventMFAFailed,
	EventBackupCodeUsed, EventBackupCodesRenewed, EventStepUp, EventIdPLogin, EventIdPLinked, EventIdPUnlinked,
	EventExport, EventImport}

// DefaultEventRetention is how long security events are kept unless
// configured otherwise.
const DefaultEventRetention = 90 * 24 * time.Hour

// EventStore records and lists security events.
type EventStore interface {
	RecordSecurityEvent(ctx context.Context, e *SecurityEvent) error
	ListSecurityEvents(ctx context.Context, userID int64, limit int) ([]*SecurityEvent, error)
	// ListSecurityEventsBefore pages through a user's events, newest first:
	// up to limit events with an id below before (0: from the newest).
	ListSecurityEventsBefore(ctx context.Context, userID, before int64, limit int) ([]*SecurityEvent, error)
	// LastSecurityEventBefore is the user's newest event of typ with an id
	// below before, or ENOTFOUND.
	LastSecurityEventBefore(ctx context.Context, userID int64, typ string, before int64) (*SecurityEvent, error)
}
