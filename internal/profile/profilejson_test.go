package profile_test

import (
	"testing"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/profile"
)

func TestDecodeDefaultGear(t *testing.T) {
	d, err := profile.DecodeDefaultGear([]byte(`{"id": 9, "user_id": 4, "run_gear_id": 3, "ride_gear_id": null, "extra": 1}`))
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != 0 || d.UserID != 0 || d.RunGearID == nil || *d.RunGearID != 3 || d.RideGearID != nil {
		t.Fatalf("decoded %+v", d)
	}
	_, err = profile.DecodeDefaultGear([]byte(`{"run_gear_id": "3", "hike_gear_id": 1.5}`))
	wantFields(t, wantCode(t, err, account.EUNPROCESSABLE), "run_gear_id", "hike_gear_id")
}

func TestDecodeGoalInput(t *testing.T) {
	g, err := profile.DecodeGoalInput([]byte(`{"id": 5, "user_id": 2, "interval": "weekly", "activity_type": 1,
		"goal_type": 3, "goal_distance": 5000, "goal_calories": null}`))
	if err != nil {
		t.Fatal(err)
	}
	if g.Interval != "weekly" || g.ActivityType != 1 || g.GoalType != 3 || g.GoalDistance == nil ||
		*g.GoalDistance != 5000 || g.GoalCalories != nil {
		t.Fatalf("decoded %+v", g)
	}
	_, err = profile.DecodeGoalInput([]byte(`{"interval": 1, "activity_type": "run", "goal_type": 3, "goal_distance": "far"}`))
	wantFields(t, wantCode(t, err, account.EUNPROCESSABLE), "interval", "activity_type", "goal_distance")
	_, err = profile.DecodeGoalInput([]byte(`null`))
	wantFields(t, wantCode(t, err, account.EUNPROCESSABLE), "body")
}
