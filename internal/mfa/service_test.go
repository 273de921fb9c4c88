package mfa_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/auth"
	"github.com/trailpass/trailpass/internal/mfa"
	"github.com/trailpass/trailpass/internal/secret"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

// fastHasher keeps argon2 cheap in tests; production uses secret.DefaultArgon2.
var fastHasher = secret.NewHasher(secret.Argon2Params{Memory: 1024, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, 8)

// fixture is a service over a real store with one user.
type fixture struct {
	st    *store.Store
	svc   *mfa.Service
	clock *testkit.Clock
	user  *account.User
}

func newService(t *testing.T, st *store.Store, clock *testkit.Clock) *mfa.Service {
	t.Helper()
	kr, err := secret.NewKeyring(testKey)
	if err != nil {
		t.Fatal(err)
	}
	return &mfa.Service{Store: st, Events: st, Keyring: kr, Hasher: fastHasher,
		Throttle: &auth.Throttle{Store: st, Now: clock.Now}, Issuer: "Trailpass Test", Now: clock.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func newFixture(t *testing.T, st *store.Store) *fixture {
	t.Helper()
	clock := testkit.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	u, err := (&account.Service{Store: st, Now: clock.Now}).CreateUser(context.Background(),
		account.NewUser{Username: "ann", Email: "ann@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{st: st, svc: newService(t, st, clock), clock: clock, user: u}
}

// enable runs setup and enable and returns the secret's key and the backup codes.
func (f *fixture) enable(t *testing.T) ([]byte, []string) {
	t.Helper()
	ctx := context.Background()
	setup, err := f.svc.BeginSetup(ctx, account.Operator(), f.user)
	if err != nil {
		t.Fatal(err)
	}
	key, err := mfa.DecodeSecret(setup.Secret)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := f.svc.Enable(ctx, account.Operator(), f.user.ID, f.code(key))
	if err != nil {
		t.Fatalf("enable: %v", err)
	}
	return key, codes
}

// code returns the TOTP code of key now.
func (f *fixture) code(key []byte) string {
	return mfa.Code(key, f.clock.Now(), mfa.SHA1, mfa.Digits, mfa.Period)
}

// nextCode moves the clock to the next time step and returns its code.
func (f *fixture) nextCode(key []byte) string {
	f.clock.Advance(mfa.Period)
	return f.code(key)
}

func (f *fixture) events(t *testing.T, typ string) []*account.SecurityEvent {
	t.Helper()
	all, err := f.st.ListSecurityEvents(context.Background(), f.user.ID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []*account.SecurityEvent
	for _, e := range all {
		if typ == "" || e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

func wantErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	var e *account.Error
	if !errors.As(err, &e) || e.Code != code || (msg != "" && e.Message != msg) {
		t.Fatalf("err = %v, want %s %q", err, code, msg)
	}
}

func TestService_SetupEnable(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		if s, err := f.svc.Status(ctx, f.user.ID); err != nil || s.Enabled || s.BackupCodesRemaining != 0 {
			t.Fatalf("status before = %+v, %v", s, err)
		}
		setup, err := f.svc.BeginSetup(ctx, account.Operator(), f.user)
		if err != nil {
			t.Fatal(err)
		}
		if len(setup.Secret) != 32 || setup.AppName != "Trailpass Test" || !strings.HasPrefix(setup.QRCode, "data:image/png;base64,") ||
			setup.SecretGrouped != mfa.GroupSecret(setup.Secret) ||
			setup.OTPAuthURI != mfa.OTPAuthURI("Trailpass Test", "ann", setup.Secret) {
			t.Fatalf("setup = %+v", setup)
		}
		key, _ := mfa.DecodeSecret(setup.Secret)
		codes, err := f.svc.Enable(ctx, account.Operator(), f.user.ID, f.code(key))
		if err != nil {
			t.Fatal(err)
		}
		if len(codes) != 10 {
			t.Fatalf("got %d backup codes", len(codes))
		}
		if s, err := f.svc.Status(ctx, f.user.ID); err != nil || !s.Enabled || s.BackupCodesRemaining != 10 {
			t.Fatalf("status after = %+v, %v", s, err)
		}
		if on, err := f.svc.Enabled(ctx, f.user.ID); err != nil || !on {
			t.Fatalf("Enabled = %v, %v", on, err)
		}
		if len(f.events(t, account.EventMFAEnabled)) != 1 {
			t.Fatal("no mfa_enabled event")
		}
		_, err = f.svc.BeginSetup(ctx, account.Operator(), f.user)
		wantErr(t, err, account.EINVALID, "MFA is already enabled for this user")
		// The pending setup is gone: enabling again finds none.
		_, err = f.svc.Enable(ctx, account.Operator(), f.user.ID, f.code(key))
		wantErr(t, err, account.EINVALID, "No MFA setup in progress. Please run setup first.")
		// The code that enabled MFA counts as used (hanko #2723).
		_, err = f.svc.Verify(ctx, f.user.ID, f.code(key))
		wantErr(t, err, account.EINVALID, "Invalid MFA code")
		if len(f.events(t, account.EventMFAReplay)) != 1 {
			t.Fatal("replay of the enabling code not recorded")
		}
	})
}

func TestService_EnableAttempts(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		_, err := f.svc.Enable(ctx, account.Operator(), f.user.ID, "123456")
		wantErr(t, err, account.EINVALID, "No MFA setup in progress. Please run setup first.")

		t.Run("WrongCodeKeepsSetup", func(t *testing.T) {
			setup, err := f.svc.BeginSetup(ctx, account.Operator(), f.user)
			if err != nil {
				t.Fatal(err)
			}
			key, _ := mfa.DecodeSecret(setup.Secret)
			wrong := mfa.CodeAt(key, mfa.Step(f.clock.Now(), mfa.Period)+5, mfa.SHA1, mfa.Digits)
			for i := 0; i < mfa.MaxSetupAttempts-1; i++ {
				_, err := f.svc.Enable(ctx, account.Operator(), f.user.ID, wrong)
				wantErr(t, err, account.EINVALID, "Invalid MFA code")
			}
			if _, err := f.svc.Enable(ctx, account.Operator(), f.user.ID, f.code(key)); err != nil {
				t.Fatalf("fifth try with the right code: %v", err)
			}
			if _, _, err := f.svc.Store.DeleteMFA(ctx, f.user.ID, ""); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("FiveWrongCodesDiscardSetup", func(t *testing.T) {
			setup, err := f.svc.BeginSetup(ctx, account.Operator(), f.user)
			if err != nil {
				t.Fatal(err)
			}
			key, _ := mfa.DecodeSecret(setup.Secret)
			for i := 0; i < mfa.MaxSetupAttempts; i++ {
				_, err := f.svc.Enable(ctx, account.Operator(), f.user.ID, "not a code")
				wantErr(t, err, account.EINVALID, "Invalid MFA code")
			}
			_, err = f.svc.Enable(ctx, account.Operator(), f.user.ID, f.code(key))
			wantErr(t, err, account.EINVALID, "No MFA setup in progress. Please run setup first.")
		})
		t.Run("Expired", func(t *testing.T) {
			setup, err := f.svc.BeginSetup(ctx, account.Operator(), f.user)
			if err != nil {
				t.Fatal(err)
			}
			key, _ := mfa.DecodeSecret(setup.Secret)
			f.clock.Advance(mfa.SetupTTL + time.Second)
			_, err = f.svc.Enable(ctx, account.Operator(), f.user.ID, f.code(key))
			wantErr(t, err, account.EINVALID, "No MFA setup in progress. Please run setup first.")
			if n, err := st.DeleteExpiredMFASetups(ctx, f.clock.Now()); err != nil || n != 1 {
				t.Fatalf("DeleteExpiredMFASetups = %d, %v; want 1", n, err)
			}
		})
		t.Run("NewSetupReplacesOld", func(t *testing.T) {
			first, _ := f.svc.BeginSetup(ctx, account.Operator(), f.user)
			second, err := f.svc.BeginSetup(ctx, account.Operator(), f.user)
			if err != nil || first.Secret == second.Secret {
				t.Fatalf("second setup: %v", err)
			}
			k1, _ := mfa.DecodeSecret(first.Secret)
			_, err = f.svc.Enable(ctx, account.Operator(), f.user.ID, f.code(k1))
			wantErr(t, err, account.EINVALID, "Invalid MFA code")
			k2, _ := mfa.DecodeSecret(second.Secret)
			if _, err := f.svc.Enable(ctx, account.Operator(), f.user.ID, f.code(k2)); err != nil {
				t.Fatal(err)
			}
		})
	})
}

// A setup begun on one instance is finished on another that shares the database.
func TestService_SetupAcrossInstances(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		ctx := context.Background()
		f := newFixture(t, testkit.OpenStore(t, b))
		other := newService(t, testkit.OpenStore(t, b), f.clock)
		setup, err := f.svc.BeginSetup(ctx, account.Operator(), f.user)
		if err != nil {
			t.Fatal(err)
		}
		key, _ := mfa.DecodeSecret(setup.Secret)
		if _, err := other.Enable(ctx, account.Operator(), f.user.ID, f.code(key)); err != nil {
			t.Fatalf("enable on the second instance: %v", err)
		}
		if _, err := f.svc.Verify(ctx, f.user.ID, f.nextCode(key)); err != nil {
			t.Fatalf("verify on the first instance: %v", err)
		}
	})
}

func TestService_VerifyReplay(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		key, _ := f.enable(t)
		code := f.nextCode(key)
		if m, err := f.svc.Verify(ctx, f.user.ID, code); err != nil || m != mfa.MethodTOTP {
			t.Fatalf("first use = %q, %v", m, err)
		}
		_, err := f.svc.Verify(ctx, f.user.ID, code)
		wantErr(t, err, account.EINVALID, "Invalid MFA code")
		// A code of an earlier step, still inside the skew window, is stale too.
		f.clock.Advance(mfa.Period)
		_, err = f.svc.Verify(ctx, f.user.ID, code)
		wantErr(t, err, account.EINVALID, "Invalid MFA code")
		if n := len(f.events(t, account.EventMFAReplay)); n != 2 {
			t.Fatalf("%d replay events, want 2", n)
		}
		if _, err := f.svc.Verify(ctx, f.user.ID, f.code(key)); err != nil {
			t.Fatalf("fresh code: %v", err)
		}
	})
}

// Fifty concurrent requests carrying one valid code: exactly one succeeds, for a
// TOTP code and for a backup code.
func TestService_VerifyConcurrent(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		// A lockout that cannot interfere: the 49 losers would otherwise lock the account.
		f.svc.Lockout = auth.LockoutPolicy{Threshold: 1000, Base: time.Minute, Max: time.Minute, Memory: time.Hour}
		key, codes := f.enable(t)
		for _, tc := range []struct{ name, code, method string }{
			{"TOTP", f.nextCode(key), mfa.MethodTOTP},
			{"BackupCode", codes[3], mfa.MethodBackupCode},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var wg sync.WaitGroup
				var mu sync.Mutex
				var ok, invalid int
				for i := 0; i < 50; i++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						m, err := f.svc.Verify(context.Background(), f.user.ID, tc.code)
						mu.Lock()
						defer mu.Unlock()
						switch {
						case err == nil && m == tc.method:
							ok++
						case account.ErrorCode(err) == account.EINVALID:
							invalid++
						default:
							t.Errorf("unexpected result %q, %v", m, err)
						}
					}()
				}
				wg.Wait()
				if ok != 1 || invalid != 49 {
					t.Fatalf("%d successes and %d rejections, want 1 and 49", ok, invalid)
				}
			})
		}
	})
}

