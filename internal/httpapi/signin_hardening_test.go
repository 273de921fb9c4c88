package httpapi_test

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/httpapi/httpapitest"
	"github.com/trailpass/trailpass/internal/testkit"
)

// behindProxy makes the loopback peer a trusted proxy, so each client's IP (sent
// as X-Forwarded-For) is its address for throttling and MFA binding.
func behindProxy(e *httpapitest.Env) {
	e.Server.Config.TrustedProxies = mustPrefixes("127.0.0.0/8", "::1/128")
}

var stripRequestID = regexp.MustCompile(`"request_id":"[^"]*"`)

// A client written to Endurain's contract sends {username, mfa_code} and no
// ticket: the pending password step from the same address is the binding.
func TestMFA_WithoutTicket(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b, behindProxy)
		e.CreateUser("lea", false)
		e.CreateUser("nobody", false)
		owner := e.NewClient("web")
		owner.MustLogin("lea")
		secret, backup := enableMFA(t, e, owner)
		verify := func(c *httpapitest.Client, user, code string) *httpapitest.Response {
			r := c.Do("POST", "/api/v1/mfa/verify", map[string]string{"username": user, "mfa_code": code})
			c.KeepTokens(r)
			return r
		}

		t.Run("SameAddress", func(t *testing.T) {
			e.Clock.Advance(30 * time.Second)
			c := e.NewClient("mobile")
			c.IP = "192.0.2.1"
			if r := c.Login("lea", httpapitest.Password); r.Status != 200 || r.JSON(t)["mfa_required"] != true {
				t.Fatalf("password step: %d %s", r.Status, r.Body)
			}
			if r := verify(c, "LEA", totp(t, secret, e.Clock.Now())); r.Status != 200 || c.Access == "" {
				t.Fatalf("verify without ticket: %d %s", r.Status, r.Body)
			}
			if r := c.Do("GET", "/api/v1/profile", nil); r.Status != 200 {
				t.Fatalf("signed in: %d", r.Status)
			}
			// Single use, as with a ticket.
			if r := verify(c, "lea", backup[0]); r.Status != 400 {
				t.Fatalf("second verify: %d %s", r.Status, r.Body)
			}
		})
		t.Run("OtherAddressAnswersAsNoPendingLogin", func(t *testing.T) {
			c := e.NewClient("mobile")
			c.IP = "192.0.2.2"
			c.Login("lea", httpapitest.Password)
			other := e.NewClient("mobile")
			other.IP = "192.0.2.3"
			got := verify(other, "lea", backup[1])
			none := verify(other, "nobody", backup[1])
			if got.Status != 400 || stripRequestID.ReplaceAllString(string(got.Body), "") != stripRequestID.ReplaceAllString(string(none.Body), "") {
				t.Fatalf("other address: %d %s / no pending login: %d %s", got.Status, got.Body, none.Status, none.Body)
			}
			// The owner's pending step is untouched, and the backup code unspent.
			if r := verify(c, "lea", backup[1]); r.Status != 200 {
				t.Fatalf("owner after a foreign attempt: %d %s", r.Status, r.Body)
			}
		})
		t.Run("ExpiresAfterFiveMinutes", func(t *testing.T) {
			c := e.NewClient("mobile")
			c.IP = "192.0.2.4"
			c.Login("lea", httpapitest.Password)
			e.Clock.Advance(5*time.Minute + time.Second)
			if r := verify(c, "lea", backup[2]); r.Status != 400 || r.Detail() != "No pending MFA login found for this username" {
				t.Fatalf("stale password step: %d %s", r.Status, r.Body)
			}
		})
		t.Run("SentTicketIsTheBinding", func(t *testing.T) {
			c := e.NewClient("mobile")
			c.IP = "192.0.2.5"
			c.Login("lea", httpapitest.Password)
			r := c.Do("POST", "/api/v1/mfa/verify", map[string]string{"username": "lea", "mfa_code": backup[2], "mfa_ticket": "forged"})
			if r.Status != 400 {
				t.Fatalf("wrong ticket fell back to the address: %d %s", r.Status, r.Body)
			}
		})
		t.Run("LockoutCounts", func(t *testing.T) {
			c := e.NewClient("mobile")
			c.IP = "192.0.2.6"
			c.Login("lea", httpapitest.Password)
			var last *httpapitest.Response
			for i := 0; i < 6; i++ {
				last = verify(c, "lea", "000000")
			}
			if last.Status != 429 {
				t.Fatalf("6th wrong code without ticket: %d %s", last.Status, last.Body)
			}
		})
	})
}

// Endurain validates mfa_code with a pattern: anything else is a 422 list.
func TestMFA_MalformedCodeIs422(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		for _, code := range []string{"12345", "1234567", "abcdef", "12 34 56", "ABCDE-FGHJ", "!!!!!!"} {
			r := e.NewClient("mobile").Do("POST", "/api/v1/mfa/verify", map[string]string{"username": "x", "mfa_code": code})
			var body struct {
				Detail []struct {
					Loc  []string `json:"loc"`
					Type string   `json:"type"`
					Msg  string   `json:"msg"`
				} `json:"detail"`
			}
			if err := jsonUnmarshal(r.Body, &body); r.Status != 422 || err != nil || len(body.Detail) != 1 ||
				fmt.Sprint(body.Detail[0].Loc) != "[body mfa_code]" || body.Detail[0].Type != "string_pattern_mismatch" {
				t.Fatalf("%q: %d %s", code, r.Status, r.Body)
			}
		}
	})
}

