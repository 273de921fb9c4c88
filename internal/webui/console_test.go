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
