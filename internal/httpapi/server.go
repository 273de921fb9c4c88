package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/admin"
	"github.com/trailpass/trailpass/internal/auth"
	"github.com/trailpass/trailpass/internal/fitness"
	"github.com/trailpass/trailpass/internal/idp"
	"github.com/trailpass/trailpass/internal/metrics"
	"github.com/trailpass/trailpass/internal/mfa"
	"github.com/trailpass/trailpass/internal/passkey"
	"github.com/trailpass/trailpass/internal/portability"
	"github.com/trailpass/trailpass/internal/profile"
	"github.com/trailpass/trailpass/internal/signup"
)

// Readiness reports whether the service can take traffic.
type Readiness interface {
	Ready(ctx context.Context) error
}

// Config carries the plain values the server needs from the configuration.
type Config struct {
	PublicURL      *url.URL
	TrustedProxies []netip.Prefix
	// UploadStall is how long a request body may go without delivering
	// bodyChunk bytes before the read fails with 408 (default 30 s).
	UploadStall time.Duration
}

// Server is the HTTP front of trailpass. app.New fills its fields, then the
// caller calls Handler. Every field is required but Fallback and Metrics
// (optional, as documented on them) and the Config details.
type Server struct {
	Config   Config
	Logger   *slog.Logger
	Ready    Readiness
	Accounts *account.Service
	Auth     *auth.Service
	Profiles *profile.Service
	Admin    *admin.Service
	Settings *account.SettingsService
	MFA      *mfa.Service
	IdP      *idp.Service
	// Passkeys registers passkeys and runs their ceremonies.
	Passkeys *passkey.Service
	Exporter *portability.Exporter
	// Notifications serves the web app's notification bell.
	Notifications fitness.NotificationStore
	// Fallback serves every path no API route matches (the console, or a
	// prebuilt single-page app); nil answers 404.
	Fallback http.Handler
	Events   account.EventStore
	// Importer restores profile archives (POST /api/v1/profile/import).
	Importer *portability.Importer
	// Recovery resets forgotten passwords by email; Mail tells whether mail can
	// be sent at all.
	Recovery *account.RecoveryService
	Mail     account.Mailer
	// NoticeSettings keeps whether the user wants new-device notices.
	NoticeSettings *account.NoticeSettings
	// SignUps lets people create accounts as the server settings allow.
	SignUps *signup.Service
	Now     func() time.Time
	// Metrics, when set, counts every request (see metrics.go).
	Metrics *metrics.Metrics
	// ServeMetrics also serves Metrics at GET /metrics on this handler.
	ServeMetrics bool

	mux      *http.ServeMux
	patterns []string

	openapiOnce sync.Once
	openapi     []byte
}

// Handler returns the server's root handler with every middleware applied.
func (s *Server) Handler() http.Handler {
	if s.Now == nil {
		s.Now = time.Now
	}
	s.mux = http.NewServeMux()
	s.routes()
	s.mountMetrics()
	var h http.Handler = s.mux
	h = s.csrf(h)
	h = s.crossOrigin(h)
	h = s.securityHeaders(h)
	h = s.recoverPanics(h)
	h = s.logRequests(h)
	h = s.instrument(h)
	h = s.withClient(h)
	h = s.requestID(h)
	h = s.bodyDeadline(h)
	return h
}
