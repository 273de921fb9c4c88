package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/trailpass/trailpass/internal/fitness"
)

// The fitness tables are written by two paths that batch differently: the seed
// (fitness.go) with multi-row VALUES statements from fitness structs, the
// import (import.go) with prepared statements or COPY from decoded rows. Both
// take their column lists from fitness.Tables, so neither holds a table's shape.

// table is a table's name and the columns written to it, in row order.
type table struct {
	name string
	cols []string
	desc []fitness.Column
}

// insertSQL is an INSERT of n rows of t, with placeholders numbered from $1.
func (t table) insertSQL(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + t.name + " (" + strings.Join(t.cols, ", ") + ") VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j := range t.cols {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("$" + strconv.Itoa(i*len(t.cols)+j+1))
		}
		b.WriteByte(')')
	}
	return b.String()
}

// insertSQLite is insertSQL with anonymous "?" placeholders: SQLite looks a
// numbered parameter's name up in a list of all of them, once per bound value,
// which made binding a multi-row INSERT of thousands of parameters quadratic
// (a third of the import's write lock).
func (t table) insertSQLite(n int) string {
	row := "(" + strings.Repeat("?, ", len(t.cols)-1) + "?)"
	var b strings.Builder
	b.WriteString("INSERT INTO " + t.name + " (" + strings.Join(t.cols, ", ") + ") VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}

// upsertSQL replaces the user's one row of t.
func (t table) upsertSQL() string {
	var sets []string
	for _, c := range t.cols[1:] {
		sets = append(sets, c+" = excluded."+c)
	}
	return t.insertSQL(1) + " ON CONFLICT (user_id) DO UPDATE SET " + strings.Join(sets, ", ")
}

// tables are the stored columns of every described table.
var tables = func() map[fitness.Table]table {
	m := map[fitness.Table]table{}
	for _, d := range fitness.Tables {
		t := table{name: d.SQL, desc: d.Stored()}
		for _, c := range t.desc {
			t.cols = append(t.cols, c.Name)
		}
		m[d.Table] = t
	}
	return m
}()

// execer is what the upserts below need: *sql.DB for the seed, *sql.Tx for the
// import.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// jsonArg passes raw JSON as text (NULL when empty), which both engines accept.
func jsonArg(m []byte) any {
	if len(m) == 0 {
		return nil
	}
	return string(m)
}

// args converts a row's values (in t's column order) to query arguments in
// place: times in the engine's form, JSON as text (Bulk JSON packed).
func (s *Store) args(t table, row []any) []any {
	for i, c := range t.desc {
		if c.Bulk {
			row[i] = bulkArg(row[i])
			continue
		}
		switch v := row[i].(type) {
		case time.Time:
			row[i] = s.ts(v)
		case *time.Time:
			row[i] = s.tsPtr(v)
		case json.RawMessage:
			row[i] = jsonArg(v)
		case []byte:
			if c.Kind == fitness.JSON {
				row[i] = jsonArg(v)
			}
		}
	}
	return row
}

// structField is where a stored column's value lives in a fitness struct.
type structField struct {
	index []int // nil: the struct has no such field
}

var structFields sync.Map // reflect.Type+table → []structField

// snake is a Go field name as a column name: AverageHR → average_hr.
func snake(name string) string {
	var b strings.Builder
	r := []rune(name)
	for i, c := range r {
		if unicode.IsUpper(c) && i > 0 && (unicode.IsLower(r[i-1]) || i+1 < len(r) && unicode.IsLower(r[i+1])) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

// fieldsOf maps t's columns to v's fields by name (AverageHR is average_hr,
// Hide.Map is hide_map, a `col` tag overrides); a column the struct lacks
// takes its default.
func fieldsOf(t table, typ reflect.Type) []structField {
	key := typ.String() + "/" + t.name
	if f, ok := structFields.Load(key); ok {
		return f.([]structField)
	}
	byName := map[string][]int{}
	var walk func(typ reflect.Type, prefix string, index []int)
	walk = func(typ reflect.Type, prefix string, index []int) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			idx := append(append([]int{}, index...), i)
			name := prefix + snake(f.Name)
			if tag := f.Tag.Get("col"); tag != "" {
				name = tag
			}
			if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Time{}) {
				walk(f.Type, name+"_", idx)
				continue
			}
			byName[name] = idx
		}
	}
	walk(typ, "", nil)
	out := make([]structField, len(t.cols))
	for i, c := range t.cols {
		out[i].index = byName[c]
	}
	structFields.Store(key, out)
	return out
}

// structRow is v's row of t (v a pointer to a fitness struct), with user_id
// set to userID.
func (s *Store) structRow(t table, userID int64, v any) []any {
	rv := reflect.ValueOf(v).Elem()
	fields := fieldsOf(t, rv.Type())
	row := make([]any, len(t.cols))
	for i, c := range t.desc {
		switch {
		case c.Ref == fitness.Owner:
			row[i] = userID
		case fields[i].index != nil:
			row[i] = rv.FieldByIndex(fields[i].index).Interface()
		default:
			row[i] = defaultValue(c)
		}
	}
	return s.args(t, row)
}

// defaultValue is a column's default as a query argument, for columns a
// struct does not have.
func defaultValue(c fitness.Column) any {
	switch {
	case c.Def == "":
		return nil
	case c.Kind == fitness.Int:
		n, _ := strconv.ParseInt(c.Def, 10, 64)
		return n
	case c.Kind == fitness.Bool:
		return c.Def == "true"
	}
	return c.Def
}

const activityFileKeyUpdate = `UPDATE activities SET file_key = $1 WHERE id = $2`

// insertReturningID inserts one row of t and scans its id into id.
func insertReturningID(ctx context.Context, tx *sql.Tx, t table, row []any, id *int64) error {
	return mapErr(tx.QueryRowContext(ctx, t.insertSQL(1)+" RETURNING id", row...).Scan(id))
}

// insertGear inserts g as userID's and sets its ids.
func (s *Store) insertGear(ctx context.Context, tx *sql.Tx, userID int64, g *fitness.Gear) error {
	g.UserID = userID
	if err := insertReturningID(ctx, tx, tables[fitness.Gears], s.structRow(tables[fitness.Gears], userID, g), &g.ID); err != nil {
		return fmt.Errorf("insert gear: %w", err)
	}
	return nil
}

// upsert replaces userID's one row of a OnePerUser table.
func (s *Store) upsert(ctx context.Context, ex execer, t table, row []any) error {
	if _, err := ex.ExecContext(ctx, t.upsertSQL(), s.args(t, row)...); err != nil {
		return fmt.Errorf("set %s: %w", t.name, mapErr(err))
	}
	return nil
}

// defaultGearRow is userID's users_default_gear row for dg; a type missing
// from dg, or an unknown one, leaves no default.
func defaultGearRow(userID int64, dg fitness.DefaultGear) []any {
	row := []any{userID}
	for _, t := range fitness.DefaultGearTypes {
		if id, ok := dg[t]; ok {
			row = append(row, id)
		} else {
			row = append(row, nil)
		}
	}
	return row
}
