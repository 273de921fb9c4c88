package passkey_test

import (
	"net/url"
	"slices"
	"testing"

	"github.com/trailpass/trailpass/internal/passkey"
)

func TestConfigFor(t *testing.T) {
	for _, tc := range []struct {
		public, rpID string
		origins      []string
		wantRPID     string
		wantOrigins  []string
	}{
		{"https://trail.example.com", "", nil, "trail.example.com", []string{"https://trail.example.com"}},
		{"https://trail.example.com:8443/app", "", nil, "trail.example.com", []string{"https://trail.example.com:8443"}},
		{"http://localhost:8080", "", nil, "localhost", []string{"http://localhost:8080"}},
		// A loopback address is the local setup under the name browsers accept.
		{"http://127.0.0.1:8080", "", nil, "localhost", []string{"http://localhost:8080"}},
		{"https://auth.example.com", "example.com", []string{"https://app.example.com", "https://auth.example.com"},
			"example.com", []string{"https://app.example.com", "https://auth.example.com"}},
	} {
		u, _ := url.Parse(tc.public)
		c := passkey.ConfigFor(u, tc.rpID, tc.origins)
		if c.RPID != tc.wantRPID || !slices.Equal(c.Origins, tc.wantOrigins) {
			t.Errorf("ConfigFor(%s, %q, %v) = %q %v, want %q %v", tc.public, tc.rpID, tc.origins, c.RPID, c.Origins, tc.wantRPID, tc.wantOrigins)
		}
		if _, err := passkey.New(c); err != nil {
			t.Errorf("New(%+v): %v", c, err)
		}
	}
	// A bare IP address cannot be a relying party: the service runs, refusing
	// ceremonies, and says how to fix it.
	u, _ := url.Parse("http://192.0.2.7:8080")
	s, err := passkey.New(passkey.ConfigFor(u, "", nil))
	if err == nil || s == nil {
		t.Fatalf("New for an IP address: %v, %v", s, err)
	}
}
