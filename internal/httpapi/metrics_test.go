package httpapi_test

import (
	"strings"
	"testing"

	"github.com/trailpass/trailpass/internal/httpapi/httpapitest"

	"github.com/trailpass/trailpass/internal/metrics"
	"github.com/trailpass/trailpass/internal/testkit"
)

// The middleware counts requests by route pattern (never the raw path), and the
// sign-in outcomes by status, and /metrics serves them in the text format.
func TestMetrics_RoutesAndSignInOutcomes(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		m := metrics.New()
		e := httpapitest.New(t, b, func(e *httpapitest.Env) {
			e.Server.Metrics = m
			e.Server.ServeMetrics = true
			m.ObserveDB(e.Store.DB(), e.Store.ReadDB())
		})
		e.CreateUser("rider", false)
		c := e.NewClient("mobile")
		if r := c.Login("rider", "wrong-password"); r.Status != 401 {
			t.Fatalf("bad login: %d %s", r.Status, r.Body)
		}
		sid := c.MustLogin("rider")
		if r := c.Do("DELETE", "/api/v1/profile/sessions/"+sid, nil); r.Status >= 500 {
			t.Fatalf("revoke: %d", r.Status)
		}
		c.Do("GET", "/api/v1/nothing-here/12345", nil)

		r := e.NewClient("").Do("GET", "/metrics", nil)
		if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
			t.Fatalf("GET /metrics: %d %s", r.Status, r.Header.Get("Content-Type"))
		}
		text := string(r.Body)
		samples, err := metrics.Parse(text)
		if err != nil {
			t.Fatalf("%v\n%s", err, text)
		}
		if strings.Contains(text, sid) || strings.Contains(text, "12345") {
			t.Fatal("a raw path or id leaked into a label")
		}
		want := map[string]float64{
			`trailpass_http_requests_total{method="POST",route="/api/v1/token",status="200"}`:                           1,
			`trailpass_http_requests_total{method="POST",route="/api/v1/token",status="401"}`:                           1,
			`trailpass_http_requests_total{method="DELETE",route="/api/v1/profile/sessions/{session_id}",status="200"}`: 1,
			`trailpass_http_requests_total{method="GET",route="/api/",status="404"}`:                                    1,
			`trailpass_auth_attempts_total{outcome="success",step="password"}`:                                          1,
			`trailpass_auth_attempts_total{outcome="failure",step="password"}`:                                          1,
			`trailpass_http_request_duration_seconds_count{method="POST",route="/api/v1/token"}`:                        2,
		}
		got := map[string]float64{}
		for _, s := range samples {
			got[render(s)] = s.Value
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %v, want %v", k, got[k], v)
			}
		}
		if got["trailpass_db_connections_open{}"] < 1 {
			t.Errorf("pool gauge not reported: %v", got["trailpass_db_connections_open{}"])
		}
	})
}

// Without ServeMetrics the route is not there (a separate listener serves it).
func TestMetrics_NotOnMainListenerWhenSeparate(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b, func(e *httpapitest.Env) { e.Server.Metrics = metrics.New() })
		if r := e.NewClient("").Do("GET", "/metrics", nil); r.Status != 404 {
			t.Fatalf("GET /metrics = %d, want 404", r.Status)
		}
	})
}

// render writes a sample as name{k="v",...} with sorted label names.
func render(s metrics.Sample) string {
	var keys []string
	for k := range s.Labels {
		keys = append(keys, k)
	}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if keys[j] < keys[i] {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
	}
	var b strings.Builder
	b.WriteString(s.Name + "{")
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + `="` + s.Labels[k] + `"`)
	}
	b.WriteString("}")
	return b.String()
}
