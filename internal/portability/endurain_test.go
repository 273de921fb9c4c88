package portability_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/fitness"
	"github.com/trailpass/trailpass/internal/portability"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

var jpegBytes = func() []byte {
	var buf bytes.Buffer
	jpeg.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 4, 4)), nil)
	return buf.Bytes()
}()

// pngBomb is a valid PNG header declaring 100,000 × 100,000 pixels.
func pngBomb() []byte {
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1)))
	b := buf.Bytes()
	binary.BigEndian.PutUint32(b[16:], 100_000)
	binary.BigEndian.PutUint32(b[20:], 100_000)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// endurainArchive is shaped like an Endurain v0.16.2 export: decimals as
// strings (and a Decimal('0E-10')), naive datetimes with a space or a T, lap
// times in the activity's local time, chunked laps, absolute media paths, an
// identity-provider row, the global exercise-titles table, counts.json and no
// manifest.
func endurainArchive(t testing.TB) []byte {
	acts := `[{"id": 41, "user_id": 9, "name": "Morning Run", "distance": 10012, "activity_type": 1,
		"start_time": "2024-05-01T07:00:00", "end_time": "2024-05-01T08:00:00", "timezone": "Europe/Lisbon",
		"total_elapsed_time": "3600.0000000000", "total_timer_time": "3550.5000000000", "created_at": "2024-05-01T09:00:00",
		"pace": "0.3596000000", "average_speed": "2.7811000000", "max_speed": "0E-10", "visibility": 0, "gear_id": 3,
		"import_info": null, "is_hidden": false, "hide_start_time": false, "strava_activity_id": null},
		{"id": 42, "user_id": 9, "name": "Swim", "distance": 1500, "activity_type": 8,
		"start_time": "2024-05-02 18:00:00+00:00", "end_time": "2024-05-02 18:40:00+00:00", "timezone": null,
		"total_elapsed_time": 2400, "total_timer_time": 2400.5, "created_at": "2024-05-02 19:00:00.123456",
		"visibility": 2, "gear_id": null}]`
	lap := func(id int, start string) string {
		return `{"id": ` + strconv.Itoa(id) + `, "activity_id": 41, "start_time": "` + start + `", "total_distance": "1000.0000000000", "avg_heart_rate": 150, "intensity": "active"}`
	}
	return buildZip(t,
		zent{name: "data/activities.json", data: []byte(acts)},
		zent{name: "data/activity_laps_000.json", data: []byte(`[` + lap(1, "2024-05-01T08:00:00") + `, ` + lap(2, "2024-05-01T08:05:00") + `]`)},
		zent{name: "data/activity_laps_001.json", data: []byte(`[` + lap(3, "2024-05-01T08:10:00") + `]`)},
		zent{name: "data/activity_streams.json", data: []byte(`[{"id": 5, "activity_id": 41, "stream_type": 1, "stream_waypoints": [{"time": "2024-05-01T07:00:00", "hr": 120}], "strava_activity_stream_id": null}]`)},
		zent{name: "data/activity_sets.json", data: []byte(`[{"id": 2, "activity_id": 42, "duration": "30.0000000000", "repetitions": 10, "weight": 20, "set_type": "active", "start_time": "2024-05-02 18:05:00", "category": 1, "category_subtype": 2}]`)},
		zent{name: "data/activity_workout_steps.json", data: []byte(`[]`)},
		zent{name: "data/activity_media.json", data: []byte(`[{"id": 7, "activity_id": 41, "media_path": "/app/backend/data/activity_media/41_sunrise.jpg", "media_type": 1}]`)},
		zent{name: "data/activity_exercise_titles.json", data: []byte(`[{"id": 1, "exercise_category": 0, "exercise_name": 0, "wkt_step_name": "Bench press"}, {"id": 2, "exercise_category": 28, "exercise_name": 1, "wkt_step_name": "Squat"}]`)},
		zent{name: "data/gears.json", data: []byte(`[{"id": 3, "brand": "Asics", "model": "Nimbus", "nickname": "Blue shoes", "gear_type": 2, "user_id": 9, "created_at": "2023-01-01 10:00:00", "active": true, "initial_kms": "12.5000000000", "purchase_value": "120.00", "strava_gear_id": null, "garminconnect_gear_id": null},
			{"id": 4, "brand": "Starboard", "model": "Carve", "nickname": "Board", "gear_type": 7, "user_id": 9, "created_at": "2023-02-01 10:00:00", "active": true, "initial_kms": "0E-10"}]`)},
		zent{name: "data/gear_components.json", data: []byte(`[{"id": 1, "user_id": 9, "gear_id": 3, "type": "insoles", "brand": "X", "model": "Y", "purchase_date": "2023-01-01 00:00:00", "retired_date": "2024-01-01 00:00:00", "active": false, "expected_kms": 800, "purchase_value": "30.00"}]`)},
		zent{name: "data/health_weight.json", data: []byte(`[{"id": 1, "user_id": 9, "date": "2024-04-30", "weight": "70.50", "bmi": null, "source": "garmin"}]`)},
		zent{name: "data/health_targets.json", data: []byte(`[{"id": 1, "user_id": 9, "weight": "68.00", "steps": 10000, "sleep": 28800}]`)},
		zent{name: "data/notifications.json", data: []byte(`[{"id": 1, "user_id": 9, "type": 1, "options": {"activity_id": 41, "activity_name": "Morning Run"}, "read": true, "created_at": "2024-05-01 09:00:00.5"}]`)},
		zent{name: "data/user_default_gear.json", data: []byte(`[{"id": 1, "user_id": 9, "run_gear_id": 3, "windsurf_gear_id": 4, "ride_gear_id": null}]`)},
		zent{name: "data/user_goals.json", data: []byte(`[{"id": 1, "user_id": 9, "interval": "weekly", "activity_type": 1, "goal_type": 3, "goal_distance": 30000}]`)},
		zent{name: "data/user_identity_providers.json", data: []byte(`[{"id": 1, "user_id": 9, "idp_id": 1, "idp_subject": "abc", "linked_at": "2024-01-01 00:00:00", "idp_refresh_token": "gAAAA"}]`)},
		zent{name: "data/user_integrations.json", data: []byte(`[{"id": 1, "user_id": 9, "strava_client_id": "1", "strava_client_secret": "s", "strava_token": "t"}]`)},
		zent{name: "data/user_privacy_settings.json", data: []byte(`[{"id": 1, "user_id": 9, "default_activity_visibility": 1, "hide_activity_start_time": false, "hide_activity_location": true, "hide_activity_map": false, "hide_activity_hr": false, "hide_activity_power": false, "hide_activity_cadence": false, "hide_activity_elevation": false, "hide_activity_speed": false, "hide_activity_pace": false, "hide_activity_laps": false, "hide_activity_workout_sets_steps": false, "hide_activity_gear": false}]`)},
		zent{name: "data/user.json", data: []byte(`[{"id": 9, "name": "Old Name", "username": "runner", "email": "r@example.com", "city": null, "birthdate": "1990-01-01", "preferred_language": "us", "gender": 1, "units": 1, "height": 180, "max_heart_rate": 190, "access_type": 2, "photo_path": "/app/backend/data/user_images/9.jpg", "active": true, "first_day_of_week": 1, "currency": 1, "mfa_enabled": true, "mfa_secret": "gAAAA", "email_verified": true, "pending_admin_approval": false}]`)},
		zent{name: "activity_files/41.fit", data: []byte("\x0e\x10\x43\x08FIT-data"), stored: true},
		zent{name: "activity_media/41_sunrise.jpg", data: jpegBytes, stored: true},
		zent{name: "user_images/9.jpg", data: jpegBytes, stored: true},
		zent{name: "counts.json", data: []byte(`[{"media": 1, "activity_files": 1, "activities": 2, "counts": 1}]`)},
	)
}

