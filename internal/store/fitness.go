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

var _ fitness.Store = (*Store)(nil)

// insertMany inserts rows with multi-row VALUES statements. Batches stay under
// both engines' bind-parameter limits (SQLite 32766, PostgreSQL 65535) and a few
// MiB of arguments, since stream rows carry large JSON.
func insertMany(ctx context.Context, tx *sql.Tx, table string, cols []string, rows [][]any) error {
	per := min(200, 30000/len(cols))
	for len(rows) > 0 {
		n := min(per, len(rows))
		var b strings.Builder
		b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
		args := make([]any, 0, n*len(cols))
		for i, r := range rows[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for j := range r {
				if j > 0 {
					b.WriteString(", ")
				}
				b.WriteString("$" + strconv.Itoa(len(args)+j+1))
			}
			b.WriteByte(')')
			args = append(args, r...)
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("insert %s: %w", table, mapErr(err))
		}
		rows = rows[n:]
	}
	return nil
}

// jsonArg passes raw JSON as text (NULL when empty), which both engines accept.
func jsonArg(m json.RawMessage) any {
	if len(m) == 0 {
		return nil
	}
	return string(m)
}

const activityInsert = `INSERT INTO activities (user_id, name, description, private_notes, distance, activity_type,
	start_time, end_time, timezone, total_elapsed_time, total_timer_time, city, town, country, created_at,
	elevation_gain, elevation_loss, pace, average_speed, max_speed, average_power, max_power, normalized_power,
	average_hr, max_hr, average_cad, max_cad, workout_feeling, workout_rpe, calories, visibility, gear_id,
	strava_gear_id, strava_activity_id, garminconnect_activity_id, garminconnect_gear_id, import_info, is_hidden,
	hide_start_time, hide_location, hide_map, hide_hr, hide_power, hide_cadence, hide_elevation, hide_speed,
	hide_pace, hide_laps, hide_workout_sets_steps, hide_gear, tracker_manufacturer, tracker_model)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22,
	$23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36, $37, $38, $39, $40, $41, $42, $43, $44,
	$45, $46, $47, $48, $49, $50, $51, $52) RETURNING id`

var lapCols = []string{"activity_id", "start_time", "start_position_lat", "start_position_long", "end_position_lat",
	"end_position_long", "total_elapsed_time", "total_timer_time", "total_distance", "total_cycles", "total_calories",
	"avg_heart_rate", "max_heart_rate", "avg_cadence", "max_cadence", "avg_power", "max_power", "total_ascent",
	"total_descent", "intensity", "lap_trigger", "sport", "sub_sport", "normalized_power", "total_work",
	"avg_vertical_oscillation", "avg_stance_time", "avg_fractional_cadence", "max_fractional_cadence",
	"enhanced_avg_pace", "enhanced_avg_speed", "enhanced_max_pace", "enhanced_max_speed", "enhanced_min_altitude",
	"enhanced_max_altitude", "avg_vertical_ratio", "avg_step_length"}

var setCols = []string{"activity_id", "duration", "repetitions", "weight", "set_type", "start_time", "category", "category_subtype"}

var streamCols = []string{"activity_id", "stream_type", "stream_waypoints", "strava_activity_stream_id"}

var stepCols = []string{"activity_id", "message_index", "duration_type", "duration_value", "target_type", "target_value",
	"intensity", "notes", "exercise_category", "exercise_name", "exercise_weight", "weight_display_unit", "secondary_target_value"}

