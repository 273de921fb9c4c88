package webui_test

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailpass/trailpass/internal/webui"
)

var consolePages = []string{"/login", "/forgot-password", "/reset-password", "/signup", "/verify-email", "/account", "/account/security", "/account/data", "/admin", webui.MFAPath}

func get(t *testing.T, h http.Handler, path string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestConsolePagesCarryStrictCSP(t *testing.T) {
	h := webui.New(webui.Config{})
	for _, p := range append(consolePages, "/static/app.css", "/static/api.js", "/trailpass/static/mfa.js") {
		rec := get(t, h, p)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d", p, rec.Code)
		}
		csp := rec.Header().Get("Content-Security-Policy")
		if csp != webui.ContentSecurityPolicy {
			t.Errorf("GET %s: CSP %q", p, csp)
		}
		for _, want := range []string{"script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: CSP lacks %q", p, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("GET %s: CSP allows unsafe sources: %q", p, csp)
		}
		if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options %q", p, got)
		}
	}
}

// TestPagesHaveNoInlineCodeAndLabelEveryInput parses every page: scripts only
// by src, no style attributes or elements, no event-handler attributes, and a
// label for every form control.
func TestPagesHaveNoInlineCodeAndLabelEveryInput(t *testing.T) {
	h := webui.New(webui.Config{})
	for _, p := range consolePages {
		t.Run(strings.ReplaceAll(p, "/", "_"), func(t *testing.T) {
			rec := get(t, h, p)
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Fatalf("content type %q", ct)
			}
			dec := xml.NewDecoder(strings.NewReader(rec.Body.String()))
			dec.Strict, dec.AutoClose, dec.Entity = false, xml.HTMLAutoClose, xml.HTMLEntity
			labelFor := map[string]bool{}
			var controls []string
			var stack []string
			scripts := 0
			for {
				tok, err := dec.Token()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("parse: %v", err)
				}
				switch tk := tok.(type) {
				case xml.StartElement:
					name := strings.ToLower(tk.Name.Local)
					attrs := map[string]string{}
					for _, a := range tk.Attr {
						attrs[strings.ToLower(a.Name.Local)] = a.Value
						if strings.HasPrefix(strings.ToLower(a.Name.Local), "on") {
							t.Errorf("<%s> has an inline handler %s", name, a.Name.Local)
						}
						if strings.EqualFold(a.Name.Local, "style") {
							t.Errorf("<%s> has an inline style", name)
						}
					}
					switch name {
					case "script":
						scripts++
						if attrs["src"] == "" {
							t.Errorf("inline <script> without src")
						}
					case "style":
						t.Errorf("inline <style> element")
					case "label":
						if f := attrs["for"]; f != "" {
							labelFor[f] = true
						}
					case "input", "select", "textarea":
						inLabel := false
						for _, s := range stack {
							inLabel = inLabel || s == "label"
						}
						if !inLabel && attrs["type"] != "hidden" {
							controls = append(controls, attrs["id"])
						}
					}
					if name != "input" && name != "meta" && name != "link" && name != "img" {
						stack = append(stack, name)
					}
				case xml.EndElement:
					if len(stack) > 0 {
						stack = stack[:len(stack)-1]
					}
				case xml.CharData:
					if len(stack) > 0 && stack[len(stack)-1] == "script" && strings.TrimSpace(string(tk)) != "" {
						t.Errorf("script element with inline code")
					}
				}
			}
			if scripts < 2 {
				t.Errorf("found %d scripts, want api.js and the page's script", scripts)
			}
			for _, id := range controls {
				if id == "" || !labelFor[id] {
					t.Errorf("form control %q has no label", id)
				}
			}
		})
	}
}

func TestRootRedirectsBySessionCookie(t *testing.T) {
	h := webui.New(webui.Config{})
	if rec := get(t, h, "/"); rec.Code != http.StatusFound || rec.Header().Get("Location") != "/login" {
		t.Errorf("signed out: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	rec := get(t, h, "/", &http.Cookie{Name: "endurain_refresh_token", Value: "x"})
	if rec.Code != http.StatusFound || rec.Header().Get("Location") != "/account" {
		t.Errorf("signed in: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	rec = get(t, h, "/settings?tab=security&idp_link=success&idp_name=Acme")
	if loc := rec.Header().Get("Location"); loc != "/account/security?tab=security&idp_link=success&idp_name=Acme" {
		t.Errorf("/settings redirect: %q", loc)
	}
	if rec := get(t, h, "/nope"); rec.Code != http.StatusNotFound {
		t.Errorf("unknown page: %d", rec.Code)
	}
	if rec := get(t, h, "/api/v1/whatever"); rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), `"detail"`) {
		t.Errorf("/api path: %d %s", rec.Code, rec.Body)
	}
}

func newSPADir(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	dir := filepath.Join(base, "dist")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "assets"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "index.html"), []byte("<!doctype html><title>spa</title>"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "assets", "app-1234.js"), []byte("console.log('app')"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "env.js"), []byte("window.env = { ENDURAIN_HOST: 'http://localhost:8080' };"), 0o644))
	must(os.WriteFile(filepath.Join(base, "secret.txt"), []byte("outside"), 0o644))
	must(os.Symlink(filepath.Join(base, "secret.txt"), filepath.Join(dir, "leak.txt")))
	return dir
}

