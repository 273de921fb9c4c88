package portability

import (
	"errors"
	"fmt"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/fitness"
	"github.com/trailpass/trailpass/internal/profile"
)

// Rows of the described tables are decoded by their fitness.Tables
// description (importrows.go). What is left here are the rules a description
// does not hold, and the shapes of the files that are not imported as rows.

// checkGoal applies the same goal rules as POST /profile/goals (profile's), so
// an archive cannot store a goal the API would refuse.
func checkGoal(d *fitness.Desc, row []any) error {
	num := func(col string) *int {
		if v, ok := row[d.Index(col)].(int64); ok {
			n := int(v)
			return &n
		}
		return nil
	}
	in := profile.GoalInput{Interval: row[d.Index("interval")].(string), ActivityType: *num("activity_type"),
		GoalType: *num("goal_type"), GoalCalories: num("goal_calories"), GoalActivitiesNumber: num("goal_activities_number"),
		GoalDistance: num("goal_distance"), GoalElevation: num("goal_elevation"), GoalDuration: num("goal_duration")}
	if err := in.Validate(); err != nil {
		var ae *account.Error
		if errors.As(err, &ae) && len(ae.Fields) > 0 {
			return &fieldError{fmt.Sprintf("field %q: %s.", ae.Fields[0].Field, ae.Fields[0].Message)}
		}
		return &fieldError{account.ErrorMessage(err)}
	}
	return nil
}

// userRow holds only the profile fields an import may set; privileged keys
// (access_type, active, mfa_*, email_verified, username, email, password) are
// not even decoded.
type userRow struct {
	Name              *string `json:"name"`
	City              *string `json:"city"`
	Birthdate         jdate   `json:"birthdate"`
	PreferredLanguage *string `json:"preferred_language"`
	Gender            *int    `json:"gender"`
	Units             *int    `json:"units"`
	Height            *int    `json:"height"`
	MaxHeartRate      *int    `json:"max_heart_rate"`
	FirstDayOfWeek    *int    `json:"first_day_of_week"`
	Currency          *int    `json:"currency"`
}

// anyRow skips a row the import does not use (identity links, integrations)
// after the guard has bounded it.
type anyRow struct{}

func (*anyRow) UnmarshalJSON([]byte) error { return nil }
