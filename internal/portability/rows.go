package portability

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/fitness"
)

// Row shapes of the archive's data files. Keys the archive has and these do
// not (passwords, roles, tokens, Endurain-only columns) are ignored by design.
// Pointers mark what may be missing; required() lists what may not.

type activityRow struct {
	ID                      *int64  `json:"id"`
	Name                    *string `json:"name"`
	Description             *string `json:"description"`
	PrivateNotes            *string `json:"private_notes"`
	Distance                *int    `json:"distance"`
	ActivityType            *int    `json:"activity_type"`
	StartTime               jtime   `json:"start_time"`
	EndTime                 jtime   `json:"end_time"`
	Timezone                *string `json:"timezone"`
	TotalElapsedTime        jdec    `json:"total_elapsed_time"`
	TotalTimerTime          jdec    `json:"total_timer_time"`
	City                    *string `json:"city"`
	Town                    *string `json:"town"`
	Country                 *string `json:"country"`
	CreatedAt               jtime   `json:"created_at"`
	ElevationGain           *int    `json:"elevation_gain"`
	ElevationLoss           *int    `json:"elevation_loss"`
	Pace                    jdec    `json:"pace"`
	AverageSpeed            jdec    `json:"average_speed"`
	MaxSpeed                jdec    `json:"max_speed"`
	AveragePower            *int    `json:"average_power"`
	MaxPower                *int    `json:"max_power"`
	NormalizedPower         *int    `json:"normalized_power"`
	AverageHR               *int    `json:"average_hr"`
	MaxHR                   *int    `json:"max_hr"`
	AverageCad              *int    `json:"average_cad"`
	MaxCad                  *int    `json:"max_cad"`
	WorkoutFeeling          *int    `json:"workout_feeling"`
	WorkoutRPE              *int    `json:"workout_rpe"`
	Calories                *int    `json:"calories"`
	Visibility              *int    `json:"visibility"`
	GearID                  *int64  `json:"gear_id"`
	StravaGearID            *string `json:"strava_gear_id"`
	StravaActivityID        *int64  `json:"strava_activity_id"`
	GarminconnectActivityID *int64  `json:"garminconnect_activity_id"`
	GarminconnectGearID     *string `json:"garminconnect_gear_id"`
	ImportInfo              rawJSON `json:"import_info"`
	IsHidden                *bool   `json:"is_hidden"`
	HideStartTime           *bool   `json:"hide_start_time"`
	HideLocation            *bool   `json:"hide_location"`
	HideMap                 *bool   `json:"hide_map"`
	HideHR                  *bool   `json:"hide_hr"`
	HidePower               *bool   `json:"hide_power"`
	HideCadence             *bool   `json:"hide_cadence"`
	HideElevation           *bool   `json:"hide_elevation"`
	HideSpeed               *bool   `json:"hide_speed"`
	HidePace                *bool   `json:"hide_pace"`
	HideLaps                *bool   `json:"hide_laps"`
	HideWorkoutSetsSteps    *bool   `json:"hide_workout_sets_steps"`
	HideGear                *bool   `json:"hide_gear"`
	TrackerManufacturer     *string `json:"tracker_manufacturer"`
	TrackerModel            *string `json:"tracker_model"`
}

func (r *activityRow) check() error {
	switch {
	case r.ID == nil:
		return &fieldError{"field \"id\" is required."}
	case r.ActivityType == nil || *r.ActivityType < 1 || *r.ActivityType > 1000:
		return &fieldError{"field \"activity_type\" is required and must be between 1 and 1000."}
	case !r.StartTime.Valid:
		return &fieldError{"field \"start_time\" is required."}
	case r.Visibility != nil && (*r.Visibility < 0 || *r.Visibility > 2):
		return &fieldError{"field \"visibility\" must be 0, 1 or 2."}
	case r.ImportInfo != nil && r.ImportInfo.kind() != '{':
		return &fieldError{"field \"import_info\" must be an object."}
	}
	return maxLens(map[string]*string{"name": r.Name, "description": r.Description, "private_notes": r.PrivateNotes,
		"timezone": r.Timezone, "city": r.City, "town": r.Town, "country": r.Country,
		"tracker_manufacturer": r.TrackerManufacturer, "tracker_model": r.TrackerModel,
		"strava_gear_id": r.StravaGearID, "garminconnect_gear_id": r.GarminconnectGearID})
}