// Six wrong codes lock the account for every use of Verify (sign-in, step-up,
// disable); once the lock ends a correct code works.
func TestService_Lockout(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		key, codes := f.enable(t)
		for i := 0; i < 5; i++ {
			_, err := f.svc.Verify(ctx, f.user.ID, "000000")
			wantErr(t, err, account.EINVALID, "Invalid MFA code")
		}
		_, err := f.svc.Verify(ctx, f.user.ID, "000000")
		wantErr(t, err, account.ETOOMANY, "")
		var e *account.Error
		errors.As(err, &e)
		if e.RetryAfter != 900 {
			t.Fatalf("RetryAfter = %d, want 900", e.RetryAfter)
		}
		// Right codes do not get through the lock either, and disable shares it.
		_, err = f.svc.Verify(ctx, f.user.ID, f.nextCode(key))
		wantErr(t, err, account.ETOOMANY, "")
		wantErr(t, f.disable(codes[0]), account.ETOOMANY, "")

		// Failing on after the lock ends locks again, twice as long.
		f.clock.Advance(15 * time.Minute)
		for i := 0; i < 5; i++ {
			_, err := f.svc.Verify(ctx, f.user.ID, "000000")
			wantErr(t, err, account.EINVALID, "Invalid MFA code")
		}
		_, err = f.svc.Verify(ctx, f.user.ID, "000000")
		e = nil
		if errors.As(err, &e); e == nil || e.Code != account.ETOOMANY || e.RetryAfter != 1800 {
			t.Fatalf("second lock: %v (RetryAfter %d), want 1800 s", err, e.RetryAfter)
		}

		f.clock.Advance(30 * time.Minute)
		if m, err := f.svc.Verify(ctx, f.user.ID, f.code(key)); err != nil || m != mfa.MethodTOTP {
			t.Fatalf("after the lock: %q, %v", m, err)
		}
		// The success reset the count: five more failures are allowed before a lock.
		for i := 0; i < 5; i++ {
			_, err := f.svc.Verify(ctx, f.user.ID, "000000")
			wantErr(t, err, account.EINVALID, "Invalid MFA code")
		}
	})
}

