package fitness

import (
	"fmt"
	"strconv"
	"time"
)

// The one description of every exported table. The export's columns and
// their formats, the import's decoding, validation, defaults and duplicate
// keys, and the store's INSERT and COPY column lists all read it; a test
// compares it with the live schema of both databases. Adding a column to a
// table is a migration per dialect and one line here.

// Form is how a Time column is written in an archive.
type Form uint8

// Time forms, as Endurain writes them.
const (
	// Python is str() of a naive UTC datetime: "2026-06-01 12:00:00[.ffffff]".
	Python Form = iota
	// ISO is naive ISO text in UTC: "2026-06-01T12:00:00" (an activity's own times).
	ISO
	// Local is naive ISO text in the owning activity's zone (laps, sets).
	Local
)

// Ref is what an id column points at; the import maps it to the new row.
type Ref uint8

// References.
const (
	NoRef Ref = iota
	// Self is the row's own id: the archive's id, kept only to map children.
	Self
	// Owner is user_id: always the importing account.
	Owner
	// Parent is activity_id: the imported activity.
	Parent
	// GearRef is gear_id: the imported (or already present) gear.
	GearRef
)

// Column is one column of an exported table.
type Column struct {
	Name string
	Kind Kind
	// Null allows NULL; a NOT NULL column without Def is required in an archive.
	Null bool
	// Big is BIGINT (64 bits); other Int columns are INTEGER (32 bits).
	Big bool
	// Max is a VARCHAR's length: the longest text (in bytes) an import accepts.
	Max int
	// Form is a Time column's archive form.
	Form Form
	// Ref marks an id column the import remaps.
	Ref Ref
	// Def is the import's value when the archive has the key missing or null:
	// text of the column's kind, or "now" or "start_time" for a time.
	Def string
	// Min and Lim bound an Int column when Lim is set.
	Min, Lim int64
	// Shape is a JSON column's required first byte, '{' or '['.
	Shape byte
	// Bulk marks a JSON column whose values are most of an account's bytes
	// (stream samples): a store may keep them compressed (see Packed).
	Bulk bool
	// Secret columns are exported as null and never imported.
	Secret bool
	// Virtual columns are computed by the export, not stored in the table.
	Virtual bool
}

func col(name string, k Kind) Column  { return Column{Name: name, Kind: k} }
func null(name string, k Kind) Column { return Column{Name: name, Kind: k, Null: true} }

func (c Column) max(n int) Column            { c.Max = n; return c }
func (c Column) big() Column                 { c.Big = true; return c }
func (c Column) form(f Form) Column          { c.Form = f; return c }
func (c Column) ref(r Ref) Column            { c.Ref = r; return c }
func (c Column) def(v string) Column         { c.Def = v; return c }
func (c Column) between(lo, hi int64) Column { c.Min, c.Lim = lo, hi; return c }
func (c Column) shape(b byte) Column         { c.Shape = b; return c }
func (c Column) bulk() Column                { c.Bulk = true; return c }
func (c Column) secret() Column              { c.Secret = true; return c }
func (c Column) virtual() Column             { c.Virtual = true; return c }

// Packed is a Bulk column's value already in the form its store keeps it,
// made by the store from the JSON text (an import packs values on its
// workers, so that its write transaction only copies them). Only the store
// that made it reads it.
type Packed []byte

// Desc describes one exported table.
type Desc struct {
	// Table is the archive's name; SQL the table's.
	Table Table
	SQL   string
	// ByActivity tables belong to the user through activity_id.
	ByActivity bool
	// ByStart pages by (start_time, id) instead of id.
	ByStart bool
	// Chunked tables are written in files of a fixed number of rows.
	Chunked bool
	// Cols are the exported columns in Endurain's key order.
	Cols []Column
	// Internal are the table's columns that never leave the server.
	Internal []string
	// Key is the duplicate key: a row whose key the account already has is
	// skipped by a re-import, and so is a second row of one archive with the
	// same key unless ArchiveDups.
	Key         []string
	ArchiveDups bool
	// OnePerUser tables hold one row a user, replaced by an import.
	OnePerUser bool
}

