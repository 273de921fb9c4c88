package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/fitness"
	"github.com/trailpass/trailpass/internal/portability"
)

var _ portability.ImportStore = (*Store)(nil)
var _ portability.ImportTx = (*importTx)(nil)

// importTx is one import's transaction.
type importTx struct {
	s      *Store
	tx     *sql.Tx
	userID int64
	// stmts caches prepared statements for the transaction's life: parsing a
	// multi-row INSERT of thousands of parameters cost a quarter of the time
	// the write lock was held. The transaction closes them at its end.
	stmts map[string]*sql.Stmt
}

func (t *importTx) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := t.stmts[query]; ok {
		return st, nil
	}
	st, err := t.tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, mapErr(err)
	}
	t.stmts[query] = st
	return st, nil
}

// insertRows inserts rows in full multi-row batches through one prepared
// statement, and the remainder one row at a time through another.
func (t *importTx) insertRows(ctx context.Context, tb table, rows [][]any) error {
	per := min(100, 30000/len(tb.cols))
	args := make([]any, 0, per*len(tb.cols))
	for len(rows) > 0 {
		n := per
		if len(rows) < per {
			n = 1
		}
		st, err := t.prepared(ctx, tb.insertSQL(n))
		if err != nil {
			return fmt.Errorf("insert %s: %w", tb.name, err)
		}
		args = args[:0]
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("insert %s: %w", tb.name, mapErr(err))
		}
		rows = rows[n:]
	}
	return nil
}

// BeginImport starts userID's import transaction. On SQLite it takes the write
// lock at once (IMMEDIATE), so the import should prepare everything it can
// before calling it.
func (s *Store) BeginImport(ctx context.Context, userID int64) (portability.ImportTx, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, mapErr(fmt.Errorf("begin: %w", err))
	}
	// Lock the user's row first: two imports of one account run one after the
	// other, so the second sees the first's rows and skips them (PostgreSQL
	// takes a row lock; SQLite already holds its single write lock).
	res, err := tx.ExecContext(ctx, `UPDATE users SET updated_at = updated_at WHERE id = $1`, userID)
	if err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("lock user: %w", mapErr(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		tx.Rollback()
		return nil, account.Errorf(account.ENOTFOUND, "User not found")
	}
	return &importTx{s: s, tx: tx, userID: userID, stmts: map[string]*sql.Stmt{}}, nil
}

func (t *importTx) Commit() error {
	if err := t.tx.Commit(); err != nil {
		return mapErr(fmt.Errorf("commit: %w", err))
	}
	return nil
}

func (t *importTx) Rollback() error { return t.tx.Rollback() }

