package profile_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/profile"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

func TestService_Privacy(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		e := newProfileEnv(t, s)
		u := e.user(t, "private", "")
		victim := e.user(t, "victim", "")
		before, err := e.svc.GetPrivacy(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		victimBefore, err := e.svc.GetPrivacy(ctx, victim.ID)
		if err != nil {
			t.Fatal(err)
		}

		body, _ := json.Marshal(map[string]any{"id": victimBefore.ID, "user_id": victim.ID,
			"default_activity_visibility": 1, "hide_activity_hr": true, "hide_activity_gear": true})
		in, err := profile.DecodePrivacyUpdate(body)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.svc.UpdatePrivacy(ctx, u.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := e.svc.GetPrivacy(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if *stored != *got || stored.ID != before.ID || stored.UserID != u.ID {
			t.Fatalf("stored %+v, returned %+v, before %+v", stored, got, before)
		}
		if stored.DefaultActivityVisibility != 1 || !stored.HideActivityHR || !stored.HideActivityGear || stored.HideActivityMap {
			t.Fatalf("flags = %+v", stored.PrivacyFlags)
		}
		victimAfter, _ := e.svc.GetPrivacy(ctx, victim.ID)
		if *victimAfter != *victimBefore {
			t.Fatalf("the other user's row changed: %+v", victimAfter)
		}

		// Unset fields stay as they are.
		f := false
		if _, err := e.svc.UpdatePrivacy(ctx, u.ID, profile.PrivacyUpdate{HideActivityHR: &f}); err != nil {
			t.Fatal(err)
		}
		stored, _ = e.svc.GetPrivacy(ctx, u.ID)
		if stored.HideActivityHR || !stored.HideActivityGear || stored.DefaultActivityVisibility != 1 {
			t.Fatalf("partial update: %+v", stored.PrivacyFlags)
		}

		three := 3
		_, err = e.svc.UpdatePrivacy(ctx, u.ID, profile.PrivacyUpdate{DefaultActivityVisibility: &three})
		wantFields(t, wantCode(t, err, account.EUNPROCESSABLE), "default_activity_visibility")
		_, err = profile.DecodePrivacyUpdate([]byte(`{"hide_activity_map": "yes", "default_activity_visibility": true}`))
		wantFields(t, wantCode(t, err, account.EUNPROCESSABLE), "hide_activity_map", "default_activity_visibility")
	})
}

func TestService_DefaultGear(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		e := newProfileEnv(t, s)
		u := e.user(t, "cyclist", "")
		other := e.user(t, "runner", "")
		bike := e.gear(t, u.ID, "Bike")
		shoes := e.gear(t, u.ID, "Shoes")
		foreign := e.gear(t, other.ID, "Their shoes")
		before, err := e.svc.GetDefaultGear(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}

		var in profile.DefaultGear
		body, _ := json.Marshal(map[string]any{"id": 12345, "user_id": other.ID, "ride_gear_id": bike,
			"run_gear_id": shoes, "windsurf_gear_id": nil})
		if err := json.Unmarshal(body, &in); err != nil {
			t.Fatal(err)
		}
		got, err := e.svc.UpdateDefaultGear(ctx, u.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := e.svc.GetDefaultGear(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.ID != before.ID || stored.UserID != u.ID || got.ID != before.ID || got.UserID != u.ID {
			t.Fatalf("ids changed: stored %+v returned %+v", stored, got)
		}
		if stored.RideGearID == nil || *stored.RideGearID != bike || *stored.RunGearID != shoes || stored.MTBRideGearID != nil {
			t.Fatalf("stored %+v", stored)
		}
		if theirs, _ := e.svc.GetDefaultGear(ctx, other.ID); theirs.RideGearID != nil {
			t.Fatal("the other user's defaults changed")
		}

		in = profile.DefaultGear{RunGearID: &foreign, HikeGearID: &foreign, RideGearID: &bike}
		_, err = e.svc.UpdateDefaultGear(ctx, u.ID, in)
		wantFields(t, wantCode(t, err, account.EUNPROCESSABLE), "run_gear_id", "hike_gear_id")
		missing := int64(999999)
		_, err = e.svc.UpdateDefaultGear(ctx, u.ID, profile.DefaultGear{OWSGearID: &missing})
		wantFields(t, wantCode(t, err, account.EUNPROCESSABLE), "ows_gear_id")
		if after, _ := e.svc.GetDefaultGear(ctx, u.ID); *after.RunGearID != shoes || after.HikeGearID != nil {
			t.Fatalf("a rejected update was written: %+v", after)
		}

		b, _ := json.Marshal(stored)
		var m map[string]any
		json.Unmarshal(b, &m)
		if len(m) != 17 || m["snowboard_gear_id"] != nil || m["ride_gear_id"] != float64(bike) {
			t.Fatalf("JSON = %s", b)
		}
	})
}

func intp(v int) *int { return &v }

func TestService_Goals(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		e := newProfileEnv(t, s)
		u := e.user(t, "goalie", "")
		other := e.user(t, "striker", "")

		weeklyRun := profile.GoalInput{Interval: "weekly", ActivityType: 1, GoalType: profile.GoalDistance, GoalDistance: intp(20000)}
		g, err := e.svc.CreateGoal(ctx, u.ID, weeklyRun)
		if err != nil {
			t.Fatal(err)
		}
		if g.ID == 0 || g.UserID != u.ID {
			t.Fatalf("goal = %+v", g)
		}
		_, err = e.svc.CreateGoal(ctx, u.ID, weeklyRun)
		if ae := wantCode(t, err, account.ECONFLICT); ae.Message != profile.MsgDuplicateGoal {
			t.Fatalf("message %q", ae.Message)
		}
		// The same goal for another user is not a duplicate.
		theirs, err := e.svc.CreateGoal(ctx, other.ID, weeklyRun)
		if err != nil {
			t.Fatal(err)
		}

		t.Run("Validation", func(t *testing.T) {
			cases := []struct {
				name   string
				in     profile.GoalInput
				fields []string
			}{
				{"bad enums", profile.GoalInput{Interval: "hourly", ActivityType: 7, GoalType: 0}, []string{"interval", "activity_type", "goal_type"}},
				{"missing value", profile.GoalInput{Interval: "daily", ActivityType: 1, GoalType: profile.GoalCalories}, []string{"goal_calories"}},
				{"negative", profile.GoalInput{Interval: "daily", ActivityType: 1, GoalType: profile.GoalDuration, GoalDuration: intp(-1)}, []string{"goal_duration"}},
				{"other field set", profile.GoalInput{Interval: "yearly", ActivityType: 6, GoalType: profile.GoalActivities,
					GoalActivitiesNumber: intp(3), GoalElevation: intp(100), GoalCalories: intp(0)}, []string{"goal_elevation", "goal_calories"}},
			}
			for _, c := range cases {
				_, err := e.svc.CreateGoal(ctx, u.ID, c.in)
				wantFields(t, wantCode(t, err, account.EUNPROCESSABLE), c.fields...)
			}
			if _, err := e.svc.CreateGoal(ctx, u.ID, profile.GoalInput{Interval: "monthly", ActivityType: 2,
				GoalType: profile.GoalElevation, GoalElevation: intp(0)}); err != nil {
				t.Fatalf("zero elevation rejected: %v", err)
			}
		})

		t.Run("Update", func(t *testing.T) {
			in := weeklyRun
			in.GoalDistance = intp(30000)
			got, err := e.svc.UpdateGoal(ctx, u.ID, g.ID, in)
			if err != nil || *got.GoalDistance != 30000 {
				t.Fatalf("update own goal: %+v, %v", got, err)
			}
			// Updating into an existing combination is a conflict.
			_, err = e.svc.UpdateGoal(ctx, u.ID, g.ID, profile.GoalInput{Interval: "monthly", ActivityType: 2,
				GoalType: profile.GoalElevation, GoalElevation: intp(5)})
			wantCode(t, err, account.ECONFLICT)
			_, err = e.svc.UpdateGoal(ctx, u.ID, theirs.ID, in)
			if ae := wantCode(t, err, account.ENOTFOUND); ae.Message != profile.MsgGoalNotFound {
				t.Fatalf("message %q", ae.Message)
			}
			list, _ := e.svc.ListGoals(ctx, other.ID)
			if len(list) != 1 || *list[0].GoalDistance != 20000 {
				t.Fatalf("the other user's goal changed: %+v", list)
			}
		})

		t.Run("ListAndDelete", func(t *testing.T) {
			wantCode(t, e.svc.DeleteGoal(ctx, u.ID, theirs.ID), account.ENOTFOUND)
			list, err := e.svc.ListGoals(ctx, u.ID)
			if err != nil || len(list) != 2 || list[0].ID != g.ID {
				t.Fatalf("list = %+v, %v", list, err)
			}
			if err := e.svc.DeleteGoal(ctx, u.ID, g.ID); err != nil {
				t.Fatal(err)
			}
			wantCode(t, e.svc.DeleteGoal(ctx, u.ID, g.ID), account.ENOTFOUND)
			if list, _ := e.svc.ListGoals(ctx, u.ID); len(list) != 1 {
				t.Fatalf("after delete: %+v", list)
			}
			if list, _ := e.svc.ListGoals(ctx, other.ID); len(list) != 1 {
				t.Fatal("the other user's goal was deleted")
			}
			// Endurain answers null, not [], when there are no goals.
			empty, _ := e.svc.ListGoals(ctx, 999999)
			if b, _ := json.Marshal(empty); string(b) != "null" {
				t.Fatalf("empty list marshals as %s", b)
			}
		})
	})
}
