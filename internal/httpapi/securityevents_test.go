package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/httpapi/httpapitest"
	"github.com/trailpass/trailpass/internal/idp"
	"github.com/trailpass/trailpass/internal/testkit"
)

type eventsPage struct {
	Events     []map[string]any `json:"events"`
	NextBefore *float64         `json:"next_before"`
}

func getEvents(t *testing.T, c *httpapitest.Client, query string) (eventsPage, []byte) {
	t.Helper()
	r := c.Do("GET", "/api/v1/profile/security-events"+query, nil)
	var p eventsPage
	if r.Status != 200 || json.Unmarshal(r.Body, &p) != nil {
		t.Fatalf("events%s: %d %s", query, r.Status, r.Body)
	}
	return p, r.Body
}

// walkStrings calls fn with every string (keys included) anywhere in v.
func walkStrings(v any, fn func(string)) {
	switch x := v.(type) {
	case string:
		fn(x)
	case []any:
		for _, e := range x {
			walkStrings(e, fn)
		}
	case map[string]any:
		for k, e := range x {
			fn(k)
			walkStrings(e, fn)
		}
	}
}

func TestSecurityEvents(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		op := testkit.StartOIDC(t)
		if _, err := e.IdP.Create(t.Context(), account.Operator(), idp.ProviderInput{Name: "Mock Login", Slug: "mock", Enabled: true,
			ClientID: op.ClientID(), ClientSecret: op.ClientSecret(), IssuerURL: op.Issuer(), Scopes: "openid profile email"}); err != nil {
			t.Fatal(err)
		}
		tom := e.CreateUser("tom", false)
		e.CreateUser("bob", false)
		var secrets []string // everything that must never appear
		keep := func(s ...string) {
			for _, v := range s {
				if v != "" {
					secrets = append(secrets, v)
				}
			}
		}
		keep(httpapitest.Password, "Wr0ng!guess-tom", op.ClientSecret())

		// Bob acts from his own browser, which tom's history must never show.
		bob := e.NewClient("web")
		bob.UA = "BobBrowser/9.9 (BobOS)"
		bob.MustLogin("bob")
		// A failure on tom's account is tom's, whoever tried.
		guess := e.NewClient("web")
		guess.UA = "Guesser/1.0"
		guess.Login("tom", "Wr0ng!guess-other")
		keep("Wr0ng!guess-other")

		c := e.NewClient("web")
		c.UA = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
		if r := c.Login("tom", "Wr0ng!guess-tom"); r.Status != 401 {
			t.Fatalf("wrong password: %d", r.Status)
		}
		first := c.MustLogin("tom")
		keep(c.Cookie("endurain_access_token"), c.Cookie("endurain_refresh_token"), c.Cookie("endurain_csrf_token"))
		secret, codes := enableMFA(t, e, c)
		keep(secret)
		keep(codes...)

		// A mobile sign-in with a backup code; its tokens are secrets too.
		m := e.NewClient("mobile")
		m.UA = "curl/8.5.0"
		e.Clock.Advance(time.Minute)
		pw, verify := mfaLogin(t, m, "tom", codes[0])
		if verify.Status != 200 {
			t.Fatalf("backup code sign-in: %d %s", verify.Status, verify.Body)
		}
		var ticket struct {
			T string `json:"mfa_ticket"`
		}
		json.Unmarshal(pw.Body, &ticket)
		keep(ticket.T, m.Access, m.Refresh)
		// And a TOTP one, then a refresh (new tokens) for good measure.
		e.Clock.Advance(time.Minute)
		code := totp(t, secret, e.Clock.Now())
		keep(code)
		w := e.NewClient("web")
		if _, v := mfaLogin(t, w, "tom", code); v.Status != 200 {
			t.Fatalf("totp sign-in: %d %s", v.Status, v.Body)
		}
		w.RefreshNow()
		keep(w.Cookie("endurain_access_token"), w.Cookie("endurain_refresh_token"))

		// An SSO sign-in names its provider: link first (MFA is on, so the
		// SSO sign-in finishes with a code).
		e.Clock.Advance(time.Minute)
		if _, err := e.Store.DB().Exec(`DELETE FROM mfa_factors WHERE user_id = $1`, tom.ID); err != nil {
			t.Fatal(err)
		}
		op.QueueUser("sub-tom", "tom-idp", "tom@idp.example", true)
		var pid int64
		e.Store.DB().QueryRow(`SELECT id FROM identity_providers WHERE slug = 'mock'`).Scan(&pid)
		if dest := ssoFlow(t, op, c, fmt.Sprintf("/api/v1/profile/idp/%d/link", pid)); dest.Query().Get("idp_link") != "success" {
			t.Fatalf("link: %s", dest)
		}
		op.QueueUser("sub-tom", "tom-idp", "tom@idp.example", true)
		s := e.NewClient("web")
		dest := ssoFlow(t, op, s, "/api/v1/public/idp/login/mock")
		if dest.Query().Get("sso") != "success" {
			t.Fatalf("sso: %s", dest)
		}
		ssoSession := dest.Query().Get("session_id")
		keep(s.Cookie("endurain_access_token"), s.Cookie("endurain_refresh_token"))
		// The backup-code session ends.
		if r := c.Do("DELETE", "/api/v1/profile/sessions/"+url.PathEscape(sessionOf(t, e, m)), nil); r.Status != 200 {
			t.Fatalf("revoke: %d %s", r.Status, r.Body)
		}

		all, raw := getEvents(t, c, "?limit=100")
		if all.NextBefore != nil {
			t.Fatalf("one page expected: %s", raw)
		}
		var n int
		e.Store.DB().QueryRow(`SELECT COUNT(*) FROM security_events WHERE user_id = $1`, tom.ID).Scan(&n)
		if len(all.Events) != n || n < 10 {
			t.Fatalf("%d events answered, %d recorded", len(all.Events), n)
		}

		// Nothing secret, nothing of bob's, anywhere in the answer.
		var doc any
		json.Unmarshal(raw, &doc)
		walkStrings(doc, func(v string) {
			for _, s := range secrets {
				if strings.Contains(v, s) || (len(v) >= 8 && strings.Contains(s, v)) {
					t.Errorf("secret %q shows in %q", s, v)
				}
			}
			if strings.Contains(v, "Bob") || strings.Contains(v, "bob") {
				t.Errorf("bob's event shows: %q", v)
			}
		})
		for _, s := range secrets {
			if strings.Contains(string(raw), s) {
				t.Errorf("secret %q in the body", s)
			}
		}

		// Newest first; the types and the facts of each are right.
		byType := map[string][]map[string]any{}
		for i, ev := range all.Events {
			if i > 0 && ev["id"].(float64) >= all.Events[i-1]["id"].(float64) {
				t.Fatalf("not newest first at %d", i)
			}
			byType[ev["type"].(string)] = append(byType[ev["type"].(string)], ev)
		}
		logins := byType[account.EventLogin]
		if len(logins) != 4 {
			t.Fatalf("%d logins: %s", len(logins), raw)
		}
		want := []struct {
			method, provider, session string
			active, current           bool
			browser                   string
		}{
			{"sso", "Mock Login", ssoSession, true, false, "Chrome"},
			{"password+totp", "", "", true, false, "Chrome"},
			{"password+backup_code", "", "", false, false, ""},
			{"password", "", first, true, true, "Firefox"},
		}
		for i, w := range want {
			l := logins[i]
			if l["method"] != w.method || (l["provider"] != nil || w.provider != "") && l["provider"] != w.provider ||
				l["session_active"] != w.active || l["current"] != w.current {
				t.Errorf("login %d: %v, want %+v", i, l, w)
			}
			if w.session != "" && l["session_id"] != w.session {
				t.Errorf("login %d session %v, want %s", i, l["session_id"], w.session)
			}
			if w.browser != "" {
				d, _ := l["device"].(map[string]any)
				if d == nil || d["browser"] != w.browser || d["operating_system"] != "Linux" || l["ip_address"] != "127.0.0.1" {
					t.Errorf("login %d device: %v", i, l)
				}
			}
		}
		// curl is no browser: the raw agent stands in for the device.
		if l := logins[2]; l["device"] != nil || l["user_agent"] != "curl/8.5.0" {
			t.Errorf("unrecognised device: %v", l)
		}
		failed := byType[account.EventLoginFailed]
		if len(failed) != 2 || failed[0]["reason"] != "wrong_password" || failed[0]["device"].(map[string]any)["browser"] != "Firefox" ||
			failed[1]["user_agent"] != "Guesser/1.0" {
			t.Errorf("failed sign-ins: %v", failed)
		}
		for _, typ := range []string{account.EventMFAEnabled, account.EventBackupCodeUsed, account.EventIdPLinked, account.EventIdPLogin, account.EventSessionRevoked} {
			if len(byType[typ]) != 1 {
				t.Errorf("%d %s events", len(byType[typ]), typ)
			}
		}
		// The user's own factor changes say from where, as sign-ins do.
		if ev := byType[account.EventMFAEnabled]; len(ev) == 1 {
			if d, _ := ev[0]["device"].(map[string]any); d == nil || d["browser"] == nil || ev[0]["ip_address"] != "127.0.0.1" {
				t.Errorf("mfa_enabled without its client: %v", ev[0])
			}
		}
		if ev := byType[account.EventIdPLinked]; len(ev) == 1 && ev[0]["provider"] != "Mock Login" {
			t.Errorf("idp_linked: %v", ev[0])
		}
		if ev := byType[account.EventBackupCodeUsed]; len(ev) == 1 && ev[0]["count"] != 9.0 {
			t.Errorf("backup_code_used: %v", ev[0])
		}

		// Pages of 3 walk the same list, each event once.
		var paged []float64
		query := "?limit=3"
		for pages := 0; ; pages++ {
			p, _ := getEvents(t, c, query)
			if len(p.Events) > 3 || pages > n {
				t.Fatalf("page %d has %d events", pages, len(p.Events))
			}
			for _, ev := range p.Events {
				paged = append(paged, ev["id"].(float64))
			}
			if p.NextBefore == nil {
				break
			}
			query = fmt.Sprintf("?limit=3&before=%d", int64(*p.NextBefore))
		}
		if len(paged) != n {
			t.Fatalf("paged %d events, want %d", len(paged), n)
		}
		for i, ev := range all.Events {
			if paged[i] != ev["id"] {
				t.Fatalf("page order differs at %d", i)
			}
		}
		// Bob sees his own, and only his.
		bp, braw := getEvents(t, bob, "")
		if len(bp.Events) != 1 || bp.Events[0]["type"] != "login" || strings.Contains(string(braw), "Firefox") {
			t.Fatalf("bob's history: %s", braw)
		}
		// Bad paging is a 422 naming the parameter.
		for _, q := range []string{"?limit=0", "?limit=101", "?limit=x", "?before=0", "?before=-4", "?before=1e3"} {
			r := c.Do("GET", "/api/v1/profile/security-events"+q, nil)
			if r.Status != 422 || !strings.Contains(string(r.Body), strings.Split(strings.TrimPrefix(q, "?"), "=")[0]) {
				t.Errorf("%s: %d %s", q, r.Status, r.Body)
			}
		}
		if r := e.NewClient("web").Do("GET", "/api/v1/profile/security-events", nil); r.Status != 401 {
			t.Errorf("anonymous: %d", r.Status)
		}
	})
}

