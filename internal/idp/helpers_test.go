package idp_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/auth"
	"github.com/trailpass/trailpass/internal/idp"
	"github.com/trailpass/trailpass/internal/secret"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

// env is one service over a real store and a real OIDC provider on loopback.
type env struct {
	st       *store.Store
	svc      *idp.Service
	accounts *account.Service
	op       *testkit.OIDCProvider
	clock    *testkit.Clock
	prov     *idp.Provider
}

var ctx = context.Background()

func newEnv(t *testing.T, st *store.Store) *env {
	t.Helper()
	key := make([]byte, secret.KeySize)
	rand.Read(key)
	kr, err := secret.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	// The provider signs with the real time, so the clock starts there.
	clock := testkit.NewClock(time.Now().UTC().Truncate(time.Second))
	accounts := &account.Service{Store: st, Now: clock.Now,
		Hasher: secret.NewHasher(secret.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, 2)}
	pub, _ := url.Parse("https://trailpass.example/")
	e := &env{st: st, accounts: accounts, clock: clock, op: testkit.StartOIDC(t)}
	e.svc = &idp.Service{Store: st, Accounts: accounts, Events: st, Keyring: kr, PublicURL: pub,
		HTTPClient: &http.Client{Timeout: 10 * time.Second}, Now: clock.Now, Settings: st}
	e.prov = e.addProvider(t, "mock", func(in *idp.ProviderInput) { in.LinkByVerifiedEmail = true })
	return e
}

// addProvider creates an enabled provider pointing at the test OIDC provider.
func (e *env) addProvider(t *testing.T, slug string, edit func(*idp.ProviderInput)) *idp.Provider {
	t.Helper()
	in := idp.ProviderInput{Name: "Mock " + slug, Slug: slug, Enabled: true, ClientID: e.op.ClientID(),
		ClientSecret: e.op.ClientSecret(), IssuerURL: e.op.Issuer()}
	if edit != nil {
		edit(&in)
	}
	p, err := e.svc.Create(ctx, account.Operator(), in)
	if err != nil {
		t.Fatalf("create provider: %v", err)
	}
	if p.Warning != "" {
		t.Fatalf("create provider: warning %q", p.Warning)
	}
	return &p.Provider
}

// patch decodes a JSON body as PUT /api/v1/idp/{id} does.
func patch(t *testing.T, body map[string]any) idp.ProviderPatch {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	var pt idp.ProviderPatch
	if err := json.Unmarshal(b, &pt); err != nil {
		t.Fatalf("decode patch: %v", err)
	}
	return pt
}

// flow is one started authorization request, as the browser holds it.
type flow struct {
	authURL, binding, code, state string
}

func (e *env) beginLogin(t *testing.T, slug, redirect string) *flow {
	t.Helper()
	u, b, err := e.svc.BeginLogin(ctx, slug, redirect)
	if err != nil {
		t.Fatalf("begin login: %v", err)
	}
	f := &flow{authURL: u, binding: b}
	f.code, f.state = e.op.Authorize(t, u)
	return f
}

func (e *env) finish(f *flow, slug string) (*idp.Outcome, error) {
	return e.svc.Callback(ctx, slug, f.code, f.state, f.binding, "")
}

// login runs a whole SSO sign-in as the queued user and requires success.
func (e *env) login(t *testing.T) *idp.Outcome {
	t.Helper()
	out, err := e.finish(e.beginLogin(t, e.prov.Slug, ""), e.prov.Slug)
	if err != nil {
		t.Fatalf("sso login: %v", err)
	}
	return out
}

func (e *env) passwordUser(t *testing.T, username, email string) *account.User {
	t.Helper()
	u, err := e.accounts.CreateUser(ctx, account.NewUser{Username: username, Email: email, Password: "Secret-pass-1", EmailVerified: true})
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	return u
}

// counts returns how many users, links and pending states exist.
func (e *env) counts(t *testing.T) (users, links, states int) {
	t.Helper()
	us, err := e.st.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		ls, err := e.svc.ListLinks(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		links += len(ls)
	}
	// Deleting "expired before next year" removes and counts every state; tests
	// only call this once the flows they care about are over.
	n, err := e.svc.DeleteExpiredStates(ctx, e.clock.Now().Add(365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return len(us), links, int(n)
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := account.ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
}

func wantMessage(t *testing.T, err error, msg string) {
	t.Helper()
	var ae *account.Error
	if !errors.As(err, &ae) || ae.Message != msg {
		t.Fatalf("error = %v, want message %q", err, msg)
	}
}

func eventTypes(t *testing.T, st *store.Store, userID int64) map[string]int {
	t.Helper()
	evs, err := st.ListSecurityEvents(ctx, userID, 100)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range evs {
		out[e.Type]++
	}
	return out
}

// captureLog sends the default logger to a buffer for the rest of the test.
func captureLog(t *testing.T) *testkit.LogBuffer {
	buf := &testkit.LogBuffer{}
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(buf, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	return buf
}

var sessionSeq int

// session signs userID in (a real session row) and returns its id, for link
// flows, which need the session that started them to still be alive.
func (e *env) session(t *testing.T, userID int64) string {
	t.Helper()
	now := e.clock.Now()
	sessionSeq++
	id := fmt.Sprintf("s-%d-%d", userID, sessionSeq)
	sess := &auth.Session{ID: id, UserID: userID, FamilyID: id, AuthMethod: auth.MethodPassword, IPAddress: "127.0.0.1",
		DeviceType: "PC", OperatingSystem: "Linux", Browser: "Chrome", CreatedAt: now, AuthenticatedAt: now,
		LastActiveAt: now, ExpiresAt: now.Add(time.Hour), AbsoluteExpiresAt: now.Add(time.Hour)}
	u, err := e.st.FindUserByID(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.CreateSession(ctx, sess, nil, auth.SessionGuard{CredentialVersion: u.CredentialVersion}); err != nil {
		t.Fatal(err)
	}
	return id
}

// The session that started a link must still be signed in when it completes.
func TestLink_RevokedSessionCannotFinish(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		carol := e.passwordUser(t, "carol", "carol@example.com")
		sid := e.session(t, carol.ID)
		authURL, binding, err := e.svc.BeginLink(ctx, account.Operator(), carol.ID, sid, e.prov.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.DeleteSession(ctx, sid); err != nil {
			t.Fatal(err)
		}
		e.op.QueueUser("sub-carol", "carol-idp", "carol@idp.example", true)
		code, state := e.op.Authorize(t, authURL)
		_, err = e.svc.Callback(ctx, e.prov.Slug, code, state, binding, "")
		wantCode(t, err, account.EFORBIDDEN)
		links, _ := e.svc.ListLinks(ctx, carol.ID)
		if len(links) != 0 {
			t.Fatalf("a revoked session's link completed: %+v", links)
		}
	})
}
