package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/trailpass/trailpass/internal/fitness"
)

// exportColumn is an exported column and the SQL expression that reads it.
type exportColumn struct {
	fitness.Column
	expr string
}

// exportTable says where a table's rows live and how they are owned and ordered.
type exportTable struct {
	cols []exportColumn
	// from is the FROM clause; the row's table is aliased t, its activity a.
	from string
	// owner restricts to the user ($1).
	owner string
	// byStart pages by (start_time, id) instead of id.
	byStart bool
	// tz reads the owning activity's timezone.
	tz string
}

// parseCols reads a compact column list "name:kind[=expr] …", kinds i d s b t D j;
// "~" in an expression stands for a space.
func parseCols(spec string) []exportColumn {
	kinds := map[string]fitness.Kind{"i": fitness.Int, "d": fitness.Decimal, "s": fitness.String,
		"b": fitness.Bool, "t": fitness.Time, "D": fitness.Date, "j": fitness.JSON}
	var out []exportColumn
	for _, f := range strings.Fields(spec) {
		name, rest, _ := strings.Cut(f, ":")
		kind, expr, hasExpr := strings.Cut(rest, "=")
		k, ok := kinds[kind]
		if !ok {
			panic("store: bad export column " + f)
		}
		if !hasExpr {
			expr = "t." + name
		}
		expr = strings.ReplaceAll(expr, "~", " ")
		out = append(out, exportColumn{fitness.Column{Name: name, Kind: k}, expr})
	}
	return out
}

// Children are read driven by their own primary key: CROSS JOIN makes SQLite
// walk t by id and stop at LIMIT, where a plain JOIN let it start from the
// user's activities and sort all their children on every page (quadratic:
// 10,000 activities took 50 s instead of 5). PostgreSQL plans CROSS JOIN like
// any inner join.
const (
	ownActivity = "a.id = t.activity_id AND a.user_id = $1"
	ownUser     = "t.user_id = $1"
	joinAct     = " t CROSS JOIN activities a"
)

