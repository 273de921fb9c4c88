package testkit

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
)

// OIDCProvider is a real OpenID Connect provider (oauth2-proxy/mockoidc) served
// on loopback for tests: discovery, JWKS, RS256-signed ID tokens, PKCE (plain
// and S256) and scripted users. Negative cases are produced as follows:
//   - wrong nonce: AuthorizeWith rewrites the nonce the browser sends to the
//     provider, so the signed ID token carries another nonce;
//   - tampered ID token: TamperIDTokens makes the token endpoint alter the ID
//     token's payload and keep the original signature;
//   - missing PKCE verifier: DropCodeVerifier strips code_verifier from token
//     requests, and the provider refuses the code since a challenge was sent;
//   - wrong PKCE verifier: redeem a code obtained for one flow with another
//     flow's state (an injected code), whose verifier does not match.
//
// mockoidc itself reads the client credentials from the form only
// (client_secret_post) although its discovery document advertises
// client_secret_basic too; the provider here accepts both, as real ones do,
// unless RejectBasicAuth makes it a client registered for client_secret_post.
type OIDCProvider struct {
	// Mock is the underlying server, for what the helpers do not cover.
	Mock *mockoidc.MockOIDC

	mu           sync.Mutex // serialises requests: mockoidc's session map is not synchronised
	tamper       bool
	dropVerifier bool
	rejectBasic  bool
	authMethods  []string
	tokenCalls   int
}

// StartOIDC starts a provider on 127.0.0.1 and stops it at the end of the test.
func StartOIDC(t testing.TB) *OIDCProvider {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatalf("mockoidc: %v", err)
	}
	o := &OIDCProvider{Mock: m}
	if err := m.AddMiddleware(o.middleware); err != nil {
		t.Fatalf("mockoidc middleware: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatalf("start mockoidc: %v", err)
	}
	t.Cleanup(func() { m.Shutdown() })
	return o
}

// Issuer is the issuer URL to configure (discovery is below it).
func (o *OIDCProvider) Issuer() string { return o.Mock.Issuer() }

// ClientID is the client id the provider accepts.
func (o *OIDCProvider) ClientID() string { return o.Mock.ClientID }

// ClientSecret is the client secret the provider accepts.
func (o *OIDCProvider) ClientSecret() string { return o.Mock.ClientSecret }

// QueueUser makes the next authorization sign in as this user. Without a queued
// user mockoidc signs in its default user (subject "1234567890").
func (o *OIDCProvider) QueueUser(subject, username, email string, emailVerified bool) {
	o.Mock.QueueUser(&mockoidc.MockUser{Subject: subject, PreferredUsername: username, Email: email, EmailVerified: emailVerified})
}

// TamperIDTokens makes the token endpoint return ID tokens whose payload was
// altered after signing (the email claim changes), until turned off.
func (o *OIDCProvider) TamperIDTokens(on bool) {
	o.mu.Lock()
	o.tamper = on
	o.mu.Unlock()
}

// DropCodeVerifier strips code_verifier from token requests, until turned off.
func (o *OIDCProvider) DropCodeVerifier(on bool) {
	o.mu.Lock()
	o.dropVerifier = on
	o.mu.Unlock()
}

// RejectBasicAuth makes the token endpoint refuse client_secret_basic with 401
// invalid_client, like a client registered for client_secret_post, until
// turned off.
func (o *OIDCProvider) RejectBasicAuth(on bool) {
	o.mu.Lock()
	o.rejectBasic = on
	o.mu.Unlock()
}

// AdvertiseAuthMethods sets token_endpoint_auth_methods_supported in the
// discovery document; with no methods mockoidc's own list (basic and post) is
// served.
func (o *OIDCProvider) AdvertiseAuthMethods(methods ...string) {
	o.mu.Lock()
	o.authMethods = methods
	o.mu.Unlock()
}

// UnreachableURL returns an http URL on loopback where nothing listens: the
// port was just bound and released, so a connection is refused.
func UnreachableURL(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// TokenCalls counts requests to the token endpoint.
func (o *OIDCProvider) TokenCalls() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.tokenCalls
}

func (o *OIDCProvider) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		defer o.mu.Unlock()
		if r.URL.Path == mockoidc.DiscoveryEndpoint && o.authMethods != nil {
			rewriteJSON(w, r, next, func(doc map[string]any) { doc["token_endpoint_auth_methods_supported"] = o.authMethods })
			return
		}
		if r.URL.Path != mockoidc.TokenEndpoint {
			next.ServeHTTP(w, r)
			return
		}
		o.tokenCalls++
		if user, pass, ok := r.BasicAuth(); ok {
			if o.rejectBasic {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				w.Write([]byte(`{"error":"invalid_client","error_description":"client_secret_basic is not allowed for this client"}`))
				return
			}
			// RFC 6749 2.3.1: both parts are form-encoded before base64.
			id, _ := url.QueryUnescape(user)
			sec, _ := url.QueryUnescape(pass)
			r.ParseForm()
			for _, f := range []url.Values{r.Form, r.PostForm} {
				f.Set("client_id", id)
				f.Set("client_secret", sec)
			}
			r.Header.Del("Authorization")
		}
		if o.dropVerifier {
			// Parsing first means mockoidc's own ParseForm keeps what is left.
			r.ParseForm()
			r.Form.Del("code_verifier")
			r.PostForm.Del("code_verifier")
		}
		if !o.tamper {
			next.ServeHTTP(w, r)
			return
		}
		rewriteJSON(w, r, next, func(resp map[string]any) {
			if tok, ok := resp["id_token"].(string); ok {
				resp["id_token"] = TamperJWT(tok)
			}
		})
	})
}

// rewriteJSON serves r with next and lets edit change a 200 JSON object answer.
func rewriteJSON(w http.ResponseWriter, r *http.Request, next http.Handler, edit func(map[string]any)) {
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	var resp map[string]any
	if rec.Code == http.StatusOK && json.Unmarshal(body, &resp) == nil {
		edit(resp)
		body, _ = json.Marshal(resp)
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	w.Write(body)
}

// TamperJWT changes the email claim in a JWT's payload and keeps its signature.
func TamperJWT(tok string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return tok
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return tok
	}
	var claims map[string]any
	if json.Unmarshal(payload, &claims) != nil {
		return tok
	}
	claims["email"] = "attacker@evil.example"
	claims["email_verified"] = true
	payload, _ = json.Marshal(claims)
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return strings.Join(parts, ".")
}

// Authorize plays the browser at the provider: it GETs authURL, which redirects
// at once (mockoidc signs the queued user in), and returns the code and state of
// that redirect to the callback.
func (o *OIDCProvider) Authorize(t testing.TB, authURL string) (code, state string) {
	t.Helper()
	return o.AuthorizeWith(t, authURL, nil)
}

// AuthorizeWith is Authorize after edit has changed the authorization request's
// query (for example its nonce or code_challenge).
func (o *OIDCProvider) AuthorizeWith(t testing.TB, authURL string, edit func(q url.Values)) (code, state string) {
	t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatalf("parse authorization URL: %v", err)
	}
	if edit != nil {
		q := u.Query()
		edit(q)
		u.RawQuery = q.Encode()
	}
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Get(u.String())
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		t.Fatalf("authorize: status %d: %s", resp.StatusCode, b.String())
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatalf("authorize: bad Location: %v", err)
	}
	return loc.Query().Get("code"), loc.Query().Get("state")
}
