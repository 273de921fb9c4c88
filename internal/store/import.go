package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"math/bits"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/fitness"
	"github.com/trailpass/trailpass/internal/portability"
)

var _ portability.ImportStore = (*Store)(nil)
var _ portability.ImportTx = (*importTx)(nil)

// importTx is one import's transaction.
type importTx struct {
	s      *Store
	conn   *sql.Conn
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

// BeginImport starts userID's import transaction. On SQLite it takes the write
// lock at once (IMMEDIATE), so the import should prepare everything it can
// before calling it. The transaction keeps its own connection, so that
// PostgreSQL can COPY on it.
func (s *Store) BeginImport(ctx context.Context, userID int64) (portability.ImportTx, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, mapErr(fmt.Errorf("connect: %w", err))
	}
	if s.dialect == SQLite {
		// A 32 MiB cache (64 MiB cost 60 MiB more RSS for no shorter lock) keeps
		// most of the import's pages, so they are written to the
		// WAL once, at commit, rather than spilled and rewritten while the
		// write lock is held; and no checkpoint inside the commit: Close runs
		// it once the lock is free.
		_, err := conn.ExecContext(ctx, `PRAGMA cache_size = -32768`)
		if err == nil {
			_, err = conn.ExecContext(ctx, `PRAGMA wal_autocheckpoint = 0`)
		}
		if err != nil {
			conn.Close()
			return nil, mapErr(fmt.Errorf("import pragmas: %w", err))
		}
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		conn.Close()
		return nil, mapErr(fmt.Errorf("begin: %w", err))
	}
	// Lock the user's row first: two imports of one account run one after the
	// other, so the second sees the first's rows and skips them (PostgreSQL
	// takes a row lock; SQLite already holds its single write lock).
	res, err := tx.ExecContext(ctx, `UPDATE users SET updated_at = updated_at WHERE id = $1`, userID)
	if err != nil {
		tx.Rollback()
		conn.Close()
		return nil, fmt.Errorf("lock user: %w", mapErr(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		tx.Rollback()
		conn.Close()
		return nil, account.Errorf(account.ENOTFOUND, "User not found")
	}
	return &importTx{s: s, conn: conn, tx: tx, userID: userID, stmts: map[string]*sql.Stmt{}}, nil
}

func (t *importTx) Commit() error {
	if err := t.tx.Commit(); err != nil {
		return mapErr(fmt.Errorf("commit: %w", err))
	}
	return nil
}

func (t *importTx) Rollback() error { return t.tx.Rollback() }

// Close checkpoints on SQLite what the import wrote to the WAL (PASSIVE:
// sign-ins and other writers go on meanwhile), restores the connection's
// defaults and returns it to the pool.
func (t *importTx) Close() error {
	if t.conn == nil {
		return nil
	}
	conn := t.conn
	t.conn = nil
	defer conn.Close()
	if t.s.dialect == SQLite {
		ctx := context.Background()
		conn.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
		if _, err := conn.ExecContext(ctx, `PRAGMA cache_size = -2000`); err != nil {
			return conn.Raw(func(any) error { return driver.ErrBadConn }) // drop it rather than keep a big cache
		}
		conn.ExecContext(ctx, `PRAGMA wal_autocheckpoint = 1000`)
	}
	return nil
}

// Existing reads the duplicate keys of the user's rows in every table that
// has one (fitness.Desc.Key), each with its row's id.
func (t *importTx) Existing(ctx context.Context) (*portability.Existing, error) {
	ex := &portability.Existing{Keys: map[fitness.Table]map[string]int64{}}
	for _, d := range fitness.Tables {
		if len(d.Key) == 0 {
			continue
		}
		m := map[string]int64{}
		ex.Keys[d.Table] = m
		if err := t.readKeys(ctx, d, m); err != nil {
			return nil, fmt.Errorf("read existing %s: %w", d.SQL, err)
		}
	}
	return ex, nil
}

func (t *importTx) readKeys(ctx context.Context, d *fitness.Desc, m map[string]int64) error {
	rows, err := t.tx.QueryContext(ctx, `SELECT id, `+strings.Join(d.Key, ", ")+` FROM `+d.SQL+` WHERE user_id = $1`, t.userID)
	if err != nil {
		return mapErr(err)
	}
	defer rows.Close()
	var id int64
	vals := make([]any, len(d.Key))
	dest := []any{&id}
	for i, name := range d.Key {
		dest = append(dest, valueScanner{d.Cols[d.Index(name)].Kind, &vals[i]})
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		m[fitness.KeyString(vals)] = id
	}
	return mapErr(rows.Err())
}

// reserved are the tables whose ids an import reserves up front (activities
// and gear, whose children need the new ids): their rows carry the id first,
// and an activity's file_key last.
var reserved = func() map[fitness.Table]table {
	m := map[fitness.Table]table{}
	for _, tb := range []fitness.Table{fitness.Activities, fitness.Gears} {
		t := tables[tb]
		r := table{name: t.name, cols: append([]string{"id"}, t.cols...),
			desc: append([]fitness.Column{{Name: "id", Kind: fitness.Int, Big: true, Ref: fitness.Self}}, t.desc...)}
		if tb == fitness.Activities {
			r.cols = append(r.cols, "file_key")
			r.desc = append(r.desc, fitness.Column{Name: "file_key", Kind: fitness.String, Null: true})
		}
		m[tb] = r
	}
	return m
}()

// ReserveIDs returns n new ids of tb (activities or gear), which no other
// writer will take: PostgreSQL draws them from the identity sequence in one
// query; SQLite, whose write lock the transaction holds, counts on from the
// highest id the table has had.
func (t *importTx) ReserveIDs(ctx context.Context, tb fitness.Table, n int) ([]int64, error) {
	tab, ok := reserved[tb]
	if !ok {
		return nil, fmt.Errorf("reserve ids: table %s has no reserved ids", tb)
	}
	ids := make([]int64, 0, n)
	if n == 0 {
		return ids, nil
	}
	if t.s.dialect == SQLite {
		// AUTOINCREMENT never reuses an id, so start past sqlite_sequence too;
		// inserting the ids moves it on.
		var last int64
		err := t.tx.QueryRowContext(ctx, `SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = $1), 0),
			COALESCE((SELECT MAX(id) FROM `+tab.name+`), 0))`, tab.name).Scan(&last)
		if err != nil {
			return nil, fmt.Errorf("reserve %s ids: %w", tab.name, mapErr(err))
		}
		for i := range int64(n) {
			ids = append(ids, last+1+i)
		}
		return ids, nil
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2)`, tab.name, n)
	if err != nil {
		return nil, fmt.Errorf("reserve %s ids: %w", tab.name, mapErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("reserve %s ids: %w", tab.name, mapErr(err))
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reserve %s ids: %w", tab.name, mapErr(err))
	}
	return ids, nil
}

// InsertReserved inserts rows of tb whose ids came from ReserveIDs: each row
// is the id, the Stored values, and for activities the file key (or nil).
func (t *importTx) InsertReserved(ctx context.Context, tb fitness.Table, rows [][]any) error {
	return t.insertRows(ctx, reserved[tb], rows)
}

// own sets the row's user_id and converts its values to arguments.
func (t *importTx) own(tab table, row []any) []any {
	for i, c := range tab.desc {
		if c.Ref == fitness.Owner {
			row[i] = t.userID
		}
	}
	return t.s.args(tab, row)
}

// InsertRows inserts rows of tb: PostgreSQL COPYs them on the transaction's
// connection; SQLite runs full multi-row batches through one prepared
// statement and the remainder one row at a time through another.
func (t *importTx) InsertRows(ctx context.Context, tb fitness.Table, rows [][]any) error {
	return t.insertRows(ctx, tables[tb], rows)
}

func (t *importTx) insertRows(ctx context.Context, tab table, rows [][]any) error {
	for _, r := range rows {
		t.own(tab, r)
	}
	if t.s.dialect == Postgres {
		return t.copyRows(ctx, tab, rows)
	}
	per := min(100, 30000/len(tab.cols))
	args := make([]any, 0, per*len(tab.cols))
	for len(rows) > 0 {
		// Full batches, then the rest in falling powers of two: a few
		// statements (each prepared once per size) rather than one per row.
		n := per
		if len(rows) < per {
			n = 1 << (bits.Len(uint(len(rows))) - 1)
		}
		st, err := t.prepared(ctx, tab.insertSQLite(n))
		if err != nil {
			return fmt.Errorf("insert %s: %w", tab.name, err)
		}
		args = args[:0]
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("insert %s: %w", tab.name, mapErr(err))
		}
		rows = rows[n:]
	}
	return nil
}

// copyRows is COPY FROM STDIN inside the import's transaction.
func (t *importTx) copyRows(ctx context.Context, tab table, rows [][]any) error {
	err := t.conn.Raw(func(dc any) error {
		conn := dc.(*stdlib.Conn).Conn()
		_, err := conn.CopyFrom(ctx, pgx.Identifier{tab.name}, tab.cols, pgx.CopyFromRows(rows))
		return err
	})
	if err != nil {
		return fmt.Errorf("copy %s: %w", tab.name, mapErr(err))
	}
	return nil
}

// Upsert replaces the user's one row of a OnePerUser table.
func (t *importTx) Upsert(ctx context.Context, tb fitness.Table, row []any) error {
	tab := tables[tb]
	return t.s.upsert(ctx, t.tx, tab, t.own(tab, row))
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
