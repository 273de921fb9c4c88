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

// EventStore records and lists security events.
type EventStore interface {
	RecordSecurityEvent(ctx context.Context, e *SecurityEvent) error
	ListSecurityEvents(ctx context.Context, userID int64, limit int) ([]*SecurityEvent, error)
}
