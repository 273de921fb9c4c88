package store

import (
	"context"
	"fmt"
	"math/big"
	"strings"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/fitness"
	"github.com/trailpass/trailpass/internal/profile"
)

const privacyColumns = `default_activity_visibility, hide_activity_start_time, hide_activity_location,
	hide_activity_map, hide_activity_hr, hide_activity_power, hide_activity_cadence, hide_activity_elevation,
	hide_activity_speed, hide_activity_pace, hide_activity_laps, hide_activity_workout_sets_steps, hide_activity_gear`

func privacyFields(f *profile.PrivacyFlags) []any {
	return []any{&f.DefaultActivityVisibility, &f.HideActivityStartTime, &f.HideActivityLocation,
		&f.HideActivityMap, &f.HideActivityHR, &f.HideActivityPower, &f.HideActivityCadence,
		&f.HideActivityElevation, &f.HideActivitySpeed, &f.HideActivityPace, &f.HideActivityLaps,
		&f.HideActivityWorkoutSetsSteps, &f.HideActivityGear}
}

// privacyArgs is f's values in privacyColumns order, as query arguments.
func privacyArgs(f *profile.PrivacyFlags) []any {
	var args []any
	for _, p := range privacyFields(f) {
		switch v := p.(type) {
		case *int:
			args = append(args, *v)
		case *bool:
			args = append(args, *v)
		}
	}
	return args
}

// GetPrivacy returns the user's privacy row.
func (s *Store) GetPrivacy(ctx context.Context, userID int64) (*profile.Privacy, error) {
	p := &profile.Privacy{}
	dest := append([]any{&p.ID, &p.UserID}, privacyFields(&p.PrivacyFlags)...)
	err := s.db.QueryRowContext(ctx, `SELECT id, user_id, `+privacyColumns+`
		FROM users_privacy_settings WHERE user_id = $1`, userID).Scan(dest...)
	if err != nil {
		return nil, notFound(err, "User privacy settings not found")
	}
	return p, nil
}

// UpdatePrivacy writes the user's privacy flags.
func (s *Store) UpdatePrivacy(ctx context.Context, userID int64, f profile.PrivacyFlags) error {
	args := append([]any{userID}, privacyArgs(&f)...)
	var sets []string
	for i, col := range strings.Split(privacyColumns, ",") {
		sets = append(sets, fmt.Sprintf("%s = $%d", strings.TrimSpace(col), i+2))
	}
	res, err := s.db.ExecContext(ctx, `UPDATE users_privacy_settings SET `+strings.Join(sets, ", ")+
		` WHERE user_id = $1`, args...)
	if err != nil {
		return fmt.Errorf("update privacy: %w", mapErr(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return account.Errorf(account.ENOTFOUND, "User privacy settings not found")
	}
	return nil
}

// defaultGearColumns are the gear-id columns, from fitness.DefaultGearTypes.
// profile.DefaultGear.GearFields lists them again (account cannot import
// fitness); TestDefaultGearColumnsMatchAccount keeps the two in step, since
// GetDefaultGear scans these columns into GearFields in order.
var defaultGearColumns = strings.Join(tables[fitness.UserDefaultGear].cols[1:], ", ")

// GetDefaultGear returns the user's default-gear row.
func (s *Store) GetDefaultGear(ctx context.Context, userID int64) (*profile.DefaultGear, error) {
	d := &profile.DefaultGear{}
	dest := []any{&d.ID, &d.UserID}
	for _, f := range d.GearFields() {
		dest = append(dest, f.ID)
	}
	err := s.db.QueryRowContext(ctx, `SELECT id, user_id, `+defaultGearColumns+`
		FROM users_default_gear WHERE user_id = $1`, userID).Scan(dest...)
	if err != nil {
		return nil, notFound(err, "User default gear not found")
	}
	return d, nil
}

// UpdateDefaultGear writes the 15 gear ids of the row of d.UserID.
func (s *Store) UpdateDefaultGear(ctx context.Context, d *profile.DefaultGear) error {
	args := []any{d.UserID}
	var sets []string
	for i, f := range d.GearFields() {
		sets = append(sets, fmt.Sprintf("%s = $%d", f.Name, i+2))
		args = append(args, *f.ID)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE users_default_gear SET `+strings.Join(sets, ", ")+
		` WHERE user_id = $1`, args...)
	if err != nil {
		return fmt.Errorf("update default gear: %w", mapErr(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return account.Errorf(account.ENOTFOUND, "User default gear not found")
	}
	return nil
}

// OwnedGear returns which of ids are gear of the user.
func (s *Store) OwnedGear(ctx context.Context, userID int64, ids []int64) (map[int64]bool, error) {
	owned := make(map[int64]bool, len(ids))
	if len(ids) == 0 {
		return owned, nil
	}
	args := []any{userID}
	marks := make([]string, len(ids))
	for i, id := range ids {
		args = append(args, id)
		marks[i] = fmt.Sprintf("$%d", i+2)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM gear WHERE user_id = $1 AND id IN (`+
		strings.Join(marks, ", ")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("owned gear: %w", mapErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("scan gear id: %w", err)
		}
		owned[id] = true
	}
	return owned, mapErr(rows.Err())
}

// ListGear returns the user's gear ordered by id.
func (s *Store) ListGear(ctx context.Context, userID int64) ([]*profile.Gear, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, brand, model, nickname, gear_type, user_id, created_at, active,
		initial_kms, purchase_value, strava_gear_id, garminconnect_gear_id FROM gear WHERE user_id = $1 ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list gear: %w", mapErr(err))
	}
	defer rows.Close()
	out := []*profile.Gear{}
	for rows.Next() {
		g := &profile.Gear{}
		var initial string
		var purchase *string
		if err := rows.Scan(&g.ID, &g.Brand, &g.Model, &g.Nickname, &g.GearType, &g.UserID, scanTime(&g.CreatedAt),
			&g.Active, &initial, &purchase, &g.StravaGearID, &g.GarminConnectGearID); err != nil {
			return nil, fmt.Errorf("scan gear: %w", err)
		}
		g.InitialKms = decimal2(initial)
		if purchase != nil {
			v := decimal2(*purchase)
			g.PurchaseValue = &v
		}
		out = append(out, g)
	}
	return out, mapErr(rows.Err())
}

// decimal2 renders a stored decimal with two decimals, as PostgreSQL's
// NUMERIC(…,2) does; SQLite keeps whatever text was written ("0").
func decimal2(s string) string {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return s
	}
	return r.FloatString(2)
}

