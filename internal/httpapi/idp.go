package httpapi

import (
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/auth"
	"github.com/trailpass/trailpass/internal/idp"
)

// cookieOIDC binds an OIDC flow to the browser that started it.
const cookieOIDC = "trailpass_oidc"

// ssoMFAPage is trailpass's own MFA page (internal/webui serves it, with the
// console or with any single-page app), where an SSO sign-in of an account with
// MFA continues. Endurain's web app has no such step after SSO.
const ssoMFAPage = "/trailpass/mfa"

// linkErrorReason names, from a fixed set, why a link failed, so the console
// can explain it without showing text taken from the URL.
func linkErrorReason(err error) string {
	switch account.ErrorCode(err) {
	case account.ECONFLICT:
		return "conflict"
	case account.EFORBIDDEN:
		return "forbidden"
	}
	return "failed"
}

func (s *Server) setOIDCCookie(w http.ResponseWriter, value string) {
	http.SetCookie(w, &http.Cookie{Name: cookieOIDC, Value: value, Path: "/api/v1/", MaxAge: int(idp.StateTTL.Seconds()),
		HttpOnly: true, Secure: s.Config.PublicURL.Scheme == "https", SameSite: http.SameSiteLaxMode})
}

// redirectTo answers a browser navigation with a redirect to a path of ours.
func (s *Server) redirectTo(w http.ResponseWriter, r *http.Request, path string, q url.Values) {
	u := *s.Config.PublicURL
	u.Path = path
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusTemporaryRedirect)
}

// wantsJSON reports whether a request to a route that browsers reach by
// navigation (SSO start, callback, link start) comes from an API client instead:
// it sends X-Client-Type, which a navigation cannot, or asks for JSON and not HTML.
func wantsJSON(r *http.Request) bool {
	if r.Header.Get(headerClient) != "" {
		return true
	}
	a := r.Header.Get("Accept")
	return strings.Contains(a, "application/json") && !strings.Contains(a, "text/html")
}

// logBrowserError logs a failure answered with a redirect: a 5xx-class cause
// (unreachable provider, database) as an error, the rest as information.
func (s *Server) logBrowserError(r *http.Request, msg string, err error) {
	level := slog.LevelInfo
	if status, ok := statusOf[account.ErrorCode(err)]; !ok || status >= 500 {
		level = slog.LevelError
	}
	s.Logger.Log(r.Context(), level, msg, "err", err, "request_id", requestIDFrom(r.Context()))
}

