package store_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/trailpass/trailpass/internal/store"
)

// withUmask runs the test body under umask m (process-wide: not parallel).
func withUmask(t *testing.T, m int) {
	old := syscall.Umask(m)
	t.Cleanup(func() { syscall.Umask(old) })
}

func mode(t *testing.T, p string) os.FileMode {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// The SQLite database and its -wal and -shm files are 0600 and a data
// directory trailpass creates is 0700, under the loosest umask, and a database
// file someone else created with wider permissions is narrowed.
func TestOpen_SQLiteFilesArePrivate(t *testing.T) {
	withUmask(t, 0)
	ctx := context.Background()
	check := func(t *testing.T, dbPath string) {
		t.Helper()
		for _, p := range []string{dbPath, dbPath + "-wal", dbPath + "-shm"} {
			if m := mode(t, p); m != 0o600 {
				t.Errorf("%s: mode %04o, want 0600", filepath.Base(p), m)
			}
		}
	}
	t.Run("created", func(t *testing.T) {
		dataDir := filepath.Join(t.TempDir(), "data")
		s, err := store.Open(ctx, "", dataDir)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.Migrate(ctx); err != nil { // writes: the WAL exists now
			t.Fatal(err)
		}
		if m := mode(t, dataDir); m != 0o700 {
			t.Errorf("data directory: mode %04o, want 0700", m)
		}
		check(t, filepath.Join(dataDir, "trailpass.db"))
	})
	t.Run("pre-existing", func(t *testing.T) {
		dataDir := t.TempDir()
		dbPath := filepath.Join(dataDir, "trailpass.db")
		for _, p := range []string{dbPath, dbPath + "-wal", dbPath + "-shm"} {
			if err := os.WriteFile(p, nil, 0o666); err != nil {
				t.Fatal(err)
			}
		}
		s, err := store.Open(ctx, "sqlite:"+dbPath, dataDir)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		check(t, dbPath)
	})
}