const goalColumns = `id, user_id, interval, activity_type, goal_type, goal_calories, goal_activities_number,
	goal_distance, goal_elevation, goal_duration`

func scanGoal(r rowScanner) (*profile.Goal, error) {
	g := &profile.Goal{}
	err := r.Scan(&g.ID, &g.UserID, &g.Interval, &g.ActivityType, &g.GoalType, &g.GoalCalories,
		&g.GoalActivitiesNumber, &g.GoalDistance, &g.GoalElevation, &g.GoalDuration)
	return g, err
}

// ListGoals returns the user's goals ordered by id.
func (s *Store) ListGoals(ctx context.Context, userID int64) ([]*profile.Goal, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+goalColumns+` FROM users_goals WHERE user_id = $1 ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list goals: %w", mapErr(err))
	}
	defer rows.Close()
	out := []*profile.Goal{}
	for rows.Next() {
		g, err := scanGoal(rows)
		if err != nil {
			return nil, fmt.Errorf("scan goal: %w", err)
		}
		out = append(out, g)
	}
	return out, mapErr(rows.Err())
}

// CreateGoal inserts g and sets its id.
func (s *Store) CreateGoal(ctx context.Context, g *profile.Goal) error {
	err := s.db.QueryRowContext(ctx, `INSERT INTO users_goals (user_id, interval, activity_type, goal_type,
		goal_calories, goal_activities_number, goal_distance, goal_elevation, goal_duration)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		g.UserID, g.Interval, g.ActivityType, g.GoalType, g.GoalCalories, g.GoalActivitiesNumber,
		g.GoalDistance, g.GoalElevation, g.GoalDuration).Scan(&g.ID)
	if err != nil {
		return fmt.Errorf("insert goal: %w", mapErr(err))
	}
	return nil
}

// UpdateGoal writes g over the user's goal g.ID.
func (s *Store) UpdateGoal(ctx context.Context, g *profile.Goal) error {
	res, err := s.db.ExecContext(ctx, `UPDATE users_goals SET interval = $1, activity_type = $2, goal_type = $3,
		goal_calories = $4, goal_activities_number = $5, goal_distance = $6, goal_elevation = $7, goal_duration = $8
		WHERE id = $9 AND user_id = $10`,
		g.Interval, g.ActivityType, g.GoalType, g.GoalCalories, g.GoalActivitiesNumber, g.GoalDistance,
		g.GoalElevation, g.GoalDuration, g.ID, g.UserID)
	if err != nil {
		return fmt.Errorf("update goal: %w", mapErr(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return account.Errorf(account.ENOTFOUND, "Goal not found")
	}
	return nil
}

// DeleteGoal deletes the user's goal goalID.
func (s *Store) DeleteGoal(ctx context.Context, userID, goalID int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM users_goals WHERE id = $1 AND user_id = $2`, goalID, userID)
	if err != nil {
		return fmt.Errorf("delete goal: %w", mapErr(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return account.Errorf(account.ENOTFOUND, "Goal not found")
	}
	return nil
}