// Column order is Endurain's; secrets are selected as NULL so they never leave
// the database (the export writer nulls them again by key name).
var exportTables = map[fitness.Table]exportTable{
	fitness.Activities: {from: "activities t", owner: ownUser, byStart: true, tz: "t.timezone", cols: parseCols(`
		id:i user_id:i name:s description:s private_notes:s distance:i activity_type:i start_time:t end_time:t
		timezone:s total_elapsed_time:d total_timer_time:d city:s town:s country:s created_at:t elevation_gain:i
		elevation_loss:i pace:d average_speed:d max_speed:d average_power:i max_power:i normalized_power:i
		average_hr:i max_hr:i average_cad:i max_cad:i workout_feeling:i workout_rpe:i calories:i visibility:i
		gear_id:i strava_gear_id:s strava_activity_id:i garminconnect_activity_id:i garminconnect_gear_id:s
		import_info:j is_hidden:b hide_start_time:b hide_location:b hide_map:b hide_hr:b hide_power:b
		hide_cadence:b hide_elevation:b hide_speed:b hide_pace:b hide_laps:b hide_workout_sets_steps:b
		hide_gear:b tracker_manufacturer:s tracker_model:s`)},
	fitness.ActivityLaps: {from: "activity_laps" + joinAct, owner: ownActivity, tz: "a.timezone", cols: parseCols(`
		id:i activity_id:i start_time:t start_position_lat:d start_position_long:d end_position_lat:d
		end_position_long:d total_elapsed_time:d total_timer_time:d total_distance:d total_cycles:i
		total_calories:i avg_heart_rate:i max_heart_rate:i avg_cadence:i max_cadence:i avg_power:i max_power:i
		total_ascent:i total_descent:i intensity:s lap_trigger:s sport:s sub_sport:s normalized_power:i
		total_work:i avg_vertical_oscillation:d avg_stance_time:d avg_fractional_cadence:d
		max_fractional_cadence:d enhanced_avg_pace:d enhanced_avg_speed:d enhanced_max_pace:d
		enhanced_max_speed:d enhanced_min_altitude:d enhanced_max_altitude:d avg_vertical_ratio:d
		avg_step_length:d`)},
	fitness.ActivitySets: {from: "activity_sets" + joinAct, owner: ownActivity, tz: "a.timezone", cols: parseCols(`
		id:i activity_id:i duration:d repetitions:i weight:d set_type:s start_time:t category:i category_subtype:i`)},
	fitness.ActivityStreams: {from: "activity_streams" + joinAct, owner: ownActivity, cols: parseCols(`
		id:i activity_id:i stream_type:i stream_waypoints:j strava_activity_stream_id:i`)},
	fitness.ActivityWorkoutSteps: {from: "activity_workout_steps" + joinAct, owner: ownActivity, cols: parseCols(`
		id:i activity_id:i message_index:i duration_type:s duration_value:d target_type:s target_value:i
		intensity:s notes:s exercise_category:i exercise_name:i exercise_weight:d weight_display_unit:s
		secondary_target_value:s`)},
	fitness.ActivityMedia: {from: "activity_media" + joinAct, owner: ownActivity, cols: parseCols(`
		id:i activity_id:i media_path:s media_type:i`)},
	fitness.ActivityExerciseTitles: {from: "activity_exercise_titles t", owner: ownUser, cols: parseCols(`
		id:i exercise_category:i exercise_name:i wkt_step_name:s`)},
	fitness.Gears: {from: "gear t", owner: ownUser, cols: parseCols(`
		id:i brand:s model:s nickname:s gear_type:i user_id:i created_at:t active:b initial_kms:d
		purchase_value:d strava_gear_id:s garminconnect_gear_id:s`)},
	fitness.GearComponents: {from: "gear_components t", owner: ownUser, cols: parseCols(`
		id:i user_id:i gear_id:i type:s brand:s model:s purchase_date:t retired_date:t active:b expected_kms:i
		purchase_value:d`)},
	fitness.HealthWeights: {from: "health_weight t", owner: ownUser, cols: parseCols(`
		id:i user_id:i date:D weight:d bmi:d body_fat:d body_water:d bone_mass:d muscle_mass:d
		physique_rating:i visceral_fat:d metabolic_age:i source:s`)},
	fitness.HealthTargetsTable: {from: "health_targets t", owner: ownUser, cols: parseCols(`
		id:i user_id:i weight:d steps:i sleep:i`)},
	fitness.Notifications: {from: "notifications t", owner: ownUser, cols: parseCols(`
		id:i user_id:i type:i options:j read:b created_at:t`)},
	fitness.UserDefaultGear: {from: "users_default_gear t", owner: ownUser, cols: parseCols(`
		id:i user_id:i run_gear_id:i trail_run_gear_id:i virtual_run_gear_id:i ride_gear_id:i
		gravel_ride_gear_id:i mtb_ride_gear_id:i virtual_ride_gear_id:i ows_gear_id:i walk_gear_id:i
		hike_gear_id:i tennis_gear_id:i alpine_ski_gear_id:i nordic_ski_gear_id:i snowboard_gear_id:i
		windsurf_gear_id:i`)},
	fitness.UserGoals: {from: "users_goals t", owner: ownUser, cols: parseCols(`
		id:i user_id:i interval:s activity_type:i goal_type:i goal_calories:i goal_activities_number:i
		goal_distance:i goal_elevation:i goal_duration:i`)},
	// Endurain's columns, the token always null (not even encrypted); idp_slug
	// is added so the provider can be recognised on another server.
	fitness.UserIdentityProviders: {from: "users_identity_providers t JOIN identity_providers p ON p.id = t.idp_id",
		owner: ownUser, cols: parseCols(`
		id:i user_id:i idp_id:i idp_subject:s linked_at:t last_login:t idp_refresh_token:s=NULL
		idp_access_token_expires_at:t idp_refresh_token_updated_at:t idp_slug:s=p.slug`)},
	fitness.UserIntegrations: {from: "users_integrations t", owner: ownUser, cols: parseCols(`
		id:i user_id:i strava_client_id:s=NULL strava_client_secret:s=NULL strava_state:s=NULL
		strava_token:s=NULL strava_refresh_token:s=NULL strava_token_expires_at:t strava_sync_gear:b
		garminconnect_oauth1:j=NULL garminconnect_oauth2:j=NULL garminconnect_sync_gear:b`)},
	fitness.UserPrivacySettings: {from: "users_privacy_settings t", owner: ownUser, cols: parseCols(`
		id:i user_id:i default_activity_visibility:i hide_activity_start_time:b hide_activity_location:b
		hide_activity_map:b hide_activity_hr:b hide_activity_power:b hide_activity_cadence:b
		hide_activity_elevation:b hide_activity_speed:b hide_activity_pace:b hide_activity_laps:b
		hide_activity_workout_sets_steps:b hide_activity_gear:b`)},
	// No password; the TOTP secret lives in mfa_factors and is exported as null.
	fitness.Users: {from: "users t", owner: "t.id = $1", cols: parseCols(`
		id:i name:s username:s email:s city:s birthdate:D preferred_language:s gender:i units:i height:i
		max_heart_rate:i access_type:i photo_path:s active:b first_day_of_week:i currency:i
		mfa_enabled:b=EXISTS(SELECT~1~FROM~mfa_factors~f~WHERE~f.user_id=t.id)
		mfa_secret:s=NULL email_verified:b pending_admin_approval:b`)},
}