// sessionOf finds the id of the session c signed in with, as its owner's list shows it.
func sessionOf(t *testing.T, e *httpapitest.Env, c *httpapitest.Client) string {
	t.Helper()
	r := c.Do("GET", "/api/v1/profile/sessions", nil)
	var list []map[string]any
	json.Unmarshal(r.Body, &list)
	for _, s := range list {
		if s["current"] == true {
			return s["id"].(string)
		}
	}
	t.Fatalf("no current session: %s", r.Body)
	return ""
}

// A session whose agent names no known browser or OS lists the agent itself,
// shortened; recognised ones do not repeat it.
func TestSessionsShowUnrecognisedAgent(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		e.CreateUser("uma", false)
		odd := e.NewClient("mobile")
		odd.UA = "TrailSync/" + strings.Repeat("x", 200)
		odd.MustLogin("uma")
		c := e.NewClient("web")
		c.MustLogin("uma")
		var list []map[string]any
		json.Unmarshal(c.Do("GET", "/api/v1/profile/sessions", nil).Body, &list)
		if len(list) != 2 {
			t.Fatalf("%d sessions", len(list))
		}
		for _, s := range list {
			ua, _ := s["user_agent"].(string)
			if s["current"] == true && ua != "" {
				t.Errorf("a Chrome session repeats its agent: %q", ua)
			}
			if s["current"] == false && (!strings.HasPrefix(ua, "TrailSync/xxx") || len([]rune(ua)) != 120 || !strings.HasSuffix(ua, "…")) {
				t.Errorf("unrecognised agent shown as %q", ua)
			}
		}
	})
}