func TestService_BackupCodes(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		enabledAt := f.clock.Now()
		_, codes := f.enable(t)

		bs, err := f.svc.BackupCodesStatus(ctx, f.user.ID)
		if err != nil || bs.Total != 10 || bs.Unused != 10 || bs.CreatedAt == nil || !bs.CreatedAt.Equal(enabledAt) {
			t.Fatalf("status = %+v, %v", bs, err)
		}
		// Typed sloppily: lower case, spaces instead of the hyphen.
		typed := strings.NewReplacer("-", "  ").Replace(strings.ToLower(codes[0]))
		if m, err := f.svc.Verify(ctx, f.user.ID, typed); err != nil || m != mfa.MethodBackupCode {
			t.Fatalf("verify %q (from %q) = %q, %v", typed, codes[0], m, err)
		}
		if m, err := f.svc.Verify(ctx, f.user.ID, strings.ReplaceAll(codes[1], "-", "")); err != nil || m != mfa.MethodBackupCode {
			t.Fatalf("verify without hyphen = %q, %v", m, err)
		}
		_, err = f.svc.Verify(ctx, f.user.ID, codes[0])
		wantErr(t, err, account.EINVALID, "Invalid MFA code")
		if bs, _ := f.svc.BackupCodesStatus(ctx, f.user.ID); bs.Total != 10 || bs.Unused != 8 {
			t.Fatalf("after two uses: %+v", bs)
		}
		if s, _ := f.svc.Status(ctx, f.user.ID); s.BackupCodesRemaining != 8 {
			t.Fatalf("status remaining = %d", s.BackupCodesRemaining)
		}
		if n := len(f.events(t, account.EventBackupCodeUsed)); n != 2 {
			t.Fatalf("%d backup_code_used events, want 2", n)
		}

		f.clock.Advance(time.Hour)
		fresh, made, err := f.svc.RegenerateBackupCodes(ctx, account.Operator(), f.user.ID)
		if err != nil || len(fresh) != 10 || !made.Equal(f.clock.Now()) {
			t.Fatalf("regenerate: %d codes, %v", len(fresh), err)
		}
		_, err = f.svc.Verify(ctx, f.user.ID, codes[5])
		wantErr(t, err, account.EINVALID, "Invalid MFA code")
		if _, err := f.svc.Verify(ctx, f.user.ID, fresh[5]); err != nil {
			t.Fatalf("new code: %v", err)
		}
		bs, _ = f.svc.BackupCodesStatus(ctx, f.user.ID)
		if bs.Total != 10 || bs.Unused != 9 || !bs.CreatedAt.Equal(f.clock.Now()) {
			t.Fatalf("after regenerate: %+v", bs)
		}
		if len(f.events(t, account.EventBackupCodesRenewed)) != 1 {
			t.Fatal("no backup_codes_regenerated event")
		}
	})
}

