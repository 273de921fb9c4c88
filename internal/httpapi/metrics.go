package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/trailpass/trailpass/internal/metrics"
)

// authSteps names the sign-in step each authentication route is, for the
// outcome counters; they are read from the status so no service imports metrics.
var authSteps = map[string]string{
	"POST /api/v1/token":              "password",
	"POST /api/v1/mfa/verify":         "mfa",
	"POST /api/v1/profile/mfa/verify": "stepup",
}

// instrument records every request in s.Metrics by route pattern and status. It
// must run inside requestID (which copies the request) and outside everything
// else, so it sees the r.Pattern the mux sets on the same request.
func (s *Server) instrument(next http.Handler) http.Handler {
	if s.Metrics == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		s.Metrics.ObserveRequest(r.Method, routeLabel(r.Pattern), status, time.Since(start))
		if step, ok := authSteps[r.Pattern]; ok {
			switch status {
			case http.StatusOK, http.StatusAccepted:
				s.Metrics.AuthOutcome(step, metrics.OutcomeSuccess)
			case http.StatusBadRequest, http.StatusUnauthorized:
				s.Metrics.AuthOutcome(step, metrics.OutcomeFailure)
			case http.StatusTooManyRequests:
				s.Metrics.AuthOutcome(step, metrics.OutcomeLocked)
			}
		}
	})
}

// routeLabel is the path part of a route pattern; requests no route matched
// share one label so scanners cannot create series.
func routeLabel(pattern string) string {
	if pattern == "" {
		return "unmatched"
	}
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		return pattern[i+1:]
	}
	return pattern
}

// mountMetrics serves GET /metrics on this handler when ServeMetrics is set;
// otherwise the path answers a JSON 404 here (not a web page), since the
// metrics live on their own listener.
func (s *Server) mountMetrics() {
	if s.Metrics != nil && s.ServeMetrics {
		s.handle("GET /metrics", s.Metrics.Handler().ServeHTTP)
		return
	}
	s.handle("GET /metrics", notFound)
}
