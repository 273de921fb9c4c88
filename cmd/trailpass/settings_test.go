package main

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/trailpass/trailpass/internal/testkit"
)

// The break-glass path: with local login switched off in the database, the
// operator turns it back on with "trailpass settings set", and a running
// server lets passwords in again at once.
func TestRun_SettingsBreakGlass(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		env := map[string]string{"TRAILPASS_DATABASE_URL": b.URL, "TRAILPASS_DATA_DIR": b.DataDir, "TRAILPASS_ADMIN_PASSWORD": "Adm1n!Passw0rd"}
		getenv := func(k string) string { return env[k] }
		base, _, _ := startServe(t, env)
		login := func() int {
			req, _ := http.NewRequest("POST", base+"/api/v1/token", strings.NewReader(url.Values{"username": {"admin"}, "password": {"Adm1n!Passw0rd"}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Client-Type", "mobile")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if s := login(); s != http.StatusOK {
			t.Fatalf("password sign-in: %d", s)
		}
		settings := func(args ...string) (int, string, string) {
			var out, errb bytes.Buffer
			code := run(context.Background(), append([]string{"settings"}, args...), getenv, strings.NewReader(""), &out, &errb)
			return code, out.String(), errb.String()
		}
		if code, out, errs := settings("set", "local_login_enabled=false", "sso_enabled=false"); code != 0 ||
			!strings.Contains(out, `"local_login_enabled": false`) || !strings.Contains(out, `"sso_enabled": false`) {
			t.Fatalf("set: %d %s %s", code, out, errs)
		}
		if s := login(); s != http.StatusForbidden {
			t.Fatalf("password sign-in with local login off: %d", s)
		}
		if code, out, errs := settings("set", "local_login_enabled=true"); code != 0 || !strings.Contains(out, `"local_login_enabled": true`) {
			t.Fatalf("break-glass: %d %s %s", code, out, errs)
		}
		if s := login(); s != http.StatusOK {
			t.Fatalf("password sign-in after break-glass: %d", s)
		}
		if code, out, _ := settings("show"); code != 0 || !strings.Contains(out, `"sso_enabled": false`) {
			t.Fatalf("show: %d %s", code, out)
		}
		for _, bad := range [][]string{{"set", "nope=1"}, {"set", "local_login_enabled=maybe"}, {"set", "units=9"}, {"set", "units"}, {"set"}} {
			if code, _, errs := settings(bad...); code == 0 || errs == "" {
				t.Fatalf("%v accepted: %d", bad, code)
			}
		}
		if code, out, _ := settings("show"); code != 0 || !strings.Contains(out, `"units": 1`) {
			t.Fatalf("a refused set changed the settings: %s", out)
		}
	})
}
