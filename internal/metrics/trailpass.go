package metrics

import (
	"database/sql"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Latency buckets for HTTP requests, in seconds.
var httpBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Duration buckets for exports and imports, in seconds: they run long.
var transferBuckets = []float64{0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}

// Outcomes of a sign-in step, as counted by AuthOutcome.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
	OutcomeLocked  = "locked"
)

// Metrics is the set of trailpass's metrics over one registry.
type Metrics struct {
	Registry *Registry

	// Requests counts finished HTTP requests by method, route pattern and status.
	Requests *CounterVec
	// Latency is the request duration by method and route pattern.
	Latency *HistogramVec
	// Auth counts sign-in steps (password, mfa, stepup) by outcome.
	Auth *CounterVec
	// Transfers counts exports and imports by kind and result.
	Transfers *CounterVec
	// TransferBytes counts the archive bytes exported and imported, by kind.
	TransferBytes *CounterVec
	// TransferDuration is the duration of successful exports and imports, by kind.
	TransferDuration *HistogramVec
	// Mail counts outbox deliveries by result (sent, retry, failed).
	Mail *CounterVec

	mu sync.Mutex
	db *sql.DB
}

// New returns a fresh set of trailpass metrics on its own registry.
func New() *Metrics {
	r := NewRegistry()
	m := &Metrics{Registry: r}
	m.Requests = r.NewCounterVec("trailpass_http_requests_total", "HTTP requests by method, route pattern and status code.", "method", "route", "status")
	m.Latency = r.NewHistogramVec("trailpass_http_request_duration_seconds", "HTTP request latency by method and route pattern.", httpBuckets, "method", "route")
	m.Auth = r.NewCounterVec("trailpass_auth_attempts_total", "Sign-in steps by step (password, mfa, stepup) and outcome (success, failure, locked).", "step", "outcome")
	m.Transfers = r.NewCounterVec("trailpass_transfers_total", "Exports and imports by kind (export, import) and result (ok, error).", "kind", "result")
	m.TransferBytes = r.NewCounterVec("trailpass_transfer_bytes_total", "Archive bytes written by exports and read by imports.", "kind")
	m.Mail = r.NewCounterVec("trailpass_mail_total", "Outbox delivery attempts by result: sent, retry (will be tried again), failed (given up).", "result")
	m.TransferDuration = r.NewHistogramVec("trailpass_transfer_duration_seconds", "Duration of successful exports and imports.", transferBuckets, "kind")
	stats := func(f func(sql.DBStats) float64) func() float64 {
		return func() float64 {
			m.mu.Lock()
			db := m.db
			m.mu.Unlock()
			if db == nil {
				return 0
			}
			return f(db.Stats())
		}
	}
	r.NewGaugeFunc("trailpass_db_connections_max", "Maximum open database connections allowed.", stats(func(s sql.DBStats) float64 { return float64(s.MaxOpenConnections) }))
	r.NewGaugeFunc("trailpass_db_connections_open", "Open database connections.", stats(func(s sql.DBStats) float64 { return float64(s.OpenConnections) }))
	r.NewGaugeFunc("trailpass_db_connections_in_use", "Database connections in use.", stats(func(s sql.DBStats) float64 { return float64(s.InUse) }))
	r.NewGaugeFunc("trailpass_db_connections_idle", "Idle database connections.", stats(func(s sql.DBStats) float64 { return float64(s.Idle) }))
	r.NewCounterFunc("trailpass_db_wait_total", "Times a request waited for a free database connection.", stats(func(s sql.DBStats) float64 { return float64(s.WaitCount) }))
	r.NewCounterFunc("trailpass_db_wait_seconds_total", "Time spent waiting for a free database connection.", stats(func(s sql.DBStats) float64 { return s.WaitDuration.Seconds() }))
	return m
}

// ObserveDB makes the pool statistics of db part of the metrics, replacing any
// pool observed before.
func (m *Metrics) ObserveDB(db *sql.DB) {
	m.mu.Lock()
	m.db = db
	m.mu.Unlock()
}

// ObserveRequest records one finished HTTP request. route must be a route
// pattern, never a raw path, so ids do not explode the number of series.
func (m *Metrics) ObserveRequest(method, route string, status int, d time.Duration) {
	m.Requests.Inc(method, route, strconv.Itoa(status))
	m.Latency.Observe(d.Seconds(), method, route)
}

// AuthOutcome counts one sign-in step (password, mfa, stepup) with an outcome.
func (m *Metrics) AuthOutcome(step, outcome string) { m.Auth.Inc(step, outcome) }

// ExportDone records a finished export of n archive bytes that took d.
func (m *Metrics) ExportDone(n int64, d time.Duration) { m.transferDone("export", n, d) }

// ImportDone records a finished import of n archive bytes that took d.
func (m *Metrics) ImportDone(n int64, d time.Duration) { m.transferDone("import", n, d) }

// ExportFailed counts an export that did not complete.
func (m *Metrics) ExportFailed() { m.Transfers.Inc("export", "error") }

// ImportFailed counts an import that did not complete.
func (m *Metrics) ImportFailed() { m.Transfers.Inc("import", "error") }

func (m *Metrics) transferDone(kind string, n int64, d time.Duration) {
	m.Transfers.Inc(kind, "ok")
	if n > 0 {
		m.TransferBytes.Add(float64(n), kind)
	}
	m.TransferDuration.Observe(d.Seconds(), kind)
}

// Handler serves the metrics in the text exposition format.
func (m *Metrics) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		m.Registry.WriteText(w)
	})
}

// Default is the process's metrics, served by trailpass serve. The export and
// import code reports through the package-level functions below, so it need not
// be handed a *Metrics.
var Default = New()

// ExportDone records a finished export on Default.
func ExportDone(n int64, d time.Duration) { Default.ExportDone(n, d) }

// ImportDone records a finished import on Default.
func ImportDone(n int64, d time.Duration) { Default.ImportDone(n, d) }

// ExportFailed counts a failed export on Default.
func ExportFailed() { Default.ExportFailed() }

// ImportFailed counts a failed import on Default.
func ImportFailed() { Default.ImportFailed() }
