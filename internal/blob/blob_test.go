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

func TestDir(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := blob.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	n, err := d.Put(ctx, "user_images/7.png", strings.NewReader("png!"))
	if err != nil || n != 4 {
		t.Fatalf("Put = %d, %v", n, err)
	}
	rc, err := d.Open(ctx, "user_images/7.png")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "png!" {
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