func lookupTable(t fitness.Table) (exportTable, error) {
	et, ok := exportTables[t]
	if !ok {
		return et, fmt.Errorf("export: unknown table %q", t)
	}
	return et, nil
}

// ExportColumns lists t's exported columns in Endurain's key order.
func (s *Store) ExportColumns(t fitness.Table) []fitness.Column {
	et := exportTables[t]
	out := make([]fitness.Column, len(et.cols))
	for i, c := range et.cols {
		out[i] = c.Column
	}
	return out
}

// ExportPage returns the next page of the user's rows in t.
func (s *Store) ExportPage(ctx context.Context, t fitness.Table, q fitness.PageQuery) ([]fitness.Row, error) {
	et, err := lookupTable(t)
	if err != nil {
		return nil, err
	}
	exprs := make([]string, 0, len(et.cols)+3)
	exprs = append(exprs, "t.id", "NULL", "NULL")
	if et.byStart {
		exprs[1] = "t.start_time"
	}
	if et.tz != "" {
		exprs[2] = et.tz
	}
	for _, c := range et.cols {
		exprs = append(exprs, c.expr)
	}
	until := q.Until
	if until == 0 {
		until = math.MaxInt64
	}
	var rows *sql.Rows
	if et.byStart {
		rows, err = s.db.QueryContext(ctx, `SELECT `+strings.Join(exprs, ", ")+` FROM `+et.from+` WHERE `+et.owner+
			` AND (t.start_time, t.id) > ($2, $3) ORDER BY t.start_time, t.id LIMIT $4`,
			q.UserID, s.ts(q.After.StartTime), q.After.ID, q.Limit)
	} else {
		rows, err = s.db.QueryContext(ctx, `SELECT `+strings.Join(exprs, ", ")+` FROM `+et.from+` WHERE `+et.owner+
			` AND t.id > $2 AND t.id <= $3 ORDER BY t.id LIMIT $4`, q.UserID, q.After.ID, until, q.Limit)
	}
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", t, mapErr(err))
	}
	defer rows.Close()
	var out []fitness.Row
	for rows.Next() {
		row, err := scanExportRow(rows, et.cols)
		if err != nil {
			return nil, fmt.Errorf("export %s: %w", t, err)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("export %s: %w", t, mapErr(err))
	}
	return out, nil
}

