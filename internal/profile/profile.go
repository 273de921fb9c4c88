package profile

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/blob"
	"github.com/trailpass/trailpass/internal/secret"
)

// Store is what the profile rules need from storage.
type Store interface {
	// FindUserByID returns ENOTFOUND if no such user exists.
	FindUserByID(ctx context.Context, id int64) (*account.User, error)
	// UpdateProfile writes the editable columns of u (name, username, email, city,
	// birthdate, gender, units, height, max_heart_rate, preferred_language,
	// first_day_of_week, currency, updated_at) to the row u.ID and nothing else.
	// When recomputeBMI is set it recomputes the BMI of every weight entry of the
	// user from u.Height in the same transaction. Returns ECONFLICT when the
	// username or email is taken and ENOTFOUND for an unknown user.
	UpdateProfile(ctx context.Context, u *account.User, recomputeBMI bool) error
	// ProfileLinks reports the linked integrations and whether MFA is enabled.
	ProfileLinks(ctx context.Context, userID int64) (Links, error)
	// ProfileExtras returns the privacy settings (ENOTFOUND if missing) and the
	// profile links together, in one read.
	ProfileExtras(ctx context.Context, userID int64) (*Privacy, Links, error)
	// SetPhotoPath sets or (nil) clears users.photo_path; ENOTFOUND if no such user.
	SetPhotoPath(ctx context.Context, userID int64, path *string) error
	// UsernameTaken and EmailTaken report whether a user has the exact
	// (normalized) value.
	UsernameTaken(ctx context.Context, username string) (bool, error)
	EmailTaken(ctx context.Context, email string) (bool, error)
	// FindUserByUsername and FindUserByEmail look a normalized value up;
	// ENOTFOUND if absent.
	FindUserByUsername(ctx context.Context, username string) (*account.User, error)
	FindUserByEmail(ctx context.Context, email string) (*account.User, error)

	PrivacyStore
	DefaultGearStore
	GoalStore
	account.PasswordStore

	// ListGear returns the user's gear ordered by id.
	ListGear(ctx context.Context, userID int64) ([]*Gear, error)
	// SetActivitiesVisibility sets the visibility of every activity of the user
	// and returns how many rows changed.
	SetActivitiesVisibility(ctx context.Context, userID int64, visibility int) (int64, error)
}

// Links is what GET /profile shows beside the user row, computed from
// other tables.
type Links struct {
	StravaLinked        bool // users_integrations.strava_token is set
	GarminConnectLinked bool // users_integrations.garminconnect_oauth1 is set
	MFAEnabled          bool // the user has an MFA factor
}

// Service holds the rules of the profile capability: the editable-field
// whitelist, privacy, default gear, goals, the photo and the password change.
// It is safe for concurrent use.
type Service struct {
	Store  Store
	Blobs  blob.Store
	Events account.EventStore
	Hasher *secret.Hasher
	// Recent enforces the recent-authentication rule on the password change,
	// identity changes and other users' photos; nil refuses them.
	Recent account.RecentAuthChecker
	// Lookups limits username and email look-ups per user and per address, so
	// they cannot be used to list the accounts; nil means no limit.
	Lookups RateLimiter
	Now     func() time.Time
	// Notices queues security notices with the change they report; nil sends none.
	Notices account.Notifier

	decodeOnce sync.Once
	decodeSem  chan struct{} // bounds concurrent photo decodes (see photo.go)
}

// Profile is everything GET /profile shows. Marshal it through UserMe, which
// decides the wire shape and leaves out every secret.
type Profile struct {
	User    *account.User
	Privacy *Privacy
	Links   Links
}

// Clone returns a copy of p whose User and Privacy are copies too, so that the
// copy's holder may change them without touching p (values they point to are
// still shared).
func (p *Profile) Clone() *Profile {
	c := *p
	if p.User != nil {
		u := *p.User
		c.User = &u
	}
	if p.Privacy != nil {
		pr := *p.Privacy
		c.Privacy = &pr
	}
	return &c
}

// GetProfile gathers the user, their privacy settings and linked integrations.
// Returns ENOTFOUND for an unknown user.
func (s *Service) GetProfile(ctx context.Context, userID int64) (*Profile, error) {
	u, err := s.Store.FindUserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	return s.ProfileOf(ctx, u)
}

