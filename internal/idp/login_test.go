package idp_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/idp"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

func TestSSOLogin_CreatesAccountThenSignsIn(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		e.op.QueueUser("sub-alice-0001", "Alice", "Alice@Example.com", true)
		f := e.beginLogin(t, "mock", "/activities?page=2")

		q := mustQuery(t, f.authURL)
		if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 ||
			len(q.Get("nonce")) != 43 || len(q.Get("state")) != 43 || q.Get("response_type") != "code" {
			t.Fatalf("authorization request lacks PKCE S256, nonce or state: %v", q)
		}
		if got := q.Get("redirect_uri"); got != "https://trailpass.example/api/v1/public/idp/callback/mock" {
			t.Fatalf("redirect_uri = %q", got)
		}
		out, err := e.finish(f, "mock")
		if err != nil {
			t.Fatalf("callback: %v", err)
		}
		if out.Mode != idp.ModeLogin || !out.Created || out.UserID == 0 || out.ProviderName != "Mock mock" ||
			out.Redirect != "/activities?page=2" {
			t.Fatalf("outcome = %+v", out)
		}
		u, err := st.FindUserByID(ctx, out.UserID)
		if err != nil {
			t.Fatal(err)
		}
		if u.Username != "alice" || u.Email != "alice@example.com" || u.HasPassword() || !u.EmailVerified || !u.Active {
			t.Fatalf("created user = %+v", u)
		}
		links, err := e.svc.ListLinks(ctx, u.ID)
		if err != nil || len(links) != 1 || links[0].IdPSubject != "sub-alice-0001" || links[0].IdPSlug != "mock" ||
			links[0].IdPProviderType != "oidc" || links[0].LastLogin == nil {
			t.Fatalf("links = %+v, %v", links, err)
		}

		e.clock.Advance(time.Minute)
		// sync_user_info takes the new verified email; the username stays.
		e.op.QueueUser("sub-alice-0001", "alice-renamed", "alice@new.example", true)
		again := e.login(t)
		if u2, _ := st.FindUserByID(ctx, u.ID); u2.Email != "alice@new.example" || u2.Username != "alice" {
			t.Fatalf("after sync: %q <%s>", u2.Username, u2.Email)
		}
		if again.UserID != u.ID || again.Created || again.Redirect != "" {
			t.Fatalf("second login outcome = %+v, want user %d not created", again, u.ID)
		}
		links, _ = e.svc.ListLinks(ctx, u.ID)
		if !links[0].LastLogin.Equal(e.clock.Now()) {
			t.Fatalf("last_login = %v, want %v", links[0].LastLogin, e.clock.Now())
		}
		users, nlinks, states := e.counts(t)
		if users != 1 || nlinks != 1 || states != 0 {
			t.Fatalf("users, links, states = %d, %d, %d; want 1, 1, 0", users, nlinks, states)
		}
		if ev := eventTypes(t, st, u.ID); ev[account.EventIdPLogin] != 2 || ev[account.EventIdPLinked] != 1 {
			t.Fatalf("events = %v", ev)
		}
	})
}

func TestSSOLogin_UsernameClashGetsSuffix(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		e.passwordUser(t, "jane", "jane@other.example")
		e.op.QueueUser("sub-jane", "", "jane@example.com", false)
		out := e.login(t)
		u, _ := st.FindUserByID(ctx, out.UserID)
		if !strings.HasPrefix(u.Username, "jane_") || len(u.Username) != len("jane_123456") || u.EmailVerified {
			t.Fatalf("username = %q verified = %v, want jane_<6 digits> unverified", u.Username, u.EmailVerified)
		}
		// No username or email claim: user_<first 8 of sub>@sso.local.
		e.op.QueueUser("ABCDEF0123456789", "", "", false)
		out = e.login(t)
		u, _ = st.FindUserByID(ctx, out.UserID)
		if u.Username != "user_abcdef01" || u.Email != "user_abcdef01@sso.local" {
			t.Fatalf("user = %q <%s>", u.Username, u.Email)
		}
	})
}