func TestService_DisableAndReset(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		_, err := f.svc.Verify(ctx, f.user.ID, "123456")
		wantErr(t, err, account.EINVALID, "MFA is not enabled for this user")
		_, _, err = f.svc.RegenerateBackupCodes(ctx, account.Operator(), f.user.ID)
		wantErr(t, err, account.EINVALID, "MFA is not enabled for this user")
		wantErr(t, f.disable("123456"), account.EINVALID, "MFA is not enabled for this user")

		_, codes := f.enable(t)
		wantErr(t, f.disable("000000"), account.EINVALID, "Invalid MFA code")
		if err := f.disable(codes[2]); err != nil {
			t.Fatalf("disable with a backup code: %v", err)
		}
		if s, err := f.svc.Status(ctx, f.user.ID); err != nil || s.Enabled {
			t.Fatalf("status after disable = %+v, %v", s, err)
		}
		if bs, _ := f.svc.BackupCodesStatus(ctx, f.user.ID); bs.Total != 0 || bs.CreatedAt != nil {
			t.Fatalf("backup codes after disable: %+v", bs)
		}
		if len(f.events(t, account.EventMFADisabled)) != 1 {
			t.Fatal("no mfa_disabled event")
		}

		key, _ := f.enable(t)
		if err := f.disable(f.nextCode(key)); err != nil {
			t.Fatalf("disable with TOTP: %v", err)
		}

		f.enable(t)
		if _, err := f.svc.BeginSetup(ctx, account.Operator(), &account.User{ID: f.user.ID, Username: "ann"}); err == nil {
			t.Fatal("setup while enabled")
		}
		if err := f.reset(); err != nil {
			t.Fatal(err)
		}
		if on, _ := f.svc.Enabled(ctx, f.user.ID); on {
			t.Fatal("still enabled after reset")
		}
		if len(f.events(t, account.EventMFAReset)) != 1 {
			t.Fatal("no mfa_reset event")
		}
		wantErr(t, f.reset(), account.EINVALID, "MFA is not enabled for this user")
	})
}

