package passkey

import (
	"context"
	"time"
)

// Credential is a registered passkey as stored. CredentialID and PublicKey
// never leave the server: not in responses, logs or exports.
type Credential struct {
	ID              int64
	UserID          int64
	CredentialID    []byte
	PublicKey       []byte
	AttestationType string
	AAGUID          []byte
	SignCount       uint32
	Transports      []string
	UserVerified    bool
	BackupEligible  bool
	BackupState     bool
	Name            string
	CreatedAt       time.Time
	LastUsedAt      *time.Time
}

// Challenge is a pending ceremony: the library's session data, bound to what
// began it.
type Challenge struct {
	Hash    string // of the challenge the client signs
	Purpose string
	UserID  *int64
	// Binding is the session id or sign-in ticket hash that began the ceremony;
	// empty for a passwordless sign-in, which has neither.
	Binding   string
	Data      []byte
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Store is what passkeys need from storage.
type Store interface {
	// EnsureUserHandle returns userID's WebAuthn user handle, storing candidate
	// as the handle if the user has none yet.
	EnsureUserHandle(ctx context.Context, userID int64, candidate []byte) ([]byte, error)
	// UserHandle returns userID's handle; ENOTFOUND when it has none.
	UserHandle(ctx context.Context, userID int64) ([]byte, error)
	ListPasskeys(ctx context.Context, userID int64) ([]*Credential, error)
	// FindPasskeyByCredentialID returns ENOTFOUND when no passkey has that id.
	FindPasskeyByCredentialID(ctx context.Context, credentialID []byte) (*Credential, error)
	// CreatePasskey sets c.ID; ECONFLICT when the credential id is registered.
	CreatePasskey(ctx context.Context, c *Credential) error
	// RenamePasskey returns ENOTFOUND unless userID owns id.
	RenamePasskey(ctx context.Context, userID, id int64, name string) error
	// DeletePasskey removes userID's passkey id unless it is the account's
	// last way to sign in (no password, no link to an enabled provider, no
	// other passkey): EINVALID lastMethodMsg then. ENOTFOUND unless userID owns id.
	DeletePasskey(ctx context.Context, userID, id int64, lastMethodMsg string) error
	// UsePasskey records a sign-in with id at signCount, only if the counter
	// advanced (or both it and the stored one are zero, as authenticators
	// without counters send); false and nothing written otherwise.
	UsePasskey(ctx context.Context, id int64, signCount uint32, backupState bool, now time.Time) (bool, error)
	CountPasskeys(ctx context.Context, userID int64) (int, error)
	PutChallenge(ctx context.Context, c *Challenge) error
	// TakeChallenge deletes and returns the unexpired challenge hash of purpose
	// and binding, atomically: of concurrent takers one gets it. ENOTFOUND
	// when there is none.
	TakeChallenge(ctx context.Context, hash, purpose, binding string, now time.Time) (*Challenge, error)
}
