package secret_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/trailpass/trailpass/internal/secret"
)

// Made with Debian's python3-argon2 21.1.0 (argon2-cffi, which Endurain's pwdlib
// wraps, with Endurain's parameters) and python3-bcrypt 3.2.2, for "Endur4in!Pass".
const (
	endurainArgon2 = "$argon2id$v=19$m=65536,t=3,p=4$h66Uv+UhX390ijzEFBK2vA$O2xXYwBMg0oqToqIFI/aF57O6PXpBl56xb0IjtnMTt8"
	endurainBcrypt = "$2b$12$x.k7Kew3kRzqDRN9v.4d3ekbY/cNzO40s75VMMCJ0gSnxPRlpa6f."
)

func TestHasher(t *testing.T) {
	ctx := context.Background()
	h := secret.NewHasher(secret.DefaultArgon2, 2)
	hash, err := h.Hash(ctx, "Correct!Horse9")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash = %s", hash)
	}
	if rehash, err := h.Verify(ctx, hash, "Correct!Horse9"); err != nil || rehash {
		t.Fatalf("Verify own hash = %v, %v", rehash, err)
	}
	if _, err := h.Verify(ctx, hash, "Correct!Horse8"); !errors.Is(err, secret.ErrMismatch) {
		t.Fatalf("wrong password: %v", err)
	}
	for _, tc := range []struct{ name, hash string }{{"argon2-cffi", endurainArgon2}, {"bcrypt", endurainBcrypt}} {
		rehash, err := h.Verify(ctx, tc.hash, "Endur4in!Pass")
		if err != nil || !rehash {
			t.Errorf("%s: Verify = %v, %v; want a match that asks for a rehash", tc.name, rehash, err)
		}
		if _, err := h.Verify(ctx, tc.hash, "endur4in!Pass"); !errors.Is(err, secret.ErrMismatch) {
			t.Errorf("%s: wrong password: %v", tc.name, err)
		}
	}
	if err := h.VerifyDummy(ctx, "anything"); !errors.Is(err, secret.ErrMismatch) {
		t.Fatalf("VerifyDummy = %v", err)
	}
	for _, bad := range []string{"plain", "$argon2id$v=19$m=999999999,t=3,p=4$aaaa$bbbb", "$argon2i$v=19$m=1,t=1,p=1$a$b"} {
		if _, err := h.Verify(ctx, bad, "x"); err == nil || errors.Is(err, secret.ErrMismatch) {
			t.Errorf("Verify(%q) = %v, want a format error", bad, err)
		}
	}
}

func TestKeyring(t *testing.T) {
	k1, k2 := make([]byte, 32), make([]byte, 32)
	k2[0] = 1
	old, err := secret.NewKeyring(k1)
	if err != nil {
		t.Fatal(err)
	}
	ct := old.Seal([]byte("JBSWY3DPEHPK3PXP"), "mfa_factors.secret:7")
	if strings.Contains(ct, "JBSWY3DP") || !strings.HasPrefix(ct, "v1."+secret.KeyID(k1)+".") {
		t.Fatalf("ciphertext %q", ct)
	}
	// Rotation: a new primary key still opens what the old one sealed.
	rotated, _ := secret.NewKeyring(k2, k1)
	pt, err := rotated.Open(ct, "mfa_factors.secret:7")
	if err != nil || string(pt) != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("Open after rotation = %q, %v", pt, err)
	}
	if !strings.HasPrefix(rotated.Seal([]byte("x"), "b"), "v1."+secret.KeyID(k2)+".") {
		t.Fatal("new ciphertexts do not use the new primary key")
	}
	// Bound to its row: another binding, or tampering, does not open.
	if _, err := rotated.Open(ct, "mfa_factors.secret:8"); !errors.Is(err, secret.ErrDecrypt) {
		t.Fatalf("other binding: %v", err)
	}
	tampered := ct[:len(ct)-2] + "AA"
	if _, err := rotated.Open(tampered, "mfa_factors.secret:7"); !errors.Is(err, secret.ErrDecrypt) {
		t.Fatalf("tampered: %v", err)
	}
	onlyNew, _ := secret.NewKeyring(k2)
	if _, err := onlyNew.Open(ct, "mfa_factors.secret:7"); !errors.Is(err, secret.ErrDecrypt) {
		t.Fatalf("unknown key: %v", err)
	}
}

func TestLoadOrCreateKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "secret.key")
	k, created, err := secret.LoadOrCreateKeyFile(path)
	if err != nil || !created || len(k) != 32 {
		t.Fatalf("create: %d bytes, %v, %v", len(k), created, err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode().Perm())
	}
	k2, created, err := secret.LoadOrCreateKeyFile(path)
	if err != nil || created || string(k2) != string(k) {
		t.Fatal("second load did not return the same key")
	}
	// Many concurrent first starts agree on one key.
	path = filepath.Join(t.TempDir(), "secret.key")
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Add(1)
		go func() { defer wg.Done(); keys[i], _, _ = secret.LoadOrCreateKeyFile(path) }()
	}
	wg.Wait()
	for _, k := range keys {
		if string(k) != string(keys[0]) || len(k) != 32 {
			t.Fatal("concurrent starts produced different keys")
		}
	}
}

func TestTokens(t *testing.T) {
	a, b := secret.NewToken(), secret.NewToken()
	if a == b || len(a) != 43 {
		t.Fatalf("tokens %q %q", a, b)
	}
	if h := secret.HashToken(a); len(h) != 64 || h == secret.HashToken(b) || strings.Contains(h, a) {
		t.Fatalf("hash %q", h)
	}
}

func TestCodeMAC(t *testing.T) {
	oldKey, newKey := make([]byte, secret.KeySize), make([]byte, secret.KeySize)
	newKey[0] = 1
	oldRing, _ := secret.NewKeyring(oldKey)
	ring, _ := secret.NewKeyring(newKey, oldKey)
	h := oldRing.CodeMAC("ABCD2345", "backup_codes:7")
	if !secret.IsCodeMAC(h) || strings.Contains(h, "ABCD2345") {
		t.Fatalf("CodeMAC = %q", h)
	}
	if !ring.CheckCodeMAC(h, "ABCD2345", "backup_codes:7") {
		t.Fatal("a MAC made under an older key of the ring does not verify")
	}
	for _, tc := range []struct{ stored, code, binding string }{
		{h, "ABCD2346", "backup_codes:7"},                                   // another code
		{h, "ABCD2345", "backup_codes:8"},                                   // another user's row
		{h[:len(h)-2], "ABCD2345", "backup_codes:7"},                        // truncated
		{"hs1.ffffffff." + h[len("hs1.")+9:], "ABCD2345", "backup_codes:7"}, // unknown key
		{"$argon2id$v=19$m=1,t=1,p=1$AA$AA", "ABCD2345", "backup_codes:7"},
	} {
		if ring.CheckCodeMAC(tc.stored, tc.code, tc.binding) {
			t.Errorf("CheckCodeMAC(%q, %q, %q) = true", tc.stored, tc.code, tc.binding)
		}
	}
	if n := ring.CodeMAC("ABCD2345", "backup_codes:7"); !strings.HasPrefix(n, ring.PrimaryCodeMACPrefix()) || strings.HasPrefix(h, ring.PrimaryCodeMACPrefix()) {
		t.Fatalf("prefixes: new %q old %q primary %q", n, h, ring.PrimaryCodeMACPrefix())
	}
	// Without the old key, codes made under it no longer verify.
	newOnly, _ := secret.NewKeyring(newKey)
	if newOnly.CheckCodeMAC(h, "ABCD2345", "backup_codes:7") {
		t.Fatal("verified without the key that made it")
	}
}
