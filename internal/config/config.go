// Package config reads trailpass's configuration from TRAILPASS_* environment
// variables and their --flag twins, validates it, and hands it out as plain values.
// Flags win over environment variables; secrets may come from *_FILE variables.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/trailpass/trailpass/internal/dburl"
	"github.com/trailpass/trailpass/internal/secret"
)

// Config is the validated configuration.
type Config struct {
	Listen        string
	MetricsListen string
	// Pprof serves /debug/pprof on the metrics listener (never on the public one).
	Pprof          bool
	DataDir        string
	DatabaseURL    string
	PublicURL      *url.URL
	SecretKey      []byte // nil: use or create DataDir/secret.key
	OldSecretKeys  [][]byte
	TrustedProxies []netip.Prefix
	MFAIssuer      string
	// RecentAuthWindow is how long a sign-in or step-up allows sensitive
	// operations (password, MFA, linking, every admin write).
	RecentAuthWindow time.Duration
	AdminPassword    string
	WebDir           string
	LogLevel         string
	// MaxImportBytes caps an uploaded import archive.
	MaxImportBytes int64
	// WebAuthnRPID and WebAuthnOrigins override the passkey relying party that
	// PublicURL implies (its host name, its origin).
	WebAuthnRPID    string
	WebAuthnOrigins []string
	// SecurityEventRetention is how long security events are kept before the
	// cleanup loop deletes them.
	SecurityEventRetention time.Duration
	// SMTP is the mail server; SMTP.Host == "" means mail is off.
	SMTP SMTP
}

// SMTP holds the mail server settings (TRAILPASS_SMTP_*).
type SMTP struct {
	Host     string
	Port     int
	Username string
	Password string
	Security string // starttls, tls or none
	From     string
}

// SecretKeyFile is where the master key lives when none is configured.
func (c *Config) SecretKeyFile() string { return filepath.Join(c.DataDir, "secret.key") }

// Secure reports whether the public URL is https, which decides cookie and HSTS
// attributes.
func (c *Config) Secure() bool { return c.PublicURL.Scheme == "https" }

// option is one setting: its variable, its flag, its default.
type option struct {
	env, flag, def, usage string
	secret                bool // also read from env_FILE and --flag-file
	value                 *string
	fileValue             *string
}

