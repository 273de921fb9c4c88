package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/auth"
	"github.com/trailpass/trailpass/internal/blob"
	"github.com/trailpass/trailpass/internal/httpapi"
	"github.com/trailpass/trailpass/internal/idp"
	"github.com/trailpass/trailpass/internal/mfa"
	"github.com/trailpass/trailpass/internal/portability"
	"github.com/trailpass/trailpass/internal/secret"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

// testEnv is a real trailpass server over a real database, reached over HTTP.
type testEnv struct {
	t        *testing.T
	URL      string
	Store    *store.Store
	Clock    *testkit.Clock
	Accounts *account.Service
	Auth     *auth.Service
	Server   *httpapi.Server
	Profiles *account.ProfileService
	MFA      *mfa.Service
	IdP      *idp.Service
	Blobs    *blob.Dir
	Keyring  *secret.Keyring
	Logs     *bytes.Buffer
}

// cheapHasher keeps tests fast; production parameters are tested in secret.
func cheapHasher() *secret.Hasher {
	return secret.NewHasher(secret.Argon2Params{Memory: 1024, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, 4)
}

// newEnv starts a server on b's database. configure may adjust the server before
// it starts serving.
func newEnv(t *testing.T, b testkit.Backend, configure ...func(*testEnv)) *testEnv {
	t.Helper()
	st := testkit.OpenStore(t, b)
	clock := testkit.NewClock(time.Now().UTC().Truncate(time.Second))
	logs := &bytes.Buffer{}
	logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	hasher := cheapHasher()
	e := &testEnv{t: t, Store: st, Clock: clock, Logs: logs}
	e.Accounts = &account.Service{Store: st, Hasher: hasher, Now: clock.Now}
	e.Auth = &auth.Service{Store: st, Users: st, Hasher: hasher, Events: st, Logger: logger, Now: clock.Now,
		Throttle: &auth.Throttle{Store: st, Now: clock.Now}}
	srv := httptest.NewUnstartedServer(nil)
	e.URL = "http://" + srv.Listener.Addr().String()
	pub, _ := url.Parse(e.URL)
	blobs, err := blob.OpenDir(filepath.Join(b.DataDir, "files"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	e.Blobs = blobs
	e.Keyring, _ = secret.NewKeyring(make([]byte, 32))
	throttle := &auth.Throttle{Store: st, Now: clock.Now}
	e.Profiles = &account.ProfileService{Store: st, Blobs: blobs, Events: st, Hasher: hasher, Now: clock.Now}
	e.MFA = &mfa.Service{Store: st, Events: st, Keyring: e.Keyring, Hasher: hasher, Throttle: throttle, Issuer: "Trailpass", Now: clock.Now}
	e.IdP = &idp.Service{Store: st, Accounts: e.Accounts, Events: st, Keyring: e.Keyring, PublicURL: pub, Now: clock.Now}
	e.Auth.MFA = e.MFA
	exporter := &portability.Exporter{Store: st, Blobs: blobs, Now: clock.Now, Version: "test"}
	e.Server = &httpapi.Server{Config: httpapi.Config{PublicURL: pub}, Logger: logger, Ready: st,
		Accounts: e.Accounts, Auth: e.Auth, Profiles: e.Profiles, Admin: &account.AdminService{Store: st, Accounts: e.Accounts}, MFA: e.MFA, IdP: e.IdP, Exporter: exporter, Events: st, Now: clock.Now}
	for _, c := range configure {
		c(e)
	}
	srv.Config.Handler = e.Server.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return e
}

// lockedWriter serialises log writes from concurrent requests.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

const testPassword = "Test!Passw0rd"

// createUser makes an active account with testPassword.
func (e *testEnv) createUser(username string, admin bool) *account.User {
	e.t.Helper()
	u, err := e.Accounts.CreateUser(context.Background(), account.NewUser{Username: username, Email: username + "@example.com", Password: testPassword, Admin: admin})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// client is one browser (web: a cookie jar) or one app (mobile: bearer tokens).
type client struct {
	e       *testEnv
	http    *http.Client
	ct      string
	access  string
	refresh string
	ip      string // sent as X-Forwarded-For (ignored unless the peer is trusted)
	ua      string
}

func (e *testEnv) newClient(ct string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, ct: ct, ua: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *client) cookie(name string) string {
	u, _ := url.Parse(c.e.URL)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// response is a finished HTTP exchange.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r *response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

func (r *response) detail() string {
	var m map[string]any
	json.Unmarshal(r.Body, &m)
	s, _ := m["detail"].(string)
	return s
}

// do sends a request as this client: its client type, its tokens, and for web
// unsafe methods the CSRF header copied from the cookie, as the web app does.
func (c *client) do(method, path string, body any, hdr ...string) *response {
	c.e.t.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, ctype = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	case []byte:
		rd, ctype = bytes.NewReader(b), "application/json"
	case string:
		rd, ctype = strings.NewReader(b), "application/json"
	default:
		j, _ := json.Marshal(b)
		rd, ctype = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, c.e.URL+path, rd)
	if err != nil {
		c.e.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.ct != "" {
		req.Header.Set("X-Client-Type", c.ct)
	}
	req.Header.Set("User-Agent", c.ua)
	if c.ip != "" {
		req.Header.Set("X-Forwarded-For", c.ip)
	}
	if c.ct == "mobile" && c.access != "" {
		req.Header.Set("Authorization", "Bearer "+c.access)
	}
	if c.ct == "web" && method != http.MethodGet {
		if v := c.cookie("endurain_csrf_token"); v != "" {
			req.Header.Set("X-CSRF-Token", v)
		}
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return &response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// login signs the client in with a password (no MFA) and keeps mobile tokens.
func (c *client) login(username, password string) *response {
	c.e.t.Helper()
	r := c.do("POST", "/api/v1/token", url.Values{"grant_type": {"password"}, "username": {username}, "password": {password}})
	c.keepTokens(r)
	return r
}

func (c *client) keepTokens(r *response) {
	if c.ct == "mobile" && r.Status == 200 {
		var m map[string]any
		json.Unmarshal(r.Body, &m)
		if a, ok := m["access_token"].(string); ok {
			c.access, c.refresh = a, m["refresh_token"].(string)
		}
	}
}

// mustLogin signs in and fails the test unless it worked.
func (c *client) mustLogin(username string) string {
	c.e.t.Helper()
	r := c.login(username, testPassword)
	if r.Status != 200 {
		c.e.t.Fatalf("login %s: %d %s", username, r.Status, r.Body)
	}
	return r.json(c.e.t)["session_id"].(string)
}

// refreshAs calls /refresh; mobile clients send the refresh token as bearer.
func (c *client) refreshNow() *response {
	c.e.t.Helper()
	hdr := []string{}
	if c.ct == "mobile" {
		hdr = []string{"Authorization", "Bearer " + c.refresh}
	}
	r := c.do("POST", "/api/v1/refresh", nil, hdr...)
	c.keepTokens(r)
	return r
}
