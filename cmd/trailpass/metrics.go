package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/trailpass/trailpass/internal/metrics"
)

// serveMetrics serves GET /metrics alone on addr (TRAILPASS_METRICS_LISTEN), so
// operators can keep it off the public listener, and with withPprof also
// /debug/pprof (TRAILPASS_PPROF). The returned func stops it.
func serveMetrics(addr string, withPprof bool, logger *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("TRAILPASS_METRICS_LISTEN: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Default.Handler())
	if withPprof {
		// Registered by hand: importing net/http/pprof also adds these to
		// http.DefaultServeMux, which no listener of ours serves.
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	// No WriteTimeout: a CPU profile streams for as long as it was asked to run.
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	logger.Info("metrics listening", "addr", ln.Addr().String(), "pprof", withPprof)
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}