func TestImport_EndurainArchive(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newImpEnv(t, st, portability.Limits{})
		uid := e.newUser(t, "carla")
		res, err := e.importBytes(uid, endurainArchive(t), portability.Options{})
		if err != nil {
			t.Fatalf("import: %v", err)
		}
		want := map[string]int{"activities": 2, "activity_laps": 3, "activity_sets": 1, "activity_streams": 1,
			"activity_media": 1, "media": 1, "activity_files": 1, "activity_exercise_titles": 2, "gears": 2,
			"gear_components": 1, "health_weight": 1, "health_targets": 1, "notifications": 1, "user_default_gear": 1,
			"user_goals": 1, "user_privacy_settings": 1, "user": 1, "user_images": 1}
		for k, v := range want {
			if res.Imported[k] != v {
				t.Errorf("imported[%s] = %d, want %d (all: %v)", k, res.Imported[k], v, res.Imported)
			}
		}
		if res.Skipped["user_identity_providers"] != 1 || res.Skipped["user_integrations"] != 1 {
			t.Errorf("skipped = %v", res.Skipped)
		}
		ctx := context.Background()
		acts, _ := st.ExportPage(ctx, fitness.Activities, fitness.PageQuery{UserID: uid, Limit: 10})
		if len(acts) != 2 {
			t.Fatalf("activities = %d", len(acts))
		}
		cols := colIndex(st, fitness.Activities)
		run := acts[0].Values
		runID := run[cols["id"]].(int64)
		if got := run[cols["start_time"]].(time.Time); !got.Equal(time.Date(2024, 5, 1, 7, 0, 0, 0, time.UTC)) {
			t.Errorf("start_time = %v", got)
		}
		if trimDec(run[cols["max_speed"]]) != "0" || run[cols["total_timer_time"]] != "3550.5000000000" {
			t.Errorf("decimals: %v %v", run[cols["max_speed"]], run[cols["total_timer_time"]])
		}
		swim := acts[1].Values
		// PostgreSQL's NUMERIC(20,10) pads the scale; SQLite keeps the text.
		if trimDec(swim[cols["total_elapsed_time"]]) != "2400" || trimDec(swim[cols["total_timer_time"]]) != "2400.5" {
			t.Errorf("numeric decimals: %v %v", swim[cols["total_elapsed_time"]], swim[cols["total_timer_time"]])
		}
		// Laps were local Lisbon time (UTC+1 in May): 08:00 local is 07:00 UTC.
		laps, _ := st.ExportPage(ctx, fitness.ActivityLaps, fitness.PageQuery{UserID: uid, Limit: 10})
		lc := colIndex(st, fitness.ActivityLaps)
		if len(laps) != 3 || !laps[0].Values[lc["start_time"]].(time.Time).Equal(time.Date(2024, 5, 1, 7, 0, 0, 0, time.UTC)) ||
			laps[0].Values[lc["activity_id"]] != runID {
			t.Fatalf("laps = %v", laps)
		}
		// The FIT file and the media moved to keys built from the new id.
		rc, err := e.blobs.Open(ctx, fitness.ActivityFileKey(runID, "fit"))
		if err != nil {
			t.Fatalf("activity file: %v", err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != "\x0e\x10\x43\x08FIT-data" {
			t.Fatalf("file = %q", b)
		}
		if _, err := e.blobs.Size(ctx, fitness.MediaKey(runID, "sunrise.jpg")); err != nil {
			t.Fatalf("media: %v", err)
		}
		// Windsurf default gear is remapped like the others; components keep
		// their retired state; notifications keep read and point at the new id.
		dg, _ := st.ExportPage(ctx, fitness.UserDefaultGear, fitness.PageQuery{UserID: uid, Limit: 1})
		gears, _ := st.ExportPage(ctx, fitness.Gears, fitness.PageQuery{UserID: uid, Limit: 10})
		dc, gc := colIndex(st, fitness.UserDefaultGear), colIndex(st, fitness.Gears)
		if dg[0].Values[dc["windsurf_gear_id"]] != gears[1].Values[gc["id"]] || dg[0].Values[dc["run_gear_id"]] != gears[0].Values[gc["id"]] {
			t.Errorf("default gear = %v, gears %v", dg[0].Values, gears)
		}
		comps, _ := st.ExportPage(ctx, fitness.GearComponents, fitness.PageQuery{UserID: uid, Limit: 10})
		cc := colIndex(st, fitness.GearComponents)
		if comps[0].Values[cc["active"]] != false || comps[0].Values[cc["retired_date"]] == nil {
			t.Errorf("component = %v", comps[0].Values)
		}
		ns, _ := st.ExportPage(ctx, fitness.Notifications, fitness.PageQuery{UserID: uid, Limit: 10})
		nc := colIndex(st, fitness.Notifications)
		var opts map[string]any
		json.Unmarshal(ns[0].Values[nc["options"]].(json.RawMessage), &opts)
		if ns[0].Values[nc["read"]] != true || opts["activity_id"] != float64(runID) {
			t.Errorf("notification = %v / %v", ns[0].Values, opts)
		}
		u, _ := st.FindUserByID(ctx, uid)
		if u.AccessType != 1 || u.Username != "carla" || u.Name != "Old Name" || u.PhotoPath == nil || *u.PhotoPath != "user_images/"+strconv.FormatInt(uid, 10)+".jpg" {
			t.Errorf("user = %+v", u)
		}
	})
}

func colIndex(st *store.Store, t fitness.Table) map[string]int {
	m := map[string]int{}
	for i, c := range st.ExportColumns(t) {
		m[c.Name] = i
	}
	return m
}

// trimDec drops a decimal's trailing fraction zeros.
func trimDec(v any) string {
	s, _ := v.(string)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