func scanExportRow(rows *sql.Rows, cols []exportColumn) (fitness.Row, error) {
	var (
		row   fitness.Row
		start *time.Time
		tz    sql.NullString
	)
	dest := make([]any, 0, len(cols)+3)
	dest = append(dest, &row.Cursor.ID, nullTime{&start}, &tz)
	ints := make([]sql.NullInt64, len(cols))
	strs := make([]sql.NullString, len(cols))
	bools := make([]sql.NullBool, len(cols))
	times := make([]*time.Time, len(cols))
	dates := make([]*string, len(cols))
	for i, c := range cols {
		switch c.Kind {
		case fitness.Int:
			dest = append(dest, &ints[i])
		case fitness.Bool:
			dest = append(dest, &bools[i])
		case fitness.Time:
			dest = append(dest, nullTime{&times[i]})
		case fitness.Date:
			dest = append(dest, nullDate{&dates[i]})
		default:
			dest = append(dest, &strs[i])
		}
	}
	if err := rows.Scan(dest...); err != nil {
		return row, err
	}
	if start != nil {
		row.Cursor.StartTime = *start
	}
	row.Timezone = tz.String
	row.Values = make([]any, len(cols))
	for i, c := range cols {
		var v any
		switch c.Kind {
		case fitness.Int:
			if ints[i].Valid {
				v = ints[i].Int64
			}
		case fitness.Bool:
			if bools[i].Valid {
				v = bools[i].Bool
			}
		case fitness.Time:
			if times[i] != nil {
				v = *times[i]
			}
		case fitness.Date:
			if dates[i] != nil {
				v = *dates[i]
			}
		case fitness.JSON:
			if strs[i].Valid {
				v = json.RawMessage(strs[i].String)
			}
		default:
			if strs[i].Valid {
				v = strs[i].String
			}
		}
		row.Values[i] = v
	}
	return row, nil
}

// ExportIDs returns up to limit ids of the user's rows in t after afterID.
func (s *Store) ExportIDs(ctx context.Context, t fitness.Table, userID, afterID int64, limit int) ([]int64, error) {
	et, err := lookupTable(t)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT t.id FROM `+et.from+` WHERE `+et.owner+
		` AND t.id > $2 ORDER BY t.id LIMIT $3`, userID, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("export ids %s: %w", t, mapErr(err))
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, mapErr(rows.Err())
}

// ActivityFiles pages through the user's activity files by (start_time, id).
func (s *Store) ActivityFiles(ctx context.Context, userID int64, after fitness.Cursor, limit int) ([]fitness.FileRef, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT file_key, start_time, id FROM activities
		WHERE user_id = $1 AND file_key IS NOT NULL AND (start_time, id) > ($2, $3)
		ORDER BY start_time, id LIMIT $4`, userID, s.ts(after.StartTime), after.ID, limit)
	if err != nil {
		return nil, fmt.Errorf("list activity files: %w", mapErr(err))
	}
	defer rows.Close()
	var out []fitness.FileRef
	for rows.Next() {
		var f fitness.FileRef
		if err := rows.Scan(&f.Key, scanTime(&f.Cursor.StartTime), &f.Cursor.ID); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, mapErr(rows.Err())
}

// MediaFiles pages through the user's activity media by id. Each file is
// named in the archive by its media_path and read from its blob key.
func (s *Store) MediaFiles(ctx context.Context, userID int64, after fitness.Cursor, limit int) ([]fitness.FileRef, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT t.activity_id, t.media_path, t.id FROM activity_media t
		CROSS JOIN activities a WHERE a.id = t.activity_id AND a.user_id = $1 AND t.id > $2 ORDER BY t.id LIMIT $3`,
		userID, after.ID, limit)
	if err != nil {
		return nil, fmt.Errorf("list media files: %w", mapErr(err))
	}
	defer rows.Close()
	var out []fitness.FileRef
	for rows.Next() {
		var (
			f   fitness.FileRef
			act int64
		)
		if err := rows.Scan(&act, &f.Name, &f.Cursor.ID); err != nil {
			return nil, err
		}
		f.Key = f.Name
		if name, ok := strings.CutPrefix(f.Name, fitness.MediaPath(act, "")); ok {
			f.Key = fitness.MediaKey(act, name)
		}
		out = append(out, f)
	}
	return out, mapErr(rows.Err())
}
