// Package testkit holds test helpers: real databases of both kinds, and a clock.
package testkit

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/store"
)

// PostgresEnv names the variable that points the tests at a PostgreSQL server.
const PostgresEnv = "TRAILPASS_TEST_POSTGRES_URL"

// Backend is one database the suites run against.
type Backend struct {
	Name string
	// URL is what TRAILPASS_DATABASE_URL would be for a server using this database,
	// and DataDir its data directory.
	URL     string
	DataDir string
}

// Backends returns a fresh, empty SQLite database and, when PostgresEnv is set, a
// fresh PostgreSQL schema. Each call gets its own, dropped at the end of the test.
// Without PostgresEnv the PostgreSQL backend is reported as skipped.
func Backends(t testing.TB) []Backend {
	t.Helper()
	dir := t.TempDir()
	out := []Backend{{Name: "sqlite", URL: "sqlite:" + filepath.Join(dir, "trailpass.db"), DataDir: dir}}
	if os.Getenv(PostgresEnv) != "" {
		out = append(out, Backend{Name: "postgres", URL: NewPostgresSchema(t), DataDir: t.TempDir()})
	}
	return out
}

// EachBackend runs fn as a subtest against each backend of Backends, reporting the
// PostgreSQL one as skipped when PostgresEnv is unset.
func EachBackend(t *testing.T, fn func(t *testing.T, b Backend)) {
	t.Helper()
	for _, b := range Backends(t) {
		t.Run(b.Name, func(t *testing.T) { fn(t, b) })
	}
	if os.Getenv(PostgresEnv) == "" {
		t.Run("postgres", func(t *testing.T) { t.Skip(PostgresEnv + " is not set") })
	}
}

// EachStore runs fn as a subtest with a migrated store of each backend.
func EachStore(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	EachBackend(t, func(t *testing.T, b Backend) { fn(t, OpenStore(t, b)) })
}

// OpenStore opens and migrates b's database, closing it at the end of the test.
func OpenStore(t testing.TB, b Backend) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), b.URL, b.DataDir)
	if err != nil {
		t.Fatalf("open %s: %v", b.Name, err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate %s: %v", b.Name, err)
	}
	return s
}

// NewPostgresSchema creates an empty schema on the PostgresEnv server and returns a
// URL whose connections use it, so test runs never see each other's data.
func NewPostgresSchema(t testing.TB) string {
	t.Helper()
	u, drop, err := CreatePostgresSchema(os.Getenv(PostgresEnv), "tp_test_")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { drop() })
	return u
}

// CreatePostgresSchema creates an empty schema named prefix plus random hex on
// the server at base and returns a URL whose connections use it, and a function
// that drops it. Tests and benchmarks use it to stay out of each other's way.
func CreatePostgresSchema(base, prefix string) (string, func() error, error) {
	u, err := url.Parse(base)
	if err != nil || base == "" {
		return "", nil, fmt.Errorf("no usable PostgreSQL URL (set %s)", PostgresEnv)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, fmt.Errorf("open postgres: %w", err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	rand.Read(b)
	schema := prefix + hex.EncodeToString(b)
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		return "", nil, fmt.Errorf("create schema: %w", err)
	}
	drop := func() error {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		return err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}

// Clock is a settable clock for tests; the zero value starts at a fixed instant.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock set to t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.now.IsZero() {
		c.now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	}
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.Now()
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
