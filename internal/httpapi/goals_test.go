package httpapi_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/fitness"
	"github.com/trailpass/trailpass/internal/httpapi/httpapitest"
	"github.com/trailpass/trailpass/internal/testkit"
)

func TestGoalResults(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		tom := e.CreateUser("tom", false)
		e.CreateUser("bob", false)
		c := e.NewClient("web")
		c.MustLogin("tom")
		bob := e.NewClient("mobile")
		bob.MustLogin("bob")

		// Endurain answers null, not [], for a user without goals.
		for _, path := range []string{"/api/v1/profile/goals", "/api/v1/profile/goals/results"} {
			if r := c.Do("GET", path, nil); r.Status != 200 || strings.TrimSpace(string(r.Body)) != "null" {
				t.Fatalf("%s without goals: %d %s", path, r.Status, r.Body)
			}
		}
		ids := map[string]float64{}
		for name, g := range map[string]map[string]any{
			"weekly run distance":   {"interval": "weekly", "activity_type": 1, "goal_type": 3, "goal_distance": 10000},
			"monthly run count":     {"interval": "monthly", "activity_type": 1, "goal_type": 2, "goal_activities_number": 2},
			"daily bike calories":   {"interval": "daily", "activity_type": 2, "goal_type": 1, "goal_calories": 100},
			"yearly walk elevation": {"interval": "yearly", "activity_type": 4, "goal_type": 4, "goal_elevation": 300},
		} {
			r := c.Do("POST", "/api/v1/profile/goals", g)
			if r.Status != 201 {
				t.Fatalf("goal %s: %d %s", name, r.Status, r.Body)
			}
			ids[name] = r.JSON(t)["id"].(float64)
		}
		act := func(start string, typ, distance int, calories *int, zone string) *fitness.ActivityBundle {
			st, _ := time.Parse(time.RFC3339, start)
			a := fitness.Activity{ActivityType: typ, Distance: distance, StartTime: st, EndTime: st.Add(time.Hour),
				TotalElapsedTime: "3600.0000000000", TotalTimerTime: "3600.0000000000", CreatedAt: st, Calories: calories}
			if zone != "" {
				a.Timezone = &zone
			}
			return &fitness.ActivityBundle{Activity: a}
		}
		kcal := 150
		acts := []*fitness.ActivityBundle{
			act("2025-12-28T23:59:59Z", 1, 1000, nil, ""), // Sunday
			act("2025-12-29T00:00:00Z", 1, 2000, nil, ""), // Monday
			act("2026-01-01T00:00:00Z", 1, 4000, nil, ""), // next month and year
			// 00:30 on 1 January in Berlin, but Endurain goes by the UTC date.
			act("2025-12-31T23:30:00Z", 5, 10000, &kcal, "Europe/Berlin"),
		}
		if err := e.Store.CreateActivities(context.Background(), tom.ID, acts); err != nil {
			t.Fatal(err)
		}

		results := func(date string) map[float64]map[string]any {
			t.Helper()
			r := c.Do("GET", "/api/v1/profile/goals/results?date="+date, nil)
			var list []map[string]any
			if r.Status != 200 || json.Unmarshal(r.Body, &list) != nil || len(list) != len(ids) {
				t.Fatalf("results %s: %d %s", date, r.Status, r.Body)
			}
			out := map[float64]map[string]any{}
			for _, p := range list {
				out[p["goal_id"].(float64)] = p
			}
			return out
		}
		got := results("2025-12-31")
		// Every field of Endurain's UserGoalProgress; only the goal's own total is set.
		want := map[string]any{"goal_id": ids["weekly run distance"], "interval": "weekly", "activity_type": 1.0, "goal_type": 3.0,
			"start_date": "2025-12-29", "end_date": "2026-01-04", "percentage_completed": 60.0,
			"total_calories": 0.0, "total_activities_number": 0.0, "total_distance": 6000.0, "total_elevation": 0.0, "total_duration": 0.0,
			"goal_calories": nil, "goal_activities_number": nil, "goal_distance": 10000.0, "goal_elevation": nil, "goal_duration": nil}
		if p := got[ids["weekly run distance"]]; !reflect.DeepEqual(p, want) {
			t.Fatalf("weekly run distance:\n got %v\nwant %v", p, want)
		}
		if p := got[ids["monthly run count"]]; p["start_date"] != "2025-12-01" || p["end_date"] != "2025-12-31" ||
			p["total_activities_number"] != 2.0 || p["percentage_completed"] != 100.0 {
			t.Fatalf("monthly run count: %v", p)
		}
		if p := got[ids["daily bike calories"]]; p["start_date"] != "2025-12-31" || p["total_calories"] != 150.0 || p["percentage_completed"] != 100.0 {
			t.Fatalf("daily bike calories: %v", p)
		}
		if p := got[ids["yearly walk elevation"]]; p["start_date"] != "2025-01-01" || p["end_date"] != "2025-12-31" ||
			p["total_elevation"] != 0.0 || p["percentage_completed"] != 0.0 || p["goal_elevation"] != 300.0 {
			t.Fatalf("yearly walk elevation: %v", p)
		}

		// With weeks starting on Sunday the Sunday activity counts, the Monday
		// after the week does not.
		body := webAppProfileBody(tom.ID, "tom")
		body["first_day_of_week"] = 0
		if r := c.Do("PUT", "/api/v1/profile", body); r.Status != 200 {
			t.Fatalf("first day of week: %d %s", r.Status, r.Body)
		}
		got = results("2026-01-03")
		if p := got[ids["weekly run distance"]]; p["start_date"] != "2025-12-28" || p["end_date"] != "2026-01-03" ||
			p["total_distance"] != 7000.0 || p["percentage_completed"] != 70.0 {
			t.Fatalf("Sunday week: %v", p)
		}
		if p := got[ids["monthly run count"]]; p["start_date"] != "2026-01-01" || p["total_activities_number"] != 1.0 || p["percentage_completed"] != 50.0 {
			t.Fatalf("January: %v", p)
		}
		if p := got[ids["daily bike calories"]]; p["total_calories"] != 0.0 || p["percentage_completed"] != 0.0 {
			t.Fatalf("another day: %v", p)
		}

		// Without a date: today on the server's clock.
		r := c.Do("GET", "/api/v1/profile/goals/results", nil)
		today := e.Clock.Now().Format(time.DateOnly)
		if r.Status != 200 || !strings.Contains(string(r.Body), `"start_date":"`+today+`","end_date":"`+today+`"`) {
			t.Fatalf("today (%s): %d %s", today, r.Status, r.Body)
		}
		// A malformed date is a 422 naming the query parameter.
		r = c.Do("GET", "/api/v1/profile/goals/results?date=2025-02-30", nil)
		var bad struct {
			Detail []struct {
				Loc []string `json:"loc"`
			} `json:"detail"`
		}
		if r.Status != 422 || json.Unmarshal(r.Body, &bad) != nil || len(bad.Detail) != 1 || strings.Join(bad.Detail[0].Loc, ".") != "query.date" {
			t.Fatalf("bad date: %d %s", r.Status, r.Body)
		}
		// Someone else's goals and activities are not the caller's.
		if r := bob.Do("GET", "/api/v1/profile/goals/results?date=2025-12-31", nil); r.Status != 200 || strings.TrimSpace(string(r.Body)) != "null" {
			t.Fatalf("bob: %d %s", r.Status, r.Body)
		}
	})
}