// Neither the secret nor any backup code is stored in the clear or appears in a
// security event.
func TestService_SecretsStayHidden(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		setup, err := f.svc.BeginSetup(ctx, account.Operator(), f.user)
		if err != nil {
			t.Fatal(err)
		}
		key, _ := mfa.DecodeSecret(setup.Secret)
		codes, err := f.svc.Enable(ctx, account.Operator(), f.user.ID, f.code(key))
		if err != nil {
			t.Fatal(err)
		}
		f.svc.Verify(ctx, f.user.ID, codes[0])
		f.svc.Verify(ctx, f.user.ID, codes[0])
		f.svc.Verify(ctx, f.user.ID, "000000")
		f.svc.Verify(ctx, f.user.ID, f.code(key)) // a replay
		fresh, _, _ := f.svc.RegenerateBackupCodes(ctx, account.Operator(), f.user.ID)
		f.disable(fresh[0])

		secrets := []string{setup.Secret, setup.SecretGrouped}
		for _, c := range append(codes, fresh...) {
			norm, _, _ := mfa.NormalizeBackupCode(c)
			secrets = append(secrets, c, norm)
		}
		events := f.events(t, "")
		if len(events) < 5 {
			t.Fatalf("only %d events", len(events))
		}
		blob, _ := json.Marshal(events)
		for _, s := range secrets {
			if strings.Contains(string(blob), s) {
				t.Fatalf("an event holds %q: %s", s, blob)
			}
		}

		// At rest: the factor's secret is sealed to its row, codes are MACs.
		f.enable(t)
		factor, err := st.FindMFAFactor(ctx, f.user.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(factor.SecretCiphertext, "v1.") {
			t.Fatalf("secret not sealed: %.10s…", factor.SecretCiphertext)
		}
		if _, err := f.svc.Keyring.Open(factor.SecretCiphertext, "mfa_factors.secret:999"); err == nil {
			t.Fatal("the sealed secret opens for another user")
		}
		hashes, err := st.ListUnusedBackupCodes(ctx, f.user.ID)
		if err != nil || len(hashes) != 10 {
			t.Fatalf("%d hashes, %v", len(hashes), err)
		}
		for _, h := range hashes {
			if !strings.HasPrefix(h.Hash, f.svc.Keyring.PrimaryCodeMACPrefix()) {
				t.Fatalf("backup code stored as %.12s…", h.Hash)
			}
		}
	})
}

// disable and reset drop the session count, which the HTTP tests check.
func (f *fixture) disable(code string) error {
	_, err := f.svc.Disable(context.Background(), account.Operator(), f.user.ID, code, "")
	return err
}

func (f *fixture) reset() error {
	_, err := f.svc.Reset(context.Background(), account.Operator(), f.user.ID, "")
	return err
}

