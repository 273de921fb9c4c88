// Package store implements trailpass's storage over database/sql, with one SQL code
// path for SQLite (the embedded default) and PostgreSQL. All SQL lives here.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/dburl"
)

//go:embed migrations
var migrations embed.FS

// Dialect names the database engine behind a Store.
type Dialect = dburl.Dialect

// The supported engines.
const (
	SQLite   = dburl.SQLite
	Postgres = dburl.Postgres
)

// Store is trailpass's storage. It is safe for concurrent use.
type Store struct {
	db      *sql.DB
	dialect Dialect
	// rdb serves the hot reads (see read.go): on SQLite a pool of read-only
	// connections beside db, so readers never queue behind a writer's
	// connection; on PostgreSQL it is db.
	rdb *sql.DB
	// stmts caches prepared statements of the hot reads on SQLite, by query
	// text: preparing (parsing) a statement costs modernc SQLite more than
	// running it. pgx caches its own prepared statements per connection.
	stmts sync.Map
}

// ErrUnknownScheme is returned by Open for a database URL it cannot use.
var ErrUnknownScheme = dburl.ErrUnknownScheme

// ParseURL tells which engine a database URL selects (see dburl.Parse) and
// returns the DSN to open.
func ParseURL(rawURL, dataDir string) (Dialect, string, error) {
	dialect, target, err := dburl.Parse(rawURL, dataDir)
	if err != nil || dialect != SQLite {
		return dialect, target, err
	}
	return dialect, sqliteDSN(target), nil
}

func sqliteDSN(path string) string {
	// WAL lets readers run beside the writer; foreign keys are off by default in
	// SQLite; a busy timeout makes writers queue instead of failing (30 s: a big
	// import holds the write lock for several seconds, and sign-ins must wait
	// it out rather than fail); IMMEDIATE
	// transactions take the write lock up front so two read-then-write
	// transactions cannot deadlock on upgrading their locks.
	return "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=busy_timeout(30000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

// sqliteReadDSN turns a DSN of sqliteDSN into one for the read-only pool:
// query_only refuses writes; the WAL mode is already recorded in the file by
// the write pool, which connects first.
func sqliteReadDSN(dsn string) string {
	path, _, _ := strings.Cut(dsn, "?")
	return path + "?_pragma=busy_timeout(30000)&_pragma=query_only(1)"
}

// sqliteConns sizes each SQLite pool. Calls into modernc SQLite use the CPU
// of the calling goroutine, so more connections than a few per core only
// queue; every connection is kept idle, because a reopened one has to parse
// the schema and prepare its statements again.
func sqliteConns() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

// Open connects to the database named by rawURL (see ParseURL). It does not
// migrate; call Migrate.
func Open(ctx context.Context, rawURL, dataDir string) (*Store, error) {
	dialect, dsn, err := ParseURL(rawURL, dataDir)
	if err != nil {
		return nil, err
	}
	var db *sql.DB
	switch dialect {
	case SQLite:
		if rawURL == "" {
			if err := MkdirPrivate(dataDir); err != nil {
				return nil, fmt.Errorf("create data directory: %w", err)
			}
		}
		if err := privateDBFiles(strings.TrimPrefix(dsn[:strings.Index(dsn, "?")], "file:")); err != nil {
			return nil, err
		}
		db, err = sql.Open("sqlite", dsn)
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(8)
	case Postgres:
		db, err = sql.Open("pgx", dsn)
		if err != nil {
			return nil, err
		}
		// As many idle as open: with fewer, a busy pool closes the connections
		// returned above the idle limit and opens new ones at once (a backend
		// process and a handshake each), which was most of the PostgreSQL tail
		// latency under load. Idle ones still go after five minutes.
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(20)
		db.SetConnMaxIdleTime(5 * time.Minute)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s: %w", dialect, err)
	}
	st := &Store{db: db, rdb: db, dialect: dialect}
	if dialect == SQLite && !strings.Contains(dsn, ":memory:") && !strings.Contains(dsn, "mode=memory") {
		// Opened lazily: its first connection comes after db's, which set WAL.
		if st.rdb, err = sql.Open("sqlite", sqliteReadDSN(dsn)); err != nil {
			db.Close()
			return nil, err
		}
		st.rdb.SetMaxOpenConns(sqliteConns())
		st.rdb.SetMaxIdleConns(sqliteConns())
	}
	return st, nil
}

// MkdirPrivate creates dir (and its parents) when missing, giving the folders
// it creates mode 0700 whatever the umask. An existing folder keeps its mode:
// the operator chose it (serve warns when others can read it).
func MkdirPrivate(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.Chmod(dir, 0o700)
}

// privateDBFiles makes the SQLite database and its -wal and -shm files 0600,
// whatever the umask and whoever created them. The database file is created
// here when missing: SQLite gives the -wal and -shm files it creates later the
// database file's mode, so they are 0600 too.
func privateDBFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open database file: %w", err)
	}
	err = f.Chmod(0o600)
	f.Close()
	if err != nil {
		return fmt.Errorf("database file mode: %w", err)
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Chmod(path+suffix, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("database file mode: %w", err)
		}
	}
	return nil
}

