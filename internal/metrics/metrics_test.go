package metrics

import (
	"database/sql"
	"math"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	_ "modernc.org/sqlite"
)

func scrape(t *testing.T, m *Metrics) (string, []Sample) {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Fatalf("content type %q", ct)
	}
	samples, err := Parse(rec.Body.String())
	if err != nil {
		t.Fatalf("%v\n%s", err, rec.Body.String())
	}
	return rec.Body.String(), samples
}

func find(samples []Sample, name string, labels map[string]string) (float64, bool) {
	for _, s := range samples {
		if s.Name != name || len(s.Labels) != len(labels) {
			continue
		}
		match := true
		for k, v := range labels {
			if s.Labels[k] != v {
				match = false
			}
		}
		if match {
			return s.Value, true
		}
	}
	return 0, false
}

func TestMetrics_ExpositionIsWellFormed(t *testing.T) {
	m := New()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	rdb, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	rdb.SetMaxOpenConns(3)
	m.ObserveDB(db, rdb)
	m.ObserveRequest("GET", "/api/v1/profile", 200, 3*time.Millisecond)
	m.ObserveRequest("GET", "/api/v1/profile", 200, 30*time.Millisecond)
	m.ObserveRequest("GET", "/api/v1/profile", 401, 2*time.Second)
	m.ObserveRequest("GET", "/api/v1/profile", 200, 50*time.Millisecond) // exactly a bound: le is inclusive
	m.ObserveRequest("PUT", `/odd"route\with`+"\nnewline", 500, time.Millisecond)
	m.AuthOutcome("password", OutcomeLocked)
	m.ExportDone(1500, 3*time.Second)
	m.ExportDone(500, 700*time.Millisecond)
	m.ImportFailed()

	text, samples := scrape(t, m)
	// .ci/run checks this exposition with promtool check metrics.
	if out := os.Getenv("TRAILPASS_METRICS_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{
		"# TYPE trailpass_http_requests_total counter\n",
		"# TYPE trailpass_http_request_duration_seconds histogram\n",
		`trailpass_http_requests_total{method="PUT",route="/odd\"route\\with\nnewline",status="500"} 1` + "\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"trailpass_http_requests_total", map[string]string{"method": "GET", "route": "/api/v1/profile", "status": "200"}, 3},
		{"trailpass_http_requests_total", map[string]string{"method": "GET", "route": "/api/v1/profile", "status": "401"}, 1},
		{"trailpass_http_request_duration_seconds_bucket", map[string]string{"method": "GET", "route": "/api/v1/profile", "le": "0.005"}, 1},
		{"trailpass_http_request_duration_seconds_bucket", map[string]string{"method": "GET", "route": "/api/v1/profile", "le": "0.05"}, 3},
		{"trailpass_http_request_duration_seconds_bucket", map[string]string{"method": "GET", "route": "/api/v1/profile", "le": "1"}, 3},
		{"trailpass_http_request_duration_seconds_bucket", map[string]string{"method": "GET", "route": "/api/v1/profile", "le": "+Inf"}, 4},
		{"trailpass_http_request_duration_seconds_count", map[string]string{"method": "GET", "route": "/api/v1/profile"}, 4},
		{"trailpass_auth_attempts_total", map[string]string{"step": "password", "outcome": "locked"}, 1},
		{"trailpass_transfer_bytes_total", map[string]string{"kind": "export"}, 2000},
		{"trailpass_transfers_total", map[string]string{"kind": "export", "result": "ok"}, 2},
		{"trailpass_transfers_total", map[string]string{"kind": "import", "result": "error"}, 1},
		{"trailpass_transfer_duration_seconds_count", map[string]string{"kind": "export"}, 2},
		{"trailpass_transfer_duration_seconds_bucket", map[string]string{"kind": "export", "le": "1"}, 1},
		{"trailpass_db_connections_open", map[string]string{}, 1},
		{"trailpass_db_connections_idle", map[string]string{}, 1},
		{"trailpass_db_read_connections_max", map[string]string{}, 3},
		{"trailpass_db_read_connections_open", map[string]string{}, 0},
	}
	for _, c := range checks {
		got, ok := find(samples, c.name, c.labels)
		if !ok || got != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	sum, _ := find(samples, "trailpass_http_request_duration_seconds_sum", map[string]string{"method": "GET", "route": "/api/v1/profile"})
	if math.Abs(sum-2.083) > 1e-9 {
		t.Errorf("latency sum = %v, want 2.083", sum)
	}
}

// Parse reads what Prometheus's parser reads, and refuses what it refuses.
func TestParse_RejectsMalformedExpositions(t *testing.T) {
	for name, text := range map[string]string{
		"bad value":    "# TYPE x counter\nx one\n",
		"bad escape":   "# TYPE x counter\nx{a=\"\\t\"} 1\n",
		"unterminated": "# TYPE x counter\nx{a=\"b} 1\n",
		"type twice":   "# TYPE x counter\n# TYPE x counter\nx 1\n",
	} {
		if _, err := Parse(text); err == nil {
			t.Errorf("%s: Parse accepted %q", name, text)
		}
	}
	samples, err := Parse("# HELP h a \\\\ help\n# TYPE h histogram\nh_bucket{a=\"x\",le=\"1\"} 1\nh_bucket{a=\"x\",le=\"+Inf\"} 2\nh_sum{a=\"x\"} 3\nh_count{a=\"x\"} 2\n")
	if err != nil {
		t.Fatalf("valid histogram rejected: %v", err)
	}
	for _, c := range []struct {
		name string
		le   string
		want float64
	}{{"h_bucket", "1", 1}, {"h_bucket", "+Inf", 2}, {"h_sum", "", 3}, {"h_count", "", 2}} {
		labels := map[string]string{"a": "x"}
		if c.le != "" {
			labels["le"] = c.le
		}
		if got, ok := find(samples, c.name, labels); !ok || got != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, labels, got, ok, c.want)
		}
	}
}

func TestDefault_PackageFunctionsReportOnDefault(t *testing.T) {
	before := testutil.ToFloat64(Default.Transfers.WithLabelValues("import", "ok"))
	ImportDone(42, time.Second)
	if got := testutil.ToFloat64(Default.Transfers.WithLabelValues("import", "ok")); got != before+1 {
		t.Fatalf("imports ok = %v, want %v", got, before+1)
	}
}

// The per-request cost the middleware pays.
func BenchmarkObserveRequest(b *testing.B) {
	m := New()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.ObserveRequest("GET", "/api/v1/profile", 200, 3*time.Millisecond)
		}
	})
}