// Existing reads the user's current duplicate-detection keys.
func (t *importTx) Existing(ctx context.Context) (*portability.Existing, error) {
	ex := &portability.Existing{Activities: map[portability.ActivityKey]bool{}, Gear: map[string]int64{},
		Goals: map[portability.GoalKey]bool{}, WeightDates: map[string]bool{}, Titles: map[[2]int]bool{},
		Notifications: map[portability.NotificationKey]bool{}}
	q := func(query string, scan func(*sql.Rows) error) error {
		rows, err := t.tx.QueryContext(ctx, query, t.userID)
		if err != nil {
			return mapErr(err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return mapErr(rows.Err())
	}
	err := q(`SELECT start_time, activity_type, distance FROM activities WHERE user_id = $1`, func(r *sql.Rows) error {
		var k portability.ActivityKey
		var start time.Time
		if err := r.Scan(scanTime(&start), &k.Type, &k.Distance); err != nil {
			return err
		}
		k.Start = start.Unix()
		ex.Activities[k] = true
		return nil
	})
	if err == nil {
		err = q(`SELECT nickname, id FROM gear WHERE user_id = $1`, func(r *sql.Rows) error {
			var n string
			var id int64
			if err := r.Scan(&n, &id); err != nil {
				return err
			}
			ex.Gear[n] = id
			return nil
		})
	}
	if err == nil {
		err = q(`SELECT interval, activity_type, goal_type FROM users_goals WHERE user_id = $1`, func(r *sql.Rows) error {
			var k portability.GoalKey
			if err := r.Scan(&k.Interval, &k.ActivityType, &k.GoalType); err != nil {
				return err
			}
			ex.Goals[k] = true
			return nil
		})
	}
	if err == nil {
		err = q(`SELECT date FROM health_weight WHERE user_id = $1`, func(r *sql.Rows) error {
			var d *string
			if err := r.Scan(nullDate{&d}); err != nil {
				return err
			}
			if d != nil {
				ex.WeightDates[*d] = true
			}
			return nil
		})
	}
	if err == nil {
		err = q(`SELECT exercise_category, exercise_name FROM activity_exercise_titles WHERE user_id = $1`, func(r *sql.Rows) error {
			var k [2]int
			if err := r.Scan(&k[0], &k[1]); err != nil {
				return err
			}
			ex.Titles[k] = true
			return nil
		})
	}
	if err == nil {
		err = q(`SELECT type, created_at FROM notifications WHERE user_id = $1`, func(r *sql.Rows) error {
			var k portability.NotificationKey
			var at time.Time
			if err := r.Scan(&k.Type, scanTime(&at)); err != nil {
				return err
			}
			k.CreatedAt = at.Unix()
			ex.Notifications[k] = true
			return nil
		})
	}
	if err != nil {
		return nil, fmt.Errorf("read existing: %w", err)
	}
	return ex, nil
}

// InsertGear inserts g.
func (t *importTx) InsertGear(ctx context.Context, g *fitness.Gear) error {
	return t.s.insertGear(ctx, t.tx, t.userID, g)
}

// InsertGearComponents inserts components, keeping active and retired_date.
func (t *importTx) InsertGearComponents(ctx context.Context, cs []*fitness.GearComponent) error {
	rows := make([][]any, 0, len(cs))
	for _, c := range cs {
		rows = append(rows, t.s.gearComponentRow(t.userID, c))
	}
	return t.insertRows(ctx, gearComponentTable, rows)
}

// InsertActivity inserts a, with its file key when fileExt is set.
func (t *importTx) InsertActivity(ctx context.Context, a *fitness.Activity, fileExt string) error {
	a.UserID = t.userID
	ins, err := t.prepared(ctx, activityInsert)
	if err != nil {
		return fmt.Errorf("insert activity: %w", err)
	}
	if err := ins.QueryRowContext(ctx, t.s.activityRow(t.userID, a)...).Scan(&a.ID); err != nil {
		return fmt.Errorf("insert activity: %w", mapErr(err))
	}
	if fileExt != "" {
		key := fitness.ActivityFileKey(a.ID, fileExt)
		a.FileKey = &key
		upd, err := t.prepared(ctx, activityFileKeyUpdate)
		if err != nil {
			return fmt.Errorf("set activity file: %w", err)
		}
		if _, err := upd.ExecContext(ctx, key, a.ID); err != nil {
			return fmt.Errorf("set activity file: %w", mapErr(err))
		}
	}
	return nil
}

// InsertLaps inserts laps.
func (t *importTx) InsertLaps(ctx context.Context, rows []fitness.Lap) error {
	out := make([][]any, len(rows))
	for i := range rows {
		out[i] = t.s.lapRow(&rows[i])
	}
	return t.insertRows(ctx, lapTable, out)
}

// InsertSets inserts sets.
func (t *importTx) InsertSets(ctx context.Context, rows []fitness.Set) error {
	out := make([][]any, len(rows))
	for i := range rows {
		out[i] = t.s.setRow(&rows[i])
	}
	return t.insertRows(ctx, setTable, out)
}

// InsertStreams inserts streams.
func (t *importTx) InsertStreams(ctx context.Context, rows []fitness.Stream) error {
	out := make([][]any, len(rows))
	for i := range rows {
		out[i] = streamRow(&rows[i])
	}
	return t.insertRows(ctx, streamTable, out)
}

// InsertSteps inserts workout steps.
func (t *importTx) InsertSteps(ctx context.Context, rows []fitness.WorkoutStep) error {
	out := make([][]any, len(rows))
	for i := range rows {
		out[i] = stepRow(&rows[i])
	}
	return t.insertRows(ctx, stepTable, out)
}

// InsertMedia inserts media rows.
func (t *importTx) InsertMedia(ctx context.Context, rows []fitness.Media) error {
	out := make([][]any, len(rows))
	for i := range rows {
		out[i] = mediaRow(&rows[i])
	}
	return t.insertRows(ctx, mediaTable, out)
}

// InsertExerciseTitles inserts the user's exercise titles.
func (t *importTx) InsertExerciseTitles(ctx context.Context, ts []*fitness.ExerciseTitle) error {
	out := make([][]any, len(ts))
	for i, x := range ts {
		out[i] = exerciseTitleRow(t.userID, x)
	}
	return t.insertRows(ctx, exerciseTitleTable, out)
}

// InsertHealthWeights inserts weighings.
func (t *importTx) InsertHealthWeights(ctx context.Context, ws []*fitness.HealthWeight) error {
	out := make([][]any, len(ws))
	for i, w := range ws {
		out[i] = healthWeightRow(t.userID, w)
	}
	return t.insertRows(ctx, healthWeightTable, out)
}

// SetHealthTargets replaces the user's targets.
func (t *importTx) SetHealthTargets(ctx context.Context, h fitness.HealthTargets) error {
	return setHealthTargets(ctx, t.tx, t.userID, h)
}

// InsertNotifications inserts notifications, keeping read and created_at.
func (t *importTx) InsertNotifications(ctx context.Context, ns []*fitness.Notification) error {
	out := make([][]any, len(ns))
	for i, n := range ns {
		out[i] = t.s.notificationRow(t.userID, n)
	}
	return t.insertRows(ctx, notificationTable, out)
}

// InsertGoals inserts goals.
func (t *importTx) InsertGoals(ctx context.Context, gs []*fitness.Goal) error {
	out := make([][]any, len(gs))
	for i, g := range gs {
		out[i] = goalRow(t.userID, g)
	}
	return t.insertRows(ctx, goalTable, out)
}

// SetDefaultGear replaces the user's default gear. A gear id the import could
// not map arrives as 0 and means no default, so such entries are dropped.
func (t *importTx) SetDefaultGear(ctx context.Context, dg fitness.DefaultGear) error {
	set := make(fitness.DefaultGear, len(dg))
	for k, id := range dg {
		if id > 0 {
			set[k] = id
		}
	}
	return setDefaultGear(ctx, t.tx, t.userID, set)
}

// SetPrivacy replaces the user's privacy flags, creating the row if missing.
func (t *importTx) SetPrivacy(ctx context.Context, f account.PrivacyFlags) error {
	args := append([]any{t.userID}, privacyArgs(&f)...)
	var ph, sets []string
	for i, col := range strings.Split(privacyColumns, ",") {
		col = strings.TrimSpace(col)
		ph = append(ph, "$"+strconv.Itoa(i+2))
		sets = append(sets, col+" = excluded."+col)
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO users_privacy_settings (user_id, `+privacyColumns+`) VALUES ($1, `+
		strings.Join(ph, ", ")+`) ON CONFLICT (user_id) DO UPDATE SET `+strings.Join(sets, ", "), args...)
	if err != nil {
		return fmt.Errorf("set privacy: %w", mapErr(err))
	}
	return nil
}

// SetProfile writes the editable profile columns, as UpdateProfile does;
// username and email are written back unchanged.
func (t *importTx) SetProfile(ctx context.Context, u *account.User, recomputeBMI bool) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE users SET name = $1, city = $2, birthdate = $3, gender = $4,
		units = $5, height = $6, max_heart_rate = $7, preferred_language = $8, first_day_of_week = $9,
		currency = $10, updated_at = $11 WHERE id = $12`,
		u.Name, u.City, u.Birthdate, u.Gender, u.Units, u.Height, u.MaxHeartRate, u.PreferredLanguage,
		u.FirstDayOfWeek, u.Currency, t.s.ts(u.UpdatedAt), t.userID)
	if err != nil {
		return fmt.Errorf("update profile: %w", mapErr(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return account.Errorf(account.ENOTFOUND, "User not found")
	}
	if recomputeBMI {
		return t.s.recomputeBMI(ctx, t.tx, t.userID, u.Height)
	}
	return nil
}

// SetPhotoPath sets users.photo_path.
func (t *importTx) SetPhotoPath(ctx context.Context, path *string) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE users SET photo_path = $1 WHERE id = $2`, path, t.userID); err != nil {
		return fmt.Errorf("set photo path: %w", mapErr(err))
	}
	return nil
}

// MarkJobCommitted records the commit and the pending file moves in the
// import's own transaction. A job another instance already marked failed
// (its process seemed dead) cannot commit: ECONFLICT.
func (t *importTx) MarkJobCommitted(ctx context.Context, jobID string, moves json.RawMessage, now time.Time) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE import_jobs SET status = $1, stage = $2, result = $3, updated_at = $4,
		heartbeat_at = $4 WHERE id = $5 AND user_id = $6 AND status IN ('queued', 'running')`,
		portability.JobCommitted, portability.StageFiles, string(moves), t.s.ts(now), jobID, t.userID)
	if err != nil {
		return fmt.Errorf("mark import committed: %w", mapErr(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return account.Errorf(account.ECONFLICT, "The import job was cancelled")
	}
	return nil
}
