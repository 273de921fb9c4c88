package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/trailpass/trailpass/internal/fitness"
)

// The fitness tables are written by two paths that batch differently: the seed
// (fitness.go) with multi-row VALUES statements, the import (import.go) through
// prepared statements. What each table's columns are, and how a value becomes a
// row of them, is kept here once so that the two cannot drift apart.

// table is a table's name and the columns written to it, in row order.
type table struct {
	name string
	cols []string
}

// insertSQL is an INSERT of n rows of t, with placeholders numbered from $1.
func (t table) insertSQL(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + t.name + " (" + strings.Join(t.cols, ", ") + ") VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j := range t.cols {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("$" + strconv.Itoa(i*len(t.cols)+j+1))
		}
		b.WriteByte(')')
	}
	return b.String()
}

// execer is what the upserts below need: *sql.DB for the seed, *sql.Tx for the
// import.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// jsonArg passes raw JSON as text (NULL when empty), which both engines accept.
func jsonArg(m json.RawMessage) any {
	if len(m) == 0 {
		return nil
	}
	return string(m)
}

var activityTable = table{"activities", []string{"user_id", "name", "description", "private_notes", "distance",
	"activity_type", "start_time", "end_time", "timezone", "total_elapsed_time", "total_timer_time", "city", "town",
	"country", "created_at", "elevation_gain", "elevation_loss", "pace", "average_speed", "max_speed",
	"average_power", "max_power", "normalized_power", "average_hr", "max_hr", "average_cad", "max_cad",
	"workout_feeling", "workout_rpe", "calories", "visibility", "gear_id", "strava_gear_id", "strava_activity_id",
	"garminconnect_activity_id", "garminconnect_gear_id", "import_info", "is_hidden", "hide_start_time",
	"hide_location", "hide_map", "hide_hr", "hide_power", "hide_cadence", "hide_elevation", "hide_speed",
	"hide_pace", "hide_laps", "hide_workout_sets_steps", "hide_gear", "tracker_manufacturer", "tracker_model"}}

// activityInsert inserts one activity and returns its id, which its laps,
// streams and file key need.
var activityInsert = activityTable.insertSQL(1) + " RETURNING id"

const activityFileKeyUpdate = `UPDATE activities SET file_key = $1 WHERE id = $2`

func (s *Store) activityRow(userID int64, a *fitness.Activity) []any {
	h := a.Hide
	return []any{userID, a.Name, a.Description, a.PrivateNotes, a.Distance,
		a.ActivityType, s.ts(a.StartTime), s.ts(a.EndTime), a.Timezone, a.TotalElapsedTime, a.TotalTimerTime,
		a.City, a.Town, a.Country, s.ts(a.CreatedAt), a.ElevationGain, a.ElevationLoss, a.Pace, a.AverageSpeed,
		a.MaxSpeed, a.AveragePower, a.MaxPower, a.NormalizedPower, a.AverageHR, a.MaxHR, a.AverageCad, a.MaxCad,
		a.WorkoutFeeling, a.WorkoutRPE, a.Calories, a.Visibility, a.GearID, a.StravaGearID, a.StravaActivityID,
		a.GarminconnectActivityID, a.GarminconnectGearID, jsonArg(a.ImportInfo), a.IsHidden, h.StartTime,
		h.Location, h.Map, h.HR, h.Power, h.Cadence, h.Elevation, h.Speed, h.Pace, h.Laps, h.WorkoutSetsSteps,
		h.Gear, a.TrackerManufacturer, a.TrackerModel}
}

var lapTable = table{"activity_laps", []string{"activity_id", "start_time", "start_position_lat",
	"start_position_long", "end_position_lat", "end_position_long", "total_elapsed_time", "total_timer_time",
	"total_distance", "total_cycles", "total_calories", "avg_heart_rate", "max_heart_rate", "avg_cadence",
	"max_cadence", "avg_power", "max_power", "total_ascent", "total_descent", "intensity", "lap_trigger", "sport",
	"sub_sport", "normalized_power", "total_work", "avg_vertical_oscillation", "avg_stance_time",
	"avg_fractional_cadence", "max_fractional_cadence", "enhanced_avg_pace", "enhanced_avg_speed",
	"enhanced_max_pace", "enhanced_max_speed", "enhanced_min_altitude", "enhanced_max_altitude",
	"avg_vertical_ratio", "avg_step_length"}}

