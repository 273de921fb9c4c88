package httpapi

import (
	"encoding/json"
	"time"

	"github.com/trailpass/trailpass/internal/profile"
)

// Every request and response body of the API, in one place. Handlers decode
// into and answer with these types; apiOps (openapi.go) names the same types,
// and the OpenAPI document is generated from them, so the document cannot
// describe a shape the handlers do not use. The test harness (httpapitest)
// checks every answer the tests receive against that document.

// Markers for apiOps: bodies that are not one Go type's JSON.
type (
	formBody      struct{}
	multipartBody struct{}
	redirect      struct{}
	// jsonNull is an answer of JSON null, as some of Endurain's routes give.
	jsonNull struct{}
	// anyOf lists the shapes one answer may take (by client type or role).
	anyOf []any
)

type (
	// statusBody answers the health checks; Detail says why one is not ready.
	statusBody struct {
		Status string `json:"status"`
		Detail string `json:"detail,omitempty"`
	}
	detailBody struct {
		Detail string `json:"detail"`
	}
	messageBody struct {
		Message string `json:"message"`
	}
	sessionIDBody struct {
		SessionID string `json:"session_id"`
	}
	mfaChallengeBody struct {
		MFARequired bool   `json:"mfa_required"`
		Username    string `json:"username"`
		Message     string `json:"message"`
		MFATicket   string `json:"mfa_ticket,omitempty"`
	}
	mfaVerifyRequest struct {
		Username  string `json:"username"`
		MFACode   string `json:"mfa_code"`
		MFATicket string `json:"mfa_ticket,omitempty"`
	}
	passwordBody struct {
		Password string `json:"password"`
	}
	validUntilBody struct {
		Message    string    `json:"message"`
		ValidUntil time.Time `json:"valid_until"`
	}
	revokedBody struct {
		Detail  string `json:"detail"`
		Revoked int    `json:"revoked"`
	}
	// detailRevokedBody answers an admin's password or MFA reset: the user's
	// sessions end with it.
	detailRevokedBody struct {
		Detail          string `json:"detail"`
		SessionsRevoked int    `json:"sessions_revoked"`
	}
	availabilityBody struct {
		Available bool `json:"available"`
	}
	// userCreateDoc documents POST /api/v1/users: Endurain's UserCreate.
	userCreateDoc struct {
		profile.UserRead
		Password string `json:"password"`
	}
	mfaStatusBody struct {
		MFAEnabled           bool `json:"mfa_enabled"`
		BackupCodesRemaining int  `json:"backup_codes_remaining"`
		// Factors is trailpass's: "totp" and/or "passkey".
		Factors []string `json:"factors"`
	}
	// passkeyRegisterRequest finishes a registration: the PublicKeyCredential
	// as the browser's toJSON() gives it, and a name for the passkey.
	passkeyRegisterRequest struct {
		Name       string          `json:"name"`
		Credential json.RawMessage `json:"credential"`
	}
	passkeyNameBody struct {
		Name string `json:"name"`
	}
	// passkeyCredentialRequest finishes a passkey sign-in or step-up.
	passkeyCredentialRequest struct {
		Credential json.RawMessage `json:"credential"`
	}
	// passkeyMFABeginRequest names the pending sign-in of a passkey MFA step:
	// web clients may leave the ticket to its cookie.
	passkeyMFABeginRequest struct {
		Username  string `json:"username"`
		MFATicket string `json:"mfa_ticket,omitempty"`
	}
	passkeyMFAFinishRequest struct {
		passkeyMFABeginRequest
		Credential json.RawMessage `json:"credential"`
	}
	mfaSetupBody struct {
		Secret        string `json:"secret"`
		SecretGrouped string `json:"secret_grouped"`
		QRCode        string `json:"qr_code"`
		AppName       string `json:"app_name"`
		OTPAuthURI    string `json:"otpauth_uri"`
	}
	mfaCodesBody struct {
		Message     string   `json:"message"`
		BackupCodes []string `json:"backup_codes"`
	}
	mfaDisableBody struct {
		Message         string `json:"message"`
		SessionsRevoked int    `json:"sessions_revoked"`
	}
	backupStatusBody struct {
		HasCodes  bool       `json:"has_codes"`
		Total     int        `json:"total"`
		Unused    int        `json:"unused"`
		Used      int        `json:"used"`
		CreatedAt *time.Time `json:"created_at"`
		Remaining int        `json:"remaining"` // = unused; trailpass's name before Endurain's
	}
	backupCodesBody struct {
		Codes       []string  `json:"codes"`
		CreatedAt   time.Time `json:"created_at"`
		BackupCodes []string  `json:"backup_codes"` // = codes, as MFA enable names them
		Message     string    `json:"message"`
	}
	// ErrorBody is every error answer: a message, or for 422 a FastAPI-style list.
	ErrorBody struct {
		Detail    any    `json:"detail"`
		RequestID string `json:"request_id"`
	}
)

