package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/auth"
	"github.com/trailpass/trailpass/internal/profile"
	"github.com/trailpass/trailpass/internal/secret"
)

// Cookie names the Endurain web app uses, plus trailpass's MFA ticket.
const (
	cookieAccess    = "endurain_access_token"
	cookieRefresh   = "endurain_refresh_token"
	cookieCSRF      = "endurain_csrf_token"
	cookieMFATicket = "trailpass_mfa_ticket"
	headerCSRF      = "X-CSRF-Token"
	headerClient    = "X-Client-Type"
)

// CSRF-exempt paths, as Endurain's middleware has them: they are reached before the
// client has a CSRF cookie, or carry their own proof.
var csrfExempt = map[string]bool{
	"/api/v1/token":                  true,
	"/api/v1/refresh":                true,
	"/api/v1/mfa/verify":             true,
	"/api/v1/password-reset/request": true,
	"/api/v1/password-reset/confirm": true,
	"/api/v1/sign-up/request":        true,
	"/api/v1/sign-up/confirm":        true,
}

// clientType returns the X-Client-Type of the request, or an EFORBIDDEN error as
// Endurain answers: "Not authenticated" when absent, "Invalid client type" when
// unknown.
func clientType(r *http.Request) (string, error) {
	switch ct := r.Header.Get(headerClient); ct {
	case auth.ClientWeb, auth.ClientMobile:
		return ct, nil
	case "":
		return "", account.Errorf(account.EFORBIDDEN, "Not authenticated")
	default:
		return "", account.Errorf(account.EFORBIDDEN, "Invalid client type")
	}
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

func cookieValue(r *http.Request, name string) string {
	if c, err := r.Cookie(name); err == nil {
		return c.Value
	}
	return ""
}

// accessToken reads the access token where the client type says it is: web
// clients only by cookie, mobile clients only by bearer header.
func accessToken(r *http.Request, ct string) string {
	if ct == auth.ClientWeb {
		return cookieValue(r, cookieAccess)
	}
	return bearer(r)
}

// refreshToken reads the refresh token; mobile clients send it as the bearer.
func refreshToken(r *http.Request, ct string) string {
	if ct == auth.ClientWeb {
		return cookieValue(r, cookieRefresh)
	}
	return bearer(r)
}

// authed wraps a handler that needs a signed-in caller.
func (s *Server) authed(h func(w http.ResponseWriter, r *http.Request, p *auth.Principal)) http.HandlerFunc {
	return s.authedAs(false, false, h)
}

// admin wraps a handler only admins may call; the role is read from the account
// on every request, never from the token.
func (s *Server) admin(h func(w http.ResponseWriter, r *http.Request, p *auth.Principal)) http.HandlerFunc {
	return s.authedAs(true, false, h)
}

// browser wraps a browser navigation (a plain GET link): the client type is
// optional and defaults to web, so the cookie is used.
func (s *Server) browser(h func(w http.ResponseWriter, r *http.Request, p *auth.Principal)) http.HandlerFunc {
	return s.authedAs(false, true, h)
}

func (s *Server) authedAs(adminOnly, navigation bool, h func(w http.ResponseWriter, r *http.Request, p *auth.Principal)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := s.requestToken(w, r, navigation)
		if !ok {
			return
		}
		p, err := s.Auth.Authenticate(r.Context(), tok)
		if !s.admitted(w, r, p, err, adminOnly) {
			return
		}
		h(w, r, p)
	}
}

// authedProfile is authed for GET /profile, the hottest read: the session
// lookup reads the profile in the same query.
func (s *Server) authedProfile(h func(w http.ResponseWriter, r *http.Request, p *auth.Principal, prof *profile.Profile)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := s.requestToken(w, r, false)
		if !ok {
			return
		}
		p, prof, err := s.Auth.AuthenticateProfile(r.Context(), tok)
		if !s.admitted(w, r, p, err, false) {
			return
		}
		h(w, r, p, prof)
	}
}

// requestToken returns the access token where the client type says it is, or
// answers the request with Endurain's error for a missing or unknown type.
func (s *Server) requestToken(w http.ResponseWriter, r *http.Request, navigation bool) (string, bool) {
	ct, err := clientType(r)
	if navigation && r.Header.Get(headerClient) == "" {
		ct, err = auth.ClientWeb, nil
	}
	if err != nil {
		s.writeError(w, r, err)
		return "", false
	}
	return accessToken(r, ct), true
}

// admitted answers the request when authentication failed or an admin is
// required and p is none, and tells whether to go on.
func (s *Server) admitted(w http.ResponseWriter, r *http.Request, p *auth.Principal, err error, adminOnly bool) bool {
	if err != nil {
		if account.ErrorCode(err) == account.EUNAUTHORIZED {
			w.Header().Set("WWW-Authenticate", "Bearer")
		}
		s.writeError(w, r, err)
		return false
	}
	if adminOnly && !p.User.IsAdmin() {
		s.writeError(w, r, account.Errorf(account.EFORBIDDEN, "Unauthorized Access - Missing permissions: admin"))
		return false
	}
	// The principal is passed as an argument; no copy of the request for a
	// context value nobody reads.
	return true
}

