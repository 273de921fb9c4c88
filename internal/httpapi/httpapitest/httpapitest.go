// Package httpapitest runs a real trailpass server (every service, a real
// database, real HTTP) for tests, and drives it as the web app or a mobile client
// would.
package httpapitest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/app"
	"github.com/trailpass/trailpass/internal/auth"
	"github.com/trailpass/trailpass/internal/blob"
	"github.com/trailpass/trailpass/internal/httpapi"
	"github.com/trailpass/trailpass/internal/idp"
	"github.com/trailpass/trailpass/internal/mail"
	"github.com/trailpass/trailpass/internal/mfa"
	"github.com/trailpass/trailpass/internal/passkey"
	"github.com/trailpass/trailpass/internal/profile"
	"github.com/trailpass/trailpass/internal/secret"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

// Env is a real trailpass server over a real database, reached over HTTP.
type Env struct {
	t        *testing.T
	URL      string
	Store    *store.Store
	Clock    *testkit.Clock
	Accounts *account.Service
	Auth     *auth.Service
	Server   *httpapi.Server
	Profiles *profile.Service
	MFA      *mfa.Service
	IdP      *idp.Service
	Passkeys *passkey.Service
	Blobs    *blob.Dir
	Keyring  *secret.Keyring
	Logs     *testkit.LogBuffer
	// Mailer renders mail; it is off until EnableMail.
	Mailer *mail.Mailer
	// SMTP is the loopback mail server after EnableMail.
	SMTP     *testkit.SMTPServer
	Recovery *account.RecoveryService
	// App is every service as the one wiring built them.
	App    *app.App
	logger *slog.Logger
	// contract checks every answer a Client receives against the served
	// OpenAPI document.
	contract contract
}