// maxLens checks the VARCHAR limits (descriptions 2500, the rest 250).
func maxLens(fields map[string]*string) error {
	for k, v := range fields {
		limit := 250
		if k == "description" || k == "private_notes" {
			limit = 2500
		} else if k == "strava_gear_id" || k == "garminconnect_gear_id" {
			limit = 45
		}
		if v != nil && len(*v) > limit {
			return &fieldError{fmt.Sprintf("field %q is longer than %d characters.", k, limit)}
		}
	}
	return nil
}

func orDec(d jdec, def string) string {
	if d.Valid {
		return d.S
	}
	return def
}

func orBool(b *bool) bool { return b != nil && *b }

func (r *activityRow) activity(now time.Time) fitness.Activity {
	end := r.EndTime.T
	if !r.EndTime.Valid {
		end = r.StartTime.T
	}
	created := r.CreatedAt.T
	if !r.CreatedAt.Valid {
		created = now
	}
	vis := 0
	if r.Visibility != nil {
		vis = *r.Visibility
	}
	dist := 0
	if r.Distance != nil {
		dist = *r.Distance
	}
	return fitness.Activity{
		Name: r.Name, Description: r.Description, PrivateNotes: r.PrivateNotes, Distance: dist,
		ActivityType: *r.ActivityType, StartTime: r.StartTime.T, EndTime: end, Timezone: r.Timezone,
		TotalElapsedTime: orDec(r.TotalElapsedTime, "0"), TotalTimerTime: orDec(r.TotalTimerTime, "0"),
		City: r.City, Town: r.Town, Country: r.Country, CreatedAt: created, ElevationGain: r.ElevationGain,
		ElevationLoss: r.ElevationLoss, Pace: r.Pace.ptr(), AverageSpeed: r.AverageSpeed.ptr(), MaxSpeed: r.MaxSpeed.ptr(),
		AveragePower: r.AveragePower, MaxPower: r.MaxPower, NormalizedPower: r.NormalizedPower, AverageHR: r.AverageHR,
		MaxHR: r.MaxHR, AverageCad: r.AverageCad, MaxCad: r.MaxCad, WorkoutFeeling: r.WorkoutFeeling,
		WorkoutRPE: r.WorkoutRPE, Calories: r.Calories, Visibility: vis, StravaGearID: r.StravaGearID,
		StravaActivityID: r.StravaActivityID, GarminconnectActivityID: r.GarminconnectActivityID,
		GarminconnectGearID: r.GarminconnectGearID, ImportInfo: json.RawMessage(r.ImportInfo), IsHidden: orBool(r.IsHidden),
		Hide: fitness.Hide{StartTime: orBool(r.HideStartTime), Location: orBool(r.HideLocation), Map: orBool(r.HideMap),
			HR: orBool(r.HideHR), Power: orBool(r.HidePower), Cadence: orBool(r.HideCadence),
			Elevation: orBool(r.HideElevation), Speed: orBool(r.HideSpeed), Pace: orBool(r.HidePace),
			Laps: orBool(r.HideLaps), WorkoutSetsSteps: orBool(r.HideWorkoutSetsSteps), Gear: orBool(r.HideGear)},
		TrackerManufacturer: r.TrackerManufacturer, TrackerModel: r.TrackerModel,
	}
}

type lapRow struct {
	ActivityID             *int64  `json:"activity_id"`
	StartTime              jtime   `json:"start_time"`
	StartPositionLat       jdec    `json:"start_position_lat"`
	StartPositionLong      jdec    `json:"start_position_long"`
	EndPositionLat         jdec    `json:"end_position_lat"`
	EndPositionLong        jdec    `json:"end_position_long"`
	TotalElapsedTime       jdec    `json:"total_elapsed_time"`
	TotalTimerTime         jdec    `json:"total_timer_time"`
	TotalDistance          jdec    `json:"total_distance"`
	TotalCycles            *int    `json:"total_cycles"`
	TotalCalories          *int    `json:"total_calories"`
	AvgHeartRate           *int    `json:"avg_heart_rate"`
	MaxHeartRate           *int    `json:"max_heart_rate"`
	AvgCadence             *int    `json:"avg_cadence"`
	MaxCadence             *int    `json:"max_cadence"`
	AvgPower               *int    `json:"avg_power"`
	MaxPower               *int    `json:"max_power"`
	TotalAscent            *int    `json:"total_ascent"`
	TotalDescent           *int    `json:"total_descent"`
	Intensity              *string `json:"intensity"`
	LapTrigger             *string `json:"lap_trigger"`
	Sport                  *string `json:"sport"`
	SubSport               *string `json:"sub_sport"`
	NormalizedPower        *int    `json:"normalized_power"`
	TotalWork              *int    `json:"total_work"`
	AvgVerticalOscillation jdec    `json:"avg_vertical_oscillation"`
	AvgStanceTime          jdec    `json:"avg_stance_time"`
	AvgFractionalCadence   jdec    `json:"avg_fractional_cadence"`
	MaxFractionalCadence   jdec    `json:"max_fractional_cadence"`
	EnhancedAvgPace        jdec    `json:"enhanced_avg_pace"`
	EnhancedAvgSpeed       jdec    `json:"enhanced_avg_speed"`
	EnhancedMaxPace        jdec    `json:"enhanced_max_pace"`
	EnhancedMaxSpeed       jdec    `json:"enhanced_max_speed"`
	EnhancedMinAltitude    jdec    `json:"enhanced_min_altitude"`
	EnhancedMaxAltitude    jdec    `json:"enhanced_max_altitude"`
	AvgVerticalRatio       jdec    `json:"avg_vertical_ratio"`
	AvgStepLength          jdec    `json:"avg_step_length"`
}

