package secret_test

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/trailpass/trailpass/internal/secret"
)

// The generated key is 0600 in a 0700 folder under the loosest umask.
func TestLoadOrCreateKeyFile_Private(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "secret.key")
	if _, created, err := secret.LoadOrCreateKeyFile(path); err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want %04o", p, st.Mode().Perm(), err, want)
		}
	}
}

// A key check value opens with the key that sealed it, also as a retired
// key, and with no other.
func TestKeyCheck(t *testing.T) {
	a, b := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	ra, _ := secret.NewKeyring(a)
	rb, _ := secret.NewKeyring(b)
	rba, _ := secret.NewKeyring(b, a)
	check := ra.KeyCheck()
	if !ra.VerifyKeyCheck(check) || !rba.VerifyKeyCheck(check) || rb.VerifyKeyCheck(check) || rb.VerifyKeyCheck("garbage") {
		t.Fatal("key check does not tell the keys apart")
	}
}
