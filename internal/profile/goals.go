package profile

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/trailpass/trailpass/internal/account"
)

// Goal types, as Endurain numbers them.
const (
	GoalCalories   = 1
	GoalActivities = 2
	GoalDistance   = 3
	GoalElevation  = 4
	GoalDuration   = 5
)

// GoalIntervals are the periods a goal can cover.
var GoalIntervals = []string{"daily", "weekly", "monthly", "yearly"}

// Goal is a user's training goal, in Endurain's UserGoal shape. Exactly the
// goal_* field matching GoalType is set. ActivityType is the goal-specific enum
// (1 run, 2 bike, 3 swim, 4 walk, 5 strength, 6 cardio).
type Goal struct {
	ID     int64 `json:"id"`
	UserID int64 `json:"user_id"`
	GoalInput
}

// GoalInput is the body of POST and PUT /api/v1/profile/goals. Its JSON tags
// match Endurain's, so the HTTP layer can decode straight into it.
type GoalInput struct {
	Interval             string `json:"interval"`
	ActivityType         int    `json:"activity_type"`
	GoalType             int    `json:"goal_type"`
	GoalCalories         *int   `json:"goal_calories"`
	GoalActivitiesNumber *int   `json:"goal_activities_number"`
	GoalDistance         *int   `json:"goal_distance"`
	GoalElevation        *int   `json:"goal_elevation"`
	GoalDuration         *int   `json:"goal_duration"`
}

// GoalStore reads and writes goals. Every method is scoped to the user.
type GoalStore interface {
	// ListGoals returns the user's goals ordered by id.
	ListGoals(ctx context.Context, userID int64) ([]*Goal, error)
	// CreateGoal inserts g and sets g.ID; ECONFLICT for a duplicate
	// (interval, activity_type, goal_type).
	CreateGoal(ctx context.Context, g *Goal) error
	// UpdateGoal writes g over the row g.ID of g.UserID; ENOTFOUND if the user
	// has no such goal, ECONFLICT for a duplicate.
	UpdateGoal(ctx context.Context, g *Goal) error
	// DeleteGoal deletes the user's goal; ENOTFOUND if the user has no such goal.
	DeleteGoal(ctx context.Context, userID, goalID int64) error
	GoalProgressStore
}

// MsgDuplicateGoal is the message of a duplicate goal.
const MsgDuplicateGoal = "A goal with this interval, activity type and goal type already exists"

// MsgGoalNotFound is the message for a goal id the caller does not own.
const MsgGoalNotFound = "Goal not found"

// validate checks the goal as Endurain does and reports every bad field.
// Validate checks Endurain's goal rules: a known interval, activity type and
// goal type, and exactly the goal_* field matching goal_type, between 0 and the
// largest 32-bit integer. Returns EUNPROCESSABLE naming each bad field.
func (g *GoalInput) Validate() error {
	var problems []account.FieldError
	bad := func(field, msg string) { problems = append(problems, account.FieldError{Field: field, Message: msg}) }
	if !slices.Contains(GoalIntervals, g.Interval) {
		bad("interval", "Interval must be daily, weekly, monthly or yearly")
	}
	if g.ActivityType < 1 || g.ActivityType > 6 {
		bad("activity_type", "Activity type must be between 1 and 6")
	}
	if g.GoalType < GoalCalories || g.GoalType > GoalDuration {
		bad("goal_type", "Goal type must be between 1 and 5")
	}
	values := []struct {
		name string
		typ  int
		v    *int
	}{
		{"goal_calories", GoalCalories, g.GoalCalories},
		{"goal_activities_number", GoalActivities, g.GoalActivitiesNumber},
		{"goal_distance", GoalDistance, g.GoalDistance},
		{"goal_elevation", GoalElevation, g.GoalElevation},
		{"goal_duration", GoalDuration, g.GoalDuration},
	}
	for _, f := range values {
		switch {
		case f.typ == g.GoalType && f.v == nil:
			bad(f.name, fmt.Sprintf("%s is required for goal_type %d", f.name, g.GoalType))
		case f.typ == g.GoalType && (*f.v < 0 || *f.v > math.MaxInt32):
			// The columns are 32-bit integers on PostgreSQL.
			bad(f.name, fmt.Sprintf("%s must be between 0 and %d", f.name, math.MaxInt32))
		case f.typ != g.GoalType && f.v != nil:
			bad(f.name, fmt.Sprintf("%s must be null for goal_type %d", f.name, g.GoalType))
		}
	}
	if len(problems) > 0 {
		return account.ValidationError(problems...)
	}
	return nil
}

// ListGoals returns the caller's goals, or nil when they have none (Endurain
// answers null then, not an empty list).
func (s *Service) ListGoals(ctx context.Context, userID int64) ([]*Goal, error) {
	goals, err := s.Store.ListGoals(ctx, userID)
	if err != nil || len(goals) == 0 {
		return nil, err
	}
	return goals, nil
}

// CreateGoal validates and stores a goal of the caller. EUNPROCESSABLE with the
// bad fields; ECONFLICT (MsgDuplicateGoal) for a duplicate.
func (s *Service) CreateGoal(ctx context.Context, userID int64, in GoalInput) (*Goal, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	g := &Goal{UserID: userID, GoalInput: in}
	if err := s.Store.CreateGoal(ctx, g); err != nil {
		return nil, goalErr("create goal", err)
	}
	return g, nil
}

// UpdateGoal replaces the caller's goal goalID. ENOTFOUND (MsgGoalNotFound) when
// the caller has no such goal, whoever else owns it; otherwise as CreateGoal.
func (s *Service) UpdateGoal(ctx context.Context, userID, goalID int64, in GoalInput) (*Goal, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	g := &Goal{ID: goalID, UserID: userID, GoalInput: in}
	if err := s.Store.UpdateGoal(ctx, g); err != nil {
		return nil, goalErr("update goal", err)
	}
	return g, nil
}

// DeleteGoal deletes the caller's goal goalID; ENOTFOUND when they have none.
func (s *Service) DeleteGoal(ctx context.Context, userID, goalID int64) error {
	if err := s.Store.DeleteGoal(ctx, userID, goalID); err != nil {
		return goalErr("delete goal", err)
	}
	return nil
}

func goalErr(action string, err error) error {
	switch account.ErrorCode(err) {
	case account.ECONFLICT:
		return account.Errorf(account.ECONFLICT, MsgDuplicateGoal)
	case account.ENOTFOUND:
		return account.Errorf(account.ENOTFOUND, MsgGoalNotFound)
	}
	return fmt.Errorf("%s: %w", action, err)
}
