package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/trailpass/trailpass/internal/fitness"
)

var _ fitness.Store = (*Store)(nil)

// insertMany inserts rows with multi-row VALUES statements. Batches stay under
// both engines' bind-parameter limits (SQLite 32766, PostgreSQL 65535) and a few
// MiB of arguments, since stream rows carry large JSON.
func insertMany(ctx context.Context, tx *sql.Tx, t table, rows [][]any) error {
	per := min(200, 30000/len(t.cols))
	for len(rows) > 0 {
		n := min(per, len(rows))
		args := make([]any, 0, n*len(t.cols))
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		if _, err := tx.ExecContext(ctx, t.insertSQL(n), args...); err != nil {
			return fmt.Errorf("insert %s: %w", t.name, mapErr(err))
		}
		rows = rows[n:]
	}
	return nil
}

// CreateActivities inserts the bundles and their parts in one transaction.
func (s *Store) CreateActivities(ctx context.Context, userID int64, bundles []*fitness.ActivityBundle) error {
	acts := tables[fitness.Activities]
	return s.withTx(ctx, func(tx *sql.Tx) error {
		children := map[fitness.Table][][]any{}
		add := func(t fitness.Table, v any) {
			children[t] = append(children[t], s.structRow(tables[t], userID, v))
		}
		for _, b := range bundles {
			a := &b.Activity
			a.UserID = userID
			if err := insertReturningID(ctx, tx, acts, s.structRow(acts, userID, a), &a.ID); err != nil {
				return fmt.Errorf("insert activity: %w", err)
			}
			if b.FileExt != "" {
				key := fitness.ActivityFileKey(a.ID, b.FileExt)
				a.FileKey = &key
				if _, err := tx.ExecContext(ctx, activityFileKeyUpdate, key, a.ID); err != nil {
					return fmt.Errorf("set activity file: %w", mapErr(err))
				}
			}
			eachChild(add, fitness.ActivityLaps, b.Laps, func(x *fitness.Lap) { x.ActivityID = a.ID })
			eachChild(add, fitness.ActivitySets, b.Sets, func(x *fitness.Set) { x.ActivityID = a.ID })
			eachChild(add, fitness.ActivityStreams, b.Streams, func(x *fitness.Stream) { x.ActivityID = a.ID })
			eachChild(add, fitness.ActivityWorkoutSteps, b.Steps, func(x *fitness.WorkoutStep) { x.ActivityID = a.ID })
			for i := range b.Media {
				x := &b.Media[i]
				x.ActivityID = a.ID
				x.MediaPath = fitness.MediaPath(a.ID, x.Name)
				if x.MediaType == 0 {
					x.MediaType = 1
				}
				add(fitness.ActivityMedia, x)
			}
		}
		// Child ids are not read back: nothing the callers do needs them, and
		// RETURNING over multi-row inserts does not promise an order.
		for _, t := range []fitness.Table{fitness.ActivityLaps, fitness.ActivitySets, fitness.ActivityStreams,
			fitness.ActivityWorkoutSteps, fitness.ActivityMedia} {
			if err := insertMany(ctx, tx, tables[t], children[t]); err != nil {
				return err
			}
		}
		return nil
	})
}

// eachChild sets each of xs's activity through own and adds it to table t.
func eachChild[T any](add func(fitness.Table, any), t fitness.Table, xs []T, own func(*T)) {
	for i := range xs {
		own(&xs[i])
		add(t, &xs[i])
	}
}

// createEach inserts each of rows (pointers to fitness structs) into t and
// sets its id through setID.
func (s *Store) createEach(ctx context.Context, userID int64, t fitness.Table, n int, row func(i int) (any, *int64)) error {
	tb := tables[t]
	return s.withTx(ctx, func(tx *sql.Tx) error {
		for i := range n {
			v, id := row(i)
			if err := insertReturningID(ctx, tx, tb, s.structRow(tb, userID, v), id); err != nil {
				return fmt.Errorf("insert %s: %w", tb.name, err)
			}
		}
		return nil
	})
}

// CreateExerciseTitles inserts the user's exercise titles.
func (s *Store) CreateExerciseTitles(ctx context.Context, userID int64, titles []*fitness.ExerciseTitle) error {
	return s.createEach(ctx, userID, fitness.ActivityExerciseTitles, len(titles), func(i int) (any, *int64) {
		titles[i].UserID = userID
		return titles[i], &titles[i].ID
	})
}

// CreateGear inserts g and its components.
func (s *Store) CreateGear(ctx context.Context, userID int64, g *fitness.Gear, components []*fitness.GearComponent) error {
	comps := tables[fitness.GearComponents]
	return s.withTx(ctx, func(tx *sql.Tx) error {
		if err := s.insertGear(ctx, tx, userID, g); err != nil {
			return err
		}
		for _, c := range components {
			c.UserID, c.GearID = userID, g.ID
			if err := insertReturningID(ctx, tx, comps, s.structRow(comps, userID, c), &c.ID); err != nil {
				return fmt.Errorf("insert gear component: %w", err)
			}
		}
		return nil
	})
}

// CreateHealthWeights inserts weighings.
func (s *Store) CreateHealthWeights(ctx context.Context, userID int64, ws []*fitness.HealthWeight) error {
	t := tables[fitness.HealthWeights]
	rows := make([][]any, 0, len(ws))
	for _, w := range ws {
		w.UserID = userID
		rows = append(rows, s.structRow(t, userID, w))
	}
	return s.withTx(ctx, func(tx *sql.Tx) error {
		return insertMany(ctx, tx, t, rows)
	})
}

// SetHealthTargets replaces the user's targets, creating the row if missing.
func (s *Store) SetHealthTargets(ctx context.Context, userID int64, t fitness.HealthTargets) error {
	tb := tables[fitness.HealthTargetsTable]
	return s.upsert(ctx, s.db, tb, s.structRow(tb, userID, &t))
}

// CreateGoals inserts goals.
func (s *Store) CreateGoals(ctx context.Context, userID int64, goals []*fitness.Goal) error {
	return s.createEach(ctx, userID, fitness.UserGoals, len(goals), func(i int) (any, *int64) {
		goals[i].UserID = userID
		return goals[i], &goals[i].ID
	})
}

// SetDefaultGear replaces the user's default gear, creating the row if missing.
func (s *Store) SetDefaultGear(ctx context.Context, userID int64, dg fitness.DefaultGear) error {
	return s.upsert(ctx, s.db, tables[fitness.UserDefaultGear], defaultGearRow(userID, dg))
}

// CreateNotifications inserts notifications.
func (s *Store) CreateNotifications(ctx context.Context, userID int64, ns []*fitness.Notification) error {
	return s.createEach(ctx, userID, fitness.Notifications, len(ns), func(i int) (any, *int64) {
		ns[i].UserID = userID
		return ns[i], &ns[i].ID
	})
}

// AnalyzeFitness refreshes the planner statistics after a bulk load. On a fresh
// PostgreSQL table the planner has none and picks plans that page through a
// user's activities once per export query (quadratic); autovacuum fixes that
// eventually, a seed should not leave it to chance.
func (s *Store) AnalyzeFitness(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `ANALYZE`); err != nil {
		return fmt.Errorf("analyze: %w", mapErr(err))
	}
	return nil
}
