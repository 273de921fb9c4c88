package main

import (
	"bytes"
	"context"
	"encoding/base32"
	"encoding/hex"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/idp"
	"github.com/trailpass/trailpass/internal/mfa"
	"github.com/trailpass/trailpass/internal/secret"
	"github.com/trailpass/trailpass/internal/testkit"
)

// keys rotate re-encrypts every secret at rest so that the new key alone reads
// them all.
func TestRun_KeysRotate(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		ctx := context.Background()
		oldKey, newKey := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
		oldRing, _ := secret.NewKeyring(oldKey)
		st := testkit.OpenStore(t, b)
		old := testApp(t, st, nil, oldRing, time.Now)
		accounts, mfas := old.Accounts, old.MFA
		var users []*account.User
		for _, name := range []string{"ada", "bo"} {
			u, err := accounts.CreateUser(ctx, account.NewUser{Username: name, Email: name + "@example.com", Password: "Rot4te!Keys"})
			if err != nil {
				t.Fatal(err)
			}
			users = append(users, u)
		}
		setup, err := mfas.BeginSetup(ctx, account.Operator(), users[0]) // enabled below: a factor
		if err != nil {
			t.Fatal(err)
		}
		key, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(setup.Secret)
		codes, err := mfas.Enable(ctx, account.Operator(), users[0].ID, mfa.Code(key, time.Now(), mfa.SHA1, 6, 30*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mfas.BeginSetup(ctx, account.Operator(), users[1]); err != nil { // left pending: a setup
			t.Fatal(err)
		}
		if _, err := old.IdP.Create(ctx, account.Operator(), idp.ProviderInput{Name: "IdP", Slug: "idp", ClientID: "c", ClientSecret: "s3cret", IssuerURL: "https://idp.example"}); err != nil {
			t.Fatal(err)
		}

		env := map[string]string{"TRAILPASS_DATABASE_URL": b.URL, "TRAILPASS_DATA_DIR": b.DataDir,
			"TRAILPASS_SECRET_KEY": hex.EncodeToString(newKey), "TRAILPASS_OLD_SECRET_KEYS": hex.EncodeToString(oldKey)}
		var out, errb bytes.Buffer
		if code := run(ctx, []string{"keys", "rotate"}, func(k string) string { return env[k] }, nil, &out, &errb); code != 0 {
			t.Fatalf("keys rotate: %d %s", code, errb.String())
		}
		// The backup codes are MACs under the old key: they cannot be re-keyed,
		// so the command says the old key is still needed for them.
		if !strings.Contains(out.String(), "re-encrypted 3 secret(s)") || strings.Contains(out.String(), "can now be removed") ||
			!strings.Contains(out.String(), "10 unused backup code(s) of 1 user(s) were made under an old key") {
			t.Fatalf("output %q", out.String())
		}
		// The new key alone now reads every value.
		newRing, _ := secret.NewKeyring(newKey)
		for _, c := range sealedColumns() {
			rows, err := st.DB().QueryContext(ctx, `SELECT `+c.Key+`, `+c.Column+` FROM `+c.Table)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var k, ct string
				if err := rows.Scan(&k, &ct); err != nil {
					t.Fatal(err)
				}
				if _, err := newRing.Open(ct, c.Binding(k)); err != nil {
					t.Errorf("%s row %v does not open with the new key: %v", c.Table, k, err)
				}
			}
			rows.Close()
		}
		// The codes keep working with the old key in the ring.
		newMFA := testApp(t, st, nil, mustKeyring(t, newKey, oldKey), time.Now).MFA
		if m, err := newMFA.Verify(ctx, users[0].ID, codes[0]); err != nil || m != mfa.MethodBackupCode {
			t.Fatalf("backup code after rotation: %q, %v", m, err)
		}
		// Once the user regenerates, a second run finds nothing left to do.
		if _, _, err := newMFA.RegenerateBackupCodes(ctx, account.Operator(), users[0].ID); err != nil {
			t.Fatal(err)
		}
		out.Reset()
		run(ctx, []string{"keys", "rotate"}, func(k string) string { return env[k] }, nil, &out, io.Discard)
		if !strings.Contains(out.String(), "re-encrypted 0 secret(s)") || !strings.Contains(out.String(), "can now be removed") {
			t.Fatalf("second run: %q", out.String())
		}
	})
}

func mustKeyring(t *testing.T, keys ...[]byte) *secret.Keyring {
	t.Helper()
	k, err := secret.NewKeyring(keys[0], keys[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