// Dialect returns the engine behind the store.
func (s *Store) Dialect() Dialect { return s.dialect }

// DB returns the underlying pool, for health checks and pool statistics.
func (s *Store) DB() *sql.DB { return s.db }

// ReadDB returns the pool of the hot reads: on SQLite a read-only pool beside
// DB, on PostgreSQL DB itself. For pool statistics and tests.
func (s *Store) ReadDB() *sql.DB { return s.rdb }

// Close closes the prepared statements and the connection pools.
func (s *Store) Close() error {
	s.stmts.Range(func(_, v any) bool {
		v.(*sql.Stmt).Close()
		return true
	})
	if s.rdb != s.db {
		s.rdb.Close()
	}
	return s.db.Close()
}

func (s *Store) provider() (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations/"+string(s.dialect))
	if err != nil {
		return nil, err
	}
	var opts []goose.ProviderOption
	gd := goose.DialectSQLite3
	if s.dialect == Postgres {
		gd = goose.DialectPostgres
		// A session-level advisory lock: several instances starting at once on one
		// database take turns, and only the first applies anything.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(gd, s.db, sub, opts...)
}

// Migrate applies every pending migration and returns how many it applied.
func (s *Store) Migrate(ctx context.Context) (int, error) {
	p, err := s.provider()
	if err != nil {
		return 0, fmt.Errorf("migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("migrate: %w", err)
	}
	return len(res), nil
}

// Ready returns nil when the database answers and every migration is applied.
func (s *Store) Ready(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	p, err := s.provider()
	if err != nil {
		return err
	}
	current, target, err := p.GetVersions(ctx)
	if err != nil {
		return fmt.Errorf("read migration version: %w", err)
	}
	if current < target {
		return fmt.Errorf("migrations pending: at version %d of %d", current, target)
	}
	return nil
}

// Tables lists the tables of the current schema, for tests and diagnostics.
func (s *Store) Tables(ctx context.Context) ([]string, error) {
	q := `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`
	if s.dialect == Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name`
	}
	rows, err := s.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		out = append(out, name)
	}
	return out, rows.Err()
}

// withTx runs fn in a transaction, committing when it returns nil. Mail
// carried by ctx (account.WithMail) is written to the outbox in the same
// transaction.
func (s *Store) withTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(fmt.Errorf("begin: %w", err))
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	// Mail the caller attached to ctx is queued by the same commit as the change.
	if err := s.insertMail(ctx, tx, account.MailFrom(ctx)); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return mapErr(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// mapErr turns driver errors the caller can act on into account errors, by driver
// error code rather than by message text: unique violations become ECONFLICT, an
// unreachable database EUNAVAILABLE. Other errors are returned unchanged.
func mapErr(err error) error {
	// A caller that went away is not a database outage (pgconn.Timeout counts
	// a cancelled context as a timeout): keep context.Canceled visible.
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			return &account.Error{Code: account.ECONFLICT, Message: "Duplicate entry"}
		case "57P01", "57P02", "57P03", "53300":
			return fmt.Errorf("%w", &account.Error{Code: account.EUNAVAILABLE, Message: "Database unavailable"})
		}
		return err
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return &account.Error{Code: account.ECONFLICT, Message: "Duplicate entry"}
		}
		return err
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) || errors.Is(err, sql.ErrConnDone) || unreachable(err) {
		return &account.Error{Code: account.EUNAVAILABLE, Message: "Database unavailable"}
	}
	return err
}

// unreachable tells whether err means the database server could not be reached
// or dropped the connection (stopped, restarting, network gone), as opposed to a
// failed statement: such requests are answered 503, never 500 or 401.
func unreachable(err error) bool {
	var netErr *net.OpError
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) || pgconn.Timeout(err)
}

// notFound wraps sql.ErrNoRows into ENOTFOUND with msg, and maps other errors.
func notFound(err error, msg string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return account.Errorf(account.ENOTFOUND, "%s", msg)
	}
	return mapErr(err)
}
