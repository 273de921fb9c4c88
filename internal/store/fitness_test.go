package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/fitness"
	"github.com/trailpass/trailpass/internal/profile"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

// createUser stores a new user named name.
func createUser(t *testing.T, s *store.Store, name string) *account.User {
	t.Helper()
	u := newUser(name)
	if err := s.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

// hourActivity is an activity of one hour from start.
func hourActivity(start time.Time) fitness.Activity {
	return fitness.Activity{ActivityType: 1, StartTime: start, EndTime: start.Add(time.Hour),
		TotalElapsedTime: "3600.0000000000", TotalTimerTime: "3600.0000000000", CreatedAt: start}
}

func TestStore_ExportPage(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u, other := createUser(t, s, "pager"), createUser(t, s, "other")
		base := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
		// Inserted out of time order, with ties on start_time broken by id.
		offsets := []int{5, 1, 3, 1, 0, 3, 2}
		var bundles []*fitness.ActivityBundle
		for _, o := range offsets {
			st := base.Add(time.Duration(o) * time.Hour)
			bundles = append(bundles, &fitness.ActivityBundle{
				Activity: hourActivity(st),
				Laps:     []fitness.Lap{{StartTime: st}, {StartTime: st.Add(time.Minute)}},
			})
		}
		if err := s.CreateActivities(ctx, u.ID, bundles); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateActivities(ctx, other.ID, bundles[:2]); err != nil {
			t.Fatal(err)
		}
		var got []fitness.Cursor
		q := fitness.PageQuery{UserID: u.ID, Limit: 2}
		for {
			rows, err := s.ExportPage(ctx, fitness.Activities, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				got = append(got, r.Cursor)
				if r.Values[1] != u.ID {
					t.Fatalf("row of user %v in user %d's export", r.Values[1], u.ID)
				}
			}
			if len(rows) < q.Limit {
				break
			}
			q.After = rows[len(rows)-1].Cursor
		}
		if len(got) != len(offsets) {
			t.Fatalf("paged %d activities, want %d", len(got), len(offsets))
		}
		for i := 1; i < len(got); i++ {
			a, b := got[i-1], got[i]
			if b.StartTime.Before(a.StartTime) || (b.StartTime.Equal(a.StartTime) && b.ID <= a.ID) {
				t.Fatalf("not in (start_time, id) order at %d: %v then %v", i, a, b)
			}
		}
		ids, err := s.ExportIDs(ctx, fitness.ActivityLaps, u.ID, 0, 100)
		if err != nil || len(ids) != 2*len(offsets) {
			t.Fatalf("lap ids = %v, %v", ids, err)
		}
		laps, err := s.ExportPage(ctx, fitness.ActivityLaps, fitness.PageQuery{UserID: u.ID, After: fitness.Cursor{ID: ids[1]}, Until: ids[4], Limit: 10})
		if err != nil || len(laps) != 3 || laps[0].Cursor.ID != ids[2] || laps[2].Cursor.ID != ids[4] {
			t.Fatalf("laps in (ids[1], ids[4]] = %d rows, %v", len(laps), err)
		}
	})
}

// account cannot import fitness, so profile.DefaultGear.GearFields repeats the
// default-gear columns; the store scans and writes one through the other.
func TestDefaultGearColumnsMatchAccount(t *testing.T) {
	var d profile.DefaultGear
	fields := d.GearFields()
	if len(fields) != len(fitness.DefaultGearTypes) {
		t.Fatalf("GearFields has %d columns, fitness.DefaultGearTypes %d", len(fields), len(fitness.DefaultGearTypes))
	}
	for i, f := range fields {
		if want := fitness.DefaultGearTypes[i] + "_gear_id"; f.Name != want {
			t.Errorf("GearFields()[%d] = %q, want %q", i, f.Name, want)
		}
	}
}

// TestStore_ExportPage_JSON: a JSON column comes back as the stored text in a
// json.RawMessage, and NULL as nil (not an empty or nil RawMessage).
func TestStore_ExportPage_JSON(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u := createUser(t, s, "jsoner")
		st := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
		act := func(info json.RawMessage, hours int) *fitness.ActivityBundle {
			a := hourActivity(st.Add(time.Duration(hours) * time.Hour))
			a.ImportInfo = info
			return &fitness.ActivityBundle{Activity: a}
		}
		if err := s.CreateActivities(ctx, u.ID, []*fitness.ActivityBundle{act(json.RawMessage(`{"a": 1}`), 0), act(nil, 1)}); err != nil {
			t.Fatal(err)
		}
		col := -1
		for i, c := range s.ExportColumns(fitness.Activities) {
			if c.Name == "import_info" {
				col = i
			}
		}
		rows, err := s.ExportPage(ctx, fitness.Activities, fitness.PageQuery{UserID: u.ID, Limit: 10})
		if err != nil || len(rows) != 2 || col < 0 {
			t.Fatalf("rows = %d, %v (import_info at %d)", len(rows), err, col)
		}
		if v, ok := rows[0].Values[col].(json.RawMessage); !ok || string(v) != `{"a": 1}` {
			t.Errorf("import_info = %#v, want the stored JSON", rows[0].Values[col])
		}
		if v := rows[1].Values[col]; v != nil {
			t.Errorf("NULL import_info = %#v, want nil", v)
		}
	})
}