// CheapHasher keeps tests fast; production parameters are tested in secret.
func CheapHasher() *secret.Hasher {
	return secret.NewHasher(secret.Argon2Params{Memory: 1024, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, 4)
}

// New starts a server on b's database. configure may adjust the server before
// it starts serving.
func New(t *testing.T, b testkit.Backend, configure ...func(*Env)) *Env {
	t.Helper()
	st := testkit.OpenStore(t, b)
	clock := testkit.NewClock(time.Now().UTC().Truncate(time.Second))
	logs := &testkit.LogBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := &Env{t: t, Store: st, Clock: clock, Logs: logs, logger: logger}
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
	// The one wiring the server uses; only the clock and the mail transport
	// (EnableMail) are the test's.
	a, err := app.New(app.Deps{Store: st, Blobs: blobs, Keyring: e.Keyring, Hasher: CheapHasher(), Now: clock.Now,
		Logger: logger, PublicURL: pub, Version: "test", TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if a.PasskeysErr != nil {
		t.Fatal(a.PasskeysErr)
	}
	e.App = a
	e.Accounts, e.Auth, e.Server, e.Profiles, e.MFA, e.IdP = a.Accounts, a.Auth, a.Server, a.Profiles, a.MFA, a.IdP
	e.Passkeys, e.Mailer, e.Recovery = a.Passkeys, a.Mailer, a.Recovery
	for _, c := range configure {
		c(e)
	}
	srv.Config.Handler = e.Server.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return e
}

// EnableMail starts a loopback SMTP server and points the mailer at it.
func (e *Env) EnableMail() *testkit.SMTPServer {
	e.t.Helper()
	e.SMTP = testkit.StartSMTP(e.t)
	*e.Mailer.SMTP = mail.SMTP{Host: e.SMTP.Host, Port: e.SMTP.Port, Security: mail.SecurityNone, From: "Trailpass <noreply@example.com>", Timeout: 5 * time.Second}
	return e.SMTP
}

// Sender returns an outbox sender like the one every instance runs.
func (e *Env) Sender() *mail.Sender {
	return e.App.Sender()
}

// DeliverMail runs sender rounds until nothing is due and returns what the
// SMTP server holds.
func (e *Env) DeliverMail() []*testkit.Mail {
	e.t.Helper()
	s := e.Sender()
	for {
		n, err := s.Round(context.Background())
		if err != nil {
			e.t.Fatal(err)
		}
		if n == 0 {
			return e.SMTP.Messages()
		}
	}
}

// Password is the password CreateUser gives every account.
const Password = "Test!Passw0rd"

// CreateUser makes an active account with Password.
func (e *Env) CreateUser(username string, admin bool) *account.User {
	e.t.Helper()
	u, err := e.Accounts.CreateUser(context.Background(), account.NewUser{Username: username, Email: username + "@example.com", Password: Password, Admin: admin})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// Client is one browser (web: a cookie jar) or one app (mobile: bearer tokens).
type Client struct {
	e       *Env
	HTTP    *http.Client
	CT      string // X-Client-Type: "web", "mobile", anything else or ""
	Access  string // mobile tokens
	Refresh string
	IP      string // sent as X-Forwarded-For (ignored unless the peer is trusted)
	UA      string
}

func (e *Env) NewClient(ct string) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{e: e, CT: ct, UA: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		HTTP: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *Client) Cookie(name string) string {
	u, _ := url.Parse(c.e.URL)
	for _, ck := range c.HTTP.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// Response is a finished HTTP exchange.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r *Response) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

func (r *Response) Detail() string {
	var m map[string]any
	json.Unmarshal(r.Body, &m)
	s, _ := m["detail"].(string)
	return s
}

// Do sends a request as this client: its client type, its tokens, and for web
// unsafe methods the CSRF header copied from the cookie, as the web app does.
func (c *Client) Do(method, path string, body any, hdr ...string) *Response {
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
	if c.CT != "" {
		req.Header.Set("X-Client-Type", c.CT)
	}
	req.Header.Set("User-Agent", c.UA)
	if c.IP != "" {
		req.Header.Set("X-Forwarded-For", c.IP)
	}
	if c.CT == "mobile" && c.Access != "" {
		req.Header.Set("Authorization", "Bearer "+c.Access)
	}
	if c.CT == "web" && method != http.MethodGet {
		if v := c.Cookie("endurain_csrf_token"); v != "" {
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
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	return c.e.answer(req, resp)
}

// Login signs the client in with a password (no MFA) and keeps mobile tokens.
func (c *Client) Login(username, password string) *Response {
	c.e.t.Helper()
	r := c.Do("POST", "/api/v1/token", url.Values{"grant_type": {"password"}, "username": {username}, "password": {password}})
	c.KeepTokens(r)
	return r
}

func (c *Client) KeepTokens(r *Response) {
	if c.CT == "mobile" && r.Status == 200 {
		var m map[string]any
		json.Unmarshal(r.Body, &m)
		if a, ok := m["access_token"].(string); ok {
			c.Access, c.Refresh = a, m["refresh_token"].(string)
		}
	}
}

// MustLogin signs in and fails the test unless it worked.
func (c *Client) MustLogin(username string) string {
	c.e.t.Helper()
	r := c.Login(username, Password)
	if r.Status != 200 {
		c.e.t.Fatalf("login %s: %d %s", username, r.Status, r.Body)
	}
	return r.JSON(c.e.t)["session_id"].(string)
}

// RefreshNow calls /refresh; mobile clients send the refresh token as bearer.
func (c *Client) RefreshNow() *Response {
	c.e.t.Helper()
	hdr := []string{}
	if c.CT == "mobile" {
		hdr = []string{"Authorization", "Bearer " + c.Refresh}
	}
	r := c.Do("POST", "/api/v1/refresh", nil, hdr...)
	c.KeepTokens(r)
	return r
}

func (c *Client) Upload(path, field, name string, data []byte) *Response {
	c.e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile(field, name)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", c.e.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-Client-Type", c.CT)
	if c.CT == "web" {
		req.Header.Set("X-CSRF-Token", c.Cookie("endurain_csrf_token"))
	} else {
		req.Header.Set("Authorization", "Bearer "+c.Access)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	return c.e.answer(req, resp)
}

// answer reads resp and checks it against the OpenAPI document.
func (e *Env) answer(req *http.Request, resp *http.Response) *Response {
	e.t.Helper()
	b, _ := io.ReadAll(resp.Body)
	if err := e.contract.load(e.URL); err != nil {
		e.t.Errorf("OpenAPI document: %v", err) // Errorf: clients may run on other goroutines
	}
	for _, p := range e.contract.check(req.Method, req.URL.Path, resp.StatusCode, resp.Header, b) {
		e.t.Errorf("%s %s → %d: %s (OpenAPI document, internal/httpapi/wire.go)", req.Method, req.URL.Path, resp.StatusCode, p)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}
