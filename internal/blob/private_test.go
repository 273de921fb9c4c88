package blob_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/trailpass/trailpass/internal/blob"
)

// Blobs and staged files are 0600 and their folders 0700 under the loosest
// umask, even folders someone created with wider permissions.
func TestDir_PrivateModes(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "files")
	if err := os.MkdirAll(filepath.Join(dir, "activity_files"), 0o777); err != nil {
		t.Fatal(err)
	}
	d, err := blob.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, k := range []string{"activity_files/1.fit", "staging/job1/f1"} {
		if _, err := d.Put(ctx, k, strings.NewReader("x")); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Move(ctx, "staging/job1/f1", "user_images/1.png"); err != nil {
		t.Fatal(err)
	}
	want := map[string]os.FileMode{"activity_files": 0o700, "activity_files/1.fit": 0o600, "staging": 0o700,
		"staging/job1": 0o700, "user_images": 0o700, "user_images/1.png": 0o600}
	for p, m := range want {
		st, err := os.Stat(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != m {
			t.Errorf("%s: mode %04o, want %04o", p, st.Mode().Perm(), m)
		}
	}
	ids, err := d.StagingFolders(ctx)
	if err != nil || len(ids) != 1 || ids[0] != "job1" {
		t.Fatalf("staging folders: %v %v", ids, err)
	}
	if free, err := d.FreeSpace(); err != nil || free <= 0 {
		t.Fatalf("free space: %d %v", free, err)
	}
}