func options() []*option {
	return []*option{
		{env: "TRAILPASS_LISTEN", flag: "listen", def: ":8080", usage: "address to serve HTTP on"},
		{env: "TRAILPASS_METRICS_LISTEN", flag: "metrics-listen", usage: "separate address for /metrics (default: the main listener)"},
		{env: "TRAILPASS_PPROF", flag: "pprof", def: "false", usage: "serve /debug/pprof on the metrics listener (needs TRAILPASS_METRICS_LISTEN)"},
		{env: "TRAILPASS_DATA_DIR", flag: "data-dir", def: "./data", usage: "directory for the SQLite database, files and the generated secret key"},
		{env: "TRAILPASS_DATABASE_URL", flag: "database-url", secret: true, usage: "postgres://… to use PostgreSQL (default: SQLite in the data directory)"},
		{env: "TRAILPASS_PUBLIC_URL", flag: "public-url", usage: "URL users reach trailpass at (default: http://localhost:<port>)"},
		{env: "TRAILPASS_SECRET_KEY", flag: "secret-key", secret: true, usage: "master key, 32 bytes as hex or base64 (default: generated into the data directory)"},
		{env: "TRAILPASS_OLD_SECRET_KEYS", flag: "old-secret-keys", secret: true, usage: "comma-separated retired master keys, still accepted for decryption"},
		{env: "TRAILPASS_TRUSTED_PROXIES", flag: "trusted-proxies", usage: "comma-separated IPs or CIDRs whose X-Forwarded-For is believed"},
		{env: "TRAILPASS_MFA_ISSUER", flag: "mfa-issuer", def: "Trailpass", usage: "issuer shown in authenticator apps"},
		{env: "TRAILPASS_RECENT_AUTH_WINDOW", flag: "recent-auth-window", def: "10m", usage: "how long a sign-in or step-up allows sensitive operations, 1m to 24h"},
		{env: "TRAILPASS_ADMIN_PASSWORD", flag: "admin-password", secret: true, usage: "password of the first admin (default: generated and logged once)"},
		{env: "TRAILPASS_WEB_DIR", flag: "web-dir", usage: "serve a prebuilt single-page app (such as Endurain's) from this directory"},
		{env: "TRAILPASS_MAX_IMPORT_BYTES", flag: "max-import-bytes", def: "4294967296", usage: "largest import archive accepted, in bytes"},
		{env: "TRAILPASS_WEBAUTHN_RP_ID", flag: "webauthn-rp-id", usage: "passkey relying party ID, a domain (default: the public URL's host name)"},
		{env: "TRAILPASS_WEBAUTHN_ORIGINS", flag: "webauthn-origins", usage: "comma-separated origins passkeys are used from (default: the public URL's origin)"},
		{env: "TRAILPASS_LOG_LEVEL", flag: "log-level", def: "info", usage: "debug, info, warn or error"},
		{env: "TRAILPASS_SECURITY_EVENT_RETENTION", flag: "security-event-retention", def: "90d", usage: "how long security events are kept: days (90d) or a Go duration (2160h), at least 1h"},
		{env: "TRAILPASS_SMTP_HOST", flag: "smtp-host", usage: "mail server for password reset, verification and security notices (default: mail off)"},
		{env: "TRAILPASS_SMTP_PORT", flag: "smtp-port", def: "587", usage: "mail server port"},
		{env: "TRAILPASS_SMTP_USERNAME", flag: "smtp-username", usage: "mail server user name (default: no authentication)"},
		{env: "TRAILPASS_SMTP_PASSWORD", flag: "smtp-password", secret: true, usage: "mail server password"},
		{env: "TRAILPASS_SMTP_SECURITY", flag: "smtp-security", def: "starttls", usage: "starttls, tls (implicit TLS) or none (a local relay only)"},
		{env: "TRAILPASS_SMTP_FROM", flag: "smtp-from", usage: "sender address of trailpass's mail, such as \"Trailpass <noreply@example.org>\""},
	}
}

