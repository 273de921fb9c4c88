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

// page is one console page: its template and its script.
type page struct {
	Title  string
	Nav    string // which navigation entry is current; empty on the sign-in page
	Script string // file under /static/
	tmpl   *template.Template
}

// console serves the embedded pages and static files.
type console struct {
	cfg    Config
	pages  map[string]*page
	static http.Handler
}

// New returns the handler for everything trailpass serves that is not the JSON
// API, /healthz, /readyz or /user_images/: the console, or with cfg.WebDir the
// single-page app from that directory. Mount it as the fallback of the API mux.
// It panics if cfg.WebDir cannot be opened, as a misconfiguration at start-up.
func New(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.WebDir != "" {
		h, err := newSPA(cfg)
		if err != nil {
			panic("webui: " + err.Error())
		}
		return h
	}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	c := &console{cfg: cfg, static: http.StripPrefix("/static/", http.FileServerFS(sub)), pages: map[string]*page{
		"/login":            {Title: "Sign in", Script: "login.js"},
		"/account":          {Title: "Profile", Nav: "profile", Script: "account.js"},
		"/account/security": {Title: "Security", Nav: "security", Script: "security.js"},
		"/account/data":     {Title: "Your data", Nav: "data", Script: "data.js"},
		"/admin":            {Title: "Administration", Nav: "admin", Script: "admin.js"},
	}}
	files := map[string]string{"/login": "login.html", "/account": "account.html", "/account/security": "security.html",
		"/account/data": "data.html", "/admin": "admin.html"}
	for path, p := range c.pages {
		p.tmpl = template.Must(template.New("layout.html").ParseFS(templateFS, "templates/layout.html", "templates/"+files[path]))
	}
	return c
}

// ServeHTTP routes console requests.
func (c *console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
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
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	if err := p.tmpl.Execute(w, p); err != nil {
		c.cfg.Logger.ErrorContext(r.Context(), "render page", "path", path, "err", err)
	}
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