// ProfileOf is GetProfile for a user row the caller has just read, such as the
// signed-in user the request's session lookup returned: one read fewer.
func (s *Service) ProfileOf(ctx context.Context, u *account.User) (*Profile, error) {
	p, links, err := s.Store.ProfileExtras(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	return &Profile{User: u, Privacy: p, Links: links}, nil
}

// Languages are the preferred_language values Endurain accepts.
var Languages = []string{"ca", "cn", "tw", "de", "fr", "gl", "it", "nl", "pt", "sl", "es", "us"}

// Nullable is an optional update of a nullable column: when Set, Value replaces
// the column, and a nil Value stores NULL. The zero value leaves it unchanged.
type Nullable[T any] struct {
	Set   bool
	Value *T
}

// Update lists the only fields a user may change on their own profile.
// Nil pointers and unset Nullables leave the column unchanged. Privileged fields
// (id, access_type, active, email_verified, MFA, photo) have no place here, so
// they cannot be set through it.
type Update struct {
	Name              *string
	Username          *string
	Email             *string
	City              Nullable[string]
	Birthdate         Nullable[string] // YYYY-MM-DD
	Gender            *int
	Units             *int
	Height            Nullable[int] // centimetres
	MaxHeartRate      Nullable[int]
	PreferredLanguage *string
	FirstDayOfWeek    *int
	Currency          *int
}

// MsgDuplicateUser is Endurain's message for a username or email collision.
const MsgDuplicateUser = "Duplicate entry error. Check if email and username are unique"

// UpdateProfile applies the editable fields of in to the user's row and returns
// the updated user. Every bad field is reported (EUNPROCESSABLE with Fields);
// ECONFLICT with MsgDuplicateUser when the username or email is taken; ENOTFOUND
// for an unknown user. A height change recomputes the BMI of the user's weight
// entries. The photo is never touched. A change of username or email (which
// sign-in and recovery go by) needs c's recent authentication.
func (s *Service) UpdateProfile(ctx context.Context, c *account.Caller, userID int64, in Update) (*account.User, error) {
	u, err := s.Store.FindUserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	oldHeight, oldUsername := u.Height, u.Username
	oldEmail, oldVerified := u.Email, u.EmailVerified
	if err := Apply(u, in, s.Now()); err != nil {
		return nil, err
	}
	if u.Username != oldUsername || u.Email != oldEmail {
		if err := account.RequireRecentAuth(ctx, s.Recent, c); err != nil {
			return nil, err
		}
	}
	u.UpdatedAt = s.Now().UTC()
	heightChanged := HeightChanged(oldHeight, u.Height)
	writeCtx := ctx
	if u.Email != oldEmail && oldVerified {
		// The old address hears of the change: if the account was taken over,
		// its owner learns it there.
		writeCtx = account.Notify(ctx, s.Notices, userID, account.Notice{Kind: account.NoticeEmailChanged, At: u.UpdatedAt, To: oldEmail,
			Detail: map[string]string{"new_email": u.Email}})
	}
	if err := s.Store.UpdateProfile(writeCtx, u, heightChanged); err != nil {
		if account.ErrorCode(err) == account.ECONFLICT {
			return nil, account.Errorf(account.ECONFLICT, MsgDuplicateUser)
		}
		return nil, fmt.Errorf("update profile: %w", err)
	}
	return u, nil
}

// Apply sets the fields of in on u, normalised as stored, and returns every
// problem it finds as one EUNPROCESSABLE with Fields (nil when there is none).
// It is PUT /profile's validation without the storage: UpdateProfile, user
// administration and the import's user.json share it, so the rules for a
// profile field are written once; now bounds the birthdate.
func Apply(u *account.User, in Update, now time.Time) error {
	if problems := in.apply(u, now); len(problems) > 0 {
		return account.ValidationError(problems...)
	}
	return nil
}

// ForNewUser returns the rules of in without its identity fields (name,
// username, email), as account.NewUser.Profile takes them: creating an account
// sets the identity itself.
func (in Update) ForNewUser() func(u *account.User, now time.Time) []account.FieldError {
	in.Name, in.Username, in.Email = nil, nil, nil
	return in.apply
}

// HeightChanged reports whether Apply changed the height from before to after:
// storing such a change recomputes the BMI of the user's weight entries.
func HeightChanged(before, after *int) bool {
	if before == nil || after == nil {
		return before != after
	}
	return *before != *after
}

// apply is Apply with the problems one by one, for account creation to list
// them with its own.
func (in Update) apply(u *account.User, now time.Time) []account.FieldError {
	var problems []account.FieldError
	bad := func(field, msg string) { problems = append(problems, account.FieldError{Field: field, Message: msg}) }

	problems = append(problems, account.ApplyIdentity(u, in.Name, in.Username, in.Email)...)
	if in.City.Set {
		u.City = emptyToNil(in.City.Value)
		if u.City != nil && len(*u.City) > 250 {
			bad("city", "City must be at most 250 characters")
		}
	}
	if in.Birthdate.Set {
		u.Birthdate = emptyToNil(in.Birthdate.Value)
		if u.Birthdate != nil {
			d, err := time.Parse(time.DateOnly, *u.Birthdate)
			if err != nil || d.Year() < 1900 || d.After(now) {
				bad("birthdate", "Birthdate must be a past date in the form YYYY-MM-DD")
			}
		}
	}
	if in.Gender != nil {
		u.Gender = *in.Gender
		if u.Gender < 1 || u.Gender > 3 {
			bad("gender", "Gender must be 1, 2 or 3")
		}
	}
	if in.Units != nil {
		u.Units = *in.Units
		if u.Units < 1 || u.Units > 2 {
			bad("units", "Units must be 1 (metric) or 2 (imperial)")
		}
	}
	if in.Height.Set {
		u.Height = in.Height.Value
		if u.Height != nil && (*u.Height < 1 || *u.Height > 300) {
			bad("height", "Height must be between 1 and 300 cm")
		}
	}
	if in.MaxHeartRate.Set {
		u.MaxHeartRate = in.MaxHeartRate.Value
		if u.MaxHeartRate != nil && (*u.MaxHeartRate < 1 || *u.MaxHeartRate > 300) {
			bad("max_heart_rate", "Maximum heart rate must be between 1 and 300")
		}
	}
	if in.PreferredLanguage != nil {
		u.PreferredLanguage = *in.PreferredLanguage
		if !slices.Contains(Languages, u.PreferredLanguage) {
			bad("preferred_language", "Preferred language must be one of "+strings.Join(Languages, ", "))
		}
	}
	if in.FirstDayOfWeek != nil {
		u.FirstDayOfWeek = *in.FirstDayOfWeek
		if u.FirstDayOfWeek < 0 || u.FirstDayOfWeek > 6 {
			bad("first_day_of_week", "First day of week must be between 0 and 6")
		}
	}
	if in.Currency != nil {
		u.Currency = *in.Currency
		if u.Currency < 1 || u.Currency > 3 {
			bad("currency", "Currency must be 1 (EUR), 2 (USD) or 3 (GBP)")
		}
	}
	return problems
}

// RateLimiter counts one request against key and returns ETOOMANY (with
// RetryAfter) past its limit. The wiring adapts auth.Throttle to it.
type RateLimiter interface {
	Limit(ctx context.Context, key string) error
}

// Lookup is the answer to "who has this username (or email)?". Admins get the
// account (nil when none has it), as Endurain answers; anyone else learns only
// whether the value is free for them to take (their own value counts as free).
type Lookup struct {
	Admin     bool
	User      *account.User
	Available bool
}

// LookupUser answers GET /users/username/{x} (field "username") and
// /users/email/{x} (field "email") for caller, who sent the request from ip.
// Every look-up counts against the caller's and the address's limits first
// (ETOOMANY past them).
func (s *Service) LookupUser(ctx context.Context, caller *account.User, ip, field, value string) (*Lookup, error) {
	if s.Lookups != nil {
		if err := s.Lookups.Limit(ctx, "lookup:user:"+strconv.FormatInt(caller.ID, 10)); err != nil {
			return nil, err
		}
		if err := s.Lookups.Limit(ctx, "lookup:ip:"+ip); err != nil {
			return nil, err
		}
	}
	var (
		u   *account.User
		err error
	)
	switch field {
	case "username":
		value = account.NormalizeUsername(value)
		u, err = s.Store.FindUserByUsername(ctx, value)
	case "email":
		value = account.NormalizeEmail(value)
		u, err = s.Store.FindUserByEmail(ctx, value)
	default:
		return nil, account.Errorf(account.ENOTFOUND, "Not Found")
	}
	if account.ErrorCode(err) == account.ENOTFOUND {
		u, err = nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("look up %s: %w", field, err)
	}
	if caller.IsAdmin() {
		return &Lookup{Admin: true, User: u}, nil
	}
	return &Lookup{Available: u == nil || u.ID == caller.ID}, nil
}

// UsernameAvailable reports whether no account uses the username (compared
// normalized). It reveals nothing else about any account.
func (s *Service) UsernameAvailable(ctx context.Context, username string) (bool, error) {
	taken, err := s.Store.UsernameTaken(ctx, account.NormalizeUsername(username))
	return !taken, err
}

// EmailAvailable reports whether no account uses the email address (compared
// normalized). It reveals nothing else about any account.
func (s *Service) EmailAvailable(ctx context.Context, email string) (bool, error) {
	taken, err := s.Store.EmailTaken(ctx, account.NormalizeEmail(email))
	return !taken, err
}

// SetActivitiesVisibility sets the visibility (0 public, 1 followers, 2 private)
// of every activity of the user. Returns EUNPROCESSABLE for another value.
func (s *Service) SetActivitiesVisibility(ctx context.Context, userID int64, visibility int) error {
	if visibility < 0 || visibility > 2 {
		return account.ValidationError(account.FieldError{Field: "visibility", Message: "Visibility must be 0, 1 or 2"})
	}
	if _, err := s.Store.SetActivitiesVisibility(ctx, userID, visibility); err != nil {
		return fmt.Errorf("set activities visibility: %w", err)
	}
	return nil
}

// ListGear returns the caller's gear, for the default-gear selectors.
func (s *Service) ListGear(ctx context.Context, userID int64) ([]*Gear, error) {
	return s.Store.ListGear(ctx, userID)
}

func emptyToNil(p *string) *string {
	if p == nil {
		return nil
	}
	v := strings.TrimSpace(*p)
	if v == "" {
		return nil
	}
	return &v
}