// Every broken callback fails with the right code and leaves no account, link or
// state behind.
func TestCallback_RejectsTamperedFlows(t *testing.T) {
	cases := []struct {
		name string
		code string
		// reason is what the log must say about the failure, so each case
		// fails for the reason it is about.
		reason string
		// left is how many unrelated, unused states legitimately remain.
		left int
		run  func(t *testing.T, e *env, slug string) error
	}{
		{"foreign binding burns the state", account.EINVALID, "", 0, func(t *testing.T, e *env, slug string) error {
			f := e.beginLogin(t, slug, "")
			if _, err := e.svc.Callback(ctx, slug, f.code, f.state, "wrong-binding", ""); err == nil {
				t.Fatal("foreign binding accepted")
			}
			// The first presentation burnt the state, even for the right browser.
			return second(e.finish(f, slug))
		}},
		{"foreign state", account.EINVALID, "", 1, func(t *testing.T, e *env, slug string) error {
			mine := e.beginLogin(t, slug, "")
			victim := e.beginLogin(t, slug, "")
			// The attacker's browser presents the victim's state with its own binding.
			return second(e.svc.Callback(ctx, slug, victim.code, victim.state, mine.binding, ""))
		}},
		{"unknown state", account.EINVALID, "", 1, func(t *testing.T, e *env, slug string) error {
			f := e.beginLogin(t, slug, "")
			return second(e.svc.Callback(ctx, slug, f.code, "forged-state", f.binding, ""))
		}},
		{"expired state", account.EINVALID, "", 0, func(t *testing.T, e *env, slug string) error {
			f := e.beginLogin(t, slug, "")
			e.clock.Advance(idp.StateTTL + time.Second)
			defer e.clock.Advance(-idp.StateTTL - time.Second)
			return second(e.finish(f, slug))
		}},
		{"state of another provider", account.EINVALID, "", 0, func(t *testing.T, e *env, slug string) error {
			other := e.addProvider(t, slug+"-other", nil)
			f := e.beginLogin(t, slug, "")
			return second(e.finish(f, other.Slug))
		}},
		{"wrong nonce", account.EUNAUTHORIZED, "id token nonce mismatch", 0, func(t *testing.T, e *env, slug string) error {
			u, b, err := e.svc.BeginLogin(ctx, slug, "")
			if err != nil {
				t.Fatal(err)
			}
			code, state := e.op.AuthorizeWith(t, u, func(q url.Values) { q.Set("nonce", "attacker-nonce") })
			return second(e.svc.Callback(ctx, slug, code, state, b, ""))
		}},
		{"tampered id token", account.EUNAUTHORIZED, "failed to verify id token signature", 0, func(t *testing.T, e *env, slug string) error {
			e.op.TamperIDTokens(true)
			defer e.op.TamperIDTokens(false)
			return second(e.finish(e.beginLogin(t, slug, ""), slug))
		}},
		{"missing PKCE verifier", account.EUNAUTHORIZED, "client sent none", 0, func(t *testing.T, e *env, slug string) error {
			e.op.DropCodeVerifier(true)
			defer e.op.DropCodeVerifier(false)
			return second(e.finish(e.beginLogin(t, slug, ""), slug))
		}},
		{"wrong PKCE verifier (injected code)", account.EUNAUTHORIZED, "Code challenge did not match", 1, func(t *testing.T, e *env, slug string) error {
			stolen := e.beginLogin(t, slug, "")
			mine := e.beginLogin(t, slug, "")
			return second(e.svc.Callback(ctx, slug, stolen.code, mine.state, mine.binding, ""))
		}},
		{"provider error", account.EUNAUTHORIZED, "error=access_denied", 0, func(t *testing.T, e *env, slug string) error {
			f := e.beginLogin(t, slug, "")
			return second(e.svc.Callback(ctx, slug, "", f.state, f.binding, "access_denied"))
		}},
	}
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				slug := fmt.Sprintf("case-%d", i)
				e.addProvider(t, slug, nil)
				before, _, _ := e.counts(t)
				log := captureLog(t)
				wantCode(t, tc.run(t, e, slug), tc.code)
				if !strings.Contains(log.String(), tc.reason) {
					t.Fatalf("log %q does not give the reason %q", log.String(), tc.reason)
				}
				users, links, states := e.counts(t)
				if users != before || links != 0 || states != tc.left {
					t.Fatalf("after failure: users %d (before %d), links %d, states %d", users, before, links, states)
				}
			})
		}
	})
}

func TestCallback_ReplayAfterSuccess(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		f := e.beginLogin(t, "mock", "")
		if _, err := e.finish(f, "mock"); err != nil {
			t.Fatalf("first callback: %v", err)
		}
		users, links, _ := e.counts(t)
		_, err := e.finish(f, "mock")
		wantCode(t, err, account.EINVALID)
		wantMessage(t, err, "Invalid or expired state")
		if u, l, s := e.counts(t); u != users || l != links || s != 0 {
			t.Fatalf("replay changed users %d->%d, links %d->%d, states %d", users, u, links, l, s)
		}
	})
}

