package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/trailpass/trailpass/internal/profile"
)

// GoalTotals returns every goal of the user with the count and sums of the
// activities in its window, in one query. The windows and the activity-type
// groups are the domain's; they arrive as two small VALUES tables, so the rules
// stay in package profile and the query stays one, whatever the number of goals.
//
// Activities count when their start time lies in [start, end) of the window,
// compared as instants (timestamptz on PostgreSQL, fixed-width UTC text on
// SQLite): the same as Endurain's date(start_time) on its naive UTC times.
func (s *Store) GoalTotals(ctx context.Context, userID int64, windows []profile.GoalWindow, types map[int][]int) ([]*profile.GoalTotals, error) {
	if len(windows) == 0 || len(types) == 0 {
		return nil, fmt.Errorf("goal totals: no windows or activity types")
	}
	tsType := "TIMESTAMPTZ"
	if s.dialect == SQLite {
		tsType = "TEXT"
	}
	args := []any{userID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	var wRows, tRows []string
	for _, w := range windows {
		wRows = append(wRows, fmt.Sprintf("(CAST(%s AS TEXT), CAST(%s AS INTEGER), CAST(%s AS %s), CAST(%s AS %s))",
			arg(w.Interval), arg(w.FirstDayOfWeek), arg(s.ts(w.Start)), tsType, arg(s.ts(w.End)), tsType))
	}
	goalTypes := make([]int, 0, len(types))
	for gt := range types {
		goalTypes = append(goalTypes, gt)
	}
	slices.Sort(goalTypes) // a stable query text
	for _, gt := range goalTypes {
		for _, at := range types[gt] {
			tRows = append(tRows, fmt.Sprintf("(CAST(%s AS INTEGER), CAST(%s AS INTEGER))", arg(gt), arg(at)))
		}
	}
	// A weekly goal takes the window of the user's first day of the week; the
	// other windows carry -1 there. Hidden activities count: Endurain counts them.
	q := `WITH w (period, first_day, start_at, end_at) AS (VALUES ` + strings.Join(wRows, ", ") + `),
	t (goal_activity_type, activity_type) AS (VALUES ` + strings.Join(tRows, ", ") + `)
	SELECT g.id, g.user_id, g.interval, g.activity_type, g.goal_type, g.goal_calories, g.goal_activities_number,
		g.goal_distance, g.goal_elevation, g.goal_duration, u.first_day_of_week,
		COUNT(a.id), COALESCE(SUM(a.calories), 0), COALESCE(SUM(a.distance), 0),
		COALESCE(SUM(a.elevation_gain), 0), COALESCE(SUM(CAST(a.total_elapsed_time AS DOUBLE PRECISION)), 0)
	FROM users_goals g
	JOIN users u ON u.id = g.user_id
	LEFT JOIN w ON w.period = g.interval AND (w.first_day = -1 OR w.first_day = u.first_day_of_week)
	LEFT JOIN t ON t.goal_activity_type = g.activity_type
	LEFT JOIN activities a ON a.user_id = g.user_id AND a.activity_type = t.activity_type
		AND a.start_time >= w.start_at AND a.start_time < w.end_at
	WHERE g.user_id = $1
	GROUP BY g.id, g.user_id, g.interval, g.activity_type, g.goal_type, g.goal_calories, g.goal_activities_number,
		g.goal_distance, g.goal_elevation, g.goal_duration, u.first_day_of_week
	ORDER BY g.id`
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("goal totals: %w", mapErr(err))
	}
	defer rows.Close()
	var out []*profile.GoalTotals
	for rows.Next() {
		t := &profile.GoalTotals{}
		g := &t.Goal
		if err := rows.Scan(&g.ID, &g.UserID, &g.Interval, &g.ActivityType, &g.GoalType, &g.GoalCalories,
			&g.GoalActivitiesNumber, &g.GoalDistance, &g.GoalElevation, &g.GoalDuration, &t.FirstDayOfWeek,
			&t.Activities, &t.Calories, &t.Distance, &t.Elevation, &t.Duration); err != nil {
			return nil, fmt.Errorf("scan goal totals: %w", err)
		}
		out = append(out, t)
	}
	return out, mapErr(rows.Err())
}
