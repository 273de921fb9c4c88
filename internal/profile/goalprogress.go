package profile

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/trailpass/trailpass/internal/account"
)

// Goal activity types, the goal-specific enum Endurain uses.
const (
	GoalRun      = 1
	GoalBike     = 2
	GoalSwim     = 3
	GoalWalk     = 4
	GoalStrength = 5
	GoalCardio   = 6
)

// GoalActivityTypes maps each goal activity type to the activity types whose
// activities count towards it, as Endurain v0.16.2 does (users/user_goals/utils.py):
// strength, and any type Endurain does not list, counts workouts (10) and
// strength training (19).
var GoalActivityTypes = map[int][]int{
	GoalRun:      {1, 2, 3, 34, 40},
	GoalBike:     {4, 5, 6, 7, 27, 28, 29, 35, 36},
	GoalSwim:     {8, 9},
	GoalWalk:     {11, 12, 44},
	GoalStrength: {10, 19},
	GoalCardio:   {20, 41},
}

// GoalWindow is the span of days a goal of Interval counts activities in:
// activities whose start time, in UTC, falls on Start's day through the day
// before End. FirstDayOfWeek (0 Sunday … 6 Saturday) is set for weekly windows
// and -1 for the others.
type GoalWindow struct {
	Interval       string
	FirstDayOfWeek int
	Start, End     time.Time // midnight UTC; End is exclusive
}