// handlePublicIdPs: GET /api/v1/public/idp, the enabled providers for the
// sign-in page.
func (s *Server) handlePublicIdPs(w http.ResponseWriter, r *http.Request) {
	list, err := s.IdP.PublicList(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if list == nil {
		list = []idp.PublicProvider{}
	}
	writeJSON(w, http.StatusOK, list)
}

// handleSSOLogin: GET /api/v1/public/idp/login/{slug}?redirect= sends the browser
// to the provider (code flow with PKCE, state and nonce kept server-side).
//
// A browser is sent back to the login page with error=sso_failed when the sign-in
// cannot start (the provider is unknown, disabled or unreachable); an API client
// (see wantsJSON) gets the JSON error, 502 for an unreachable provider.
func (s *Server) handleSSOLogin(w http.ResponseWriter, r *http.Request) {
	authURL, binding, err := s.IdP.BeginLogin(r.Context(), r.PathValue("slug"), r.URL.Query().Get("redirect"))
	if err != nil {
		if wantsJSON(r) {
			s.writeError(w, r, err)
			return
		}
		s.logBrowserError(r, "sso start failed", err)
		s.redirectTo(w, r, "/login", url.Values{"error": {"sso_failed"}})
		return
	}
	s.setOIDCCookie(w, binding)
	http.Redirect(w, r, authURL, http.StatusTemporaryRedirect)
}

// ssoErrorCodes maps a failed sign-in's reason to the error= codes Endurain's
// login page (LoginView.vue) has messages for.
var ssoErrorCodes = map[string]string{
	"":                "sso_failed",
	idp.FailCancelled: "sso_cancelled",
	idp.FailInactive:  "sso_account_disabled",
	idp.FailNoAccount: "sso_auto_create_disabled",
}

// handleSSOCallback: GET /api/v1/public/idp/callback/{slug}. It ends every flow
// with a redirect the web app understands: signed in (/login?sso=success), linked,
// or failed. Accounts with MFA must still pass it: they go to ssoMFAPage, which
// ends on /login?sso=success like a sign-in without MFA.
func (s *Server) handleSSOCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	out, err := s.IdP.Callback(r.Context(), r.PathValue("slug"), q.Get("code"), q.Get("state"), cookieValue(r, cookieOIDC), q.Get("error"))
	s.clearCookies(w, cookieOIDC)
	linkMode := out != nil && out.Mode == idp.ModeLink
	if err != nil {
		if wantsJSON(r) {
			s.writeError(w, r, err)
			return
		}
		s.logBrowserError(r, "sso callback failed", err)
		if linkMode {
			s.redirectTo(w, r, "/settings", url.Values{"tab": {"security"}, "idp_link": {"error"}, "detail": {account.ErrorMessage(err)},
				"reason": {linkErrorReason(err)}})
			return
		}
		code := "sso_failed"
		if out != nil && ssoErrorCodes[out.Failure] != "" {
			code = ssoErrorCodes[out.Failure]
		}
		s.redirectTo(w, r, "/login", url.Values{"error": {code}})
		return
	}
	if linkMode {
		s.redirectTo(w, r, "/settings", url.Values{"tab": {"security"}, "idp_link": {"success"}, "idp_name": {out.ProviderName},
			"idp_id": {strconv.FormatInt(out.ProviderID, 10)}})
		return
	}
	u, err := s.Accounts.Store.FindUserByID(r.Context(), out.UserID)
	if err != nil {
		s.redirectTo(w, r, "/login", url.Values{"error": {"sso_failed"}})
		return
	}
	// A passkey counts as a second factor here too: the MFA page offers it.
	if on, err := s.Auth.MFAEnabled(r.Context(), u.ID); err != nil {
		s.redirectTo(w, r, "/login", url.Values{"error": {"sso_failed"}})
		return
	} else if on {
		ticket, err := s.Auth.NewLoginTicket(r.Context(), u, u.Username, auth.ClientWeb, auth.MethodSSO, s.device(r).IP)
		if err != nil {
			s.redirectTo(w, r, "/login", url.Values{"error": {"sso_failed"}})
			return
		}
		http.SetCookie(w, &http.Cookie{Name: cookieMFATicket, Value: ticket, Path: "/api/v1/", MaxAge: int(auth.TicketTTL.Seconds()),
			HttpOnly: true, Secure: s.Config.PublicURL.Scheme == "https", SameSite: http.SameSiteLaxMode})
		// The username goes along because POST /api/v1/mfa/verify wants it with
		// the ticket; the page uses it for that request only.
		q := url.Values{"username": {u.Username}}
		if out.Redirect != "" {
			q.Set("redirect", out.Redirect)
		}
		s.redirectTo(w, r, ssoMFAPage, q)
		return
	}
	tok, err := s.Auth.CreateSession(r.Context(), u, auth.MethodSSO, s.device(r))
	if err != nil {
		s.redirectTo(w, r, "/login", url.Values{"error": {"sso_failed"}})
		return
	}
	s.setAuthCookies(w, tok)
	q = url.Values{"sso": {"success"}, "session_id": {tok.SessionID}}
	if out.Redirect != "" {
		q.Set("redirect", out.Redirect)
	}
	s.redirectTo(w, r, "/login", q)
}

// handleMyIdPs: GET /api/v1/profile/idp, the caller's linked identities.
func (s *Server) handleMyIdPs(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	s.writeLinks(w, r, p.User.ID)
}

