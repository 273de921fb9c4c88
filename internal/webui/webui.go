package webui

import (
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// ContentSecurityPolicy is sent with every console response. It has no
// 'unsafe-inline': pages carry no inline script or style, so an injected one
// cannot run.
const ContentSecurityPolicy = "default-src 'self'; img-src 'self' data: blob:; script-src 'self'; style-src 'self'; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"

// Config holds the plain values the console needs.
type Config struct {
	// PublicURL is the URL users reach trailpass at; the SPA's env.js points the
	// app at it. Nil means relative to the request's host.
	PublicURL *url.URL
	// Logger receives errors that the user cannot act on; nil discards them.
	Logger *slog.Logger
	// WebDir, when set, is a directory holding a prebuilt single-page app that is
	// served instead of the console.
	WebDir string
}

// OwnPrefix is where trailpass serves its own pages and assets in every mode,
// also when WebDir serves another app: no route of Endurain's web app starts
// with it.
const OwnPrefix = "/trailpass/"

// MFAPath is trailpass's MFA page, where an SSO sign-in of an account with MFA
// continues before it ends on the app's /login?sso=success.
const MFAPath = OwnPrefix + "mfa"

// page is one console page: its template and its script.
type page struct {
	Title  string
	Nav    string // which navigation entry is current; empty on the sign-in page
	Script string // file under Assets
	Assets string // URL prefix of the static files
	tmpl   *template.Template
}

// console serves the embedded pages and static files.
type console struct {
	cfg    Config
	pages  map[string]*page
	own    *ownPages
	static http.Handler
}

// ownPages serves what trailpass needs in front of any web app: its MFA page
// and the static files under OwnPrefix.
type ownPages struct {
	cfg    Config
	mfa    *page
	static http.Handler
}

// New returns the handler for everything trailpass serves that is not the JSON
// API, /healthz, /readyz or /user_images/: the console, or with cfg.WebDir the
// single-page app from that directory. Either way trailpass's own pages under
// OwnPrefix are served too. Mount it as the fallback of the API mux. It panics
// if cfg.WebDir cannot be opened, as a misconfiguration at start-up.
func New(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	own := &ownPages{cfg: cfg, static: http.StripPrefix(OwnPrefix+"static/", http.FileServerFS(sub)),
		mfa: parsePage(&page{Title: "Verify sign-in", Script: "mfa.js", Assets: OwnPrefix + "static/"}, "mfa.html")}
	if cfg.WebDir != "" {
		h, err := newSPA(cfg, own)
		if err != nil {
			panic("webui: " + err.Error())
		}
		return h
	}
	c := &console{cfg: cfg, own: own, static: http.StripPrefix("/static/", http.FileServerFS(sub)), pages: map[string]*page{
		"/login":            parsePage(&page{Title: "Sign in", Script: "login.js"}, "login.html"),
		"/forgot-password":  parsePage(&page{Title: "Forgot password?", Script: "recovery.js"}, "forgot.html"),
		"/reset-password":   parsePage(&page{Title: "Set a new password", Script: "recovery.js"}, "reset.html"),
		"/signup":           parsePage(&page{Title: "Create an account", Script: "recovery.js"}, "signup.html"),
		"/verify-email":     parsePage(&page{Title: "Verify your email", Script: "recovery.js"}, "verify.html"),
		"/account":          parsePage(&page{Title: "Profile", Nav: "profile", Script: "account.js"}, "account.html"),
		"/account/security": parsePage(&page{Title: "Security", Nav: "security", Script: "security.js"}, "security.html"),
		"/account/data":     parsePage(&page{Title: "Your data", Nav: "data", Script: "data.js"}, "data.html"),
		"/admin":            parsePage(&page{Title: "Administration", Nav: "admin", Script: "admin.js"}, "admin.html"),
	}}
	return c
}

func parsePage(p *page, file string) *page {
	if p.Assets == "" {
		p.Assets = "/static/"
	}
	p.tmpl = template.Must(template.New("layout.html").ParseFS(templateFS, "templates/layout.html", "templates/"+file))
	return p
}

// setPageHeaders sets the headers of every console response.
func setPageHeaders(h http.Header) {
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
}

// ServeHTTP serves a request under OwnPrefix.
func (o *ownPages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setPageHeaders(w.Header())
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeJSONStatus(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	if strings.HasPrefix(r.URL.Path, OwnPrefix+"static/") {
		w.Header().Set("Cache-Control", "public, max-age=300")
		o.static.ServeHTTP(w, r)
		return
	}
	if strings.TrimSuffix(r.URL.Path, "/") != MFAPath {
		writeNotFound(w)
		return
	}
	o.cfg.render(w, r, o.mfa)
}

func (cfg Config) render(w http.ResponseWriter, r *http.Request, p *page) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	if err := p.tmpl.Execute(w, p); err != nil {
		cfg.Logger.ErrorContext(r.Context(), "render page", "path", r.URL.Path, "err", err)
	}
}

// ServeHTTP routes console requests.
func (c *console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, OwnPrefix) {
		c.own.ServeHTTP(w, r)
		return
	}
	h := w.Header()
	setPageHeaders(h)
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeNotFound(w)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/static/") {
		// Assets change with the binary; a short cache keeps upgrades visible.
		h.Set("Cache-Control", "public, max-age=300")
		c.static.ServeHTTP(w, r)
		return
	}
	if r.URL.Path == "/favicon.ico" {
		// Browsers ask for it on every page whatever the page links.
		h.Set("Cache-Control", "public, max-age=86400")
		h.Set("Content-Type", "image/x-icon")
		http.ServeFileFS(w, r, staticFS, "static/favicon.ico")
		return
	}
	path := strings.TrimSuffix(r.URL.Path, "/")
	if path == "" {
		// The cookie only hints; the page's own API calls decide, and send a
		// stale session to /login.
		target := "/login"
		if hasCookie(r, "endurain_access_token") || hasCookie(r, "endurain_refresh_token") {
			target = "/account"
		}
		http.Redirect(w, r, target, http.StatusFound)
		return
	}
	if path == "/settings" {
		// Endurain's link callback lands on /settings?tab=security&idp_link=...
		target := "/account"
		if r.URL.Query().Get("tab") == "security" {
			target = "/account/security"
			if r.URL.RawQuery != "" {
				target += "?" + r.URL.RawQuery
			}
		}
		http.Redirect(w, r, target, http.StatusFound)
		return
	}
	p, ok := c.pages[path]
	if !ok {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte("404 page not found\n"))
		return
	}
	c.cfg.render(w, r, p)
}

func hasCookie(r *http.Request, name string) bool {
	c, err := r.Cookie(name)
	return err == nil && c.Value != ""
}

// writeNotFound answers 404 with the API's JSON error shape, so clients can
// always read a detail.
func writeNotFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	w.Write([]byte(`{"detail":"Not Found"}` + "\n"))
}