func (s *Store) lapRow(l *fitness.Lap) []any {
	return []any{l.ActivityID, s.ts(l.StartTime), l.StartPositionLat, l.StartPositionLong,
		l.EndPositionLat, l.EndPositionLong, l.TotalElapsedTime, l.TotalTimerTime, l.TotalDistance,
		l.TotalCycles, l.TotalCalories, l.AvgHeartRate, l.MaxHeartRate, l.AvgCadence, l.MaxCadence,
		l.AvgPower, l.MaxPower, l.TotalAscent, l.TotalDescent, l.Intensity, l.LapTrigger, l.Sport,
		l.SubSport, l.NormalizedPower, l.TotalWork, l.AvgVerticalOscillation, l.AvgStanceTime,
		l.AvgFractionalCadence, l.MaxFractionalCadence, l.EnhancedAvgPace, l.EnhancedAvgSpeed,
		l.EnhancedMaxPace, l.EnhancedMaxSpeed, l.EnhancedMinAltitude, l.EnhancedMaxAltitude,
		l.AvgVerticalRatio, l.AvgStepLength}
}

var setTable = table{"activity_sets", []string{"activity_id", "duration", "repetitions", "weight", "set_type",
	"start_time", "category", "category_subtype"}}

func (s *Store) setRow(x *fitness.Set) []any {
	return []any{x.ActivityID, x.Duration, x.Repetitions, x.Weight, x.SetType, s.ts(x.StartTime),
		x.Category, x.CategorySubtype}
}

var streamTable = table{"activity_streams", []string{"activity_id", "stream_type", "stream_waypoints",
	"strava_activity_stream_id"}}

func streamRow(x *fitness.Stream) []any {
	return []any{x.ActivityID, x.StreamType, string(x.Waypoints), x.StravaActivityStreamID}
}

var stepTable = table{"activity_workout_steps", []string{"activity_id", "message_index", "duration_type",
	"duration_value", "target_type", "target_value", "intensity", "notes", "exercise_category", "exercise_name",
	"exercise_weight", "weight_display_unit", "secondary_target_value"}}

func stepRow(x *fitness.WorkoutStep) []any {
	return []any{x.ActivityID, x.MessageIndex, x.DurationType, x.DurationValue, x.TargetType,
		x.TargetValue, x.Intensity, x.Notes, x.ExerciseCategory, x.ExerciseName, x.ExerciseWeight,
		x.WeightDisplayUnit, x.SecondaryTargetValue}
}

var mediaTable = table{"activity_media", []string{"activity_id", "media_path", "media_type"}}

func mediaRow(x *fitness.Media) []any {
	return []any{x.ActivityID, x.MediaPath, x.MediaType}
}

var exerciseTitleTable = table{"activity_exercise_titles", []string{"user_id", "exercise_category",
	"exercise_name", "wkt_step_name"}}

func exerciseTitleRow(userID int64, x *fitness.ExerciseTitle) []any {
	return []any{userID, x.ExerciseCategory, x.ExerciseName, x.WktStepName}
}

var gearTable = table{"gear", []string{"user_id", "brand", "model", "nickname", "gear_type", "created_at",
	"active", "initial_kms", "purchase_value", "strava_gear_id", "garminconnect_gear_id"}}

func (s *Store) gearRow(userID int64, g *fitness.Gear) []any {
	return []any{userID, g.Brand, g.Model, g.Nickname, g.GearType, s.ts(g.CreatedAt), g.Active, g.InitialKms,
		g.PurchaseValue, g.StravaGearID, g.GarminconnectGearID}
}

var gearComponentTable = table{"gear_components", []string{"user_id", "gear_id", "type", "brand", "model",
	"purchase_date", "retired_date", "active", "expected_kms", "purchase_value"}}

func (s *Store) gearComponentRow(userID int64, c *fitness.GearComponent) []any {
	return []any{userID, c.GearID, c.Type, c.Brand, c.Model, s.ts(c.PurchaseDate), s.tsPtr(c.RetiredDate),
		c.Active, c.ExpectedKms, c.PurchaseValue}
}