func (r *lapRow) check() error {
	if r.ActivityID == nil || !r.StartTime.Valid {
		return &fieldError{"fields \"activity_id\" and \"start_time\" are required."}
	}
	return maxLens(map[string]*string{"intensity": r.Intensity, "lap_trigger": r.LapTrigger, "sport": r.Sport, "sub_sport": r.SubSport})
}

func (r *lapRow) lap(loc *time.Location) fitness.Lap {
	return fitness.Lap{StartTime: r.StartTime.in(loc), StartPositionLat: r.StartPositionLat.ptr(),
		StartPositionLong: r.StartPositionLong.ptr(), EndPositionLat: r.EndPositionLat.ptr(),
		EndPositionLong: r.EndPositionLong.ptr(), TotalElapsedTime: r.TotalElapsedTime.ptr(),
		TotalTimerTime: r.TotalTimerTime.ptr(), TotalDistance: r.TotalDistance.ptr(), TotalCycles: r.TotalCycles,
		TotalCalories: r.TotalCalories, AvgHeartRate: r.AvgHeartRate, MaxHeartRate: r.MaxHeartRate,
		AvgCadence: r.AvgCadence, MaxCadence: r.MaxCadence, AvgPower: r.AvgPower, MaxPower: r.MaxPower,
		TotalAscent: r.TotalAscent, TotalDescent: r.TotalDescent, Intensity: r.Intensity, LapTrigger: r.LapTrigger,
		Sport: r.Sport, SubSport: r.SubSport, NormalizedPower: r.NormalizedPower, TotalWork: r.TotalWork,
		AvgVerticalOscillation: r.AvgVerticalOscillation.ptr(), AvgStanceTime: r.AvgStanceTime.ptr(),
		AvgFractionalCadence: r.AvgFractionalCadence.ptr(), MaxFractionalCadence: r.MaxFractionalCadence.ptr(),
		EnhancedAvgPace: r.EnhancedAvgPace.ptr(), EnhancedAvgSpeed: r.EnhancedAvgSpeed.ptr(),
		EnhancedMaxPace: r.EnhancedMaxPace.ptr(), EnhancedMaxSpeed: r.EnhancedMaxSpeed.ptr(),
		EnhancedMinAltitude: r.EnhancedMinAltitude.ptr(), EnhancedMaxAltitude: r.EnhancedMaxAltitude.ptr(),
		AvgVerticalRatio: r.AvgVerticalRatio.ptr(), AvgStepLength: r.AvgStepLength.ptr()}
}

type setRow struct {
	ActivityID      *int64  `json:"activity_id"`
	Duration        jdec    `json:"duration"`
	Repetitions     *int    `json:"repetitions"`
	Weight          jdec    `json:"weight"`
	SetType         *string `json:"set_type"`
	StartTime       jtime   `json:"start_time"`
	Category        *int    `json:"category"`
	CategorySubtype *int    `json:"category_subtype"`
}

func (r *setRow) check() error {
	if r.ActivityID == nil || !r.StartTime.Valid || !r.Duration.Valid || r.SetType == nil {
		return &fieldError{"fields \"activity_id\", \"duration\", \"set_type\" and \"start_time\" are required."}
	}
	return maxLens(map[string]*string{"set_type": r.SetType})
}

