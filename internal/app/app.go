// Package app is trailpass's one wiring: it builds every service once from
// plain values and connects them, so the server (cmd/trailpass), the CLI
// subcommands, the test harness (httpapitest) and the benchmarks run the same
// graph. Callers choose values, never how services are connected.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/admin"
	"github.com/trailpass/trailpass/internal/auth"
	"github.com/trailpass/trailpass/internal/blob"
	"github.com/trailpass/trailpass/internal/httpapi"
	"github.com/trailpass/trailpass/internal/idp"
	"github.com/trailpass/trailpass/internal/mail"
	"github.com/trailpass/trailpass/internal/metrics"
	"github.com/trailpass/trailpass/internal/mfa"
	"github.com/trailpass/trailpass/internal/passkey"
	"github.com/trailpass/trailpass/internal/portability"
	"github.com/trailpass/trailpass/internal/profile"
	"github.com/trailpass/trailpass/internal/secret"
	"github.com/trailpass/trailpass/internal/signup"
	"github.com/trailpass/trailpass/internal/store"
)

// Deps are the plain values the services are built from. Store, Blobs,
// Keyring, Hasher, Now, Logger and PublicURL are required; New names any
// that is missing. The rest have working zero values, noted per field.
type Deps struct {
	Store     *store.Store
	Blobs     *blob.Dir
	Keyring   *secret.Keyring
	Hasher    *secret.Hasher
	Now       func() time.Time
	Logger    *slog.Logger
	PublicURL *url.URL

	// TrustedProxies may set the client address (X-Forwarded-For).
	TrustedProxies []netip.Prefix
	// SMTP is where mail goes; a zero Host leaves mail delivery off.
	SMTP mail.SMTP
	// MFAIssuer names the server in authenticator apps; empty means "Trailpass".
	MFAIssuer string
	// RecentAuthWindow: zero means auth.DefaultRecentAuthWindow.
	RecentAuthWindow time.Duration
	// WebAuthnRPID and WebAuthnOrigins override what PublicURL implies.
	WebAuthnRPID    string
	WebAuthnOrigins []string
	// MaxImportBytes caps an uploaded archive; zero means the importer's default.
	MaxImportBytes int64
	// TempDir holds imports being unpacked; empty means os.TempDir().
	TempDir string
	// Version is written into exports.
	Version string
	// ResetFloor is the least time a reset request takes (RecoveryService.Floor).
	ResetFloor time.Duration
	// Metrics counts requests and mail results; nil counts nothing.
	Metrics *metrics.Metrics
	// ServeMetrics also serves Metrics at GET /metrics on the API's handler.
	ServeMetrics bool
	// Fallback serves what the API does not (the web pages); nil answers 404.
	Fallback http.Handler
}

// App holds every service, built once, and the HTTP server over them.
type App struct {
	Store    *store.Store
	Blobs    *blob.Dir
	Mailer   *mail.Mailer
	Throttle *auth.Throttle
	Accounts *account.Service
	Auth     *auth.Service
	MFA      *mfa.Service
	Passkeys *passkey.Service
	Profiles *profile.Service
	Admin    *admin.Service
	Settings *account.SettingsService
	IdP      *idp.Service
	Exporter *portability.Exporter
	Importer *portability.Importer
	SignUps  *signup.Service
	Recovery *account.RecoveryService
	Server   *httpapi.Server
	// PasskeysErr says why passkeys are disabled (a relying party that
	// could not be set up from PublicURL and the WebAuthn settings); nil when
	// they work. The rest of the server works either way.
	PasskeysErr error
}

// Rate limits of the account flows: reset requests per client address and per
// address asked for (known or not, so the limit is no oracle), and accounts
// created from one client address.
var (
	ResetPerAddress  = auth.RateLimit{Requests: 10, Window: 15 * time.Minute}
	ResetPerEmail    = auth.RateLimit{Requests: 3, Window: time.Hour}
	SignUpPerAddress = auth.RateLimit{Requests: 5, Window: time.Hour}
)

// DefaultResetFloor is the production ResetFloor.
const DefaultResetFloor = 300 * time.Millisecond

// NewHasher returns the production password hasher. Hashing is pure CPU, so
// more hashes at once than half the cores add no sign-in throughput: they
// only take the CPU from every other request (on 2 cores, 5 % sign-ins held
// 70 % of the CPU and pushed profile reads to p99 ≈ 200 ms). So at most half
// the cores (at least one, at most four) hash at once; memory stays bounded
// by 4 × 64 MiB even when verifying Endurain's heavier hashes.
func NewHasher() *secret.Hasher {
	return secret.NewHasher(secret.DefaultArgon2, min(4, max(1, runtime.GOMAXPROCS(0)/2)))
}

// check names the required dependencies that are missing.
func (d Deps) check() error {
	var missing []string
	for name, ok := range map[string]bool{
		"Store": d.Store != nil, "Blobs": d.Blobs != nil, "Keyring": d.Keyring != nil, "Hasher": d.Hasher != nil,
		"Now": d.Now != nil, "Logger": d.Logger != nil, "PublicURL": d.PublicURL != nil,
	} {
		if !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("app: missing dependencies: %s", strings.Join(missing, ", "))
	}
	return nil
}