// CreateActivities inserts the bundles and their parts in one transaction.
func (s *Store) CreateActivities(ctx context.Context, userID int64, bundles []*fitness.ActivityBundle) error {
	return s.withTx(ctx, func(tx *sql.Tx) error {
		var laps, sets, streams, steps, media [][]any
		for _, b := range bundles {
			a := &b.Activity
			a.UserID = userID
			h := a.Hide
			err := tx.QueryRowContext(ctx, activityInsert, userID, a.Name, a.Description, a.PrivateNotes, a.Distance,
				a.ActivityType, s.ts(a.StartTime), s.ts(a.EndTime), a.Timezone, a.TotalElapsedTime, a.TotalTimerTime,
				a.City, a.Town, a.Country, s.ts(a.CreatedAt), a.ElevationGain, a.ElevationLoss, a.Pace, a.AverageSpeed,
				a.MaxSpeed, a.AveragePower, a.MaxPower, a.NormalizedPower, a.AverageHR, a.MaxHR, a.AverageCad, a.MaxCad,
				a.WorkoutFeeling, a.WorkoutRPE, a.Calories, a.Visibility, a.GearID, a.StravaGearID, a.StravaActivityID,
				a.GarminconnectActivityID, a.GarminconnectGearID, jsonArg(a.ImportInfo), a.IsHidden, h.StartTime,
				h.Location, h.Map, h.HR, h.Power, h.Cadence, h.Elevation, h.Speed, h.Pace, h.Laps, h.WorkoutSetsSteps,
				h.Gear, a.TrackerManufacturer, a.TrackerModel).Scan(&a.ID)
			if err != nil {
				return fmt.Errorf("insert activity: %w", mapErr(err))
			}
			if b.FileExt != "" {
				key := fitness.ActivityFileKey(a.ID, b.FileExt)
				a.FileKey = &key
				if _, err := tx.ExecContext(ctx, `UPDATE activities SET file_key = $1 WHERE id = $2`, key, a.ID); err != nil {
					return fmt.Errorf("set activity file: %w", mapErr(err))
				}
			}
			for i := range b.Laps {
				l := &b.Laps[i]
				l.ActivityID = a.ID
				laps = append(laps, []any{a.ID, s.ts(l.StartTime), l.StartPositionLat, l.StartPositionLong,
					l.EndPositionLat, l.EndPositionLong, l.TotalElapsedTime, l.TotalTimerTime, l.TotalDistance,
					l.TotalCycles, l.TotalCalories, l.AvgHeartRate, l.MaxHeartRate, l.AvgCadence, l.MaxCadence,
					l.AvgPower, l.MaxPower, l.TotalAscent, l.TotalDescent, l.Intensity, l.LapTrigger, l.Sport,
					l.SubSport, l.NormalizedPower, l.TotalWork, l.AvgVerticalOscillation, l.AvgStanceTime,
					l.AvgFractionalCadence, l.MaxFractionalCadence, l.EnhancedAvgPace, l.EnhancedAvgSpeed,
					l.EnhancedMaxPace, l.EnhancedMaxSpeed, l.EnhancedMinAltitude, l.EnhancedMaxAltitude,
					l.AvgVerticalRatio, l.AvgStepLength})
			}
			for i := range b.Sets {
				x := &b.Sets[i]
				x.ActivityID = a.ID
				sets = append(sets, []any{a.ID, x.Duration, x.Repetitions, x.Weight, x.SetType, s.ts(x.StartTime),
					x.Category, x.CategorySubtype})
			}
			for i := range b.Streams {
				x := &b.Streams[i]
				x.ActivityID = a.ID
				streams = append(streams, []any{a.ID, x.StreamType, string(x.Waypoints), x.StravaActivityStreamID})
			}
			for i := range b.Steps {
				x := &b.Steps[i]
				x.ActivityID = a.ID
				steps = append(steps, []any{a.ID, x.MessageIndex, x.DurationType, x.DurationValue, x.TargetType,
					x.TargetValue, x.Intensity, x.Notes, x.ExerciseCategory, x.ExerciseName, x.ExerciseWeight,
					x.WeightDisplayUnit, x.SecondaryTargetValue})
			}
			for i := range b.Media {
				x := &b.Media[i]
				x.ActivityID = a.ID
				x.MediaPath = fitness.MediaKey(a.ID, x.Name)
				if x.MediaType == 0 {
					x.MediaType = 1
				}
				media = append(media, []any{a.ID, x.MediaPath, x.MediaType})
			}
		}
		// Child ids are not read back: nothing the callers do needs them, and
		// RETURNING over multi-row inserts does not promise an order.
		for _, ins := range []struct {
			table string
			cols  []string
			rows  [][]any
		}{
			{"activity_laps", lapCols, laps},
			{"activity_sets", setCols, sets},
			{"activity_streams", streamCols, streams},
			{"activity_workout_steps", stepCols, steps},
			{"activity_media", []string{"activity_id", "media_path", "media_type"}, media},
		} {
			if err := insertMany(ctx, tx, ins.table, ins.cols, ins.rows); err != nil {
				return err
			}
		}
		return nil
	})
}

// CreateExerciseTitles inserts the user's exercise titles.
func (s *Store) CreateExerciseTitles(ctx context.Context, userID int64, titles []*fitness.ExerciseTitle) error {
	return s.withTx(ctx, func(tx *sql.Tx) error {
		for _, t := range titles {
			t.UserID = userID
			err := tx.QueryRowContext(ctx, `INSERT INTO activity_exercise_titles (user_id, exercise_category,
				exercise_name, wkt_step_name) VALUES ($1, $2, $3, $4) RETURNING id`,
				userID, t.ExerciseCategory, t.ExerciseName, t.WktStepName).Scan(&t.ID)
			if err != nil {
				return fmt.Errorf("insert exercise title: %w", mapErr(err))
			}
		}
		return nil
	})
}

// CreateGear inserts g and its components.
func (s *Store) CreateGear(ctx context.Context, userID int64, g *fitness.Gear, components []*fitness.GearComponent) error {
	return s.withTx(ctx, func(tx *sql.Tx) error {
		g.UserID = userID
		err := tx.QueryRowContext(ctx, `INSERT INTO gear (user_id, brand, model, nickname, gear_type, created_at,
			active, initial_kms, purchase_value, strava_gear_id, garminconnect_gear_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
			userID, g.Brand, g.Model, g.Nickname, g.GearType, s.ts(g.CreatedAt), g.Active, g.InitialKms,
			g.PurchaseValue, g.StravaGearID, g.GarminconnectGearID).Scan(&g.ID)
		if err != nil {
			return fmt.Errorf("insert gear: %w", mapErr(err))
		}
		for _, c := range components {
			c.UserID, c.GearID = userID, g.ID
			err := tx.QueryRowContext(ctx, `INSERT INTO gear_components (user_id, gear_id, type, brand, model,
				purchase_date, retired_date, active, expected_kms, purchase_value)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
				userID, g.ID, c.Type, c.Brand, c.Model, s.ts(c.PurchaseDate), s.tsPtr(c.RetiredDate), c.Active,
				c.ExpectedKms, c.PurchaseValue).Scan(&c.ID)
			if err != nil {
				return fmt.Errorf("insert gear component: %w", mapErr(err))
			}
		}
		return nil
	})
}