// Load registers the configuration flags on fs, parses args, and builds the
// configuration from flags, then environment (getenv), then defaults. Errors name
// the variable at fault.
func Load(fs *flag.FlagSet, args []string, getenv func(string) string) (*Config, error) {
	opts := options()
	for _, o := range opts {
		o.value = fs.String(o.flag, "", o.usage+" ("+o.env+")")
		if o.secret {
			o.fileValue = fs.String(o.flag+"-file", "", "read "+o.flag+" from this file ("+o.env+"_FILE)")
		}
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	get := map[string]string{}
	var errs []error
	for _, o := range opts {
		v, err := o.resolve(getenv)
		if err != nil {
			errs = append(errs, err)
		}
		get[o.env] = v
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	c := &Config{
		Listen:        get["TRAILPASS_LISTEN"],
		MetricsListen: get["TRAILPASS_METRICS_LISTEN"],
		DataDir:       get["TRAILPASS_DATA_DIR"],
		DatabaseURL:   get["TRAILPASS_DATABASE_URL"],
		MFAIssuer:     get["TRAILPASS_MFA_ISSUER"],
		AdminPassword: get["TRAILPASS_ADMIN_PASSWORD"],
		WebDir:        get["TRAILPASS_WEB_DIR"],
		LogLevel:      strings.ToLower(get["TRAILPASS_LOG_LEVEL"]),
	}
	port, err := checkListen(c.Listen)
	if err != nil {
		errs = append(errs, fmt.Errorf("TRAILPASS_LISTEN: %w", err))
	}
	if c.MetricsListen != "" {
		if _, err := checkListen(c.MetricsListen); err != nil {
			errs = append(errs, fmt.Errorf("TRAILPASS_METRICS_LISTEN: %w", err))
		}
	}
	switch v := strings.ToLower(get["TRAILPASS_PPROF"]); v {
	case "true", "1", "yes":
		c.Pprof = true
	case "false", "0", "no", "":
	default:
		errs = append(errs, fmt.Errorf("TRAILPASS_PPROF: %q is not true or false", v))
	}
	// Profiles reveal code paths and memory contents' shapes: only on the
	// operator's own listener, never on the public one.
	if c.Pprof && c.MetricsListen == "" {
		errs = append(errs, errors.New("TRAILPASS_PPROF: needs TRAILPASS_METRICS_LISTEN (profiles are never served on the public listener)"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("TRAILPASS_DATA_DIR: must not be empty"))
	}
	if _, _, err := dburl.Parse(c.DatabaseURL, c.DataDir); err != nil {
		errs = append(errs, fmt.Errorf("TRAILPASS_DATABASE_URL: %w", err))
	}
	if pub := get["TRAILPASS_PUBLIC_URL"]; pub == "" {
		c.PublicURL = &url.URL{Scheme: "http", Host: "localhost:" + port}
	} else if u, err := url.Parse(strings.TrimRight(pub, "/")); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("TRAILPASS_PUBLIC_URL: %q is not an absolute http or https URL", pub))
	} else {
		c.PublicURL = u
	}
	if k := get["TRAILPASS_SECRET_KEY"]; k != "" {
		if c.SecretKey, err = secret.ParseKey(k); err != nil {
			errs = append(errs, fmt.Errorf("TRAILPASS_SECRET_KEY: %w", err))
		}
	}
	for _, k := range splitList(get["TRAILPASS_OLD_SECRET_KEYS"]) {
		key, err := secret.ParseKey(k)
		if err != nil {
			errs = append(errs, fmt.Errorf("TRAILPASS_OLD_SECRET_KEYS: %w", err))
			break
		}
		c.OldSecretKeys = append(c.OldSecretKeys, key)
	}
	for _, p := range splitList(get["TRAILPASS_TRUSTED_PROXIES"]) {
		prefix, err := parsePrefix(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("TRAILPASS_TRUSTED_PROXIES: %q is not an IP address or CIDR", p))
			continue
		}
		c.TrustedProxies = append(c.TrustedProxies, prefix)
	}
	if d, err := time.ParseDuration(get["TRAILPASS_RECENT_AUTH_WINDOW"]); err != nil || d < time.Minute || d > 24*time.Hour {
		// Under a minute no one could finish a step-up and act; a day is no
		// longer "recent".
		errs = append(errs, fmt.Errorf("TRAILPASS_RECENT_AUTH_WINDOW: %q is not a duration between 1m and 24h", get["TRAILPASS_RECENT_AUTH_WINDOW"]))
	} else {
		c.RecentAuthWindow = d
	}
	if c.MFAIssuer == "" || strings.Contains(c.MFAIssuer, ":") {
		errs = append(errs, errors.New("TRAILPASS_MFA_ISSUER: must be non-empty and contain no colon"))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("TRAILPASS_LOG_LEVEL: %q is not one of debug, info, warn, error", c.LogLevel))
	}
	if n, err := strconv.ParseInt(get["TRAILPASS_MAX_IMPORT_BYTES"], 10, 64); err != nil || n < 1<<20 {
		errs = append(errs, fmt.Errorf("TRAILPASS_MAX_IMPORT_BYTES: %q is not a number of bytes of at least 1048576", get["TRAILPASS_MAX_IMPORT_BYTES"]))
	} else {
		c.MaxImportBytes = n
	}
	c.WebAuthnRPID = strings.ToLower(strings.TrimSpace(get["TRAILPASS_WEBAUTHN_RP_ID"]))
	if c.WebAuthnRPID != "" && (strings.ContainsAny(c.WebAuthnRPID, ":/ ") || strings.Trim(c.WebAuthnRPID, ".") != c.WebAuthnRPID) {
		errs = append(errs, fmt.Errorf("TRAILPASS_WEBAUTHN_RP_ID: %q is not a domain name", c.WebAuthnRPID))
	}
	for _, o := range splitList(get["TRAILPASS_WEBAUTHN_ORIGINS"]) {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			errs = append(errs, fmt.Errorf("TRAILPASS_WEBAUTHN_ORIGINS: %q is not an origin such as https://example.com", o))
			continue
		}
		c.WebAuthnOrigins = append(c.WebAuthnOrigins, u.Scheme+"://"+u.Host)
	}
	host := c.PublicURL
	if c.WebAuthnRPID != "" && host != nil && len(c.WebAuthnOrigins) == 0 {
		// Browsers accept an RP ID only if it is the page's host or a parent
		// domain of it.
		h := strings.ToLower(host.Hostname())
		if h != c.WebAuthnRPID && !strings.HasSuffix(h, "."+c.WebAuthnRPID) {
			errs = append(errs, fmt.Errorf("TRAILPASS_WEBAUTHN_RP_ID: %q is neither the public URL's host nor a parent domain of it", c.WebAuthnRPID))
		}
	}
	if d, err := parseRetention(get["TRAILPASS_SECURITY_EVENT_RETENTION"]); err != nil {
		errs = append(errs, fmt.Errorf("TRAILPASS_SECURITY_EVENT_RETENTION: %w", err))
	} else {
		c.SecurityEventRetention = d
	}
	if c.WebDir != "" {
		if st, err := os.Stat(filepath.Join(c.WebDir, "index.html")); err != nil || st.IsDir() {
			errs = append(errs, fmt.Errorf("TRAILPASS_WEB_DIR: %s has no index.html", c.WebDir))
		}
	}
	errs = append(errs, c.loadSMTP(get)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

func (c *Config) loadSMTP(get map[string]string) []error {
	c.SMTP = SMTP{Host: get["TRAILPASS_SMTP_HOST"], Username: get["TRAILPASS_SMTP_USERNAME"], Password: get["TRAILPASS_SMTP_PASSWORD"],
		Security: strings.ToLower(get["TRAILPASS_SMTP_SECURITY"]), From: get["TRAILPASS_SMTP_FROM"]}
	if c.SMTP.Host == "" {
		return nil
	}
	var errs []error
	port, err := strconv.Atoi(get["TRAILPASS_SMTP_PORT"])
	if err != nil || port <= 0 || port > 65535 {
		errs = append(errs, fmt.Errorf("TRAILPASS_SMTP_PORT: %q is not a port", get["TRAILPASS_SMTP_PORT"]))
	}
	c.SMTP.Port = port
	switch c.SMTP.Security {
	case "starttls", "tls", "none":
	default:
		errs = append(errs, fmt.Errorf("TRAILPASS_SMTP_SECURITY: %q is not one of starttls, tls, none", c.SMTP.Security))
	}
	if c.SMTP.From == "" {
		errs = append(errs, errors.New("TRAILPASS_SMTP_FROM: required when TRAILPASS_SMTP_HOST is set"))
	} else if _, err := mail.ParseAddress(c.SMTP.From); err != nil {
		errs = append(errs, fmt.Errorf("TRAILPASS_SMTP_FROM: %q is not a mail address", c.SMTP.From))
	}
	if (c.SMTP.Username == "") != (c.SMTP.Password == "") {
		errs = append(errs, errors.New("TRAILPASS_SMTP_USERNAME and TRAILPASS_SMTP_PASSWORD: set both or neither"))
	}
	return errs
}

// resolve picks the flag, then the flag's file, then the variable, then the
// variable's file, then the default.
func (o *option) resolve(getenv func(string) string) (string, error) {
	if *o.value != "" {
		return *o.value, nil
	}
	if o.secret {
		file, name := *o.fileValue, "--"+o.flag+"-file"
		if file == "" && getenv(o.env) != "" {
			return getenv(o.env), nil
		}
		if file == "" {
			file, name = getenv(o.env+"_FILE"), o.env+"_FILE"
		}
		if file != "" {
			data, err := os.ReadFile(file)
			if err != nil {
				return "", fmt.Errorf("%s: cannot read %s: %w", name, file, errors.Unwrap(err))
			}
			return strings.TrimSpace(string(data)), nil
		}
	}
	if v := getenv(o.env); v != "" {
		return v, nil
	}
	return o.def, nil
}

// parseRetention reads a number of days ("90d") or a Go duration ("2160h"), at
// least an hour: a shorter log would hide what a user comes to check.
func parseRetention(v string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 100*365 {
			return 0, fmt.Errorf("%q is not a number of days such as 90d", v)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			return 0, fmt.Errorf("%q is neither days (90d) nor a duration (2160h)", v)
		}
	}
	if d < time.Hour {
		return 0, fmt.Errorf("%q is shorter than an hour", v)
	}
	return d, nil
}

func checkListen(addr string) (port string, err error) {
	_, port, err = net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("%q is not a host:port address", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("%q has an invalid port", addr)
	}
	return port, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