func TestWebDirServesTheSPA(t *testing.T) {
	pub, _ := url.Parse("https://fit.example.org/")
	h := webui.New(webui.Config{WebDir: newSPADir(t), PublicURL: pub})

	rec := get(t, h, "/assets/app-1234.js")
	if rec.Code != http.StatusOK || rec.Body.String() != "console.log('app')" {
		t.Errorf("asset: %d %q", rec.Code, rec.Body)
	}
	for _, route := range []string{"/", "/settings", "/activity/12", "/login?sessionExpired=true"} {
		rec := get(t, h, route)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "<title>spa</title>") {
			t.Errorf("client route %s: %d %q", route, rec.Code, rec.Body)
		}
	}
	// The generated env.js wins over the file in the directory.
	rec = get(t, h, "/env.js")
	if want := `window.env = { ENDURAIN_HOST: "https://fit.example.org" };` + "\n"; rec.Body.String() != want {
		t.Errorf("env.js = %q, want %q", rec.Body, want)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("env.js content type %q", ct)
	}
	for _, missing := range []string{"/assets/gone.js", "/favicon.ico", "/leak.txt", "/../secret.txt", "/assets/../../secret.txt"} {
		rec := get(t, h, missing)
		var body map[string]string
		if rec.Code != http.StatusNotFound || json.Unmarshal(rec.Body.Bytes(), &body) != nil || body["detail"] != "Not Found" {
			t.Errorf("GET %s: %d %q, want a JSON 404", missing, rec.Code, rec.Body)
		}
		if strings.Contains(rec.Body.String(), "outside") {
			t.Errorf("GET %s leaked a file outside the web dir", missing)
		}
	}
	if rec := get(t, h, "/api/v1/profile"); rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), "spa") {
		t.Errorf("/api path served by the SPA: %d %q", rec.Code, rec.Body)
	}
	// Trailpass's own pages come through, under the console's CSP.
	for _, p := range []string{webui.MFAPath, "/trailpass/static/app.css", "/trailpass/static/mfa.js"} {
		rec := get(t, h, p)
		if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "<title>spa</title>") || rec.Header().Get("Content-Security-Policy") != webui.ContentSecurityPolicy {
			t.Errorf("GET %s: %d %q", p, rec.Code, rec.Body)
		}
	}
	if rec := get(t, h, webui.MFAPath); !strings.Contains(rec.Body.String(), `src="/trailpass/static/mfa.js"`) {
		t.Errorf("the MFA page loads its script from elsewhere: %s", rec.Body)
	}
	if rec := get(t, h, "/trailpass/other"); rec.Code != http.StatusNotFound {
		t.Errorf("GET /trailpass/other: %d", rec.Code)
	}
	req := httptest.NewRequest(http.MethodPost, "/settings", nil)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", rec.Code)
	}
}

func TestWebDirWithoutIndexPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New accepted a web dir without index.html")
		}
	}()
	webui.New(webui.Config{WebDir: t.TempDir()})
}

// The console answers the browser's favicon request with an icon, and pages
// link the same file.
func TestFavicon(t *testing.T) {
	h := webui.New(webui.Config{})
	for _, p := range []string{"/favicon.ico", "/static/favicon.ico", "/trailpass/static/favicon.ico"} {
		rec := get(t, h, p)
		body := rec.Body.Bytes()
		if rec.Code != http.StatusOK || len(body) < 22 || string(body[:4]) != "\x00\x00\x01\x00" {
			t.Errorf("GET %s: %d, %d bytes", p, rec.Code, len(body))
		}
		if ct := rec.Header().Get("Content-Type"); ct != "image/x-icon" && ct != "image/vnd.microsoft.icon" {
			t.Errorf("GET %s: content type %q", p, ct)
		}
	}
	if body := get(t, h, "/account").Body.String(); !strings.Contains(body, `<link rel="icon" href="/static/favicon.ico"`) {
		t.Error("pages do not link the icon")
	}
}