func TestCallback_ConcurrentReplayOnlyOneWins(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		f := e.beginLogin(t, "mock", "")
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() { _, errs[i] = e.finish(f, "mock") })
		}
		wg.Wait()
		ok, invalid := 0, 0
		for _, err := range errs {
			switch account.ErrorCode(err) {
			case "":
				ok++
			case account.EINVALID:
				invalid++
			}
		}
		if ok != 1 || invalid != 3 {
			t.Fatalf("successes %d, invalid %d (errors %v); want 1 and 3", ok, invalid, errs)
		}
	})
}

func TestSSOLogin_EmailLinking(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		bob := e.passwordUser(t, "bob", "bob@example.com")
		strict := e.addProvider(t, "strict", nil) // link_by_verified_email off

		// An unverified email never links, even where the provider allows linking.
		e.op.QueueUser("sub-bob-1", "bobby", "bob@example.com", false)
		_, err := e.finish(e.beginLogin(t, "mock", ""), "mock")
		wantCode(t, err, account.ECONFLICT)

		// A verified email does not link where the provider does not allow it.
		e.op.QueueUser("sub-bob-1", "bobby", "BOB@example.com", true)
		_, err = e.finish(e.beginLogin(t, strict.Slug, ""), strict.Slug)
		wantCode(t, err, account.ECONFLICT)
		if users, links, _ := e.counts(t); users != 1 || links != 0 {
			t.Fatalf("users %d links %d after refused links, want 1 and 0", users, links)
		}

		// Verified and allowed: bob's account is linked and signed in.
		e.op.QueueUser("sub-bob-1", "bobby", "BOB@example.com", true)
		out := e.login(t)
		if out.UserID != bob.ID || out.Created {
			t.Fatalf("outcome = %+v, want bob (%d) signed in", out, bob.ID)
		}
		if links, _ := e.svc.ListLinks(ctx, bob.ID); len(links) != 1 || links[0].IdPSubject != "sub-bob-1" {
			t.Fatalf("bob's links = %+v", links)
		}
		if ev := eventTypes(t, st, bob.ID); ev[account.EventIdPLinked] != 1 || ev[account.EventIdPLogin] != 1 {
			t.Fatalf("events = %v", ev)
		}

		// No link, no email match and no auto-creation: refused.
		closed := e.addProvider(t, "closed", func(in *idp.ProviderInput) { f := false; in.AutoCreateUsers = &f })
		e.op.QueueUser("sub-nobody", "nobody", "nobody@example.com", true)
		_, err = e.finish(e.beginLogin(t, closed.Slug, ""), closed.Slug)
		wantCode(t, err, account.EFORBIDDEN)
		if users, _, _ := e.counts(t); users != 1 {
			t.Fatalf("users = %d, want 1", users)
		}
	})
}

func TestBeginLogin_UnknownOrDisabled(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		e.addProvider(t, "off", func(in *idp.ProviderInput) { in.Enabled = false })
		for _, slug := range []string{"nope", "off"} {
			_, _, err := e.svc.BeginLogin(ctx, slug, "")
			wantCode(t, err, account.ENOTFOUND)
			wantMessage(t, err, "Identity provider not found or disabled")
		}
	})
}

func TestBeginLogin_DropsForeignRedirects(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		for _, r := range []string{"https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"} {
			out, err := e.finish(e.beginLogin(t, "mock", r), "mock")
			if err != nil {
				t.Fatalf("login with redirect %q: %v", r, err)
			}
			if out.Redirect != "" {
				t.Fatalf("redirect %q kept as %q", r, out.Redirect)
			}
		}
	})
}

// TestSafeRedirect runs the cases the console's JavaScript is tested with too
// (internal/webui), so the two stay in agreement.
func TestSafeRedirect(t *testing.T) {
	for _, c := range safeRedirectCases(t) {
		want := ""
		if c.OK {
			want = c.In
		}
		if got := idp.SafeRedirect(c.In); got != want {
			t.Errorf("SafeRedirect(%q) = %q, want %q", c.In, got, want)
		}
	}
}

func safeRedirectCases(t *testing.T) []struct {
	In string `json:"in"`
	OK bool   `json:"ok"`
} {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "safe_redirect.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		In string `json:"in"`
		OK bool   `json:"ok"`
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 40 {
		t.Fatalf("only %d cases", len(cases))
	}
	return cases
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

func second[T any](_ T, err error) error { return err }
