package account

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/trailpass/trailpass/internal/secret"
)

// Service holds the account rules shared by the API, the console and the CLI.
type Service struct {
	Store  Store
	Hasher *secret.Hasher
	Now    func() time.Time
	// Recent enforces the recent-authentication rule on ResetPassword; nil
	// refuses it.
	Recent RecentAuthChecker
	// Notices queues security notices with the change they report; nil sends none.
	Notices Notifier
}

// NewUser is the input of CreateUser.
type NewUser struct {
	Username string
	Email    string
	Name     string
	Password string // empty: an account without a password (SSO only)
	Admin    bool
	// EmailVerified records that someone vouches for the email: an operator or
	// admin creating the account, or an identity provider. Only a vouched email
	// may be matched when a provider links identities by email.
	EmailVerified bool
	// Inactive creates the account deactivated (an admin's choice).
	Inactive bool
	// Profile, when set, fills the other profile fields (city, units, …) of u
	// and returns every problem it finds; the identity is set already. Sign-up
	// and user administration pass PUT /profile's rules
	// (profile.Update.ForNewUser).
	Profile func(u *User, now time.Time) []FieldError
}

// CreateUser validates and creates an account with Endurain's defaults.
// Returns EUNPROCESSABLE for bad fields, EUNPROCESSABLE (field password) for a
// password that breaks the policy and ECONFLICT when the username or email is taken.
func (s *Service) CreateUser(ctx context.Context, in NewUser) (*User, error) {
	u, err := s.PrepareUser(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.Store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// PrepareUser validates in and builds the account CreateUser would store
// (password hashed, timestamps set) without storing it, for callers that store
// it together with other rows (a sign-up with its verification token).
func (s *Service) PrepareUser(ctx context.Context, in NewUser) (*User, error) {
	u := &User{
		PreferredLanguage: "us",
		Gender:            1,
		Units:             1,
		AccessType:        AccessRegular,
		Active:            !in.Inactive,
		EmailVerified:     in.EmailVerified,
		FirstDayOfWeek:    1,
		Currency:          1,
	}
	name := in.Name
	if strings.TrimSpace(name) == "" {
		name = NormalizeUsername(in.Username)
	}
	problems := ApplyIdentity(u, &name, &in.Username, &in.Email)
	if in.Password != "" {
		// One answer listing every bad field, as Endurain's request schema gives.
		var e *Error
		if err := ValidatePassword(in.Password); errors.As(err, &e) {
			problems = append(problems, e.Fields...)
		}
	}
	if in.Profile != nil {
		problems = append(problems, in.Profile(u, s.Now())...)
	}
	if len(problems) > 0 {
		return nil, ValidationError(problems...)
	}
	if in.Admin {
		u.AccessType = AccessAdmin
	}
	if in.Password != "" {
		hash, err := s.Hasher.Hash(ctx, in.Password)
		if err != nil {
			return nil, fmt.Errorf("hash password: %w", err)
		}
		u.PasswordHash = &hash
	}
	now := s.Now().UTC()
	u.CreatedAt, u.UpdatedAt = now, now
	return u, nil
}

// EnsureAdmin creates the account "admin" when the database has no users at all.
// password may be empty, in which case one is generated and returned so the caller
// can show it once. created is false when users already existed.
func (s *Service) EnsureAdmin(ctx context.Context, password string) (created bool, generated string, err error) {
	n, err := s.Store.CountUsers(ctx)
	if err != nil {
		return false, "", err
	}
	if n > 0 {
		return false, "", nil
	}
	if password == "" {
		password = GeneratePassword(20)
		generated = password
	}
	_, err = s.CreateUser(ctx, NewUser{Username: "admin", Email: "admin@localhost.localdomain", Name: "Administrator", Password: password, Admin: true, EmailVerified: true})
	if ErrorCode(err) == ECONFLICT {
		// Another instance created it at the same moment.
		return false, "", nil
	} else if err != nil {
		return false, "", fmt.Errorf("create admin: %w", err)
	}
	return true, generated, nil
}

// GeneratePassword returns a random password of length n (at least 8) that meets
// the password policy.
func GeneratePassword(n int) string {
	const (
		upper = "ABCDEFGHJKLMNPQRSTUVWXYZ"
		lower = "abcdefghijkmnopqrstuvwxyz"
		digit = "23456789"
		punct = "!#%+-.:=?@_~"
		all   = upper + lower + digit + punct
	)
	if n < 8 {
		n = 8
	}
	out := make([]byte, n)
	sets := []string{upper, lower, digit, punct}
	for i := range out {
		set := all
		if i < len(sets) {
			set = sets[i]
		}
		out[i] = set[randIntn(len(set))]
	}
	// Shuffle so the guaranteed classes are not always in front.
	for i := len(out) - 1; i > 0; i-- {
		j := randIntn(i + 1)
		out[i], out[j] = out[j], out[i]
	}
	return string(out)
}

// randIntn returns a uniform random int in [0, n) from crypto/rand.
func randIntn(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return int(v.Int64())
}

// ResetPassword is an operator's or admin's password reset: it validates and
// sets the password and, in the same transaction, ends every session of the
// user but keepSessionID ("" ends them all) and their pending sign-ins, since
// whoever held them may not know the new password. Returns how many sessions
// ended; EUNPROCESSABLE when the password breaks the policy, ENOTFOUND for an unknown
// user. It needs c's recent authentication.
func (s *Service) ResetPassword(ctx context.Context, c *Caller, userID int64, password, keepSessionID string) (int, error) {
	if err := RequireRecentAuth(ctx, s.Recent, c); err != nil {
		return 0, err
	}
	if err := ValidatePassword(password); err != nil {
		return 0, err
	}
	hash, err := s.Hasher.Hash(ctx, password)
	if err != nil {
		return 0, fmt.Errorf("hash password: %w", err)
	}
	return s.Store.ReplacePassword(Notify(ctx, s.Notices, userID, Notice{Kind: NoticePasswordChanged, At: s.Now()}), userID, hash, keepSessionID, true)
}
