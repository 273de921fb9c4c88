package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/httpapi/httpapitest"

	"github.com/trailpass/trailpass/internal/testkit"
)

// A full run of sign-in, MFA enrolment, MFA sign-in with a TOTP and with a backup
// code, refresh and logout, for a web and a mobile client, leaves none of the
// secrets it used in the logs (captured at debug level).
func TestLogs_HoldNoSecrets(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		e.CreateUser("rider", false)
		var secrets []string
		keep := func(what string, vals ...string) {
			for _, v := range vals {
				if len(v) < 6 {
					t.Fatalf("%s: secret %q too short to search for", what, v)
				}
				secrets = append(secrets, v)
			}
		}
		keep("password", httpapitest.Password)

		// Web: password sign-in, enrol MFA.
		web := e.NewClient("web")
		web.MustLogin("rider")
		keep("web tokens", web.Cookie("endurain_access_token"), web.Cookie("endurain_refresh_token"), web.Cookie("endurain_csrf_token"))
		secretKey, backup := enableMFA(t, e, web)
		keep("totp secret", secretKey)
		keep("backup codes", backup...)

		// Mobile: MFA sign-in with a TOTP; the ticket travels in the body.
		e.Clock.Advance(31 * time.Second)
		mob := e.NewClient("mobile")
		first, second := mfaLogin(t, mob, "rider", totp(t, secretKey, e.Clock.Now()))
		if second.Status != 200 {
			t.Fatalf("mobile MFA login: %d %s", second.Status, second.Body)
		}
		keep("mfa ticket", first.JSON(t)["mfa_ticket"].(string))
		keep("mobile tokens", mob.Access, mob.Refresh)
		if r := mob.RefreshNow(); r.Status != 200 {
			t.Fatalf("refresh: %d %s", r.Status, r.Body)
		}
		keep("refreshed tokens", mob.Access, mob.Refresh)

		// Web: MFA sign-in with a backup code; the ticket travels in a cookie.
		web2 := e.NewClient("web")
		r := web2.Login("rider", httpapitest.Password)
		if r.Status != 202 {
			t.Fatalf("web password step: %d %s", r.Status, r.Body)
		}
		ticket := ""
		for _, ck := range (&http.Response{Header: r.Header}).Cookies() {
			if ck.Name == "trailpass_mfa_ticket" {
				ticket = ck.Value
			}
		}
		keep("web mfa ticket", ticket)
		if r := web2.Do("POST", "/api/v1/mfa/verify", map[string]string{"username": "rider", "mfa_code": backup[0]}); r.Status != 200 {
			t.Fatalf("backup-code login: %d %s", r.Status, r.Body)
		}
		keep("web2 tokens", web2.Cookie("endurain_access_token"), web2.Cookie("endurain_refresh_token"), web2.Cookie("endurain_csrf_token"))
		// A failed attempt and a replayed backup code log warnings too.
		web3 := e.NewClient("web")
		web3.Login("rider", httpapitest.Password)
		web3.Do("POST", "/api/v1/mfa/verify", map[string]string{"username": "rider", "mfa_code": backup[0]})
		if r := web2.RefreshNow(); r.Status != 200 {
			t.Fatalf("web refresh: %d %s", r.Status, r.Body)
		}
		keep("web2 refreshed", web2.Cookie("endurain_access_token"), web2.Cookie("endurain_refresh_token"))
		// The export run: the archive streams through the same logging.
		if r := web2.Do("GET", "/api/v1/profile/export", nil); r.Status != 200 || len(r.Body) == 0 {
			t.Fatalf("export: %d", r.Status)
		}
		for _, c := range []*httpapitest.Client{mob, web2, web} {
			if r := c.Do("POST", "/api/v1/logout", nil); r.Status != 200 {
				t.Fatalf("logout: %d %s", r.Status, r.Body)
			}
		}
		if r := web.Login("rider", "Wrong!Passw0rd-guess"); r.Status != 401 {
			t.Fatalf("wrong password: %d", r.Status)
		}

		logs := e.Logs.String()
		if strings.Count(logs, `"msg":"request"`) < 15 {
			t.Fatalf("logs were not captured:\n%s", logs)
		}
		for _, s := range append(secrets, "Wrong!Passw0rd-guess") {
			if strings.Contains(logs, s) {
				t.Errorf("a secret (%d chars, starting %.3s) appears in the logs", len(s), s)
			}
		}
	})
}