// GoalWindowFor returns the window of interval that holds day, for a user whose
// week starts on firstDayOfWeek (0 Sunday … 6 Saturday). Only the calendar date
// of day counts. EINVALID for an unknown interval.
func GoalWindowFor(interval string, day time.Time, firstDayOfWeek int) (GoalWindow, error) {
	d := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
	w := GoalWindow{Interval: interval, FirstDayOfWeek: -1}
	switch interval {
	case "daily":
		w.Start, w.End = d, d.AddDate(0, 0, 1)
	case "weekly":
		// Endurain v0.16.2 always starts weeks on Monday; trailpass honours the
		// user's setting, whose default is Monday.
		back := ((int(d.Weekday())-firstDayOfWeek)%7 + 7) % 7
		w.FirstDayOfWeek = firstDayOfWeek
		w.Start = d.AddDate(0, 0, -back)
		w.End = w.Start.AddDate(0, 0, 7)
	case "monthly":
		w.Start = time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
		w.End = w.Start.AddDate(0, 1, 0)
	case "yearly":
		w.Start = time.Date(d.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
		w.End = w.Start.AddDate(1, 0, 0)
	default:
		return GoalWindow{}, account.Errorf(account.EINVALID, "Invalid interval specified")
	}
	return w, nil
}

// GoalWindows returns every window a goal can have on day: one per interval and,
// for weekly goals, one per possible first day of the week, so storage can pick
// the user's in the same query that sums the activities.
func GoalWindows(day time.Time) []GoalWindow {
	var out []GoalWindow
	for _, interval := range GoalIntervals {
		firsts := []int{-1}
		if interval == "weekly" {
			firsts = []int{0, 1, 2, 3, 4, 5, 6}
		}
		for _, f := range firsts {
			w, _ := GoalWindowFor(interval, day, f) // GoalIntervals are all known
			out = append(out, w)
		}
	}
	return out
}

// GoalTotals is one goal of a user with the sums of the activities in its
// window on the day asked for.
type GoalTotals struct {
	Goal           Goal
	FirstDayOfWeek int // the user's setting, which placed the weekly window
	Activities     int64
	Calories       int64   // kcal; activities without calories add 0
	Distance       int64   // metres
	Elevation      int64   // metres of elevation gain; missing adds 0
	Duration       float64 // seconds of total elapsed time
}

// GoalProgressStore sums the activities behind each goal.
type GoalProgressStore interface {
	// GoalTotals returns every goal of the user, ordered by id, with the count
	// and sums of the user's activities whose type is in
	// types[goal.ActivityType] and whose start time lies in the goal's window:
	// the window of windows with the goal's interval and, for weekly goals, the
	// user's first day of the week. One query, whatever the number of goals.
	GoalTotals(ctx context.Context, userID int64, windows []GoalWindow, types map[int][]int) ([]*GoalTotals, error)
}

// GoalProgress is one goal's progress, in Endurain's UserGoalProgress shape.
type GoalProgress struct {
	GoalID                int64  `json:"goal_id"`
	Interval              string `json:"interval"`
	ActivityType          int    `json:"activity_type"`
	GoalType              int    `json:"goal_type"`
	StartDate             string `json:"start_date"`
	EndDate               string `json:"end_date"`
	PercentageCompleted   int64  `json:"percentage_completed"`
	TotalCalories         int64  `json:"total_calories"`
	TotalActivitiesNumber int64  `json:"total_activities_number"`
	TotalDistance         int64  `json:"total_distance"`
	TotalElevation        int64  `json:"total_elevation"`
	TotalDuration         int64  `json:"total_duration"`
	GoalCalories          *int   `json:"goal_calories"`
	GoalActivitiesNumber  *int   `json:"goal_activities_number"`
	GoalDistance          *int   `json:"goal_distance"`
	GoalElevation         *int   `json:"goal_elevation"`
	GoalDuration          *int   `json:"goal_duration"`
}

// MsgInvalidGoalDate is the message for a date that is not YYYY-MM-DD.
const MsgInvalidGoalDate = "Input should be a valid date in the format YYYY-MM-DD"

// GoalResults reports the progress of each of the caller's goals on date
// (YYYY-MM-DD; "" means today in the server's time zone, as Endurain's
// datetime.now()). Activities count by the UTC date of their start time, as
// Endurain compares its naive UTC start times. It returns nil when the caller
// has no goals (Endurain's null). EUNPROCESSABLE for a malformed date.
func (s *Service) GoalResults(ctx context.Context, userID int64, date string) ([]*GoalProgress, error) {
	day := s.Now()
	if date != "" {
		var err error
		if day, err = time.Parse(time.DateOnly, date); err != nil {
			return nil, account.ValidationError(account.FieldError{In: "query", Field: "date", Message: MsgInvalidGoalDate})
		}
	}
	totals, err := s.Store.GoalTotals(ctx, userID, GoalWindows(day), GoalActivityTypes)
	if err != nil {
		return nil, fmt.Errorf("goal totals: %w", err)
	}
	if len(totals) == 0 {
		return nil, nil
	}
	out := make([]*GoalProgress, 0, len(totals))
	for _, t := range totals {
		p, err := goalProgress(t, day)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// goalProgress applies Endurain's rules: only the total of the goal's own type
// is reported (the others stay 0), and the percentage of the target reached is
// capped at 100 and rounded half to even, as Python's round().
func goalProgress(t *GoalTotals, day time.Time) (*GoalProgress, error) {
	g := t.Goal
	w, err := GoalWindowFor(g.Interval, day, t.FirstDayOfWeek)
	if err != nil {
		return nil, err
	}
	p := &GoalProgress{
		GoalID: g.ID, Interval: g.Interval, ActivityType: g.ActivityType, GoalType: g.GoalType,
		StartDate: w.Start.Format(time.DateOnly), EndDate: w.End.AddDate(0, 0, -1).Format(time.DateOnly),
		GoalCalories: g.GoalCalories, GoalActivitiesNumber: g.GoalActivitiesNumber, GoalDistance: g.GoalDistance,
		GoalElevation: g.GoalElevation, GoalDuration: g.GoalDuration,
	}
	if t.Activities == 0 {
		return p, nil
	}
	var total float64
	var target *int
	switch g.GoalType {
	case GoalCalories:
		p.TotalCalories, total, target = t.Calories, float64(t.Calories), g.GoalCalories
	case GoalActivities:
		p.TotalActivitiesNumber, total, target = t.Activities, float64(t.Activities), g.GoalActivitiesNumber
	case GoalDistance:
		p.TotalDistance, total, target = t.Distance, float64(t.Distance), g.GoalDistance
	case GoalElevation:
		p.TotalElevation, total, target = t.Elevation, float64(t.Elevation), g.GoalElevation
	case GoalDuration:
		// Endurain sums decimal seconds and fails when the sum has a fraction;
		// trailpass rounds it.
		p.TotalDuration, total, target = int64(math.RoundToEven(t.Duration)), t.Duration, g.GoalDuration
	default:
		return p, nil
	}
	p.PercentageCompleted = percentage(total, target)
	return p, nil
}

// percentage is total/target*100 in the order Python computes it, capped at
// 100 and rounded half to even. A zero target is met (Endurain divides by zero).
func percentage(total float64, target *int) int64 {
	if target == nil {
		return 0
	}
	if *target <= 0 {
		return 100
	}
	pct := total / float64(*target) * 100
	pct = min(max(pct, 0), 100)
	return int64(math.RoundToEven(pct))
}