// Codes issued in the earlier format (XXXXX-XXXXX, argon2id-hashed) keep
// working, typed loosely, once each, until regenerated; they never match a code
// of the other format.
func TestService_LegacyBackupCodes(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		f.enable(t)
		legacy := []string{"ABCDE-FGH12", "0123K-MNPQR"}
		var hashes []string
		for _, c := range legacy {
			norm, _, _ := mfa.NormalizeBackupCode(c)
			h, err := fastHasher.Hash(ctx, norm)
			if err != nil {
				t.Fatal(err)
			}
			hashes = append(hashes, h)
		}
		if err := st.ReplaceBackupCodes(ctx, f.user.ID, hashes, f.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if m, err := f.svc.Verify(ctx, f.user.ID, "abcde fghl2"); err != nil || m != mfa.MethodBackupCode {
			t.Fatalf("legacy code typed loosely: %q, %v", m, err)
		}
		_, err := f.svc.Verify(ctx, f.user.ID, "ABCDEFGH12")
		wantErr(t, err, account.EINVALID, "Invalid MFA code")
		if bs, _ := f.svc.BackupCodesStatus(ctx, f.user.ID); bs.Total != 2 || bs.Unused != 1 {
			t.Fatalf("status: %+v", bs)
		}
		fresh, _, err := f.svc.RegenerateBackupCodes(ctx, account.Operator(), f.user.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Verify(ctx, f.user.ID, legacy[1])
		wantErr(t, err, account.EINVALID, "Invalid MFA code")
		if _, err := f.svc.Verify(ctx, f.user.ID, fresh[0]); err != nil {
			t.Fatalf("new code after regenerate: %v", err)
		}
	})
}

// A MAC made under a key the keyring still holds (after rotation) verifies; a
// MAC bound to another user does not.
func TestService_BackupCodeMACKeys(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		f.enable(t)
		oldKey := make([]byte, secret.KeySize)
		oldKey[0] = 9
		oldRing, _ := secret.NewKeyring(oldKey)
		hashes := []string{oldRing.CodeMAC("ABCD2345", mfa.BackupCodeBinding(f.user.ID)), f.svc.Keyring.CodeMAC("WXYZ6789", mfa.BackupCodeBinding(f.user.ID+1))}
		if err := st.ReplaceBackupCodes(ctx, f.user.ID, hashes, f.clock.Now()); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.Verify(ctx, f.user.ID, "WXYZ-6789")
		wantErr(t, err, account.EINVALID, "Invalid MFA code")
		_, err = f.svc.Verify(ctx, f.user.ID, "ABCD-2345")
		wantErr(t, err, account.EINVALID, "Invalid MFA code") // the old key is not in the ring
		f.svc.Keyring, _ = secret.NewKeyring(testKey, oldKey)
		if _, err := f.svc.Verify(ctx, f.user.ID, "ABCD-2345"); err != nil {
			t.Fatalf("code under a retired key still in the ring: %v", err)
		}
	})
}

// Regeneration: RegenerateRate per hour and one at a time, per user.
func TestService_RegenerateLimits(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		f.enable(t)
		for i := 0; i < mfa.RegenerateRate.Requests; i++ {
			if _, _, err := f.svc.RegenerateBackupCodes(ctx, account.Operator(), f.user.ID); err != nil {
				t.Fatalf("regeneration %d: %v", i+1, err)
			}
		}
		_, _, err := f.svc.RegenerateBackupCodes(ctx, account.Operator(), f.user.ID)
		var e *account.Error
		if !errors.As(err, &e) || e.Code != account.ETOOMANY || e.RetryAfter != 3600 ||
			e.Message != "Backup codes can be regenerated 5 times per hour. Please try again in 3600 seconds." {
			t.Fatalf("6th regeneration: %#v", err)
		}
		f.clock.Advance(time.Hour)
		// One in flight: a hold taken elsewhere (another instance) blocks this one.
		release, err := f.svc.Throttle.Hold(ctx, "backup-codes:user:"+strconv.FormatInt(f.user.ID, 10), mfa.RegenerateHold)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = f.svc.RegenerateBackupCodes(ctx, account.Operator(), f.user.ID)
		if !errors.As(err, &e) || e.Code != account.ETOOMANY || e.RetryAfter != 30 || !strings.Contains(e.Message, "already being regenerated") {
			t.Fatalf("while another regeneration runs: %#v", err)
		}
		release()
		if _, _, err := f.svc.RegenerateBackupCodes(ctx, account.Operator(), f.user.ID); err != nil {
			t.Fatalf("after the other finished: %v", err)
		}
	})
}
