package webui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/trailpass/trailpass/internal/fitness"
	"github.com/trailpass/trailpass/internal/httpapi/httpapitest"
	"github.com/trailpass/trailpass/internal/testkit"
	"github.com/trailpass/trailpass/internal/webui"
)

// eachSite runs fn on a site over each database of testkit.Backends: SQLite,
// and PostgreSQL when TRAILPASS_TEST_POSTGRES_URL is set.
func eachSite(t *testing.T, fn func(t *testing.T, s *site)) {
	t.Helper()
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		env := httpapitest.New(t, b, func(e *httpapitest.Env) {
			e.Server.Fallback = webui.New(webui.Config{PublicURL: e.Server.Config.PublicURL,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		})
		fn(t, &site{env})
	})
}

// screenshots keeps the page in light and dark, on a desktop and a phone
// screen, and checks that the phone layout does not scroll sideways. It leaves
// the tab light and desktop-sized.
func screenshots(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	for _, vp := range []struct {
		name string
		w, h int64
	}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
		for _, scheme := range []string{"light", "dark"} {
			do(t, ctx, "emulate "+vp.name, chromedp.EmulateViewport(vp.w, vp.h))
			colorScheme(t, ctx, scheme)
			time.Sleep(50 * time.Millisecond)
			if vp.name == "phone" {
				if w := text(t, ctx, `String(document.documentElement.scrollWidth)`); w != "390" {
					t.Errorf("%s: page is %s px wide on a 390 px screen", name, w)
				}
			}
			screenshot(t, ctx, name+"-"+vp.name+"-"+scheme)
		}
	}
	do(t, ctx, "back to desktop", chromedp.EmulateViewport(1280, 900))
	colorScheme(t, ctx, "light")
}

func colorScheme(t *testing.T, ctx context.Context, scheme string) {
	t.Helper()
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}); err != nil {
		t.Fatalf("emulate %s: %v", scheme, err)
	}
}

// apiJSON calls the API from the page, with its cookies, and decodes the answer.
func apiJSON(t *testing.T, ctx context.Context, path string, v any) {
	t.Helper()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`fetch(%q, {headers: {'X-Client-Type': 'web'}}).then((r) => r.text())`, path),
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, raw)
	}
}