func (r *setRow) set(loc *time.Location) fitness.Set {
	return fitness.Set{Duration: r.Duration.S, Repetitions: r.Repetitions, Weight: r.Weight.ptr(), SetType: *r.SetType,
		StartTime: r.StartTime.in(loc), Category: r.Category, CategorySubtype: r.CategorySubtype}
}

type streamRow struct {
	ActivityID             *int64  `json:"activity_id"`
	StreamType             *int    `json:"stream_type"`
	StreamWaypoints        rawJSON `json:"stream_waypoints"`
	StravaActivityStreamID *int64  `json:"strava_activity_stream_id"`
}

func (r *streamRow) check() error {
	switch {
	case r.ActivityID == nil:
		return &fieldError{"field \"activity_id\" is required."}
	case r.StreamType == nil || *r.StreamType < fitness.StreamHR || *r.StreamType > fitness.StreamLatLon:
		return &fieldError{"field \"stream_type\" must be between 1 and 7."}
	case r.StreamWaypoints.kind() != '[':
		return &fieldError{"field \"stream_waypoints\" must be an array."}
	}
	return nil
}

type stepRow struct {
	ActivityID           *int64  `json:"activity_id"`
	MessageIndex         *int    `json:"message_index"`
	DurationType         *string `json:"duration_type"`
	DurationValue        jdec    `json:"duration_value"`
	TargetType           *string `json:"target_type"`
	TargetValue          *int    `json:"target_value"`
	Intensity            *string `json:"intensity"`
	Notes                *string `json:"notes"`
	ExerciseCategory     *int    `json:"exercise_category"`
	ExerciseName         *int    `json:"exercise_name"`
	ExerciseWeight       jdec    `json:"exercise_weight"`
	WeightDisplayUnit    *string `json:"weight_display_unit"`
	SecondaryTargetValue *string `json:"secondary_target_value"`
}

func (r *stepRow) check() error {
	if r.ActivityID == nil || r.MessageIndex == nil || r.DurationType == nil {
		return &fieldError{"fields \"activity_id\", \"message_index\" and \"duration_type\" are required."}
	}
	return maxLens(map[string]*string{"duration_type": r.DurationType, "target_type": r.TargetType,
		"intensity": r.Intensity, "notes": r.Notes, "weight_display_unit": r.WeightDisplayUnit,
		"secondary_target_value": r.SecondaryTargetValue})
}

func (r *stepRow) step() fitness.WorkoutStep {
	return fitness.WorkoutStep{MessageIndex: *r.MessageIndex, DurationType: *r.DurationType,
		DurationValue: r.DurationValue.ptr(), TargetType: r.TargetType, TargetValue: r.TargetValue,
		Intensity: r.Intensity, Notes: r.Notes, ExerciseCategory: r.ExerciseCategory, ExerciseName: r.ExerciseName,
		ExerciseWeight: r.ExerciseWeight.ptr(), WeightDisplayUnit: r.WeightDisplayUnit,
		SecondaryTargetValue: r.SecondaryTargetValue}
}

type mediaRow struct {
	ActivityID *int64  `json:"activity_id"`
	MediaPath  *string `json:"media_path"`
	MediaType  *int    `json:"media_type"`
}

type titleRow struct {
	ExerciseCategory *int    `json:"exercise_category"`
	ExerciseName     *int    `json:"exercise_name"`
	WktStepName      *string `json:"wkt_step_name"`
}

type gearRow struct {
	ID                  *int64  `json:"id"`
	Brand               *string `json:"brand"`
	Model               *string `json:"model"`
	Nickname            *string `json:"nickname"`
	GearType            *int    `json:"gear_type"`
	CreatedAt           jtime   `json:"created_at"`
	Active              *bool   `json:"active"`
	InitialKms          jdec    `json:"initial_kms"`
	PurchaseValue       jdec    `json:"purchase_value"`
	StravaGearID        *string `json:"strava_gear_id"`
	GarminconnectGearID *string `json:"garminconnect_gear_id"`
}

func (r *gearRow) check() error {
	switch {
	case r.ID == nil:
		return &fieldError{"field \"id\" is required."}
	case r.Nickname == nil || *r.Nickname == "":
		return &fieldError{"field \"nickname\" is required."}
	case r.GearType == nil || *r.GearType < 1 || *r.GearType > 20:
		return &fieldError{"field \"gear_type\" is required and must be between 1 and 20."}
	}
	return maxLens(map[string]*string{"brand": r.Brand, "model": r.Model, "nickname": r.Nickname,
		"strava_gear_id": r.StravaGearID, "garminconnect_gear_id": r.GarminconnectGearID})
}

