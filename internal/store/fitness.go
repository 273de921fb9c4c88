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
	return s.withTx(ctx, func(tx *sql.Tx) error {
		var laps, sets, streams, steps, media [][]any
		for _, b := range bundles {
			a := &b.Activity
			a.UserID = userID
			err := tx.QueryRowContext(ctx, activityInsert, s.activityRow(userID, a)...).Scan(&a.ID)
			if err != nil {
				return fmt.Errorf("insert activity: %w", mapErr(err))
			}
			if b.FileExt != "" {
				key := fitness.ActivityFileKey(a.ID, b.FileExt)
				a.FileKey = &key
				if _, err := tx.ExecContext(ctx, activityFileKeyUpdate, key, a.ID); err != nil {
					return fmt.Errorf("set activity file: %w", mapErr(err))
				}
			}
			for i := range b.Laps {
				l := &b.Laps[i]
				l.ActivityID = a.ID
				laps = append(laps, s.lapRow(l))
			}
			for i := range b.Sets {
				x := &b.Sets[i]
				x.ActivityID = a.ID
				sets = append(sets, s.setRow(x))
			}
			for i := range b.Streams {
				x := &b.Streams[i]
				x.ActivityID = a.ID
				streams = append(streams, streamRow(x))
			}
			for i := range b.Steps {
				x := &b.Steps[i]
				x.ActivityID = a.ID
				steps = append(steps, stepRow(x))
			}
			for i := range b.Media {
				x := &b.Media[i]
				x.ActivityID = a.ID
				x.MediaPath = fitness.MediaPath(a.ID, x.Name)
				if x.MediaType == 0 {
					x.MediaType = 1
				}
				media = append(media, mediaRow(x))
			}
		}
		// Child ids are not read back: nothing the callers do needs them, and
		// RETURNING over multi-row inserts does not promise an order.
		for _, ins := range []struct {
			t    table
			rows [][]any
		}{
			{lapTable, laps},
			{setTable, sets},
			{streamTable, streams},
			{stepTable, steps},
			{mediaTable, media},
		} {
			if err := insertMany(ctx, tx, ins.t, ins.rows); err != nil {
				return err
			}
		}
		return nil
	})
}

// CreateExerciseTitles inserts the user's exercise titles.
func (s *Store) CreateExerciseTitles(ctx context.Context, userID int64, titles []*fitness.ExerciseTitle) error {
	return s.withTx(ctx, func(tx *sql.Tx) error {
		for _, t := range titles {
			t.UserID = userID
			if err := insertReturningID(ctx, tx, exerciseTitleTable, exerciseTitleRow(userID, t), &t.ID); err != nil {
				return fmt.Errorf("insert exercise title: %w", err)
			}
		}
		return nil
	})
}

// CreateGear inserts g and its components.
func (s *Store) CreateGear(ctx context.Context, userID int64, g *fitness.Gear, components []*fitness.GearComponent) error {
	return s.withTx(ctx, func(tx *sql.Tx) error {
		if err := s.insertGear(ctx, tx, userID, g); err != nil {
			return err
		}
		for _, c := range components {
			c.UserID, c.GearID = userID, g.ID
			if err := insertReturningID(ctx, tx, gearComponentTable, s.gearComponentRow(userID, c), &c.ID); err != nil {
				return fmt.Errorf("insert gear component: %w", err)
			}
		}
		return nil
	})
}

// CreateHealthWeights inserts weighings.
func (s *Store) CreateHealthWeights(ctx context.Context, userID int64, ws []*fitness.HealthWeight) error {
	rows := make([][]any, 0, len(ws))
	for _, w := range ws {
		w.UserID = userID
		rows = append(rows, healthWeightRow(userID, w))
	}
	return s.withTx(ctx, func(tx *sql.Tx) error {
		return insertMany(ctx, tx, healthWeightTable, rows)
	})
}

// SetHealthTargets replaces the user's targets, creating the row if missing.
func (s *Store) SetHealthTargets(ctx context.Context, userID int64, t fitness.HealthTargets) error {
	return setHealthTargets(ctx, s.db, userID, t)
}

// CreateGoals inserts goals.
func (s *Store) CreateGoals(ctx context.Context, userID int64, goals []*fitness.Goal) error {
	return s.withTx(ctx, func(tx *sql.Tx) error {
		for _, g := range goals {
			g.UserID = userID
			if err := insertReturningID(ctx, tx, goalTable, goalRow(userID, g), &g.ID); err != nil {
				return fmt.Errorf("insert goal: %w", err)
			}
		}
		return nil
	})
}

// SetDefaultGear replaces the user's default gear, creating the row if missing.
func (s *Store) SetDefaultGear(ctx context.Context, userID int64, dg fitness.DefaultGear) error {
	return setDefaultGear(ctx, s.db, userID, dg)
}

// CreateNotifications inserts notifications.
func (s *Store) CreateNotifications(ctx context.Context, userID int64, ns []*fitness.Notification) error {
	return s.withTx(ctx, func(tx *sql.Tx) error {
		for _, n := range ns {
			n.UserID = userID
			if err := insertReturningID(ctx, tx, notificationTable, s.notificationRow(userID, n), &n.ID); err != nil {
				return fmt.Errorf("insert notification: %w", err)
			}
		}
		return nil
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