// New builds every service from d and connects them.
func New(d Deps) (*App, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	st, now, logger := d.Store, d.Now, d.Logger
	issuer := d.MFAIssuer
	if issuer == "" {
		issuer = "Trailpass"
	}
	tempDir := d.TempDir
	if tempDir == "" {
		tempDir = os.TempDir()
	}
	smtp := d.SMTP
	a := &App{Store: st, Blobs: d.Blobs}
	a.Mailer = &mail.Mailer{SMTP: &smtp, Users: st, Keyring: d.Keyring, Renderer: mail.NewRenderer(),
		PublicURL: d.PublicURL, Logger: logger, Now: now}
	a.Throttle = &auth.Throttle{Store: st, Now: now}
	a.Accounts = &account.Service{Store: st, Hasher: d.Hasher, Now: now, Notices: a.Mailer}
	a.MFA = &mfa.Service{Store: st, Events: st, Keyring: d.Keyring, Hasher: d.Hasher, Throttle: a.Throttle,
		Issuer: issuer, Logger: logger, Now: now, Notices: a.Mailer}
	a.Auth = &auth.Service{Store: st, Users: st, Hasher: d.Hasher, Events: st, Logger: logger, Now: now,
		Throttle: a.Throttle, MFA: a.MFA, Settings: st, Passkeys: st, Devices: st, Notices: a.Mailer,
		SignUps: st, RecentAuthWindow: d.RecentAuthWindow}
	// Every sensitive operation checks the recent-authentication rule itself,
	// through Auth.
	a.MFA.Recent, a.Accounts.Recent = a.Auth, a.Auth
	a.Passkeys, a.PasskeysErr = passkey.New(passkey.ConfigFor(d.PublicURL, d.WebAuthnRPID, d.WebAuthnOrigins))
	pk := a.Passkeys
	pk.Store, pk.Users, pk.Auth, pk.Throttle = st, st, a.Auth, a.Throttle
	pk.Events, pk.Logger, pk.Now, pk.Notices = st, logger, now, a.Mailer
	a.Profiles = &profile.Service{Store: st, Blobs: d.Blobs, Events: st, Hasher: d.Hasher, Now: now,
		Recent: a.Auth, Lookups: a.Throttle.Limiter(auth.LookupRate), Notices: a.Mailer}
	a.IdP = &idp.Service{Store: st, Accounts: a.Accounts, Events: st, Keyring: d.Keyring, PublicURL: d.PublicURL,
		Now: now, Settings: st, Recent: a.Auth, Notices: a.Mailer}
	a.Admin = &admin.Service{Store: st, Accounts: a.Accounts, Blobs: d.Blobs, Events: st, Logger: logger,
		Recent: a.Auth, Mail: a.Mailer}
	a.Settings = &account.SettingsService{Store: st, Images: a.Profiles, Blobs: d.Blobs, Recent: a.Auth}
	a.Exporter = &portability.Exporter{Store: st, Blobs: d.Blobs, Now: now, Version: d.Version, Passkeys: st}
	a.Importer = &portability.Importer{Store: st, Profiles: st, Blobs: d.Blobs, Now: now, TempDir: tempDir,
		Limits: portability.Limits{MaxUploadBytes: d.MaxImportBytes}}
	a.SignUps = &signup.Service{Store: st, Accounts: a.Accounts, Mail: a.Mailer, Now: now,
		PerAddress: limiter{a.Throttle, SignUpPerAddress}}
	a.Recovery = &account.RecoveryService{Store: st, Mail: a.Mailer, Hasher: d.Hasher, Now: now, Floor: d.ResetFloor,
		PerAddress: limiter{a.Throttle, ResetPerAddress}, PerEmail: limiter{a.Throttle, ResetPerEmail}}
	a.Server = &httpapi.Server{
		Config:         httpapi.Config{PublicURL: d.PublicURL, TrustedProxies: d.TrustedProxies},
		Logger:         logger,
		Ready:          st,
		Accounts:       a.Accounts,
		Auth:           a.Auth,
		Profiles:       a.Profiles,
		Admin:          a.Admin,
		Settings:       a.Settings,
		MFA:            a.MFA,
		IdP:            a.IdP,
		Passkeys:       a.Passkeys,
		Exporter:       a.Exporter,
		Importer:       a.Importer,
		Notifications:  st,
		Fallback:       d.Fallback,
		Events:         st,
		Now:            now,
		Mail:           a.Mailer,
		NoticeSettings: &account.NoticeSettings{Store: st, Recent: a.Auth},
		SignUps:        a.SignUps,
		Recovery:       a.Recovery,
		Metrics:        d.Metrics,
		ServeMetrics:   d.ServeMetrics,
	}
	return a, nil
}

// Sender returns the outbox sender every instance runs while mail is on,
// counting into Deps.Metrics.
func (a *App) Sender() *mail.Sender {
	return &mail.Sender{SMTP: a.Mailer.SMTP, Outbox: a.Store, Keyring: a.Mailer.Keyring, Metrics: a.Server.Metrics,
		Logger: a.Mailer.Logger, Now: a.Mailer.Now}
}

// limiter adapts auth.Throttle with one rate to account.Limiter.
type limiter struct {
	t  *auth.Throttle
	rl auth.RateLimit
}

func (l limiter) Limit(ctx context.Context, key string) error { return l.t.Limit(ctx, key, l.rl) }
