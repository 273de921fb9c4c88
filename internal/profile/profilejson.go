package profile

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/trailpass/trailpass/internal/account"
)

// UserRead is Endurain's UserRead as trailpass shows it (to the user, and to
// admins): built field by field so that no secret (password hash, MFA secret,
// tokens) can ever appear in it, with has_password added.
type UserRead struct {
	ID                   int64   `json:"id"`
	Name                 string  `json:"name"`
	Username             string  `json:"username"`
	Email                string  `json:"email"`
	City                 *string `json:"city"`
	Birthdate            *string `json:"birthdate"`
	PreferredLanguage    string  `json:"preferred_language"`
	Gender               int     `json:"gender"`
	Units                int     `json:"units"`
	Height               *int    `json:"height"`
	MaxHeartRate         *int    `json:"max_heart_rate"`
	AccessType           int     `json:"access_type"`
	PhotoPath            *string `json:"photo_path"`
	Active               bool    `json:"active"`
	FirstDayOfWeek       int     `json:"first_day_of_week"`
	Currency             int     `json:"currency"`
	MFAEnabled           bool    `json:"mfa_enabled"`
	EmailVerified        bool    `json:"email_verified"`
	PendingAdminApproval bool    `json:"pending_admin_approval"`
	ExternalAuthCount    int     `json:"external_auth_count"`
	HasPassword          bool    `json:"has_password"`
}

// NewUserRead returns u in its wire shape; mfaEnabled is not a column of users.
func NewUserRead(u *account.User, mfaEnabled bool) UserRead {
	return UserRead{
		ID: u.ID, Name: u.Name, Username: u.Username, Email: u.Email, City: u.City, Birthdate: u.Birthdate,
		PreferredLanguage: u.PreferredLanguage, Gender: u.Gender, Units: u.Units, Height: u.Height,
		MaxHeartRate: u.MaxHeartRate, AccessType: u.AccessType, PhotoPath: u.PhotoPath, Active: u.Active,
		FirstDayOfWeek: u.FirstDayOfWeek, Currency: u.Currency, MFAEnabled: mfaEnabled,
		EmailVerified: u.EmailVerified, PendingAdminApproval: u.PendingAdminApproval, HasPassword: u.HasPassword(),
	}
}

// UserMe is the wire shape of GET /api/v1/profile: UserRead plus the linked
// integrations and the privacy flags, as Endurain's UserMe.
type UserMe struct {
	UserRead
	IsStravaLinked        int `json:"is_strava_linked"`
	IsGarminConnectLinked int `json:"is_garminconnect_linked"`
	PrivacyFlags
}

// UserMe returns the profile in its wire shape.
func (p *Profile) UserMe() UserMe {
	me := UserMe{UserRead: NewUserRead(p.User, p.Links.MFAEnabled),
		IsStravaLinked: b2i(p.Links.StravaLinked), IsGarminConnectLinked: b2i(p.Links.GarminConnectLinked)}
	if p.Privacy != nil {
		me.PrivacyFlags = p.Privacy.PrivacyFlags
	}
	return me
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// DecodeUpdate reads the body of PUT /api/v1/profile, the web app's full
// UserRead object, and keeps only the editable fields. Other keys (id,
// access_type, active, photo_path, mfa_*, email_verified, unknown ones) are
// accepted and ignored. A value of the wrong JSON type is EUNPROCESSABLE naming
// its field, with every such field listed; a body that is not a JSON object is
// EUNPROCESSABLE on "body". Range checks are UpdateProfile's.
func DecodeUpdate(body []byte) (Update, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return Update{}, account.ValidationError(account.FieldError{Field: "body", Message: "Body must be a JSON object"})
	}
	var d FieldDecoder
	var in Update
	in.Name = DecodeRequired[string](&d, raw, "name", "Input should be a valid string")
	in.Username = DecodeRequired[string](&d, raw, "username", "Input should be a valid string")
	in.Email = DecodeRequired[string](&d, raw, "email", "Input should be a valid string")
	in.City = decodeNullable[string](&d, raw, "city", "Input should be a valid string")
	in.Birthdate = decodeNullable[string](&d, raw, "birthdate", "Input should be a date in the form YYYY-MM-DD")
	in.Gender = DecodeRequired[int](&d, raw, "gender", "Input should be a valid integer")
	in.Units = DecodeRequired[int](&d, raw, "units", "Input should be a valid integer")
	in.Height = decodeNullable[int](&d, raw, "height", "Input should be a valid integer")
	in.MaxHeartRate = decodeNullable[int](&d, raw, "max_heart_rate", "Input should be a valid integer")
	in.PreferredLanguage = DecodeRequired[string](&d, raw, "preferred_language", "Input should be a valid string")
	in.FirstDayOfWeek = DecodeRequired[int](&d, raw, "first_day_of_week", "Input should be a valid integer")
	in.Currency = DecodeRequired[int](&d, raw, "currency", "Input should be a valid integer")
	// Endurain's birthdate is a date; accept a full timestamp by keeping its date.
	if v := in.Birthdate.Value; v != nil && len(*v) > 10 {
		if t, err := time.Parse(time.RFC3339, *v); err == nil {
			s := t.Format(time.DateOnly)
			in.Birthdate.Value = &s
		}
	}
	if len(d.Problems) > 0 {
		return Update{}, account.ValidationError(d.Problems...)
	}
	return in, nil
}

