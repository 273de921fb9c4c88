package account

import (
	"context"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"
)

// Access types, as Endurain numbers them.
const (
	AccessRegular = 1
	AccessAdmin   = 2
)

// Answers to a sign-in with the right password to an account that sign-up
// has not finished with.
const (
	// MsgEmailNotVerifiedLogin answers a sign-in with the right password to an
	// account that still waits for its email to be verified.
	MsgEmailNotVerifiedLogin = "Email is not verified. Open the link sent to your email address to activate your account."
	// MsgPendingApprovalLogin answers a sign-in with the right password to an
	// account that waits for an admin's approval. It keeps Endurain's "Inactive
	// user" first, which its web app shows after its own 403 text.
	MsgPendingApprovalLogin = "Inactive user: your account is waiting for an administrator's approval."
)

// User is an account. PasswordHash is nil for accounts created through SSO that
// never set a password. The hash never leaves the server.
type User struct {
	ID                   int64
	Name                 string
	Username             string
	Email                string
	PasswordHash         *string
	City                 *string
	Birthdate            *string // YYYY-MM-DD
	PreferredLanguage    string
	Gender               int
	Units                int
	Height               *int
	MaxHeartRate         *int
	AccessType           int
	PhotoPath            *string
	Active               bool
	FirstDayOfWeek       int
	Currency             int
	EmailVerified        bool
	PendingAdminApproval bool
	CreatedAt            time.Time
	UpdatedAt            time.Time
	// CredentialVersion counts the writes of the password; a sign-in is bound
	// to the version it checked.
	CredentialVersion int64
}

// IsAdmin reports whether the user has the admin access type.
func (u *User) IsAdmin() bool { return u.AccessType == AccessAdmin }

// HasPassword reports whether the user can sign in with a password.
func (u *User) HasPassword() bool { return u.PasswordHash != nil && *u.PasswordHash != "" }

// Store is what the account rules need from storage.
type Store interface {
	// CreateUser inserts u and its one-per-user child rows (privacy settings,
	// integrations, health targets, default gear) in one transaction and sets u.ID.
	// Returns ECONFLICT if the username or email is taken.
	CreateUser(ctx context.Context, u *User) error
	// FindUserByID returns ENOTFOUND if no such user exists.
	FindUserByID(ctx context.Context, id int64) (*User, error)
	// FindUserByUsername looks the username up lower-cased; ENOTFOUND if absent.
	FindUserByUsername(ctx context.Context, username string) (*User, error)
	// ListUsers returns every user ordered by id.
	ListUsers(ctx context.Context) ([]*User, error)
	// CountUsers returns the number of users.
	CountUsers(ctx context.Context) (int, error)
	// SetPasswordHash replaces the password hash; ENOTFOUND if no such user.
	SetPasswordHash(ctx context.Context, id int64, hash string) error
	PasswordStore
}

// PasswordStore is what a password change needs from storage.
type PasswordStore interface {
	// ReplacePassword sets the password hash and, in the same transaction,
	// drops the user's pending sign-in tickets and OIDC states and, when
	// signOut is set, every session but keepSessionID. It returns how many
	// sessions it ended. ENOTFOUND if no such user.
	ReplacePassword(ctx context.Context, userID int64, hash, keepSessionID string, signOut bool) (int, error)
}

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._@+-]{0,249}$`)

// NormalizeUsername lower-cases and trims a username, as Endurain stores it.
func NormalizeUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// NormalizeEmail lower-cases and trims an email address.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidateUsername checks a normalized username.
func ValidateUsername(s string) *FieldError {
	if !usernameRE.MatchString(s) {
		return &FieldError{Field: "username", Message: "Username must be 1-250 characters: letters, digits and . _ @ + -"}
	}
	return nil
}

// ValidateEmail checks a normalized email address.
func ValidateEmail(s string) *FieldError {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 250 || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return &FieldError{Field: "email", Message: "Value is not a valid email address"}
	}
	return nil
}

// ApplyIdentity sets the name, username and email given (nil keeps the
// current value), normalised as stored, and returns the problems it finds. The
// profile, user administration and account creation share it, so the rules
// for who an account is are written once.
func ApplyIdentity(u *User, name, username, email *string) []FieldError {
	var problems []FieldError
	if name != nil {
		u.Name = strings.TrimSpace(*name)
		if u.Name == "" || len(u.Name) > 250 {
			problems = append(problems, FieldError{Field: "name", Message: "Name must be 1-250 characters"})
		}
	}
	if username != nil {
		u.Username = NormalizeUsername(*username)
		if fe := ValidateUsername(u.Username); fe != nil {
			problems = append(problems, *fe)
		}
	}
	if email != nil {
		u.Email = NormalizeEmail(*email)
		if fe := ValidateEmail(u.Email); fe != nil {
			problems = append(problems, *fe)
		}
	}
	return problems
}

// PasswordPolicy is the text shown when a password does not meet the policy.
const PasswordPolicy = "Password must be between 8 and 1024 characters long and contain at least one uppercase letter, one lowercase letter, one number, and one special character"

// MaxPasswordLength bounds the work a password can cause when hashed.
const MaxPasswordLength = 1024

// ValidatePassword enforces Endurain's hasher policy (at least 8 characters with
// upper, lower, digit and punctuation) plus a maximum length. Returns EUNPROCESSABLE on the field "password".
func ValidatePassword(p string) error {
	var upper, lower, digit, punct bool
	n := 0
	for _, r := range p {
		n++
		switch {
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsDigit(r):
			digit = true
		case r < unicode.MaxASCII && (unicode.IsPunct(r) || unicode.IsSymbol(r)):
			punct = true
		}
	}
	if n < 8 || len(p) > MaxPasswordLength || !upper || !lower || !digit || !punct {
		// Endurain rejects a weak password in its request schema: a 422 naming
		// the field, not a 400.
		return ValidationError(FieldError{Field: "password", Message: PasswordPolicy})
	}
	return nil
}
