package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/trailpass/trailpass/internal/metrics"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// /metrics is on the main listener by default, and only on
// TRAILPASS_METRICS_LISTEN when that is set.
func TestServe_MetricsListener(t *testing.T) {
	base, _, stop := startServe(t, nil, "--data-dir", t.TempDir())
	get(t, base+"/healthz")
	code, text := get(t, base+"/metrics")
	if code != 200 || !strings.Contains(text, `trailpass_http_requests_total{method="GET",route="/healthz",status="200"}`) {
		t.Fatalf("main /metrics = %d\n%s", code, text)
	}
	if _, err := metrics.Parse(text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "trailpass_db_connections_max 8\n") {
		t.Errorf("pool of the SQLite store not observed:\n%s", text)
	}
	stop()

	port := freePort(t)
	base, _, _ = startServe(t, map[string]string{"TRAILPASS_METRICS_LISTEN": fmt.Sprintf("127.0.0.1:%d", port)}, "--data-dir", t.TempDir())
	if code, _ := get(t, base+"/metrics"); code != 404 {
		t.Fatalf("main /metrics with a separate listener = %d, want 404", code)
	}
	code, text = get(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if code != 200 || !strings.Contains(text, "# TYPE trailpass_http_requests_total counter") {
		t.Fatalf("metrics listener = %d\n%s", code, text)
	}
	if code, _ := get(t, fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/", port)); code != 404 {
		t.Errorf("pprof without TRAILPASS_PPROF = %d, want 404", code)
	}
}

// TRAILPASS_PPROF serves /debug/pprof on the metrics listener only, never on
// the public one.
func TestServe_PprofOnMetricsListenerOnly(t *testing.T) {
	port := freePort(t)
	base, _, _ := startServe(t, map[string]string{"TRAILPASS_METRICS_LISTEN": fmt.Sprintf("127.0.0.1:%d", port), "TRAILPASS_PPROF": "true"}, "--data-dir", t.TempDir())
	code, text := get(t, fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/", port))
	if code != 200 || !strings.Contains(text, "goroutine") {
		t.Fatalf("pprof index on the metrics listener = %d\n%s", code, text)
	}
	code, text = get(t, fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/heap?debug=1", port))
	if code != 200 || !strings.Contains(text, "heap profile") {
		t.Fatalf("heap profile = %d\n%.200s", code, text)
	}
	for _, p := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/profile?seconds=1"} {
		if code, _ := get(t, base+p); code == 200 {
			t.Errorf("public listener serves %s", p)
		}
	}
}