// FieldDecoder collects per-field type errors while decoding a JSON object;
// user administration decodes its own fields with it too.
type FieldDecoder struct{ Problems []account.FieldError }

func isNull(m json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(m), []byte("null")) }

// DecodeRequired decodes a key that may be absent but, when present, not null;
// a bad value adds msg on key to d.Problems.
func DecodeRequired[T any](d *FieldDecoder, raw map[string]json.RawMessage, key, msg string) *T {
	m, ok := raw[key]
	if !ok {
		return nil
	}
	var v T
	if isNull(m) || json.Unmarshal(m, &v) != nil {
		d.Problems = append(d.Problems, account.FieldError{Field: key, Message: msg})
		return nil
	}
	return &v
}

// decodeNullable decodes a key that may be absent, null or a value.
func decodeNullable[T any](d *FieldDecoder, raw map[string]json.RawMessage, key, msg string) Nullable[T] {
	m, ok := raw[key]
	if !ok {
		return Nullable[T]{}
	}
	if isNull(m) {
		return Nullable[T]{Set: true}
	}
	var v T
	if json.Unmarshal(m, &v) != nil {
		d.Problems = append(d.Problems, account.FieldError{Field: key, Message: msg})
		return Nullable[T]{}
	}
	return Nullable[T]{Set: true, Value: &v}
}

// DecodeDefaultGear reads the body of PUT /api/v1/profile/default_gear: the 15
// <type>_gear_id fields (an absent or null one means no default). id, user_id and
// unknown keys are ignored; a value that is not an integer is EUNPROCESSABLE
// naming its field.
func DecodeDefaultGear(body []byte) (DefaultGear, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return DefaultGear{}, account.ValidationError(account.FieldError{Field: "body", Message: "Body must be a JSON object"})
	}
	var d FieldDecoder
	var out DefaultGear
	for _, f := range out.GearFields() {
		*f.ID = decodeNullable[int64](&d, raw, f.Name, "Input should be a valid integer").Value
	}
	if len(d.Problems) > 0 {
		return DefaultGear{}, account.ValidationError(d.Problems...)
	}
	return out, nil
}

// DecodeGoalInput reads the body of POST /api/v1/profile/goals and PUT
// /api/v1/profile/goals/{goal_id}. id, user_id and unknown keys are ignored; a
// value of the wrong type is EUNPROCESSABLE naming its field. The rules (ranges,
// which goal_* is set) are CreateGoal's and UpdateGoal's.
func DecodeGoalInput(body []byte) (GoalInput, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return GoalInput{}, account.ValidationError(account.FieldError{Field: "body", Message: "Body must be a JSON object"})
	}
	var d FieldDecoder
	const intMsg = "Input should be a valid integer"
	var in GoalInput
	if v := DecodeRequired[string](&d, raw, "interval", "Input should be a valid string"); v != nil {
		in.Interval = *v
	}
	if v := DecodeRequired[int](&d, raw, "activity_type", intMsg); v != nil {
		in.ActivityType = *v
	}
	if v := DecodeRequired[int](&d, raw, "goal_type", intMsg); v != nil {
		in.GoalType = *v
	}
	in.GoalCalories = decodeNullable[int](&d, raw, "goal_calories", intMsg).Value
	in.GoalActivitiesNumber = decodeNullable[int](&d, raw, "goal_activities_number", intMsg).Value
	in.GoalDistance = decodeNullable[int](&d, raw, "goal_distance", intMsg).Value
	in.GoalElevation = decodeNullable[int](&d, raw, "goal_elevation", intMsg).Value
	in.GoalDuration = decodeNullable[int](&d, raw, "goal_duration", intMsg).Value
	if len(d.Problems) > 0 {
		return GoalInput{}, account.ValidationError(d.Problems...)
	}
	return in, nil
}