func (s *Server) writeLinks(w http.ResponseWriter, r *http.Request, userID int64) {
	links, err := s.IdP.ListLinks(r.Context(), userID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if links == nil {
		links = []*idp.Link{}
	}
	writeJSON(w, http.StatusOK, links)
}

// handleLinkIdP: GET /api/v1/profile/idp/{idp_id}/link, a browser navigation that
// starts linking after a recent step-up.
func (s *Server) handleLinkIdP(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	id, err := pathID(r, "idp_id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	authURL, binding, err := s.IdP.BeginLink(r.Context(), s.caller(r, p), p.User.ID, p.Session.ID, id)
	if account.ErrorCode(err) == account.EFORBIDDEN {
		// The step-up is missing. A navigation cannot show a JSON error well:
		// send the browser back to the security page, which prompts for it.
		s.redirectTo(w, r, "/settings", url.Values{"tab": {"security"}, "idp_link": {"error"}, "reauth_required": {"true"},
			"idp_id": {r.PathValue("idp_id")}, "detail": {account.ErrorMessage(err)}})
		return
	}
	if err != nil {
		if wantsJSON(r) {
			s.writeError(w, r, err)
			return
		}
		s.logBrowserError(r, "idp link start failed", err)
		s.redirectTo(w, r, "/settings", url.Values{"tab": {"security"}, "idp_link": {"error"}, "detail": {account.ErrorMessage(err)}})
		return
	}
	s.setOIDCCookie(w, binding)
	http.Redirect(w, r, authURL, http.StatusTemporaryRedirect)
}

// handleUnlinkIdP: DELETE /api/v1/profile/idp/{idp_id} → 204, unless it is the
// account's last way to sign in.
func (s *Server) handleUnlinkIdP(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	s.unlink(w, r, p, p.User.ID)
}

func (s *Server) unlink(w http.ResponseWriter, r *http.Request, p *auth.Principal, userID int64) {
	id, err := pathID(r, "idp_id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.IdP.Unlink(r.Context(), s.caller(r, p), userID, id); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleIdPList: GET /api/v1/idp. Admins get the configuration (never the client
// secret); everyone else the public view.
func (s *Server) handleIdPList(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	list, err := s.IdP.List(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if p.User.IsAdmin() {
		writeJSON(w, http.StatusOK, list)
		return
	}
	out := make([]publicProviderView, 0, len(list))
	for _, pr := range list {
		out = append(out, publicProviderView{ID: pr.ID, Name: pr.Name, Slug: pr.Slug, ProviderType: pr.ProviderType, Enabled: pr.Enabled, Icon: pr.Icon})
	}
	writeJSON(w, http.StatusOK, out)
}

// handleIdPTemplates: GET /api/v1/idp/templates.
func (s *Server) handleIdPTemplates(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	writeJSON(w, http.StatusOK, idp.Templates())
}

// handleIdPCreate: POST /api/v1/idp → 201.
func (s *Server) handleIdPCreate(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	var in idp.ProviderInput
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	pr, err := s.IdP.Create(r.Context(), s.caller(r, p), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, pr)
}

// handleIdPUpdate: PUT /api/v1/idp/{idp_id} changes only the fields sent, as
// Endurain does; the client secret changes only when a new one is sent.
func (s *Server) handleIdPUpdate(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	id, err := pathID(r, "idp_id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var in idp.ProviderPatch
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	pr, err := s.IdP.Update(r.Context(), s.caller(r, p), id, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pr)
}

// handleIdPDelete: DELETE /api/v1/idp/{idp_id} → 204, 409 while users are linked.
func (s *Server) handleIdPDelete(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	id, err := pathID(r, "idp_id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.IdP.Delete(r.Context(), s.caller(r, p), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleUserIdPs: GET /api/v1/users/{user_id}/identity-providers, for admins.
func (s *Server) handleUserIdPs(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	uid, err := pathUserID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeLinks(w, r, uid)
}

// handleUserIdPUnlink: DELETE /api/v1/users/{user_id}/identity-providers/{idp_id},
// for admins; the last-method guard still applies.
func (s *Server) handleUserIdPUnlink(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	uid, err := pathUserID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.unlink(w, r, p, uid)
}
