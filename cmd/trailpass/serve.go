package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/trailpass/trailpass/internal/app"
	"github.com/trailpass/trailpass/internal/metrics"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/webui"
)

var timeNow = time.Now

// serve runs the HTTP server until ctx is cancelled, then lets in-flight requests
// finish and closes the database.
func (e env) serve(ctx context.Context, args []string) error {
	cfg, err := e.loadConfig(flag.NewFlagSet("serve", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	logger := newLogger(e.stderr, cfg.LogLevel)
	// Packages that log without an injected logger write the same JSON lines.
	slog.SetDefault(logger)
	// Listen before anything else so a taken port fails fast with a clear message.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("TRAILPASS_LISTEN: %w", err)
	}
	defer ln.Close()
	st, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	warnOpenDataDir(cfg.DataDir, logger)
	keyring, err := loadKeyring(cfg, logger)
	if err != nil {
		return err
	}
	if err := checkKeyring(ctx, st, keyring); err != nil {
		return err
	}
	blobs, err := openFileStore(cfg)
	if err != nil {
		return err
	}
	defer blobs.Close()
	metrics.Default.ObserveDB(st.DB(), st.ReadDB())
	a, err := newApp(cfg, st, blobs, keyring, logger, func(d *app.Deps) {
		d.Metrics, d.ServeMetrics = metrics.Default, cfg.MetricsListen == ""
		d.Fallback = webui.New(webui.Config{PublicURL: cfg.PublicURL, Logger: logger, WebDir: cfg.WebDir})
	})
	if err != nil {
		return err
	}
	if a.PasskeysErr != nil {
		logger.Warn("passkeys are disabled", "err", a.PasskeysErr)
	}
	recoverImports(ctx, a.Importer, logger)
	go recoveryLoop(ctx, a.Importer, logger)
	created, generated, err := a.Accounts.EnsureAdmin(ctx, cfg.AdminPassword)
	if err != nil {
		return err
	}
	if created && generated != "" {
		logger.Warn("created the first admin account with a generated password; it is shown only this once, change it after signing in",
			"username", "admin", "password", generated)
	} else if created {
		logger.Info("created the first admin account from TRAILPASS_ADMIN_PASSWORD", "username", "admin")
	}
	if cfg.MetricsListen != "" {
		stopMetrics, err := serveMetrics(cfg.MetricsListen, cfg.Pprof, logger)
		if err != nil {
			return err
		}
		defer stopMetrics()
	}
	go cleanupLoop(ctx, st, cfg.SecurityEventRetention, logger)
	if a.Mailer.Enabled() {
		go a.Sender().Run(ctx)
		logger.Info("mail delivery on", "smtp_host", cfg.SMTP.Host, "smtp_port", cfg.SMTP.Port, "security", cfg.SMTP.Security)
	} else {
		logger.Info("mail delivery off: password reset and email verification are unavailable (set TRAILPASS_SMTP_HOST)")
	}
	srv := newHTTPServer(a.Server.Handler())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("trailpass listening", "addr", ln.Addr().String(), "public_url", cfg.PublicURL.String(), "database", st.Dialect(), "version", Version)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: waiting for in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// The server's timeouts, variables so tests can shorten them. A request must
// send its headers within readHeaderTimeout; its body gets a read deadline
// renewed as data arrives (httpapi's bodyDeadline, for uploads of any size).
// There is no server-wide ReadTimeout on purpose: once it passed it would
// cancel the context of long bodiless requests (export, import events). A
// kept-alive connection is dropped after idleTimeout without a request.
var (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
)

// newHTTPServer returns the server for h with trailpass's timeouts, so a slow
// or stalled client cannot hold a connection for ever.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
	}
}

// warnOpenDataDir logs a warning when other users may read the data
// directory, which holds the database, the files and perhaps the master key.
func warnOpenDataDir(dir string, logger *slog.Logger) {
	if st, err := os.Stat(dir); err == nil && st.Mode().Perm()&0o077 != 0 {
		logger.Warn("the data directory is readable by other users; restrict it with chmod 700", "path", dir,
			"mode", fmt.Sprintf("%04o", st.Mode().Perm()))
	}
}

// cleanupLoop deletes expired sessions, tickets, states and counters, and
// security events older than retention, every few minutes. Every instance runs
// it; the deletes are idempotent.
func cleanupLoop(ctx context.Context, st *store.Store, retention time.Duration, logger *slog.Logger) {
	every(ctx, 5*time.Minute, func() {
		if n, err := st.DeleteExpired(ctx, timeNow()); err != nil {
			logger.Warn("cleanup of expired rows failed", "err", err)
		} else if n > 0 {
			logger.Debug("deleted expired rows", "count", n)
		}
		if n, err := st.DeleteSecurityEventsBefore(ctx, timeNow().Add(-retention)); err != nil {
			logger.Warn("pruning old security events failed", "err", err)
		} else if n > 0 {
			logger.Debug("pruned old security events", "count", n, "retention", retention.String())
		}
	})
}

// migrate applies pending migrations and exits.
func (e env) migrate(ctx context.Context, args []string) error {
	cfg, err := e.loadConfig(flag.NewFlagSet("migrate", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, newLogger(e.stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintln(e.stdout, "database is up to date")
	return nil
}
