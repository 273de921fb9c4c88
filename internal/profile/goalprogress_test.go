package profile_test

import (
	"context"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/fitness"
	"github.com/trailpass/trailpass/internal/profile"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

func day(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestGoalWindowFor(t *testing.T) {
	cases := []struct {
		interval   string
		date       string
		firstDay   int
		start, end string // inclusive, as the API shows them
	}{
		{"daily", "2025-12-31", 1, "2025-12-31", "2025-12-31"},
		// 2026-01-04 is a Sunday; 2026-01-03 a Saturday.
		{"weekly", "2026-01-04", 1, "2025-12-29", "2026-01-04"},
		{"weekly", "2026-01-04", 0, "2026-01-04", "2026-01-10"},
		{"weekly", "2026-01-03", 0, "2025-12-28", "2026-01-03"},
		{"weekly", "2025-12-29", 1, "2025-12-29", "2026-01-04"},
		{"weekly", "2025-12-31", 6, "2025-12-27", "2026-01-02"},
		{"monthly", "2028-02-15", 1, "2028-02-01", "2028-02-29"},
		{"monthly", "2025-12-31", 1, "2025-12-01", "2025-12-31"},
		{"yearly", "2025-12-31", 1, "2025-01-01", "2025-12-31"},
		{"yearly", "2026-01-01", 1, "2026-01-01", "2026-12-31"},
	}
	for _, c := range cases {
		w, err := profile.GoalWindowFor(c.interval, day(c.date), c.firstDay)
		if err != nil {
			t.Fatal(err)
		}
		start, end := w.Start.Format(time.DateOnly), w.End.AddDate(0, 0, -1).Format(time.DateOnly)
		if start != c.start || end != c.end || w.Start.Location() != time.UTC {
			t.Errorf("%s %s (first day %d) = %s..%s, want %s..%s", c.interval, c.date, c.firstDay, start, end, c.start, c.end)
		}
	}
	// Only the calendar date counts, whatever the clock's zone.
	late := time.Date(2025, 12, 31, 23, 30, 0, 0, time.FixedZone("UTC-8", -8*3600))
	if w, _ := profile.GoalWindowFor("daily", late, 1); w.Start.Format(time.DateOnly) != "2025-12-31" {
		t.Errorf("daily window of %v starts %v", late, w.Start)
	}
	if _, err := profile.GoalWindowFor("hourly", day("2025-12-31"), 1); account.ErrorCode(err) != account.EINVALID {
		t.Errorf("unknown interval: %v", err)
	}
}

// goalActivity is one fixture activity; its distance is a distinct power of two
// so that every sum names the activities behind it.
type goalActivity struct {
	start     string
	typ       int
	distance  int
	calories  *int
	elevation *int
	elapsed   string
	timezone  string
	hidden    bool
}

// The fixture around 2025-12-31 (a Wednesday): week, month and year boundaries.
var goalFixture = []goalActivity{
	{start: "2025-12-28T23:59:59Z", typ: 1, distance: 1, calories: intp(100), elapsed: "60.2500000000"},                                    // Sunday
	{start: "2025-12-29T00:00:00Z", typ: 2, distance: 2, calories: intp(200), elevation: intp(20), elapsed: "60.2500000000", hidden: true}, // Monday
	{start: "2025-12-31T23:59:59.999Z", typ: 3, distance: 4, elevation: intp(40), elapsed: "60.0000000000"},
	{start: "2026-01-01T00:00:00Z", typ: 34, distance: 8, calories: intp(800), elapsed: "60.0000000000"},
	{start: "2026-01-03T23:59:59Z", typ: 40, distance: 16, elapsed: "60.0000000000"}, // Saturday
	{start: "2026-01-04T00:00:00Z", typ: 1, distance: 32, elapsed: "60.0000000000"},  // Sunday
	{start: "2025-12-01T00:00:00Z", typ: 1, distance: 64, elapsed: "60.0000000000"},
	{start: "2025-11-30T23:59:59Z", typ: 1, distance: 128, elapsed: "60.0000000000"},
	{start: "2025-01-01T00:00:00Z", typ: 1, distance: 256, elapsed: "60.0000000000"},
	{start: "2024-12-31T23:59:59Z", typ: 1, distance: 512, elapsed: "60.0000000000"},
	// Endurain compares the UTC date of the start time and ignores the
	// activity's own zone: 2026-01-01 01:00 in Auckland counts on 2025-12-31,
	// 2025-12-31 21:00 in Los Angeles on 2026-01-01.
	{start: "2025-12-31T12:00:00Z", typ: 1, distance: 1024, elapsed: "60.0000000000", timezone: "Pacific/Auckland"},
	{start: "2026-01-01T05:00:00Z", typ: 1, distance: 2048, elapsed: "60.0000000000", timezone: "America/Los_Angeles"},
	// Rides (4), a virtual ride (7), and a workout (10) count for other goals only.
	{start: "2025-12-31T10:00:00Z", typ: 4, distance: 4096, calories: intp(300), elapsed: "60.0000000000"},
	{start: "2025-12-30T10:00:00Z", typ: 7, distance: 8192, calories: intp(450), elapsed: "60.0000000000"},
	{start: "2025-12-30T10:00:00Z", typ: 10, distance: 16384, elevation: intp(7), elapsed: "60.0000000000"},
}

func insertGoalActivities(t *testing.T, s *store.Store, userID int64, acts []goalActivity) {
	t.Helper()
	var bundles []*fitness.ActivityBundle
	for _, a := range acts {
		st, err := time.Parse(time.RFC3339Nano, a.start)
		if err != nil {
			t.Fatal(err)
		}
		act := fitness.Activity{ActivityType: a.typ, Distance: a.distance, StartTime: st, EndTime: st.Add(time.Minute),
			TotalElapsedTime: a.elapsed, TotalTimerTime: a.elapsed, CreatedAt: st, Calories: a.calories,
			ElevationGain: a.elevation, IsHidden: a.hidden}
		if a.timezone != "" {
			act.Timezone = &a.timezone
		}
		bundles = append(bundles, &fitness.ActivityBundle{Activity: act})
	}
	if err := s.CreateActivities(context.Background(), userID, bundles); err != nil {
		t.Fatal(err)
	}
}

func TestService_GoalResults(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		e := newProfileEnv(t, s)
		u := e.user(t, "goalie", "")
		other := e.user(t, "other", "")

		if got, err := e.svc.GoalResults(ctx, u.ID, "2025-12-31"); err != nil || got != nil {
			t.Fatalf("no goals: %v, %v (want nil: Endurain answers null)", got, err)
		}
		if got, err := e.svc.ListGoals(ctx, u.ID); err != nil || got != nil {
			t.Fatalf("no goals listed: %v, %v", got, err)
		}

		goal := func(interval string, activityType, goalType, target int) *profile.Goal {
			in := profile.GoalInput{Interval: interval, ActivityType: activityType, GoalType: goalType}
			switch goalType {
			case profile.GoalCalories:
				in.GoalCalories = &target
			case profile.GoalActivities:
				in.GoalActivitiesNumber = &target
			case profile.GoalDistance:
				in.GoalDistance = &target
			case profile.GoalElevation:
				in.GoalElevation = &target
			case profile.GoalDuration:
				in.GoalDuration = &target
			}
			g, err := e.svc.CreateGoal(ctx, u.ID, in)
			if err != nil {
				t.Fatal(err)
			}
			return g
		}
		goals := []*profile.Goal{
			goal("daily", profile.GoalRun, profile.GoalDistance, 10000),
			goal("weekly", profile.GoalRun, profile.GoalDistance, 100000),
			goal("monthly", profile.GoalRun, profile.GoalDistance, 1000),
			goal("yearly", profile.GoalRun, profile.GoalDistance, 5000),
			goal("weekly", profile.GoalRun, profile.GoalActivities, 56),
			goal("weekly", profile.GoalRun, profile.GoalCalories, 800),
			goal("monthly", profile.GoalRun, profile.GoalElevation, 0),
			goal("weekly", profile.GoalRun, profile.GoalDuration, 3600),
			goal("monthly", profile.GoalBike, profile.GoalCalories, 1000),
			goal("weekly", profile.GoalStrength, profile.GoalElevation, 14),
			goal("yearly", profile.GoalSwim, profile.GoalDistance, 1000),
		}
		insertGoalActivities(t, s, u.ID, goalFixture)
		// Another user's activities never count.
		insertGoalActivities(t, s, other.ID, goalFixture)

		type want struct {
			start, end string
			pct        int64
			total      int64 // the total of the goal's own type; the others are 0
		}
		check := func(t *testing.T, date string, wants []want) {
			t.Helper()
			got, err := e.svc.GoalResults(ctx, u.ID, date)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(goals) {
				t.Fatalf("%d results for %d goals", len(got), len(goals))
			}
			for i, p := range got {
				g, w := goals[i], wants[i]
				totals := map[int]int64{profile.GoalCalories: p.TotalCalories, profile.GoalActivities: p.TotalActivitiesNumber,
					profile.GoalDistance: p.TotalDistance, profile.GoalElevation: p.TotalElevation, profile.GoalDuration: p.TotalDuration}
				for typ, v := range totals {
					if typ != g.GoalType && v != 0 {
						t.Errorf("goal %d (%s/%d/%d): total of type %d = %d, want 0", i, g.Interval, g.ActivityType, g.GoalType, typ, v)
					}
				}
				if p.GoalID != g.ID || p.Interval != g.Interval || p.ActivityType != g.ActivityType || p.GoalType != g.GoalType ||
					p.StartDate != w.start || p.EndDate != w.end || p.PercentageCompleted != w.pct || totals[g.GoalType] != w.total {
					t.Errorf("goal %d (%s/%d/%d) = %s..%s %d%% total %d, want %s..%s %d%% total %d", i, g.Interval, g.ActivityType,
						g.GoalType, p.StartDate, p.EndDate, p.PercentageCompleted, totals[g.GoalType], w.start, w.end, w.pct, w.total)
				}
			}
		}

		// Weeks start on Monday (the default): 2025-12-29 .. 2026-01-04.
		check(t, "2025-12-31", []want{
			{"2025-12-31", "2025-12-31", 10, 4 + 1024},                          // 1028/10000
			{"2025-12-29", "2026-01-04", 3, 2 + 4 + 8 + 16 + 32 + 1024 + 2048},  // 3134/100000 = 3.134
			{"2025-12-01", "2025-12-31", 100, 1 + 2 + 4 + 64 + 1024},            // 1095/1000, capped
			{"2025-01-01", "2025-12-31", 30, 1 + 2 + 4 + 64 + 128 + 256 + 1024}, // 1479/5000 = 29.58
			{"2025-12-29", "2026-01-04", 12, 7},                                 // 12.5 rounds half to even
			{"2025-12-29", "2026-01-04", 100, 200 + 800},                        // missing calories add 0
			{"2025-12-01", "2025-12-31", 100, 20 + 40},                          // a zero target is met
			{"2025-12-29", "2026-01-04", 12, 420},                               // 420.25 s → 420; 11.67 %
			{"2025-12-01", "2025-12-31", 75, 300 + 450},                         // types 4 and 7
			{"2025-12-29", "2026-01-04", 50, 7},                                 // strength counts type 10
			{"2025-01-01", "2025-12-31", 0, 0},                                  // no swims: zeros
		})

		// Weeks start on Sunday: 2025-12-28 .. 2026-01-03.
		if _, err := s.DB().Exec(`UPDATE users SET first_day_of_week = 0 WHERE id = $1`, u.ID); err != nil {
			t.Fatal(err)
		}
		check(t, "2025-12-31", []want{
			{"2025-12-31", "2025-12-31", 10, 1028},
			{"2025-12-28", "2026-01-03", 3, 1 + 2 + 4 + 8 + 16 + 1024 + 2048}, // 3103
			{"2025-12-01", "2025-12-31", 100, 1095},
			{"2025-01-01", "2025-12-31", 30, 1479},
			{"2025-12-28", "2026-01-03", 12, 7},
			{"2025-12-28", "2026-01-03", 100, 100 + 200 + 800},
			{"2025-12-01", "2025-12-31", 100, 60},
			{"2025-12-28", "2026-01-03", 12, 420}, // 60.25 + 60.25 + 5 × 60 = 420.5 → 420 (half to even)
			{"2025-12-01", "2025-12-31", 75, 750},
			{"2025-12-28", "2026-01-03", 50, 7},
			{"2025-01-01", "2025-12-31", 0, 0},
		})

		// The next day is in the next month and year.
		check(t, "2026-01-01", []want{
			{"2026-01-01", "2026-01-01", 21, 8 + 2048}, // 20.56 %
			{"2025-12-28", "2026-01-03", 3, 3103},      // 3.103 %
			{"2026-01-01", "2026-01-31", 100, 8 + 16 + 32 + 2048},
			{"2026-01-01", "2026-12-31", 42, 8 + 16 + 32 + 2048}, // 2104/5000
			{"2025-12-28", "2026-01-03", 12, 7},
			{"2025-12-28", "2026-01-03", 100, 1100},
			{"2026-01-01", "2026-01-31", 100, 0}, // activities without elevation meet a zero target
			{"2025-12-28", "2026-01-03", 12, 420},
			{"2026-01-01", "2026-01-31", 0, 0},
			{"2025-12-28", "2026-01-03", 50, 7},
			{"2026-01-01", "2026-12-31", 0, 0},
		})

		// No date: today on the service's clock (2026-06-01, a Monday).
		got, err := e.svc.GoalResults(ctx, u.ID, "")
		if err != nil || len(got) != len(goals) || got[0].StartDate != "2026-06-01" || got[1].StartDate != "2026-05-31" || got[1].TotalDistance != 0 {
			t.Fatalf("today: %+v, %v", got, err)
		}

		for _, bad := range []string{"2025-13-01", "31-12-2025", "2025-12-31T00:00:00Z", "yesterday"} {
			_, err := e.svc.GoalResults(ctx, u.ID, bad)
			if ae := wantCode(t, err, account.EUNPROCESSABLE); len(ae.Fields) != 1 || ae.Fields[0].In != "query" || ae.Fields[0].Field != "date" {
				t.Fatalf("date %q: %+v", bad, ae)
			}
		}
	})
}
