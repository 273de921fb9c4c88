package mfa

import "time"

// MFAFactor is a user's enrolled TOTP factor. The secret is sealed; LastUsedStep
// is the latest time step a code was accepted for.
type MFAFactor struct {
	UserID           int64
	SecretCiphertext string
	LastUsedStep     int64
	CreatedAt        time.Time
}

// MFASetup is a pending TOTP enrolment: a sealed secret waiting for its first code.
type MFASetup struct {
	UserID           int64
	SecretCiphertext string
	Attempts         int
	ExpiresAt        time.Time
}

// BackupCode is an unused backup code's hash.
type BackupCode struct {
	ID   int64
	Hash string
}

// BackupCodeStats counts a user's backup codes.
type BackupCodeStats struct {
	Total, Remaining int
	CreatedAt        *time.Time // when the current set was made; nil without codes
}