// tokenBody is the mobile client's token response. expires_in keeps Endurain's
// meaning (the access token's expiry as a Unix timestamp), which its clients read.
type tokenBody struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	SessionID    string `json:"session_id"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
}

// validationItem is one entry of a FastAPI-style 422 detail list.
type validationItem struct {
	Loc  []string `json:"loc"`
	Msg  string   `json:"msg"`
	Type string   `json:"type"`
}

// publicProviderView is what a regular user sees of a provider: enough to offer
// linking, none of the configuration.
type publicProviderView struct {
	ID           int64   `json:"id"`
	Name         string  `json:"name"`
	Slug         string  `json:"slug"`
	ProviderType string  `json:"provider_type"`
	Enabled      bool    `json:"enabled"`
	Icon         *string `json:"icon"`
}

// jobIDBody is the answer to an asynchronous import.
type jobIDBody struct {
	JobID string `json:"job_id"`
}

type mfaCodeBody struct {
	MFACode string `json:"mfa_code"`
}

// notificationJSON is Endurain's Notification.
type notificationJSON struct {
	ID        int64           `json:"id"`
	UserID    int64           `json:"user_id"`
	Type      int             `json:"type"`
	Options   json.RawMessage `json:"options"`
	Read      bool            `json:"read"`
	CreatedAt time.Time       `json:"created_at"`
}

type resetRequestBody struct {
	Email string `json:"email"`
}

type resetConfirmBody struct {
	Token       string `json:"token"`
	NewPassword string `json:"new_password"`
}

type noticeSettingsBody struct {
	NewSignIn *bool `json:"new_sign_in"`
}

type signUpConfirmBody struct {
	Token string `json:"token"`
}

// signUpDoc documents POST /api/v1/sign-up/request: Endurain's UserSignup.
type signUpDoc struct {
	profile.UserMe
	Password string `json:"password"`
}

// securityEventJSON is one entry of the caller's security history. It is
// built field by field from what the log holds, never by copying the log's
// detail, so nothing recorded there for operators (or by mistake) reaches a
// client.
type securityEventJSON struct {
	ID   int64  `json:"id"`
	Type string `json:"type" enum:"login,login_failed,logout,refresh_token_reuse,session_revoked,password_changed,mfa_enabled,mfa_disabled,mfa_reset,mfa_replay_rejected,mfa_failed,backup_code_used,backup_codes_regenerated,step_up,idp_login,idp_linked,idp_unlinked,export,import,user_deleted,passkey_added,passkey_renamed,passkey_removed,passkey_failed,passkey_counter_rejected"`
	// CreatedAt is when it happened.
	CreatedAt time.Time `json:"created_at"`
	// IPAddress is the client's address; empty when the event came from no
	// request of the user's (an operator's MFA reset, for example).
	IPAddress string `json:"ip_address"`
	// Device is the browser and OS read from the User-Agent; null when there
	// was none or neither could be recognised.
	Device *eventDevice `json:"device"`
	// UserAgent is the raw User-Agent, shortened, when Device is null.
	UserAgent string `json:"user_agent,omitempty"`
	// Method is how a sign-in (login), step-up, MFA removal or replayed code
	// proved the user.
	Method string `json:"method,omitempty" enum:"password,password+totp,password+backup_code,password+passkey,sso,sso+totp,sso+backup_code,sso+passkey,passkey,totp,backup_code"`
	// Provider names the identity provider of SSO sign-ins and of idp_* events.
	Provider string `json:"provider,omitempty"`
	// SessionID is the session a login started.
	SessionID string `json:"session_id,omitempty"`
	// SessionActive tells whether that session is still signed in.
	SessionActive bool `json:"session_active"`
	// Current marks the login that started the caller's own session.
	Current bool `json:"current"`
	// Reason says why a sign-in failed.
	Reason string `json:"reason,omitempty" enum:"wrong_password,inactive,other"`
	// Count is how many sessions a session_revoked, mfa_disabled or mfa_reset
	// event ended, or how many backup codes are left after backup_code_used.
	Count *int `json:"count,omitempty"`
}

type eventDevice struct {
	Browser                string `json:"browser"`
	BrowserVersion         string `json:"browser_version"`
	OperatingSystem        string `json:"operating_system"`
	OperatingSystemVersion string `json:"operating_system_version"`
	DeviceType             string `json:"device_type"`
}

// securityEventsPage is one page of the history. NextBefore is the cursor of
// the next (older) page, null on the last.
type securityEventsPage struct {
	Events     []securityEventJSON `json:"events"`
	NextBefore *int64              `json:"next_before"`
}

// sessionJSON is a session as the API shows it: never a token or hash.
type sessionJSON struct {
	ID                     string `json:"id"`
	UserID                 int64  `json:"user_id"`
	IPAddress              string `json:"ip_address"`
	DeviceType             string `json:"device_type"`
	OperatingSystem        string `json:"operating_system"`
	OperatingSystemVersion string `json:"operating_system_version"`
	Browser                string `json:"browser"`
	BrowserVersion         string `json:"browser_version"`
	// UserAgent is the raw header, shortened, when neither the browser nor the
	// OS was recognised (trailpass addition; empty otherwise).
	UserAgent    string    `json:"user_agent,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	ExpiresAt    time.Time `json:"expires_at"`
	LastActiveAt time.Time `json:"last_active_at"`
	AuthMethod   string    `json:"auth_method"`
	Current      bool      `json:"current"`
}

// userCreateBody is what POST /api/v1/users carries beside the profile fields
// (Endurain's UserCreate).
type userCreateBody struct {
	Username   string `json:"username"`
	Email      string `json:"email"`
	Name       string `json:"name"`
	Password   string `json:"password"`
	AccessType int    `json:"access_type"`
	Active     *bool  `json:"active"`
}

// userSearchPage is one page of the console's user search.
type userSearchPage struct {
	Users   []profile.UserRead `json:"users"`
	Total   int                `json:"total"`
	Page    int                `json:"page"`
	PerPage int                `json:"per_page"`
}
