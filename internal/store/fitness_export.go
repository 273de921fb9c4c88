package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
	"unsafe"

	"github.com/trailpass/trailpass/internal/fitness"
)

// exportColumn is an exported column and the SQL expression that reads it.
type exportColumn struct {
	fitness.Column
	expr string
}

// exportTable says where a table's rows live and how they are owned and ordered.
type exportTable struct {
	cols []exportColumn
	// from is the FROM clause; the row's table is aliased t, its activity a.
	from string
	// owner restricts to the user ($1).
	owner string
	// byStart pages by (start_time, id) instead of id.
	byStart bool
	// tz reads the owning activity's timezone.
	tz string
	// The queries ExportPage (page or pageByStart) and ExportIDs run.
	page, pageByStart, ids string
}

// exportQuery runs one of an exportTable's queries. An export runs thousands
// of page queries and modernc SQLite spent 5 % of the export's CPU parsing
// them again, so on SQLite they go through statements prepared once (read.go's
// cache, on the read-only pool), with every parameter written +$n: with
// ANALYZE's sqlite_stat4 present, SQLite otherwise prepares a statement again
// whenever a parameter it compares with an indexed column gets a new value,
// to re-plan for that value. The export's plans do not depend on the values
// (CROSS JOIN fixes the join order; each table is walked by its key), and the
// unary + keeps the values while hiding them from that check. Unlike the hot
// reads, the query keeps ctx, so a cancelled export stops within a query.
func (s *Store) exportQuery(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s.dialect == SQLite {
		query = sqliteExportQueries[query]
	}
	if st := s.prepared(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.rdb.QueryContext(ctx, query, args...)
}

// placeholderRE matches a numbered parameter ($2), and nothing else a query
// may hold (a JSON path's '$.a').
var placeholderRE = regexp.MustCompile(`\$[0-9]+`)

// Children are read driven by their own primary key: CROSS JOIN makes SQLite
// walk t by id and stop at LIMIT, where a plain JOIN let it start from the
// user's activities and sort all their children on every page (quadratic:
// 10,000 activities took 50 s instead of 5). PostgreSQL plans CROSS JOIN like
// any inner join.
const (
	ownActivity = "a.id = t.activity_id AND a.user_id = $1"
	ownUser     = "t.user_id = $1"
	joinAct     = " t CROSS JOIN activities a"
)

// virtualExprs read the columns the descriptions mark virtual; secrets are
// selected as NULL so they never leave the database (the export writer nulls
// them again by key name).
var virtualExprs = map[string]string{
	"users.mfa_enabled":                 "EXISTS(SELECT 1 FROM mfa_factors f WHERE f.user_id = t.id)",
	"users_identity_providers.idp_slug": "p.slug",
}

// exportFrom holds the FROM clauses that join more than the owner.
var exportFrom = map[fitness.Table]string{
	fitness.UserIdentityProviders: "users_identity_providers t JOIN identity_providers p ON p.id = t.idp_id",
}

// sqliteExportQueries maps each export query to its SQLite form (see exportQuery).
var sqliteExportQueries = map[string]string{}

// exportTables is read from the table descriptions.
var exportTables = func() map[fitness.Table]exportTable {
	m := map[fitness.Table]exportTable{}
	for _, d := range fitness.Tables {
		et := exportTable{from: d.SQL + " t", owner: ownUser, byStart: d.ByStart}
		switch {
		case d.ByActivity:
			et.from, et.owner = d.SQL+joinAct, ownActivity
			for _, c := range d.Cols {
				if c.Form == fitness.Local {
					et.tz = "a.timezone" // laps and sets are written in local time
				}
			}
		case d.Table == fitness.Users:
			et.owner = "t.id = $1"
		case d.ByStart:
			et.tz = "t.timezone"
		}
		if f, ok := exportFrom[d.Table]; ok {
			et.from = f
		}
		for _, c := range d.Cols {
			expr := "t." + c.Name
			if c.Secret {
				expr = "NULL"
			} else if c.Virtual {
				expr = virtualExprs[d.SQL+"."+c.Name]
			}
			et.cols = append(et.cols, exportColumn{c, expr})
		}
		exprs := []string{"t.id", "NULL", "NULL"}
		if et.byStart {
			exprs[1] = "t.start_time"
		}
		if et.tz != "" {
			exprs[2] = et.tz
		}
		for _, c := range et.cols {
			exprs = append(exprs, c.expr)
		}
		sel := `SELECT ` + strings.Join(exprs, ", ") + ` FROM ` + et.from + ` WHERE ` + et.owner
		if et.byStart {
			et.pageByStart = sel + ` AND (t.start_time, t.id) > ($2, $3) ORDER BY t.start_time, t.id LIMIT $4`
		} else {
			et.page = sel + ` AND t.id > $2 AND t.id <= $3 ORDER BY t.id LIMIT $4`
		}
		et.ids = `SELECT t.id FROM ` + et.from + ` WHERE ` + et.owner + ` AND t.id > $2 ORDER BY t.id LIMIT $3`
		for _, q := range []string{et.page, et.pageByStart, et.ids} {
			sqliteExportQueries[q] = placeholderRE.ReplaceAllString(q, "+$0")
		}
		m[d.Table] = et
	}
	return m
}()

func lookupTable(t fitness.Table) (exportTable, error) {
	et, ok := exportTables[t]
	if !ok {
		return et, fmt.Errorf("export: unknown table %q", t)
	}
	return et, nil
}

// ExportColumns lists t's exported columns in Endurain's key order.
func (s *Store) ExportColumns(t fitness.Table) []fitness.Column {
	et := exportTables[t]
	out := make([]fitness.Column, len(et.cols))
	for i, c := range et.cols {
		out[i] = c.Column
	}
	return out
}

// ExportPage returns the next page of the user's rows in t.
func (s *Store) ExportPage(ctx context.Context, t fitness.Table, q fitness.PageQuery) ([]fitness.Row, error) {
	et, err := lookupTable(t)
	if err != nil {
		return nil, err
	}
	until := q.Until
	if until == 0 {
		until = math.MaxInt64
	}
	var rows *sql.Rows
	if et.byStart {
		rows, err = s.exportQuery(ctx, et.pageByStart, q.UserID, s.ts(q.After.StartTime), q.After.ID, q.Limit)
	} else {
		rows, err = s.exportQuery(ctx, et.page, q.UserID, q.After.ID, until, q.Limit)
	}
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", t, mapErr(err))
	}
	defer rows.Close()
	var out []fitness.Row
	for rows.Next() {
		row, err := scanExportRow(rows, et.cols)
		if err != nil {
			return nil, fmt.Errorf("export %s: %w", t, err)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("export %s: %w", t, mapErr(err))
	}
	return out, nil
}

func scanExportRow(rows *sql.Rows, cols []exportColumn) (fitness.Row, error) {
	var (
		row   fitness.Row
		start *time.Time
		tz    sql.NullString
	)
	row.Values = make([]any, len(cols))
	dest := make([]any, 0, len(cols)+3)
	dest = append(dest, &row.Cursor.ID, nullTime{&start}, &tz)
	for i, c := range cols {
		dest = append(dest, valueScanner{c.Kind, &row.Values[i]})
	}
	if err := rows.Scan(dest...); err != nil {
		return row, err
	}
	if start != nil {
		row.Cursor.StartTime = *start
	}
	row.Timezone = tz.String
	return row, nil
}

// valueScanner scans a column of either engine into the Go value its kind
// has in a fitness.Row: nil, int64, bool, time.Time (UTC), a "YYYY-MM-DD"
// string, json.RawMessage or string.
type valueScanner struct {
	kind fitness.Kind
	v    *any
}

func (x valueScanner) Scan(src any) error {
	*x.v = nil
	switch x.kind {
	case fitness.Int:
		var n sql.NullInt64
		if err := n.Scan(src); err != nil || !n.Valid {
			return err
		}
		*x.v = n.Int64
	case fitness.Bool:
		var b sql.NullBool
		if err := b.Scan(src); err != nil || !b.Valid {
			return err
		}
		*x.v = b.Bool
	case fitness.Time:
		var t *time.Time
		if err := (nullTime{&t}).Scan(src); err != nil || t == nil {
			return err
		}
		*x.v = *t
	case fitness.Date:
		var d *string
		if err := (nullDate{&d}).Scan(src); err != nil || d == nil {
			return err
		}
		*x.v = *d
	case fitness.JSON:
		raw, err := jsonValue(src)
		if err != nil {
			return err
		}
		if raw != nil {
			*x.v = raw
			return nil
		}
		var s sql.NullString
		if err := s.Scan(src); err != nil || !s.Valid {
			return err
		}
		*x.v = json.RawMessage(s.String)
	default:
		var s sql.NullString
		if err := s.Scan(src); err != nil || !s.Valid {
			return err
		}
		*x.v = s.String
	}
	return nil
}

// jsonValue returns a JSON column's text as a json.RawMessage, or nil for
// what is not text (NULL, or a type sql.NullString converts).
//
// Stream samples are most of an export's bytes. modernc SQLite returns text as
// a string it has just allocated for this value, and copying that string into
// a []byte doubled what an export allocated (and so its garbage collection);
// the RawMessage now shares the string's bytes. That is sound because nothing
// writes to a Row's values (fitness.Row says so) and the string is referenced
// nowhere else. A []byte from the driver may be reused by it: copied.
//
// A packed Bulk value (packed.go) comes back as its JSON text; one that does
// not unpack is an error, not an archive with a broken entry.
func jsonValue(src any) (json.RawMessage, error) {
	switch v := src.(type) {
	case string:
		return json.RawMessage(unsafe.Slice(unsafe.StringData(v), len(v))), nil
	case []byte:
		if isPacked(v) {
			return unpackJSON(v)
		}
		return json.RawMessage(bytes.Clone(v)), nil
	}
	return nil, nil
}

// ExportIDs returns up to limit ids of the user's rows in t after afterID.
func (s *Store) ExportIDs(ctx context.Context, t fitness.Table, userID, afterID int64, limit int) ([]int64, error) {
	et, err := lookupTable(t)
	if err != nil {
		return nil, err
	}
	rows, err := s.exportQuery(ctx, et.ids, userID, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("export ids %s: %w", t, mapErr(err))
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, mapErr(rows.Err())
}

// ActivityFiles pages through the user's activity files by (start_time, id).
func (s *Store) ActivityFiles(ctx context.Context, userID int64, after fitness.Cursor, limit int) ([]fitness.FileRef, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT file_key, start_time, id FROM activities
		WHERE user_id = $1 AND file_key IS NOT NULL AND (start_time, id) > ($2, $3)
		ORDER BY start_time, id LIMIT $4`, userID, s.ts(after.StartTime), after.ID, limit)
	if err != nil {
		return nil, fmt.Errorf("list activity files: %w", mapErr(err))
	}
	defer rows.Close()
	var out []fitness.FileRef
	for rows.Next() {
		var f fitness.FileRef
		if err := rows.Scan(&f.Key, scanTime(&f.Cursor.StartTime), &f.Cursor.ID); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, mapErr(rows.Err())
}

// MediaFiles pages through the user's activity media by id. Each file is
// named in the archive by its media_path and read from its blob key.
func (s *Store) MediaFiles(ctx context.Context, userID int64, after fitness.Cursor, limit int) ([]fitness.FileRef, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT t.activity_id, t.media_path, t.id FROM activity_media t
		CROSS JOIN activities a WHERE a.id = t.activity_id AND a.user_id = $1 AND t.id > $2 ORDER BY t.id LIMIT $3`,
		userID, after.ID, limit)
	if err != nil {
		return nil, fmt.Errorf("list media files: %w", mapErr(err))
	}
	defer rows.Close()
	var out []fitness.FileRef
	for rows.Next() {
		var (
			f   fitness.FileRef
			act int64
		)
		if err := rows.Scan(&act, &f.Name, &f.Cursor.ID); err != nil {
			return nil, err
		}
		f.Key = f.Name
		if name, ok := strings.CutPrefix(f.Name, fitness.MediaPath(act, "")); ok {
			f.Key = fitness.MediaKey(act, name)
		}
		out = append(out, f)
	}
	return out, mapErr(rows.Err())
}
