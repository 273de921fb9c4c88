package httpapi

import (
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/auth"
)

const (
	eventsPageDefault = 20
	eventsPageMax     = 100
	// ssoLoginWindow bounds how far back the idp_login that names an SSO
	// sign-in's provider may lie.
	ssoLoginWindow = 15 * time.Minute
)

// handleSecurityEvents pages through the caller's own security history, newest
// first: GET /api/v1/profile/security-events?limit=20&before=<id>.
func (s *Server) handleSecurityEvents(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	q := r.URL.Query()
	limit, before := eventsPageDefault, int64(0)
	var bad []account.FieldError
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > eventsPageMax {
			bad = append(bad, account.FieldError{In: "query", Field: "limit", Message: "Input should be an integer from 1 to 100"})
		}
		limit = n
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			bad = append(bad, account.FieldError{In: "query", Field: "before", Message: "Input should be a positive integer"})
		}
		before = n
	}
	if len(bad) > 0 {
		s.writeError(w, r, account.ValidationError(bad...))
		return
	}
	ctx := r.Context()
	list, err := s.Events.ListSecurityEventsBefore(ctx, p.User.ID, before, limit+1)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page := securityEventsPage{Events: []securityEventJSON{}}
	if len(list) > limit {
		list = list[:limit]
		next := list[limit-1].ID
		page.NextBefore = &next
	}
	live := map[string]bool{}
	if sessions, err := s.Auth.ListSessions(ctx, p.User.ID); err != nil {
		s.writeError(w, r, err)
		return
	} else {
		for _, sess := range sessions {
			live[sess.ID] = true
		}
	}
	providers := map[int64]string{}
	if all, err := s.IdP.List(ctx); err == nil {
		for _, pr := range all {
			providers[pr.ID] = pr.Name
		}
	}
	providerOf := func(e *account.SecurityEvent) string {
		if id, ok := detailInt(e.Detail, "idp_id"); ok {
			if name := providers[int64(id)]; name != "" {
				return name
			}
		}
		slug, _ := e.Detail["idp_slug"].(string)
		return slug
	}
	for _, e := range list {
		out := securityEventJSON{ID: e.ID, Type: e.Type, CreatedAt: e.CreatedAt.UTC(), IPAddress: e.IPAddress}
		if e.UserAgent != "" {
			d := auth.ParseDevice(e.IPAddress, e.UserAgent)
			if ua := unrecognisedUA(d.Browser, d.OperatingSystem, e.UserAgent); ua != "" {
				out.UserAgent = ua
			} else {
				out.Device = &eventDevice{Browser: d.Browser, BrowserVersion: d.BrowserVersion, OperatingSystem: d.OperatingSystem,
					OperatingSystemVersion: d.OperatingSystemVersion, DeviceType: d.DeviceType}
			}
		}
		switch e.Type {
		case account.EventLogin:
			out.Method = knownMethod(e.Detail)
			if sid, _ := e.Detail["session_id"].(string); sid != "" {
				out.SessionID = sid
				out.SessionActive = live[sid]
				out.Current = sid == p.Session.ID
			}
			if len(out.Method) >= 3 && out.Method[:3] == "sso" {
				// The provider is on the idp_login recorded just before.
				if prev, err := s.Events.LastSecurityEventBefore(ctx, p.User.ID, account.EventIdPLogin, e.ID); err == nil &&
					e.CreatedAt.Sub(prev.CreatedAt) <= ssoLoginWindow {
					out.Provider = providerOf(prev)
				}
			}
		case account.EventStepUp, account.EventMFADisabled, account.EventMFAReplay:
			out.Method = knownMethod(e.Detail)
		case account.EventLoginFailed:
			switch e.Detail["reason"] {
			case "wrong password":
				out.Reason = "wrong_password"
			case "inactive":
				out.Reason = "inactive"
			default:
				out.Reason = "other"
			}
		case account.EventIdPLogin, account.EventIdPLinked, account.EventIdPUnlinked:
			out.Provider = providerOf(e)
		case account.EventSessionRevoked:
			if n, ok := detailInt(e.Detail, "count"); ok {
				out.Count = &n
			}
		case account.EventMFAReset:
			if n, ok := detailInt(e.Detail, "sessions_ended"); ok {
				out.Count = &n
			}
		case account.EventBackupCodeUsed:
			if n, ok := detailInt(e.Detail, "remaining"); ok {
				out.Count = &n
			}
		}
		if e.Type == account.EventMFADisabled {
			if n, ok := detailInt(e.Detail, "sessions_ended"); ok {
				out.Count = &n
			}
		}
		page.Events = append(page.Events, out)
	}
	writeJSON(w, http.StatusOK, page)
}

// documentedMethods are the method names securityEventJSON documents: its
// enum is the one list, so the answer and the document cannot drift.
var documentedMethods = func() []string {
	f, _ := reflect.TypeFor[securityEventJSON]().FieldByName("Method")
	return strings.Split(f.Tag.Get("enum"), ",")
}()

// knownMethod returns the detail's method when it is one of the documented
// names, and "" otherwise.
func knownMethod(d map[string]any) string {
	m, _ := d["method"].(string)
	if slices.Contains(documentedMethods, m) {
		return m
	}
	return ""
}

// detailInt reads a number from an event's JSON detail.
func detailInt(d map[string]any, key string) (int, bool) {
	switch v := d[key].(type) {
	case float64:
		return int(v), true
	case int:
		return v, true
	case int64:
		return int(v), true
	}
	return 0, false
}
