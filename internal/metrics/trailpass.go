// Package metrics holds trailpass's Prometheus metrics, built with the
// ecosystem's client library (github.com/prometheus/client_golang).
package metrics

import (
	"database/sql"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
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
	Registry *prometheus.Registry

	// Requests counts finished HTTP requests by method, route pattern and status.
	Requests *prometheus.CounterVec
	// Latency is the request duration by method and route pattern.
	Latency *prometheus.HistogramVec
	// Auth counts sign-in steps (password, mfa, stepup) by outcome.
	Auth *prometheus.CounterVec
	// Transfers counts exports and imports by kind and result.
	Transfers *prometheus.CounterVec
	// TransferBytes counts the archive bytes exported and imported, by kind.
	TransferBytes *prometheus.CounterVec
	// TransferDuration is the duration of successful exports and imports, by kind.
	TransferDuration *prometheus.HistogramVec
	// Mail counts outbox deliveries by result (sent, retry, failed).
	Mail *prometheus.CounterVec

	// requests caches each request series' children, so the hot path is one
	// lock-free map read instead of hashing label values on every request.
	requests sync.Map // requestKey -> *requestSeries
	handler  http.Handler

	mu     sync.Mutex
	db     *sql.DB
	readDB *sql.DB
}

type requestKey struct {
	method, route string
	status        int
}

type requestSeries struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

// New returns a fresh set of trailpass metrics on its own registry, with the
// Go runtime and process collectors Prometheus users expect.
func New() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{Registry: r}
	m.Requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trailpass_http_requests_total", Help: "HTTP requests by method, route pattern and status code."}, []string{"method", "route", "status"})
	m.Latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "trailpass_http_request_duration_seconds", Help: "HTTP request latency by method and route pattern.", Buckets: httpBuckets}, []string{"method", "route"})
	m.Auth = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trailpass_auth_attempts_total", Help: "Sign-in steps by step (password, mfa, stepup) and outcome (success, failure, locked)."}, []string{"step", "outcome"})
	m.Transfers = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trailpass_transfers_total", Help: "Exports and imports by kind (export, import) and result (ok, error)."}, []string{"kind", "result"})
	m.TransferBytes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trailpass_transfer_bytes_total", Help: "Archive bytes written by exports and read by imports."}, []string{"kind"})
	m.TransferDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "trailpass_transfer_duration_seconds", Help: "Duration of successful exports and imports.", Buckets: transferBuckets}, []string{"kind"})
	m.Mail = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trailpass_mail_total", Help: "Outbox delivery attempts by result: sent, retry (will be tried again), failed (given up)."}, []string{"result"})
	for _, result := range []string{"sent", "retry", "failed"} {
		m.Mail.WithLabelValues(result) // exposed at 0, so an alert on "failed" has a series from the start
	}
	r.MustRegister(m.Requests, m.Latency, m.Auth, m.Transfers, m.TransferBytes, m.TransferDuration, m.Mail,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// The write pool keeps the names it always had; the read pool (SQLite's
	// read-only pool of the hot reads; on PostgreSQL the same pool) gets its own.
	for _, pool := range []struct {
		prefix string
		db     func() *sql.DB
	}{
		{"trailpass_db_", func() *sql.DB { return m.db }},
		{"trailpass_db_read_", func() *sql.DB { return m.readDB }},
	} {
		stats := func(f func(sql.DBStats) float64) func() float64 {
			return func() float64 {
				m.mu.Lock()
				db := pool.db()
				m.mu.Unlock()
				if db == nil {
					return 0
				}
				return f(db.Stats())
			}
		}
		gauge := func(name, help string, f func(sql.DBStats) float64) {
			r.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: pool.prefix + name, Help: help}, stats(f)))
		}
		counter := func(name, help string, f func(sql.DBStats) float64) {
			r.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: pool.prefix + name, Help: help}, stats(f)))
		}
		gauge("connections_max", "Maximum open database connections allowed.", func(s sql.DBStats) float64 { return float64(s.MaxOpenConnections) })
		gauge("connections_open", "Open database connections.", func(s sql.DBStats) float64 { return float64(s.OpenConnections) })
		gauge("connections_in_use", "Database connections in use.", func(s sql.DBStats) float64 { return float64(s.InUse) })
		gauge("connections_idle", "Idle database connections.", func(s sql.DBStats) float64 { return float64(s.Idle) })
		counter("wait_total", "Times a request waited for a free database connection.", func(s sql.DBStats) float64 { return float64(s.WaitCount) })
		counter("wait_seconds_total", "Time spent waiting for a free database connection.", func(s sql.DBStats) float64 { return s.WaitDuration.Seconds() })
	}

	// Text format 0.0.4 unless the scraper asks for protobuf; no OpenMetrics.
	m.handler = promhttp.HandlerFor(r, promhttp.HandlerOpts{})
	return m
}

// ObserveDB makes the pool statistics of db (trailpass_db_*) and of readDB,
// the pool of the hot reads (trailpass_db_read_*), part of the metrics,
// replacing any pools observed before. readDB may be db itself.
func (m *Metrics) ObserveDB(db, readDB *sql.DB) {
	m.mu.Lock()
	m.db, m.readDB = db, readDB
	m.mu.Unlock()
}

// ObserveRequest records one finished HTTP request. route must be a route
// pattern, never a raw path, so ids do not explode the number of series.
func (m *Metrics) ObserveRequest(method, route string, status int, d time.Duration) {
	k := requestKey{method, route, status}
	v, ok := m.requests.Load(k)
	if !ok {
		v, _ = m.requests.LoadOrStore(k, &requestSeries{
			count:   m.Requests.WithLabelValues(method, route, strconv.Itoa(status)),
			latency: m.Latency.WithLabelValues(method, route),
		})
	}
	s := v.(*requestSeries)
	s.count.Inc()
	s.latency.Observe(d.Seconds())
}

// MailResult counts one outbox delivery attempt: sent, retry or failed.
func (m *Metrics) MailResult(result string) { m.Mail.WithLabelValues(result).Inc() }

// AuthOutcome counts one sign-in step (password, mfa, stepup) with an outcome.
func (m *Metrics) AuthOutcome(step, outcome string) { m.Auth.WithLabelValues(step, outcome).Inc() }

// ExportDone records a finished export of n archive bytes that took d.
func (m *Metrics) ExportDone(n int64, d time.Duration) { m.transferDone("export", n, d) }

// ImportDone records a finished import of n archive bytes that took d.
func (m *Metrics) ImportDone(n int64, d time.Duration) { m.transferDone("import", n, d) }

// ExportFailed counts an export that did not complete.
func (m *Metrics) ExportFailed() { m.Transfers.WithLabelValues("export", "error").Inc() }

// ImportFailed counts an import that did not complete.
func (m *Metrics) ImportFailed() { m.Transfers.WithLabelValues("import", "error").Inc() }

func (m *Metrics) transferDone(kind string, n int64, d time.Duration) {
	m.Transfers.WithLabelValues(kind, "ok").Inc()
	if n > 0 {
		m.TransferBytes.WithLabelValues(kind).Add(float64(n))
	}
	m.TransferDuration.WithLabelValues(kind).Observe(d.Seconds())
}

// Handler serves the metrics in the Prometheus text exposition format.
func (m *Metrics) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		m.handler.ServeHTTP(w, r)
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
