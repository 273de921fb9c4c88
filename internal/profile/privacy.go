package profile

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/trailpass/trailpass/internal/account"
)

// Activity visibility values.
const (
	VisibilityPublic    = 0
	VisibilityFollowers = 1
	VisibilityPrivate   = 2
)

// PrivacyFlags are the user's privacy settings: the default visibility of new
// activities and which parts of an activity others do not see.
type PrivacyFlags struct {
	DefaultActivityVisibility    int  `json:"default_activity_visibility"`
	HideActivityStartTime        bool `json:"hide_activity_start_time"`
	HideActivityLocation         bool `json:"hide_activity_location"`
	HideActivityMap              bool `json:"hide_activity_map"`
	HideActivityHR               bool `json:"hide_activity_hr"`
	HideActivityPower            bool `json:"hide_activity_power"`
	HideActivityCadence          bool `json:"hide_activity_cadence"`
	HideActivityElevation        bool `json:"hide_activity_elevation"`
	HideActivitySpeed            bool `json:"hide_activity_speed"`
	HideActivityPace             bool `json:"hide_activity_pace"`
	HideActivityLaps             bool `json:"hide_activity_laps"`
	HideActivityWorkoutSetsSteps bool `json:"hide_activity_workout_sets_steps"`
	HideActivityGear             bool `json:"hide_activity_gear"`
}

// Privacy is a user's privacy row, in Endurain's UsersPrivacySettings shape.
type Privacy struct {
	ID     int64 `json:"id"`
	UserID int64 `json:"user_id"`
	PrivacyFlags
}

// PrivacyUpdate changes some privacy settings; nil fields stay unchanged. It has
// no id or user_id: the row is always the caller's. Its JSON tags match the web
// app's body, so the HTTP layer can decode straight into it (extra keys such as
// id and user_id are ignored by encoding/json).
type PrivacyUpdate struct {
	DefaultActivityVisibility    *int  `json:"default_activity_visibility"`
	HideActivityStartTime        *bool `json:"hide_activity_start_time"`
	HideActivityLocation         *bool `json:"hide_activity_location"`
	HideActivityMap              *bool `json:"hide_activity_map"`
	HideActivityHR               *bool `json:"hide_activity_hr"`
	HideActivityPower            *bool `json:"hide_activity_power"`
	HideActivityCadence          *bool `json:"hide_activity_cadence"`
	HideActivityElevation        *bool `json:"hide_activity_elevation"`
	HideActivitySpeed            *bool `json:"hide_activity_speed"`
	HideActivityPace             *bool `json:"hide_activity_pace"`
	HideActivityLaps             *bool `json:"hide_activity_laps"`
	HideActivityWorkoutSetsSteps *bool `json:"hide_activity_workout_sets_steps"`
	HideActivityGear             *bool `json:"hide_activity_gear"`
}

// PrivacyStore reads and writes privacy rows.
type PrivacyStore interface {
	// GetPrivacy returns the user's privacy row; ENOTFOUND if it is missing.
	GetPrivacy(ctx context.Context, userID int64) (*Privacy, error)
	// UpdatePrivacy writes the flags of the user's row; ENOTFOUND if missing.
	UpdatePrivacy(ctx context.Context, userID int64, f PrivacyFlags) error
}

// DecodePrivacyUpdate reads the body of PUT /api/v1/profile/privacy. id and
// user_id are ignored; a value of the wrong type is EUNPROCESSABLE naming its
// field.
func DecodePrivacyUpdate(body []byte) (PrivacyUpdate, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return PrivacyUpdate{}, account.ValidationError(account.FieldError{Field: "body", Message: "Body must be a JSON object"})
	}
	var d FieldDecoder
	const boolMsg = "Input should be a valid boolean"
	in := PrivacyUpdate{
		DefaultActivityVisibility:    DecodeRequired[int](&d, raw, "default_activity_visibility", "Input should be a valid integer"),
		HideActivityStartTime:        DecodeRequired[bool](&d, raw, "hide_activity_start_time", boolMsg),
		HideActivityLocation:         DecodeRequired[bool](&d, raw, "hide_activity_location", boolMsg),
		HideActivityMap:              DecodeRequired[bool](&d, raw, "hide_activity_map", boolMsg),
		HideActivityHR:               DecodeRequired[bool](&d, raw, "hide_activity_hr", boolMsg),
		HideActivityPower:            DecodeRequired[bool](&d, raw, "hide_activity_power", boolMsg),
		HideActivityCadence:          DecodeRequired[bool](&d, raw, "hide_activity_cadence", boolMsg),
		HideActivityElevation:        DecodeRequired[bool](&d, raw, "hide_activity_elevation", boolMsg),
		HideActivitySpeed:            DecodeRequired[bool](&d, raw, "hide_activity_speed", boolMsg),
		HideActivityPace:             DecodeRequired[bool](&d, raw, "hide_activity_pace", boolMsg),
		HideActivityLaps:             DecodeRequired[bool](&d, raw, "hide_activity_laps", boolMsg),
		HideActivityWorkoutSetsSteps: DecodeRequired[bool](&d, raw, "hide_activity_workout_sets_steps", boolMsg),
		HideActivityGear:             DecodeRequired[bool](&d, raw, "hide_activity_gear", boolMsg),
	}
	if len(d.Problems) > 0 {
		return PrivacyUpdate{}, account.ValidationError(d.Problems...)
	}
	return in, nil
}

// GetPrivacy returns the user's privacy settings; ENOTFOUND if missing.
func (s *Service) GetPrivacy(ctx context.Context, userID int64) (*Privacy, error) {
	return s.Store.GetPrivacy(ctx, userID)
}

// UpdatePrivacy applies the set fields of in to the caller's privacy row and
// returns the result. EUNPROCESSABLE for a visibility outside 0-2.
func (s *Service) UpdatePrivacy(ctx context.Context, userID int64, in PrivacyUpdate) (*Privacy, error) {
	if v := in.DefaultActivityVisibility; v != nil && (*v < VisibilityPublic || *v > VisibilityPrivate) {
		return nil, account.ValidationError(account.FieldError{Field: "default_activity_visibility", Message: "Visibility must be 0, 1 or 2"})
	}
	p, err := s.Store.GetPrivacy(ctx, userID)
	if err != nil {
		return nil, err
	}
	f := &p.PrivacyFlags
	setIf(&f.DefaultActivityVisibility, in.DefaultActivityVisibility)
	setIf(&f.HideActivityStartTime, in.HideActivityStartTime)
	setIf(&f.HideActivityLocation, in.HideActivityLocation)
	setIf(&f.HideActivityMap, in.HideActivityMap)
	setIf(&f.HideActivityHR, in.HideActivityHR)
	setIf(&f.HideActivityPower, in.HideActivityPower)
	setIf(&f.HideActivityCadence, in.HideActivityCadence)
	setIf(&f.HideActivityElevation, in.HideActivityElevation)
	setIf(&f.HideActivitySpeed, in.HideActivitySpeed)
	setIf(&f.HideActivityPace, in.HideActivityPace)
	setIf(&f.HideActivityLaps, in.HideActivityLaps)
	setIf(&f.HideActivityWorkoutSetsSteps, in.HideActivityWorkoutSetsSteps)
	setIf(&f.HideActivityGear, in.HideActivityGear)
	if err := s.Store.UpdatePrivacy(ctx, userID, *f); err != nil {
		return nil, fmt.Errorf("update privacy: %w", err)
	}
	return p, nil
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}