// csrf enforces Endurain's double-submit check for web clients on unsafe methods:
// the endurain_csrf_token cookie must equal the X-CSRF-Token header. Failure is a
// 403 with a JSON detail (Endurain let it escape as a 500).
func (s *Server) csrf(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
			// Only requests that carry a session cookie can act as a user; without
			// one (a repeated logout, say) there is nothing to forge.
			hasSession := cookieValue(r, cookieAccess) != "" || cookieValue(r, cookieRefresh) != ""
			if r.Header.Get(headerClient) == auth.ClientWeb && hasSession && !csrfExempt[r.URL.Path] {
				c, h := cookieValue(r, cookieCSRF), r.Header.Get(headerCSRF)
				if c == "" || h == "" {
					s.writeError(w, r, account.Errorf(account.EFORBIDDEN, "CSRF token missing"))
					return
				}
				if !secret.Equal(c, h) {
					s.writeError(w, r, account.Errorf(account.EFORBIDDEN, "CSRF token invalid"))
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// crossOrigin rejects unsafe requests that a browser marks as cross-site (Fetch
// metadata or Origin), whatever their client type.
func (s *Server) crossOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	if s.Config.PublicURL != nil {
		cop.AddTrustedOrigin(s.Config.PublicURL.Scheme + "://" + s.Config.PublicURL.Host)
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, account.Errorf(account.EFORBIDDEN, "Cross-origin request refused"))
	}))
	return cop.Handler(next)
}

// clientIP is the socket peer's address, or, when the peer is a trusted proxy,
// the right-most X-Forwarded-For address that is not itself a trusted proxy. A
// forged header from anyone else changes nothing.
func (s *Server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if !s.trusted(peer) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if a = a.Unmap(); !s.trusted(a) {
			return a.String()
		}
	}
	return peer.String()
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.Config.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// device describes the request's client for sessions and security events.
func (s *Server) device(r *http.Request) auth.Device {
	return auth.ParseDevice(s.clientIP(r), r.UserAgent())
}

// caller is p as the services see it, from this request's address and agent.
// The services enforce the recent-authentication rule on it.
func (s *Server) caller(r *http.Request, p *auth.Principal) *account.Caller {
	c := p.Caller()
	c.IP, c.UserAgent = s.clientIP(r), r.UserAgent()
	return c
}

// setAuthCookies hands a web client its tokens. The CSRF cookie lives as long as
// the refresh cookie: Endurain's session-only CSRF cookie vanished on browser
// restart while the refresh cookie stayed, leaving users stuck.
func (s *Server) setAuthCookies(w http.ResponseWriter, t *auth.Tokens) {
	secure := s.Config.PublicURL != nil && s.Config.PublicURL.Scheme == "https"
	set := func(name, value string, expires time.Time, httpOnly bool) {
		http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", Expires: expires,
			MaxAge: int(time.Until(expires).Seconds()), HttpOnly: httpOnly, Secure: secure, SameSite: http.SameSiteLaxMode})
	}
	set(cookieAccess, t.AccessToken, t.AccessExpiresAt, true)
	set(cookieRefresh, t.RefreshToken, t.RefreshExpiresAt, true)
	set(cookieCSRF, t.CSRFToken, t.RefreshExpiresAt, false)
}

// clearCookies expires the auth cookies.
func (s *Server) clearCookies(w http.ResponseWriter, names ...string) {
	secure := s.Config.PublicURL != nil && s.Config.PublicURL.Scheme == "https"
	for _, name := range names {
		http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, Expires: time.Unix(0, 0),
			HttpOnly: name != cookieCSRF, Secure: secure, SameSite: http.SameSiteLaxMode})
	}
}

// decodeJSON reads a JSON body of at most 1 MiB into v. Malformed input is a 422
// with a detail list, like FastAPI's.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	body := http.MaxBytesReader(w, r.Body, 1<<20)
	dec := json.NewDecoder(body)
	if err := dec.Decode(v); err != nil {
		var maxErr *http.MaxBytesError
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &maxErr):
			return account.Errorf(account.ETOOLARGE, "Request body too large")
		case errors.As(err, &typeErr):
			return account.ValidationError(account.FieldError{Field: typeErr.Field, Message: "Input should be of type " + typeErr.Type.String()})
		case errors.Is(err, io.EOF):
			return account.ValidationError(account.FieldError{Field: "body", Message: "Field required"})
		default:
			return account.ValidationError(account.FieldError{Field: "body", Message: "JSON decode error"})
		}
	}
	return nil
}
