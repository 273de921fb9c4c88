package blob_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailpass/trailpass/internal/blob"
)

// openDir opens a store in a new temporary directory.
func openDir(t *testing.T) (*blob.Dir, string) {
	t.Helper()
	dir := t.TempDir()
	d, err := blob.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, dir
}

// content reads key's content.
func content(t *testing.T, d *blob.Dir, key string) string {
	t.Helper()
	rc, err := d.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDir(t *testing.T) {
	ctx := context.Background()
	d, dir := openDir(t)
	n, err := d.Put(ctx, "user_images/7.png", strings.NewReader("png!"))
	if err != nil || n != 4 {
		t.Fatalf("Put = %d, %v", n, err)
	}
	if b := content(t, d, "user_images/7.png"); b != "png!" {
		t.Fatalf("read %q", b)
	}
	if sz, err := d.Size(ctx, "user_images/7.png"); err != nil || sz != 4 {
		t.Fatalf("Size = %d, %v", sz, err)
	}
	if err := d.Move(ctx, "user_images/7.png", "user_images/8.png"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Open(ctx, "user_images/7.png"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("moved blob still there: %v", err)
	}
	if err := d.Delete(ctx, "user_images/8.png"); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete(ctx, "user_images/8.png"); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	for _, bad := range []string{"../x", "user_images/../../etc/passwd", "/etc/passwd", "user_images/a/b", "other/x", "user_images/.hidden", `user_images\x`} {
		if _, err := d.Put(ctx, bad, strings.NewReader("x")); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want ErrInvalidKey", bad, err)
		}
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(filepath.Join(dir, "user_images"))
	if len(entries) != 0 {
		t.Fatalf("leftovers: %v", entries)
	}
}

// Stage writes only into staging folders, never over a file, with the same
// private mode as Put; Move makes the target's folder when it is new and
// says ErrNotFound when the source has gone.
func TestDir_StageAndMove(t *testing.T) {
	ctx := context.Background()
	d, dir := openDir(t)
	if err := d.SyncStaging(ctx, "staging/job-1"); err != nil {
		t.Fatalf("sync of a folder never staged into: %v", err)
	}
	for i, k := range []string{"staging/job-1/f1", "staging/job-1/f2"} {
		if n, err := d.Stage(ctx, k, strings.NewReader("gpx"+k)); err != nil || n != int64(3+len(k)) {
			t.Fatalf("Stage(%s) = %d, %v (file %d)", k, n, err, i)
		}
	}
	if _, err := d.Stage(ctx, "staging/job-1/f1", strings.NewReader("again")); err == nil {
		t.Fatal("Stage overwrote a staged file")
	}
	for _, bad := range []string{"activity_files/1.gpx", "staging/f1", "staging/job-1/../f1", "staging/job-1/a/b", "user_images/1.png"} {
		if _, err := d.Stage(ctx, bad, strings.NewReader("x")); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Stage(%q) = %v, want ErrInvalidKey", bad, err)
		}
	}
	if err := d.SyncStaging(ctx, "staging/job-1"); err != nil {
		t.Fatal(err)
	}
	if err := d.SyncStaging(ctx, "staging/../activity_files"); !errors.Is(err, blob.ErrInvalidKey) {
		t.Fatalf("SyncStaging outside staging = %v", err)
	}
	st, err := os.Stat(filepath.Join(dir, "staging", "job-1", "f1"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("staged file: %v, %v", st, err)
	}
	if err := d.Move(ctx, "staging/job-1/f1", "activity_files/1.gpx"); err != nil {
		t.Fatalf("move into a new folder: %v", err)
	}
	if err := d.Move(ctx, "staging/job-1/f1", "activity_files/1.gpx"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("second move = %v, want ErrNotFound", err)
	}
	if b := content(t, d, "activity_files/1.gpx"); b != "gpxstaging/job-1/f1" {
		t.Fatalf("moved content %q", b)
	}
	st, err = os.Stat(filepath.Join(dir, "activity_files"))
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("new folder: %v, %v", st, err)
	}
}
