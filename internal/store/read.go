package store

import (
	"context"
	"database/sql"

	"github.com/jackc/pgx/v5/stdlib"
)

// The hot reads (the session lookup every authenticated request makes, and what
// GET /profile shows) go through readRow and readRows: on SQLite they run on the
// read-only pool with a statement prepared once per connection; on PostgreSQL
// they are plain queries, which pgx prepares and caches per connection itself.
// Reads that must see a transaction's own writes use the transaction instead.

//
// On SQLite these reads also run without the request's cancellation: for a
// context that can be cancelled, modernc SQLite starts a goroutine and installs
// a progress handler per statement, and database/sql starts another goroutine
// per result set, which cost more than the indexed point reads themselves.
// None of them can run long, so there is nothing worth interrupting.

// readRow runs a hot single-row read. On PostgreSQL it scans with pgx's own
// interface on a connection of the pool: through database/sql, pgx's adapter
// builds a converter per column and per query, and the values pass through
// driver.Value, which cost more than the round trip's own work in the client.
func (s *Store) readRow(ctx context.Context, query string, args ...any) rowScanner {
	if s.dialect == Postgres {
		return pgRow(func(dest ...any) error {
			conn, err := s.rdb.Conn(ctx)
			if err != nil {
				return err
			}
			defer conn.Close()
			return conn.Raw(func(dc any) error {
				return dc.(*stdlib.Conn).Conn().QueryRow(ctx, query, args...).Scan(dest...)
			})
		})
	}
	if st := s.prepared(ctx, query); st != nil {
		return st.QueryRowContext(context.WithoutCancel(ctx), args...)
	}
	return s.rdb.QueryRowContext(ctx, query, args...)
}

// pgRow is a row that readRow reads when scanned.
type pgRow func(dest ...any) error

func (r pgRow) Scan(dest ...any) error { return r(dest...) }

// readRows runs a hot multi-row read.
func (s *Store) readRows(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := s.prepared(ctx, query); st != nil {
		return st.QueryContext(context.WithoutCancel(ctx), args...)
	}
	return s.rdb.QueryContext(ctx, query, args...)
}

// prepared returns the cached statement for query on SQLite, preparing it on
// first use, or nil on PostgreSQL or when preparing fails (the plain query then
// reports the error). Only constant query texts may come here: the cache is
// never pruned.
func (s *Store) prepared(ctx context.Context, query string) *sql.Stmt {
	if s.dialect != SQLite {
		return nil
	}
	if v, ok := s.stmts.Load(query); ok {
		return v.(*sql.Stmt)
	}
	st, err := s.rdb.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	if v, loaded := s.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return v.(*sql.Stmt)
	}
	return st
}