func TestBrowserGoalProgress(t *testing.T) {
	eachSite(t, func(t *testing.T, s *site) {
		hana := s.CreateUser("hana", false)
		now := s.Clock.Now().UTC()
		day := time.Date(now.Year(), now.Month(), now.Day(), 6, 0, 0, 0, time.UTC)
		run := func(distance int) *fitness.ActivityBundle {
			return &fitness.ActivityBundle{Activity: fitness.Activity{ActivityType: 1, Distance: distance, StartTime: day,
				EndTime: day.Add(time.Hour), TotalElapsedTime: "5400.0000000000", TotalTimerTime: "5400.0000000000", CreatedAt: day}}
		}
		if err := s.Store.CreateActivities(context.Background(), hana.ID, []*fitness.ActivityBundle{run(7500), run(5000)}); err != nil {
			t.Fatal(err)
		}
		ctx := newBrowser(t)
		signIn(t, ctx, s, "hana")
		waitFor(t, ctx, "no goals", `document.querySelector('#goals li.muted') !== null`)

		// Add a weekly run goal of 30 km, typed in km.
		do(t, ctx, "add goal", chromedp.SetValue(chromedp.CSS("#g-interval"), "weekly"), chromedp.SetValue(chromedp.CSS("#g-activity"), "1"),
			chromedp.SetValue(chromedp.CSS("#g-type"), "3"), chromedp.SendKeys(chromedp.CSS("#g-value"), "30\r"))
		waitFor(t, ctx, "the goal", `document.querySelectorAll('#goals progress').length === 1`)
		// A time goal of 4 h, typed in minutes.
		do(t, ctx, "add time goal", chromedp.SetValue(chromedp.CSS("#g-interval"), "monthly"), chromedp.SetValue(chromedp.CSS("#g-type"), "5"),
			chromedp.Evaluate[chromedp.Void](`document.getElementById('g-type').dispatchEvent(new Event('change'))`),
			chromedp.SendKeys(chromedp.CSS("#g-value"), "240\r"))
		waitFor(t, ctx, "two goals", `document.querySelectorAll('#goals progress').length === 2`)
		if l := text(t, ctx, `document.getElementById('g-value-label').textContent`); l != "Target (km)" {
			t.Errorf("after adding, the target label is %q", l)
		}

		var results []struct {
			GoalID   int64  `json:"goal_id"`
			Interval string `json:"interval"`
			Start    string `json:"start_date"`
			End      string `json:"end_date"`
			Pct      int64  `json:"percentage_completed"`
			Distance int64  `json:"total_distance"`
			Duration int64  `json:"total_duration"`
		}
		apiJSON(t, ctx, "/api/v1/profile/goals/results", &results)
		if len(results) != 2 {
			t.Fatalf("results: %+v", results)
		}
		for _, r := range results {
			row := fmt.Sprintf(`document.querySelector('#goals li[data-goal="%d"]')`, r.GoalID)
			bar := text(t, ctx, row+`.querySelector('progress').value + ''`)
			total := text(t, ctx, row+`.querySelector('.goal-total').dataset.total`)
			shown := text(t, ctx, row+`.innerText`)
			want := map[string][]string{
				"weekly":  {"Weekly Run distance: 30 km", "12.5 km of 30 km · 42%"},
				"monthly": {"Monthly Run time: 4 h", "3 h of 4 h · 75%"},
			}[r.Interval]
			if r.Interval == "weekly" && (r.Pct != 42 || r.Distance != 12500 || total != "12500") {
				t.Errorf("weekly: API %+v, page total %s", r, total)
			}
			if r.Interval == "monthly" && (r.Pct != 75 || r.Duration != 10800 || total != "10800") {
				t.Errorf("monthly: API %+v, page total %s", r, total)
			}
			if bar != fmt.Sprint(r.Pct) {
				t.Errorf("%s: bar at %s, API %d%%", r.Interval, bar, r.Pct)
			}
			for _, w := range want {
				if !strings.Contains(shown, w) {
					t.Errorf("%s row %q lacks %q", r.Interval, shown, w)
				}
			}
			if r.Interval == "weekly" {
				// The user's week starts on Monday (the default).
				st, _ := time.Parse(time.DateOnly, r.Start)
				en, _ := time.Parse(time.DateOnly, r.End)
				if st.Weekday() != time.Monday {
					t.Errorf("week starts %s", r.Start)
				}
				w := fmt.Sprintf("this week, %s %d", st.Format("Mon"), st.Day())
				if st.Month() != en.Month() {
					w += " " + st.Format("Jan")
				}
				w += fmt.Sprintf(" – %s %d %s", en.Format("Mon"), en.Day(), en.Format("Jan"))
				if !strings.Contains(shown, w) {
					t.Errorf("weekly row %q lacks %q", shown, w)
				}
			}
		}
		// Miles for an imperial user.
		do(t, ctx, "imperial", chromedp.SetValue(chromedp.CSS("#p-units"), "2"), chromedp.Click(chromedp.CSS(`#profile-form button[type="submit"]`)))
		waitFor(t, ctx, "miles", `document.getElementById('goals').innerText.includes('7.8 mi of 18.6 mi')`)
		do(t, ctx, "metric", chromedp.SetValue(chromedp.CSS("#p-units"), "1"), chromedp.Click(chromedp.CSS(`#profile-form button[type="submit"]`)))
		waitFor(t, ctx, "km", `document.getElementById('goals').innerText.includes('12.5 km of 30 km')`)
		do(t, ctx, "scroll to goals", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
		screenshots(t, ctx, "profile-goals")
	})
}

func TestBrowserSecurityHistory(t *testing.T) {
	eachSite(t, func(t *testing.T, s *site) {
		ivy := s.CreateUser("ivy", false)
		s.CreateUser("jack", false)
		jack := s.NewClient("web")
		jack.UA = "JackBrowser/1.0"
		jack.MustLogin("jack")

		ctx := newBrowser(t)
		signIn(t, ctx, s, "ivy")
		s.Clock.Advance(time.Second)
		guess := s.NewClient("web")
		guess.UA = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
		if r := guess.Login("ivy", "not-her-password"); r.Status != 401 {
			t.Fatalf("wrong password: %d", r.Status)
		}
		s.Clock.Advance(time.Second)
		do(t, ctx, "open security", chromedp.Navigate(s.URL+"/account/security"))
		waitFor(t, ctx, "MFA off", `!document.getElementById('mfa-off').hidden`)
		do(t, ctx, "set up", chromedp.Click(chromedp.CSS("#mfa-setup")))
		waitFor(t, ctx, "the key", `document.getElementById('mfa-secret').textContent.length > 0`)
		secret := strings.ReplaceAll(text(t, ctx, `document.getElementById('mfa-secret').textContent`), " ", "")
		do(t, ctx, "enable", chromedp.SendKeys(chromedp.CSS("#mfa-enable-code"), totp(t, secret, s.Clock.Now())+"\r"))
		waitFor(t, ctx, "the backup codes", `document.querySelectorAll('#backup-codes li').length === 10`)
		do(t, ctx, "saved them", chromedp.Click(chromedp.CSS("#backup-done")))
		waitFor(t, ctx, "the history", `document.querySelector('#history li[data-type="mfa_enabled"]') !== null`)

		types := text(t, ctx, `[...document.querySelectorAll('#history li.event')].map((li) => li.dataset.type).join(' ')`)
		if types != "mfa_enabled login_failed login" {
			t.Fatalf("history %q, want the MFA enable, the failed and the password sign-in, newest first", types)
		}
		rows := strings.Split(text(t, ctx, `[...document.querySelectorAll('#history li.event .what')].map((n) => n.textContent).join('\n')`), "\n")
		if !strings.HasPrefix(rows[0], "Two-factor authentication turned on") {
			t.Errorf("MFA row %q", rows[0])
		}
		if rows[1] != "Failed sign-in: wrong password — Firefox on Linux, 127.0.0.1" {
			t.Errorf("failed row %q", rows[1])
		}
		if !strings.HasPrefix(rows[2], "Signed in with a password — ") || !strings.HasSuffix(rows[2], ", 127.0.0.1") {
			t.Errorf("sign-in row %q", rows[2])
		}
		if cur := text(t, ctx, `document.querySelector('#history li[data-current="true"]').dataset.type`); cur != "login" {
			t.Errorf("current row is a %s", cur)
		}
		all := text(t, ctx, `document.getElementById('history').innerText`)
		for _, bad := range []string{"JackBrowser", "not-her-password", secret} {
			if strings.Contains(all, bad) {
				t.Errorf("history shows %q", bad)
			}
		}
		var mine int
		s.Store.DB().QueryRow(`SELECT COUNT(*) FROM security_events WHERE user_id = $1`, ivy.ID).Scan(&mine)
		if n := text(t, ctx, `String(document.querySelectorAll('#history li.event').length)`); n != fmt.Sprint(mine) {
			t.Errorf("%s rows, %d events of ivy's", n, mine)
		}
		screenshots(t, ctx, "security-history")

		// A sign-in elsewhere links to its session, which signs out from there.
		other := otherProfile(t, ctx)
		s.Clock.Advance(30 * time.Second)
		signInMFA(t, other, s, "ivy", totp(t, secret, s.Clock.Now()))
		do(t, ctx, "reload", chromedp.Navigate(s.URL+"/account/security"))
		waitFor(t, ctx, "the link to the session", `document.querySelector('#history li[data-type="login"] a.to-session') !== null`)
		if what := text(t, ctx, `document.querySelector('#history li[data-type="login"] .what').textContent`); !strings.HasPrefix(what, "Signed in with a password and an authenticator code — ") {
			t.Errorf("MFA sign-in row %q", what)
		}
		do(t, ctx, "follow it", chromedp.Click(chromedp.CSS(`#history a.to-session`)))
		waitFor(t, ctx, "the session focused", `document.activeElement && document.activeElement.classList.contains('session') && document.activeElement.dataset.current === 'false'`)
		do(t, ctx, "sign it out", chromedp.Evaluate[chromedp.Void](`document.activeElement.querySelector('button').click()`))
		waitFor(t, ctx, "signed out since", `document.querySelector('#history li[data-type="session_revoked"]') !== null && document.querySelector('#history li[data-type="login"]').innerText.includes('signed out since')`)
		do(t, other, "other acts", chromedp.Navigate(s.URL+"/account/security"))
		waitFor(t, other, "other sent to sign-in", `location.pathname === '/login'`)
	})
}