var (
	id      = col("id", Int).big().ref(Self)
	userID  = col("user_id", Int).big().ref(Owner)
	parent  = col("activity_id", Int).big().ref(Parent)
	varchar = func(name string) Column { return null(name, String).max(250) }
	flag    = func(name string) Column { return col(name, Bool).def("false") }
)

// Tables lists every exported table in the archive's order.
var Tables = []*Desc{
	{Table: Activities, SQL: "activities", ByStart: true, Internal: []string{"file_key"},
		Key: []string{"start_time", "activity_type", "distance"}, ArchiveDups: true, Cols: []Column{
			id, userID, varchar("name"), varchar("description").max(2500), varchar("private_notes").max(2500),
			col("distance", Int).def("0"),
			col("activity_type", Int).between(1, 1000),
			col("start_time", Time).form(ISO),
			col("end_time", Time).form(ISO).def("start_time"),
			varchar("timezone"),
			col("total_elapsed_time", Decimal).def("0"),
			col("total_timer_time", Decimal).def("0"),
			varchar("city"), varchar("town"), varchar("country"),
			col("created_at", Time).form(ISO).def("now"),
			null("elevation_gain", Int), null("elevation_loss", Int),
			null("pace", Decimal), null("average_speed", Decimal), null("max_speed", Decimal),
			null("average_power", Int), null("max_power", Int), null("normalized_power", Int),
			null("average_hr", Int), null("max_hr", Int), null("average_cad", Int), null("max_cad", Int),
			null("workout_feeling", Int), null("workout_rpe", Int), null("calories", Int),
			col("visibility", Int).def("0").between(0, 2),
			null("gear_id", Int).big().ref(GearRef),
			varchar("strava_gear_id").max(45),
			null("strava_activity_id", Int).big(),
			null("garminconnect_activity_id", Int).big(),
			varchar("garminconnect_gear_id").max(45),
			null("import_info", JSON).shape('{'),
			flag("is_hidden"), flag("hide_start_time"), flag("hide_location"), flag("hide_map"), flag("hide_hr"),
			flag("hide_power"), flag("hide_cadence"), flag("hide_elevation"), flag("hide_speed"), flag("hide_pace"),
			flag("hide_laps"), flag("hide_workout_sets_steps"), flag("hide_gear"),
			varchar("tracker_manufacturer"), varchar("tracker_model"),
		}},
	{Table: ActivityLaps, SQL: "activity_laps", ByActivity: true, Chunked: true, Cols: []Column{
		id, parent, col("start_time", Time).form(Local),
		null("start_position_lat", Decimal), null("start_position_long", Decimal),
		null("end_position_lat", Decimal), null("end_position_long", Decimal),
		null("total_elapsed_time", Decimal), null("total_timer_time", Decimal), null("total_distance", Decimal),
		null("total_cycles", Int), null("total_calories", Int), null("avg_heart_rate", Int), null("max_heart_rate", Int),
		null("avg_cadence", Int), null("max_cadence", Int), null("avg_power", Int), null("max_power", Int),
		null("total_ascent", Int), null("total_descent", Int),
		varchar("intensity"), varchar("lap_trigger"), varchar("sport"), varchar("sub_sport"),
		null("normalized_power", Int), null("total_work", Int),
		null("avg_vertical_oscillation", Decimal), null("avg_stance_time", Decimal),
		null("avg_fractional_cadence", Decimal), null("max_fractional_cadence", Decimal),
		null("enhanced_avg_pace", Decimal), null("enhanced_avg_speed", Decimal),
		null("enhanced_max_pace", Decimal), null("enhanced_max_speed", Decimal),
		null("enhanced_min_altitude", Decimal), null("enhanced_max_altitude", Decimal),
		null("avg_vertical_ratio", Decimal), null("avg_step_length", Decimal),
	}},
	{Table: ActivitySets, SQL: "activity_sets", ByActivity: true, Chunked: true, Cols: []Column{
		id, parent, col("duration", Decimal), null("repetitions", Int), null("weight", Decimal),
		col("set_type", String).max(250), col("start_time", Time).form(Local),
		null("category", Int), null("category_subtype", Int),
	}},
	{Table: ActivityStreams, SQL: "activity_streams", ByActivity: true, Chunked: true, Cols: []Column{
		id, parent, col("stream_type", Int).between(StreamHR, StreamLatLon), col("stream_waypoints", JSON).shape('[').bulk(),
		null("strava_activity_stream_id", Int).big(),
	}},
	{Table: ActivityWorkoutSteps, SQL: "activity_workout_steps", ByActivity: true, Cols: []Column{
		id, parent, col("message_index", Int), col("duration_type", String).max(250),
		null("duration_value", Decimal), varchar("target_type"), null("target_value", Int),
		varchar("intensity"), varchar("notes"), null("exercise_category", Int), null("exercise_name", Int),
		null("exercise_weight", Decimal), varchar("weight_display_unit"), varchar("secondary_target_value"),
	}},
	{Table: ActivityMedia, SQL: "activity_media", ByActivity: true, Cols: []Column{
		id, parent, col("media_path", String).max(300), col("media_type", Int).def("1"),
	}},
	{Table: ActivityExerciseTitles, SQL: "activity_exercise_titles", Key: []string{"exercise_category", "exercise_name"},
		Internal: []string{"user_id"}, Cols: []Column{
			id, col("exercise_category", Int), col("exercise_name", Int), col("wkt_step_name", String).max(250),
		}},
	{Table: Gears, SQL: "gear", Key: []string{"nickname"}, Cols: []Column{
		id, varchar("brand"), varchar("model"), col("nickname", String).max(250), col("gear_type", Int).between(1, 20),
		userID, col("created_at", Time).def("now"), col("active", Bool).def("true"),
		col("initial_kms", Decimal).def("0"), null("purchase_value", Decimal),
		varchar("strava_gear_id").max(45), varchar("garminconnect_gear_id").max(45),
	}},
	{Table: GearComponents, SQL: "gear_components", Cols: []Column{
		id, userID, col("gear_id", Int).big().ref(GearRef), col("type", String).max(250),
		col("brand", String).max(250), col("model", String).max(250), col("purchase_date", Time),
		null("retired_date", Time), flag("active"), null("expected_kms", Int), null("purchase_value", Decimal),
	}},
	{Table: HealthWeights, SQL: "health_weight", Key: []string{"date"}, Cols: []Column{
		id, userID, col("date", Date), col("weight", Decimal), null("bmi", Decimal), null("body_fat", Decimal),
		null("body_water", Decimal), null("bone_mass", Decimal), null("muscle_mass", Decimal),
		null("physique_rating", Int), null("visceral_fat", Decimal), null("metabolic_age", Int), varchar("source"),
	}},
	{Table: HealthTargetsTable, SQL: "health_targets", OnePerUser: true, Cols: []Column{
		id, userID, null("weight", Decimal), null("steps", Int), null("sleep", Int),
	}},
	{Table: Notifications, SQL: "notifications", Key: []string{"type", "created_at"}, Cols: []Column{
		id, userID, col("type", Int).between(1, 1000), null("options", JSON).shape('{'), flag("read"),
		col("created_at", Time).def("now"),
	}},
	{Table: UserDefaultGear, SQL: "users_default_gear", OnePerUser: true, Cols: defaultGearCols()},
	{Table: UserGoals, SQL: "users_goals", Key: []string{"interval", "activity_type", "goal_type"}, Cols: []Column{
		id, userID, col("interval", String).max(250), col("activity_type", Int), col("goal_type", Int),
		null("goal_calories", Int), null("goal_activities_number", Int), null("goal_distance", Int),
		null("goal_elevation", Int), null("goal_duration", Int),
	}},
	// Endurain's columns, the token always null (not even encrypted); idp_slug
	// is added so the provider can be recognised on another server.
	{Table: UserIdentityProviders, SQL: "users_identity_providers", Cols: []Column{
		id, userID, col("idp_id", Int).big(), col("idp_subject", String).max(500), col("linked_at", Time),
		null("last_login", Time), null("idp_refresh_token", String).secret(), null("idp_access_token_expires_at", Time),
		null("idp_refresh_token_updated_at", Time), col("idp_slug", String).virtual(),
	}},
	{Table: UserIntegrations, SQL: "users_integrations", OnePerUser: true, Cols: []Column{
		id, userID, null("strava_client_id", String).max(512).secret(), null("strava_client_secret", String).max(512).secret(),
		null("strava_state", String).max(45).secret(), null("strava_token", String).max(512).secret(),
		null("strava_refresh_token", String).max(512).secret(), null("strava_token_expires_at", Time),
		flag("strava_sync_gear"), null("garminconnect_oauth1", JSON).secret(), null("garminconnect_oauth2", JSON).secret(),
		flag("garminconnect_sync_gear"),
	}},
	{Table: UserPrivacySettings, SQL: "users_privacy_settings", OnePerUser: true, Cols: []Column{
		id, userID, col("default_activity_visibility", Int).def("0").between(0, 2),
		flag("hide_activity_start_time"), flag("hide_activity_location"), flag("hide_activity_map"),
		flag("hide_activity_hr"), flag("hide_activity_power"), flag("hide_activity_cadence"),
		flag("hide_activity_elevation"), flag("hide_activity_speed"), flag("hide_activity_pace"),
		flag("hide_activity_laps"), flag("hide_activity_workout_sets_steps"), flag("hide_activity_gear"),
	}},
	// No password; the TOTP secret lives in mfa_factors and is exported as null.
	{Table: Users, SQL: "users", Internal: []string{"password", "created_at", "updated_at", "credential_version"},
		Cols: []Column{
			id, col("name", String).max(250), col("username", String).max(250), col("email", String).max(250),
			varchar("city"), null("birthdate", Date), col("preferred_language", String).max(5),
			col("gender", Int), col("units", Int), null("height", Int), null("max_heart_rate", Int),
			col("access_type", Int), varchar("photo_path"), col("active", Bool), col("first_day_of_week", Int),
			col("currency", Int), col("mfa_enabled", Bool).virtual(), null("mfa_secret", String).virtual().secret(),
			col("email_verified", Bool), col("pending_admin_approval", Bool),
		}},
}