// CreateHealthWeights inserts weighings.
func (s *Store) CreateHealthWeights(ctx context.Context, userID int64, ws []*fitness.HealthWeight) error {
	rows := make([][]any, 0, len(ws))
	for _, w := range ws {
		w.UserID = userID
		rows = append(rows, []any{userID, w.Date, w.Weight, w.BMI, w.BodyFat, w.BodyWater, w.BoneMass, w.MuscleMass,
			w.PhysiqueRating, w.VisceralFat, w.MetabolicAge, w.Source})
	}
	return s.withTx(ctx, func(tx *sql.Tx) error {
		return insertMany(ctx, tx, "health_weight", []string{"user_id", "date", "weight", "bmi", "body_fat",
			"body_water", "bone_mass", "muscle_mass", "physique_rating", "visceral_fat", "metabolic_age", "source"}, rows)
	})
}

// SetHealthTargets replaces the user's targets, creating the row if missing.
func (s *Store) SetHealthTargets(ctx context.Context, userID int64, t fitness.HealthTargets) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO health_targets (user_id, weight, steps, sleep) VALUES ($1, $2, $3, $4)
		ON CONFLICT (user_id) DO UPDATE SET weight = excluded.weight, steps = excluded.steps, sleep = excluded.sleep`,
		userID, t.Weight, t.Steps, t.Sleep)
	if err != nil {
		return fmt.Errorf("set health targets: %w", mapErr(err))
	}
	return nil
}

// CreateGoals inserts goals.
func (s *Store) CreateGoals(ctx context.Context, userID int64, goals []*fitness.Goal) error {
	return s.withTx(ctx, func(tx *sql.Tx) error {
		for _, g := range goals {
			g.UserID = userID
			err := tx.QueryRowContext(ctx, `INSERT INTO users_goals (user_id, interval, activity_type, goal_type,
				goal_calories, goal_activities_number, goal_distance, goal_elevation, goal_duration)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
				userID, g.Interval, g.ActivityType, g.GoalType, g.GoalCalories, g.GoalActivitiesNumber,
				g.GoalDistance, g.GoalElevation, g.GoalDuration).Scan(&g.ID)
			if err != nil {
				return fmt.Errorf("insert goal: %w", mapErr(err))
			}
		}
		return nil
	})
}

// SetDefaultGear replaces the user's default gear, creating the row if missing.
func (s *Store) SetDefaultGear(ctx context.Context, userID int64, dg fitness.DefaultGear) error {
	cols := []string{"user_id"}
	args := []any{userID}
	var sets []string
	for _, t := range fitness.DefaultGearTypes {
		c := t + "_gear_id"
		cols = append(cols, c)
		sets = append(sets, c+" = excluded."+c)
		if id, ok := dg[t]; ok {
			args = append(args, id)
		} else {
			args = append(args, nil)
		}
	}
	ph := make([]string, len(args))
	for i := range ph {
		ph[i] = "$" + strconv.Itoa(i+1)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO users_default_gear (`+strings.Join(cols, ", ")+`) VALUES (`+
		strings.Join(ph, ", ")+`) ON CONFLICT (user_id) DO UPDATE SET `+strings.Join(sets, ", "), args...)
	if err != nil {
		return fmt.Errorf("set default gear: %w", mapErr(err))
	}
	return nil
}

// CreateNotifications inserts notifications.
func (s *Store) CreateNotifications(ctx context.Context, userID int64, ns []*fitness.Notification) error {
	return s.withTx(ctx, func(tx *sql.Tx) error {
		for _, n := range ns {
			n.UserID = userID
			err := tx.QueryRowContext(ctx, `INSERT INTO notifications (user_id, type, options, read, created_at)
				VALUES ($1, $2, $3, $4, $5) RETURNING id`,
				userID, n.Type, jsonArg(n.Options), n.Read, s.ts(n.CreatedAt)).Scan(&n.ID)
			if err != nil {
				return fmt.Errorf("insert notification: %w", mapErr(err))
			}
		}
		return nil
	})
}

// AnalyzeFitness refreshes the planner statistics after a bulk load. On a fresh
// PostgreSQL table the planner has none and picks plans that page through a
// user's activities once per export query (quadratic); autovacuum fixes that
// eventually, a seed should not leave it to chance.
func (s *Store) AnalyzeFitness(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `ANALYZE`); err != nil {
		return fmt.Errorf("analyze: %w", mapErr(err))
	}
	return nil
}
