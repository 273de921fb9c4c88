package idp

import (
	"net/url"
	"strings"
)

// MaxRedirectLen bounds a redirect target, in bytes.
const MaxRedirectLen = 1000

// SafeRedirect returns target when it is a path on trailpass's own origin and ""
// otherwise. The console's JavaScript applies the same rules (tp.safeRedirect in
// internal/webui/static/api.js); both are tested with testdata/safe_redirect.json.
//
// Accepted: at most MaxRedirectLen bytes, starting with "/" but not "//" (which
// browsers read as another host), with no backslash (browsers read it as "/"),
// no control character (browsers drop tabs and newlines, so "/\t/evil" becomes
// "//evil"), only well-formed percent escapes, no dot segment and no escaped
// ".", "/" or "\" in the path (so the path a browser resolves is the path
// checked), and not the JSON API (/api, /api/...), whose GET routes start flows.
func SafeRedirect(target string) string {
	if target == "" || len(target) > MaxRedirectLen || target[0] != '/' {
		return ""
	}
	if strings.HasPrefix(target, "//") || strings.ContainsRune(target, '\\') {
		return ""
	}
	for i := 0; i < len(target); i++ {
		if c := target[i]; c < 0x20 || c == 0x7f {
			return ""
		}
		if target[i] == '%' && (i+2 >= len(target) || !isHex(target[i+1]) || !isHex(target[i+2])) {
			return ""
		}
	}
	p := target
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	lower := strings.ToLower(p)
	for _, esc := range []string{"%2e", "%2f", "%5c"} {
		if strings.Contains(lower, esc) {
			return ""
		}
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return ""
		}
	}
	decoded, err := url.PathUnescape(p)
	if err != nil || decoded == "/api" || strings.HasPrefix(decoded, "/api/") {
		return ""
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return ""
	}
	return target
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func splitScopes(s string) []string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return strings.Fields(DefaultScopes)
	}
	return f
}