type componentRow struct {
	GearID        *int64  `json:"gear_id"`
	Type          *string `json:"type"`
	Brand         *string `json:"brand"`
	Model         *string `json:"model"`
	PurchaseDate  jtime   `json:"purchase_date"`
	RetiredDate   jtime   `json:"retired_date"`
	Active        *bool   `json:"active"`
	ExpectedKms   *int    `json:"expected_kms"`
	PurchaseValue jdec    `json:"purchase_value"`
}

func (r *componentRow) check() error {
	if r.GearID == nil || r.Type == nil || r.Brand == nil || r.Model == nil || !r.PurchaseDate.Valid {
		return &fieldError{"fields \"gear_id\", \"type\", \"brand\", \"model\" and \"purchase_date\" are required."}
	}
	return maxLens(map[string]*string{"type": r.Type, "brand": r.Brand, "model": r.Model})
}

type weightRow struct {
	Date           jdate   `json:"date"`
	Weight         jdec    `json:"weight"`
	BMI            jdec    `json:"bmi"`
	BodyFat        jdec    `json:"body_fat"`
	BodyWater      jdec    `json:"body_water"`
	BoneMass       jdec    `json:"bone_mass"`
	MuscleMass     jdec    `json:"muscle_mass"`
	PhysiqueRating *int    `json:"physique_rating"`
	VisceralFat    jdec    `json:"visceral_fat"`
	MetabolicAge   *int    `json:"metabolic_age"`
	Source         *string `json:"source"`
}

type targetsRow struct {
	Weight jdec `json:"weight"`
	Steps  *int `json:"steps"`
	Sleep  *int `json:"sleep"`
}

type notificationRow struct {
	Type      *int    `json:"type"`
	Options   rawJSON `json:"options"`
	Read      *bool   `json:"read"`
	CreatedAt jtime   `json:"created_at"`
}

type goalRow struct {
	Interval             *string `json:"interval"`
	ActivityType         *int    `json:"activity_type"`
	GoalType             *int    `json:"goal_type"`
	GoalCalories         *int    `json:"goal_calories"`
	GoalActivitiesNumber *int    `json:"goal_activities_number"`
	GoalDistance         *int    `json:"goal_distance"`
	GoalElevation        *int    `json:"goal_elevation"`
	GoalDuration         *int    `json:"goal_duration"`
}

// check applies the same goal rules as POST /profile/goals (account's), so an
// archive cannot store a goal the API would refuse.
func (r *goalRow) check() error {
	if r.Interval == nil || r.ActivityType == nil || r.GoalType == nil {
		return &fieldError{"fields \"interval\", \"activity_type\" and \"goal_type\" are required."}
	}
	in := account.GoalInput{Interval: *r.Interval, ActivityType: *r.ActivityType, GoalType: *r.GoalType,
		GoalCalories: r.GoalCalories, GoalActivitiesNumber: r.GoalActivitiesNumber, GoalDistance: r.GoalDistance,
		GoalElevation: r.GoalElevation, GoalDuration: r.GoalDuration}
	if err := in.Validate(); err != nil {
		var ae *account.Error
		if errors.As(err, &ae) && len(ae.Fields) > 0 {
			return &fieldError{fmt.Sprintf("field %q: %s.", ae.Fields[0].Field, ae.Fields[0].Message)}
		}
		return &fieldError{account.ErrorMessage(err)}
	}
	return nil
}

// defaultGearRow holds every *_gear_id column, windsurf included.
type defaultGearRow map[string]json.RawMessage

// userRow holds only the profile fields an import may set; privileged keys
// (access_type, active, mfa_*, email_verified, username, email, password) are
// not even decoded.
type userRow struct {
	Name              *string `json:"name"`
	City              *string `json:"city"`
	Birthdate         jdate   `json:"birthdate"`
	PreferredLanguage *string `json:"preferred_language"`
	Gender            *int    `json:"gender"`
	Units             *int    `json:"units"`
	Height            *int    `json:"height"`
	MaxHeartRate      *int    `json:"max_heart_rate"`
	FirstDayOfWeek    *int    `json:"first_day_of_week"`
	Currency          *int    `json:"currency"`
}

// privacyRow is the privacy settings' body, the same shape PUT /profile/privacy takes.
type privacyRow = account.PrivacyUpdate

// anyRow skips a row the import does not use (identity links, integrations)
// after the guard has bounded it.
type anyRow struct{}

func (*anyRow) UnmarshalJSON([]byte) error { return nil }
