package idp

import (
	"net/url"
	"strings"
)

// SafeRedirect returns target when it is a path on trailpass's own origin and ""
// otherwise. Accepted: starts with "/" but not "//" or "/\" (which browsers
// treat as another host), no scheme or host, no backslash or control character,
// at most 1000 bytes.
func SafeRedirect(target string) string {
	if target == "" || len(target) > 1000 || target[0] != '/' {
		return ""
	}
	if strings.HasPrefix(target, "//") || strings.ContainsAny(target, "\\") {
		return ""
	}
	for _, r := range target {
		if r < 0x20 || r == 0x7f {
			return ""
		}
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return ""
	}
	return target
}

func splitScopes(s string) []string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return strings.Fields(DefaultScopes)
	}
	return f
}
