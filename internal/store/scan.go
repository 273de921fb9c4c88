package store

import (
	"fmt"
	"time"
)

// SQLite has no time type. Times are stored as fixed-width UTC text so that
// comparisons and ORDER BY on the text agree with time order; PostgreSQL gets
// timestamptz values.
const sqliteTimeLayout = "2006-01-02T15:04:05.000000Z"

// ts converts a time for use as a query argument.
func (s *Store) ts(t time.Time) any {
	if s.dialect == SQLite {
		return t.UTC().Format(sqliteTimeLayout)
	}
	return t.UTC()
}

// tsPtr is ts for an optional time.
func (s *Store) tsPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return s.ts(*t)
}

// timeScanner scans a time from either engine's representation.
type timeScanner struct {
	t     *time.Time
	valid bool
}

func (ts *timeScanner) Scan(src any) error {
	ts.valid = src != nil
	switch v := src.(type) {
	case nil:
		return nil
	case time.Time:
		*ts.t = v.UTC()
		return nil
	case string:
		return ts.parse(v)
	case []byte:
		return ts.parse(string(v))
	default:
		return fmt.Errorf("store: cannot scan %T into a time", src)
	}
}

func (ts *timeScanner) parse(s string) error {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			*ts.t = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("store: cannot parse time %q", s)
}

// scanTime returns a Scanner filling *t.
func scanTime(t *time.Time) *timeScanner { return &timeScanner{t: t} }

// nullTime scans an optional time into **time.Time.
type nullTime struct{ p **time.Time }

func (n nullTime) Scan(src any) error {
	if src == nil {
		*n.p = nil
		return nil
	}
	var t time.Time
	if err := scanTime(&t).Scan(src); err != nil {
		return err
	}
	*n.p = &t
	return nil
}

// nullDate scans an optional DATE (PostgreSQL) or date text (SQLite) into a
// "YYYY-MM-DD" string.
type nullDate struct{ p **string }

func (n nullDate) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*n.p = nil
	case time.Time:
		s := v.Format(time.DateOnly)
		*n.p = &s
	case string:
		s := v
		if len(s) > 10 {
			s = s[:10]
		}
		*n.p = &s
	case []byte:
		return n.Scan(string(v))
	default:
		return fmt.Errorf("store: cannot scan %T into a date", src)
	}
	return nil
}
