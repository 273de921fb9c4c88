// Package dburl reads a database URL (TRAILPASS_DATABASE_URL) without loading a
// database driver, so configuration can check it and store can open it.
package dburl

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// Dialect names a database engine.
type Dialect string

// The supported engines.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// ErrUnknownScheme is returned for a database URL no engine here understands.
var ErrUnknownScheme = errors.New("unknown database URL scheme (want postgres://, postgresql:// or sqlite:)")

// Parse tells which engine a database URL selects and returns what to open:
// the URL itself for PostgreSQL, the file's path for SQLite. An empty URL
// selects SQLite in dataDir/trailpass.db.
func Parse(rawURL, dataDir string) (Dialect, string, error) {
	switch {
	case rawURL == "":
		return SQLite, filepath.Join(dataDir, "trailpass.db"), nil
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		if _, err := url.Parse(rawURL); err != nil {
			return "", "", fmt.Errorf("invalid PostgreSQL URL: %w", errors.Unwrap(err))
		}
		return Postgres, rawURL, nil
	case strings.HasPrefix(rawURL, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(rawURL, "sqlite:"), "//")
		if path == "" {
			return "", "", errors.New("sqlite URL has no file path")
		}
		return SQLite, path, nil
	default:
		return "", "", ErrUnknownScheme
	}
}
