package store_test

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/trailpass/trailpass/internal/fitness"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

// liveColumn is a column as the migrated database has it.
type liveColumn struct {
	typ     string // lower case: "integer", "bigint", "character varying(250)", "text"…
	notNull bool
}

func liveColumns(t *testing.T, s *store.Store, table string) map[string]liveColumn {
	t.Helper()
	out := map[string]liveColumn{}
	if s.Dialect() == store.SQLite {
		rows, err := s.DB().Query(`SELECT name, type, "notnull", pk FROM pragma_table_info($1)`, table)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var name, typ string
			var notNull, pk int
			if err := rows.Scan(&name, &typ, &notNull, &pk); err != nil {
				t.Fatal(err)
			}
			out[name] = liveColumn{strings.ToLower(typ), notNull == 1 || pk == 1}
		}
		return out
	}
	rows, err := s.DB().Query(`SELECT column_name, data_type, COALESCE(character_maximum_length, 0), is_nullable
		FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1`, table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, typ, nullable string
		var n int
		if err := rows.Scan(&name, &typ, &n, &nullable); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			typ += "(" + strconv.Itoa(n) + ")"
		}
		out[name] = liveColumn{typ, nullable == "NO"}
	}
	return out
}

// wantType is the column type a description implies on each engine: SQLite
// keeps decimals, times and JSON as TEXT.
func wantType(d store.Dialect, c fitness.Column) *regexp.Regexp {
	pg := d == store.Postgres
	var re string
	switch c.Kind {
	case fitness.Int:
		re = "integer"
		if c.Big {
			re = "bigint"
			if c.Name == "id" && !pg {
				re = "integer" // SQLite's rowid alias
			}
		}
	case fitness.Decimal:
		re = map[bool]string{true: `numeric`, false: `text`}[pg]
	case fitness.String:
		re = `text`
		if c.Max > 0 {
			// SQLite does not enforce a length: only PostgreSQL's is compared.
			re = `varchar\(\d+\)`
			if pg {
				re = `character varying\(` + strconv.Itoa(c.Max) + `\)`
			}
		}
	case fitness.Bool:
		re = "boolean"
	case fitness.Time:
		re = map[bool]string{true: `timestamp with(out)? time zone`, false: `text`}[pg]
	case fitness.Date:
		re = map[bool]string{true: `date`, false: `text`}[pg]
	case fitness.JSON:
		re = map[bool]string{true: `jsonb?|text`, false: `text`}[pg]
		if c.Bulk && pg {
			re = `bytea` // packed (store/packed.go)
		}
	}
	return regexp.MustCompile(`^(` + re + `)$`)
}

// TestTables_MatchSchema holds every table description to the migrated schema
// of both engines: the same columns (those the export leaves out are listed as
// internal), nullability and types, so a migration cannot drift from it.
func TestTables_MatchSchema(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, s *store.Store) {
		for _, d := range fitness.Tables {
			live := liveColumns(t, s, d.SQL)
			if len(live) == 0 {
				t.Errorf("%s: no such table", d.SQL)
				continue
			}
			described := map[string]bool{}
			for _, c := range d.Stored() {
				described[c.Name] = true
				lc, ok := live[c.Name]
				if !ok {
					t.Errorf("%s.%s is described but not in the schema", d.SQL, c.Name)
					continue
				}
				if lc.notNull == c.Null {
					t.Errorf("%s.%s: described Null=%v, schema NOT NULL=%v", d.SQL, c.Name, c.Null, lc.notNull)
				}
				if re := wantType(s.Dialect(), c); !re.MatchString(lc.typ) {
					t.Errorf("%s.%s: schema type %q, the description implies %s", d.SQL, c.Name, lc.typ, re)
				}
			}
			for _, c := range d.Cols {
				if c.Secret && !c.Virtual {
					described[c.Name] = true
				}
				if c.Ref == fitness.Self {
					described[c.Name] = true
				}
			}
			for _, name := range d.Internal {
				described[name] = true
			}
			var missing []string
			for name := range live {
				if !described[name] {
					missing = append(missing, name)
				}
			}
			sort.Strings(missing)
			if len(missing) > 0 {
				t.Errorf("%s: columns %v are in the schema but not in fitness.Tables (add them, or list them as Internal)", d.SQL, missing)
			}
		}
	})
}

// TestTables_Stored checks what an INSERT writes for a few tables, so a change
// to Stored shows here before it shows as a failed import.
func TestTables_Stored(t *testing.T) {
	names := func(tb fitness.Table) string {
		var out []string
		for _, c := range fitness.Describe(tb).Stored() {
			out = append(out, c.Name)
		}
		return fmt.Sprint(out)
	}
	for tb, want := range map[fitness.Table]string{
		fitness.ActivityExerciseTitles: "[user_id exercise_category exercise_name wkt_step_name]",
		fitness.ActivityMedia:          "[activity_id media_path media_type]",
		fitness.Notifications:          "[user_id type options read created_at]",
	} {
		if got := names(tb); got != want {
			t.Errorf("%s stores %s, want %s", tb, got, want)
		}
	}
}