var healthWeightTable = table{"health_weight", []string{"user_id", "date", "weight", "bmi", "body_fat",
	"body_water", "bone_mass", "muscle_mass", "physique_rating", "visceral_fat", "metabolic_age", "source"}}

func healthWeightRow(userID int64, w *fitness.HealthWeight) []any {
	return []any{userID, w.Date, w.Weight, w.BMI, w.BodyFat, w.BodyWater, w.BoneMass, w.MuscleMass,
		w.PhysiqueRating, w.VisceralFat, w.MetabolicAge, w.Source}
}

var goalTable = table{"users_goals", []string{"user_id", "interval", "activity_type", "goal_type",
	"goal_calories", "goal_activities_number", "goal_distance", "goal_elevation", "goal_duration"}}

func goalRow(userID int64, g *fitness.Goal) []any {
	return []any{userID, g.Interval, g.ActivityType, g.GoalType, g.GoalCalories, g.GoalActivitiesNumber,
		g.GoalDistance, g.GoalElevation, g.GoalDuration}
}

var notificationTable = table{"notifications", []string{"user_id", "type", "options", "read", "created_at"}}

func (s *Store) notificationRow(userID int64, n *fitness.Notification) []any {
	return []any{userID, n.Type, jsonArg(n.Options), n.Read, s.ts(n.CreatedAt)}
}

// insertReturningID inserts one row of t and scans its id into id.
func insertReturningID(ctx context.Context, tx *sql.Tx, t table, row []any, id *int64) error {
	return mapErr(tx.QueryRowContext(ctx, t.insertSQL(1)+" RETURNING id", row...).Scan(id))
}

// insertGear inserts g as userID's and sets its ids.
func (s *Store) insertGear(ctx context.Context, tx *sql.Tx, userID int64, g *fitness.Gear) error {
	g.UserID = userID
	if err := insertReturningID(ctx, tx, gearTable, s.gearRow(userID, g), &g.ID); err != nil {
		return fmt.Errorf("insert gear: %w", err)
	}
	return nil
}

// setHealthTargets replaces userID's targets, creating the row if missing.
func setHealthTargets(ctx context.Context, ex execer, userID int64, t fitness.HealthTargets) error {
	_, err := ex.ExecContext(ctx, `INSERT INTO health_targets (user_id, weight, steps, sleep) VALUES ($1, $2, $3, $4)
		ON CONFLICT (user_id) DO UPDATE SET weight = excluded.weight, steps = excluded.steps, sleep = excluded.sleep`,
		userID, t.Weight, t.Steps, t.Sleep)
	if err != nil {
		return fmt.Errorf("set health targets: %w", mapErr(err))
	}
	return nil
}

// defaultGearCols are the users_default_gear id columns, in column order.
var defaultGearCols = func() []string {
	cols := make([]string, len(fitness.DefaultGearTypes))
	for i, t := range fitness.DefaultGearTypes {
		cols[i] = t + "_gear_id"
	}
	return cols
}()

// defaultGearUpsert writes all of a user's default-gear ids, creating the row
// if missing.
var defaultGearUpsert = func() string {
	ph := []string{"$1"}
	var sets []string
	for i, c := range defaultGearCols {
		ph = append(ph, "$"+strconv.Itoa(i+2))
		sets = append(sets, c+" = excluded."+c)
	}
	return `INSERT INTO users_default_gear (user_id, ` + strings.Join(defaultGearCols, ", ") + `) VALUES (` +
		strings.Join(ph, ", ") + `) ON CONFLICT (user_id) DO UPDATE SET ` + strings.Join(sets, ", ")
}()

// setDefaultGear replaces userID's default gear with dg; a type missing from
// dg, or an unknown one, leaves no default.
func setDefaultGear(ctx context.Context, ex execer, userID int64, dg fitness.DefaultGear) error {
	args := []any{userID}
	for _, t := range fitness.DefaultGearTypes {
		if id, ok := dg[t]; ok {
			args = append(args, id)
		} else {
			args = append(args, nil)
		}
	}
	if _, err := ex.ExecContext(ctx, defaultGearUpsert, args...); err != nil {
		return fmt.Errorf("set default gear: %w", mapErr(err))
	}
	return nil
}
