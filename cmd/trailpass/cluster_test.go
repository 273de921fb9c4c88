package main

import (
	"bufio"
	"encoding/base32"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/mfa"
	"github.com/trailpass/trailpass/internal/testkit"
)

// startBinaries builds trailpass and runs n "serve" processes with the same
// environment, returning their base URLs once each has logged its address.
func startBinaries(t *testing.T, n int, env ...string) []string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "trailpass")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	var bases []string
	for i := 0; i < n; i++ {
		cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0")
		cmd.Env = append(os.Environ(), env...)
		logs := &testkit.LogBuffer{}
		base := make(chan string, 1)
		pr, pw := io.Pipe()
		cmd.Stderr = pw
		go func() {
			sc := bufio.NewScanner(pr)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				logs.Write(append(sc.Bytes(), '\n'))
				if m := addrRE.FindSubmatch(sc.Bytes()); m != nil {
					base <- "http://" + string(m[1])
				}
			}
		}()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); pw.Close() })
		select {
		case b := <-base:
			bases = append(bases, b)
		case <-time.After(60 * time.Second):
			t.Fatalf("instance %d did not start:\n%s", i, logs.String())
		}
	}
	return bases
}

// Two trailpass processes on one PostgreSQL database behave as one service: MFA
// enrolment, a sign-in, a revocation and the rate limit each span both.
func TestCluster_TwoInstancesOnPostgresActAsOne(t *testing.T) {
	if os.Getenv(testkit.PostgresEnv) == "" {
		t.Skip(testkit.PostgresEnv + " is not set")
	}
	const password = "Adm1n!Passw0rd"
	bases := startBinaries(t, 2,
		"TRAILPASS_DATABASE_URL="+testkit.NewPostgresSchema(t),
		"TRAILPASS_DATA_DIR="+t.TempDir(),
		"TRAILPASS_SECRET_KEY=8f3a1c5e7b9d2f4a6c8e0b1d3f5a7c9e2b4d6f8a0c1e3b5d7f9a2c4e6b8d0f1a",
		"TRAILPASS_ADMIN_PASSWORD="+password,
		"TRAILPASS_TRUSTED_PROXIES=127.0.0.1/32",
	)
	a, b := newAPIClient(bases[0]), newAPIClient(bases[1])
	from := func(ip string) []string { return []string{"X-Forwarded-For", ip} }

	code, body, err := a.login("admin", password, from("198.51.100.1")...)
	if err != nil || code != 200 {
		t.Fatalf("login on A: %d %v %v", code, body, err)
	}
	first := body["access_token"].(string)

	// MFA set up through A, enabled through B: the pending secret is in the database.
	code, body, err = a.call("POST", "/api/v1/profile/mfa/setup", first, map[string]any{})
	if err != nil || code != 200 {
		t.Fatalf("setup on A: %d %v %v", code, body, err)
	}
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(body["secret"].(string))
	if err != nil {
		t.Fatal(err)
	}
	step := mfa.Step(time.Now(), 30*time.Second)
	code, body, err = b.call("POST", "/api/v1/profile/mfa/enable", first, map[string]string{"mfa_code": mfa.CodeAt(key, step, mfa.SHA1, 6)})
	if err != nil || code != 200 {
		t.Fatalf("enable on B: %d %v %v", code, body, err)
	}
	if code, body, _ := a.call("GET", "/api/v1/profile/mfa/status", first, nil); code != 200 || body["mfa_enabled"] != true {
		t.Fatalf("status on A after enabling on B: %d %v", code, body)
	}

	// A sign-in started on A (password step) is finished on B (MFA step); the next
	// step's code, because the replay guard has seen this one.
	code, body, err = a.login("admin", password, from("198.51.100.2")...)
	if err != nil || code != 200 || body["mfa_required"] != true || body["mfa_ticket"] == nil {
		t.Fatalf("password step on A: %d %v %v", code, body, err)
	}
	code, body, err = b.call("POST", "/api/v1/mfa/verify", "", map[string]string{
		"username": "admin", "mfa_code": mfa.CodeAt(key, step+1, mfa.SHA1, 6), "mfa_ticket": body["mfa_ticket"].(string)},
		from("198.51.100.2")...)
	if err != nil || code != 200 || body["access_token"] == nil {
		t.Fatalf("MFA step on B: %d %v %v", code, body, err)
	}
	second, secondID := body["access_token"].(string), body["session_id"].(string)
	if code, _, _ := a.call("GET", "/api/v1/profile", second, nil); code != 200 {
		t.Fatalf("new session refused by A: %d", code)
	}

	// B keeps the profile it answered; a change made through A still shows on
	// B's next answer (B checks the user's data version on every request).
	for range 2 {
		if code, body, _ := b.call("GET", "/api/v1/profile", second, nil); code != 200 || body["city"] != nil {
			t.Fatalf("profile on B before the change: %d %v", code, body)
		}
	}
	_, prof, _ := b.call("GET", "/api/v1/profile", second, nil)
	prof["city"] = "Porto"
	if code, body, err := a.call("PUT", "/api/v1/profile", second, prof); err != nil || code != 200 {
		t.Fatalf("profile change through A: %d %v %v", code, body, err)
	}
	if code, body, _ := b.call("GET", "/api/v1/profile", second, nil); code != 200 || body["city"] != "Porto" {
		t.Fatalf("profile on B after the change through A: %d %v", code, body)
	}

	// A session revoked through A is refused by B on its next request.
	if code, body, _ := b.call("GET", "/api/v1/profile", second, nil); code != 200 {
		t.Fatalf("new session on B before revocation: %d %v", code, body)
	}
	if code, body, err := a.call("DELETE", "/api/v1/profile/sessions/"+secondID, first, nil); err != nil || code != 200 {
		t.Fatalf("revoke through A: %d %v %v", code, body, err)
	}
	if code, body, _ := b.call("GET", "/api/v1/profile", second, nil); code != 401 {
		t.Fatalf("revoked session on B = %d %v, want 401", code, body)
	}
	if code, _, _ := b.call("GET", "/api/v1/profile", first, nil); code != 200 {
		t.Fatalf("the revoking session itself was refused on B: %d", code)
	}

	// The per-address sign-in limit (10 a minute) counts attempts through both.
	for i := 1; i <= 11; i++ {
		c := a
		if i%2 == 0 {
			c = b
		}
		code, body, err := c.login("admin", password, from("203.0.113.9")...)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case i <= 10 && code != 200:
			t.Fatalf("login %d = %d %v; want 200 under the limit", i, code, body)
		case i == 11 && code != 429:
			t.Fatalf("login 11 = %d %v; want 429 once both instances saw 10", i, body)
		}
	}
	// Another address is not affected.
	if code, body, _ := b.login("admin", password, from("203.0.113.10")...); code != 200 {
		t.Fatalf("login from another address = %d %v", code, body)
	}
}