// Hardening 19.2: a sign-in with the old password racing a password write
// never leaves a session behind.
func TestSignInRacesPasswordChange(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b, behindProxy)
		const rounds = 200
		won := 0
		for i := 0; i < rounds; i++ {
			u := e.CreateUser(fmt.Sprintf("racer%d", i), false)
			c := e.NewClient("mobile")
			c.IP = fmt.Sprintf("10.1.%d.%d", i/250, i%250+1)
			var login *httpapitest.Response
			var resetErr error
			var wg sync.WaitGroup
			start := make(chan struct{})
			wg.Add(2)
			go func() { defer wg.Done(); <-start; login = c.Login(u.Username, httpapitest.Password) }()
			go func() {
				defer wg.Done()
				<-start
				// Sweep the start of the change across the sign-in's duration, so
				// some rounds land between its password check and its session.
				time.Sleep(time.Duration(i%50) * 40 * time.Microsecond)
				_, resetErr = e.Accounts.ResetPassword(context.Background(), account.Operator(), u.ID, "Fresh!Passw0rd", "")
			}()
			close(start)
			wg.Wait()
			if resetErr != nil {
				t.Fatal(resetErr)
			}
			var n int
			if err := e.Store.DB().QueryRow(`SELECT COUNT(*) FROM sessions WHERE user_id = $1`, u.ID).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Fatalf("round %d: %d session(s) signed in with the old password survived (login %d)", i, n, login.Status)
			}
			if login.Status == 200 {
				won++
				if r := c.Do("GET", "/api/v1/profile", nil); r.Status != 401 {
					t.Fatalf("round %d: old-password token still works: %d", i, r.Status)
				}
			} else if login.Status != 401 {
				t.Fatalf("round %d: login %d %s", i, login.Status, login.Body)
			}
		}
		t.Logf("%d rounds: %d logins answered 200 before the change ended them, %d refused", rounds, won, rounds-won)
	})
}

// A ticket minted before a password write yields no session, even when the
// write did not delete it.
func TestMFA_TicketCarriesCredentialVersion(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		u := e.CreateUser("tess", false)
		owner := e.NewClient("web")
		owner.MustLogin("tess")
		_, backup := enableMFA(t, e, owner)
		c := e.NewClient("mobile")
		ticket := c.Login("tess", httpapitest.Password).JSON(t)["mfa_ticket"].(string)
		hash, _ := e.Accounts.Hasher.Hash(context.Background(), httpapitest.Password)
		// The same password written again still bumps the version.
		if err := e.Store.SetPasswordHash(context.Background(), u.ID, hash); err != nil {
			t.Fatal(err)
		}
		r := c.Do("POST", "/api/v1/mfa/verify", map[string]string{"username": "tess", "mfa_code": backup[0], "mfa_ticket": ticket})
		if r.Status != 400 || r.Detail() != "No pending MFA login found for this username" {
			t.Fatalf("ticket older than the password: %d %s", r.Status, r.Body)
		}
		var n int
		e.Store.DB().QueryRow(`SELECT COUNT(*) FROM sessions WHERE user_id = $1`, u.ID).Scan(&n)
		if n != 1 { // the owner's
			t.Fatalf("%d sessions", n)
		}
	})
}

// Hardening 19.10: concurrent verifies on one ticket spend at most one code and
// create exactly one session.
func TestMFA_ConcurrentVerifiesOnOneTicket(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b, behindProxy)
		u := e.CreateUser("cora", false)
		owner := e.NewClient("web")
		owner.MustLogin("cora")
		_, backup := enableMFA(t, e, owner)
		c := e.NewClient("mobile")
		ticket := c.Login("cora", httpapitest.Password).JSON(t)["mfa_ticket"].(string)
		status := make([]int, 20)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range status {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cl := e.NewClient("mobile")
				cl.IP = fmt.Sprintf("198.18.0.%d", i+1)
				<-start
				status[i] = cl.Do("POST", "/api/v1/mfa/verify", map[string]string{"username": "cora", "mfa_code": backup[i%len(backup)], "mfa_ticket": ticket}).Status
			}()
		}
		close(start)
		wg.Wait()
		ok := 0
		for _, s := range status {
			if s == 200 {
				ok++
			} else if s != 400 {
				t.Fatalf("statuses: %v", status)
			}
		}
		var used, sessions int
		e.Store.DB().QueryRow(`SELECT COUNT(*) FROM backup_codes WHERE user_id = $1 AND used_at IS NOT NULL`, u.ID).Scan(&used)
		e.Store.DB().QueryRow(`SELECT COUNT(*) FROM sessions WHERE user_id = $1`, u.ID).Scan(&sessions)
		if ok != 1 || used > 1 || sessions != 2 { // the owner's and the one sign-in
			t.Fatalf("%d successes, %d backup codes spent, %d sessions; statuses %v", ok, used, sessions, status)
		}
	})
}
