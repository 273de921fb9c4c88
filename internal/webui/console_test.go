package webui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/trailpass/trailpass/internal/fitness"
	"github.com/trailpass/trailpass/internal/httpapi/httpapitest"
	"github.com/trailpass/trailpass/internal/seed"
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
			time.Sleep(250 * time.Millisecond) // pages redraw 150 ms after a resize
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

func TestBrowserDataSummary(t *testing.T) {
	eachSite(t, func(t *testing.T, s *site) {
		finn := s.CreateUser("finn", false)
		res, err := seed.Run(context.Background(), s.Store, s.Blobs, finn.ID, seed.Config{Activities: 9, Gear: 2, Seed: 7, Years: 2})
		if err != nil {
			t.Fatal(err)
		}
		s.user("gina")
		ctx := newBrowser(t)
		signIn(t, ctx, s, "finn")
		do(t, ctx, "listen for violations", chromedp.Navigate(s.URL+"/account/data"),
			chromedp.Evaluate[chromedp.Void](`window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective))`))
		waitFor(t, ctx, "the summary", `document.querySelectorAll('#summary-counts tr').length === 8 && document.querySelectorAll('#summary-chart rect.bar').length > 0`)
		cell := func(kind string) string {
			return text(t, ctx, fmt.Sprintf(`document.querySelector('#summary-counts tr[data-kind=%q] td.n').textContent`, kind))
		}
		for kind, want := range map[string]int{"activities": res.Activities, "laps": res.Laps, "streams": res.Streams, "gear": res.Gear,
			"weights": res.Weights, "goals": res.Goals, "photos": res.Media} {
			if got := cell(kind); got != fmt.Sprint(want) {
				t.Errorf("%s: page shows %s, the seed made %d", kind, got, want)
			}
		}
		var sum struct {
			PerMonth []struct {
				Month      string `json:"month"`
				Activities int    `json:"activities"`
			} `json:"activities_per_month"`
			First string `json:"first_activity"`
		}
		apiJSON(t, ctx, "/api/v1/profile/summary", &sum)
		bars := text(t, ctx, `[...document.querySelectorAll('#summary-chart rect.bar')].map((r) => r.dataset.month + '=' + r.dataset.count).join(' ')`)
		var want []string
		total := 0
		for _, m := range sum.PerMonth {
			want = append(want, fmt.Sprintf("%s=%d", m.Month, m.Activities))
			total += m.Activities
		}
		if bars != strings.Join(want, " ") || total != res.Activities {
			t.Errorf("chart bars %q, API %q", bars, strings.Join(want, " "))
		}
		if tall := text(t, ctx, `String([...document.querySelectorAll('#summary-chart rect.bar')].filter((r) => Number(r.getAttribute('height')) > 0).length)`); tall == "0" {
			t.Error("every bar is flat")
		}
		if r := text(t, ctx, `document.getElementById('summary-range').textContent`); !strings.HasPrefix(r, "Activities from ") {
			t.Errorf("range %q", r)
		}
		if sz := text(t, ctx, `document.getElementById('summary-size').textContent`); !strings.Contains(sz, "KB") && !strings.Contains(sz, "MB") {
			t.Errorf("size %q", sz)
		}
		if v := text(t, ctx, `JSON.stringify(window.__csp || [])`); v != "[]" {
			t.Errorf("CSP violations %s", v)
		}
		if n := text(t, ctx, `String(document.querySelectorAll('script:not([src]), [style], style').length)`); n != "0" {
			t.Errorf("%s inline scripts or styles", n)
		}
		screenshots(t, ctx, "data-summary")

		// Export, then import into gina's account: the summary shows what came in.
		dir := t.TempDir()
		if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir}); err != nil {
			t.Fatal(err)
		}
		do(t, ctx, "export", chromedp.Click(chromedp.CSS("#export")))
		waitFor(t, ctx, "the export", `document.getElementById('export-ok').textContent.includes('downloaded')`)
		var archive string
		for deadline := time.Now().Add(10 * time.Second); archive == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if m, _ := filepath.Glob(filepath.Join(dir, "*.zip")); len(m) == 1 {
				archive = m[0]
			}
		}
		if archive == "" {
			t.Fatal("no archive downloaded")
		}
		signOut(t, ctx)
		signIn(t, ctx, s, "gina")
		do(t, ctx, "open data", chromedp.Navigate(s.URL+"/account/data"))
		waitFor(t, ctx, "an empty summary", `document.getElementById('summary-range').textContent === 'No activities yet.' && document.getElementById('summary-figure').hidden`)
		do(t, ctx, "import", chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{archive}), chromedp.Click(chromedp.CSS("#import-run")))
		waitFor(t, ctx, "the summary after the import", `!document.querySelector('#summary-table th.imp').hidden && document.querySelector('#summary-counts tr[data-kind="activities"] td.n').textContent === '9'`)
		if in := text(t, ctx, `document.querySelector('#summary-counts tr[data-kind="activities"] td.in').textContent`); in != "9" {
			t.Errorf("came in: %s activities", in)
		}
		if in := text(t, ctx, `document.querySelector('#summary-counts tr[data-kind="laps"] td.in').textContent`); in != fmt.Sprint(res.Laps) {
			t.Errorf("came in: %s laps, want %d", in, res.Laps)
		}
		do(t, ctx, "top", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
		screenshots(t, ctx, "data-after-import")
	})
}