// defaultGearCols are users_default_gear's: one gear reference a DefaultGearTypes entry.
func defaultGearCols() []Column {
	cols := []Column{id, userID}
	for _, t := range DefaultGearTypes {
		cols = append(cols, null(t+"_gear_id", Int).big().ref(GearRef))
	}
	return cols
}

var descs = func() map[Table]*Desc {
	m := make(map[Table]*Desc, len(Tables))
	for _, d := range Tables {
		m[d.Table] = d
	}
	return m
}()

// Describe returns t's description, nil for an unknown table.
func Describe(t Table) *Desc { return descs[t] }

// Index returns the position of the column named name in d.Cols, or -1.
func (d *Desc) Index(name string) int {
	for i, c := range d.Cols {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// Stored are the columns an INSERT writes: all but the id, virtual and secret
// ones, and user_id first where the archive leaves it out (Internal).
func (d *Desc) Stored() []Column {
	var out []Column
	for _, name := range d.Internal {
		if name == "user_id" {
			out = append(out, userID)
		}
	}
	for _, c := range d.Cols {
		if c.Ref != Self && !c.Virtual && !c.Secret {
			out = append(out, c)
		}
	}
	return out
}

// KeyString is a duplicate key's values as one map key: integers and text as
// they are, times in whole seconds (as archives keep them), nil as "null".
func KeyString(vals []any) string {
	var b []byte
	for i, v := range vals {
		if i > 0 {
			b = append(b, 0)
		}
		switch v := v.(type) {
		case nil:
			b = append(b, "null"...)
		case int64:
			b = strconv.AppendInt(b, v, 10)
		case time.Time:
			b = strconv.AppendInt(b, v.Unix(), 10)
		case string:
			b = append(b, v...)
		default:
			b = fmt.Appendf(b, "%v", v)
		}
	}
	return string(b)
}
