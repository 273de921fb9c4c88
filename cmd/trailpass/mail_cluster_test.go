package main

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/testkit"
)

// Two trailpass processes on one PostgreSQL database share one outbox: mail
// queued while the SMTP server is down is delivered once it is back, each
// message exactly once although both instances run a sender.
func TestCluster_MailOutboxDeliversOnceAcrossInstances(t *testing.T) {
	if os.Getenv(testkit.PostgresEnv) == "" {
		t.Skip(testkit.PostgresEnv + " is not set")
	}
	smtp := testkit.StartSMTP(t)
	smtp.Stop()
	bases := startBinaries(t, 2,
		"TRAILPASS_DATABASE_URL="+testkit.NewPostgresSchema(t),
		"TRAILPASS_DATA_DIR="+t.TempDir(),
		"TRAILPASS_SECRET_KEY=8f3a1c5e7b9d2f4a6c8e0b1d3f5a7c9e2b4d6f8a0c1e3b5d7f9a2c4e6b8d0f1a",
		"TRAILPASS_ADMIN_PASSWORD=Adm1n!Passw0rd",
		"TRAILPASS_SMTP_HOST=127.0.0.1",
		"TRAILPASS_SMTP_PORT="+strconv.Itoa(smtp.Port),
		"TRAILPASS_SMTP_SECURITY=none",
		"TRAILPASS_SMTP_FROM=Trailpass <noreply@example.org>",
	)
	a, b := newAPIClient(bases[0]), newAPIClient(bases[1])
	if code, body, err := a.call("GET", "/api/v1/public/server_settings", "", nil); err != nil || code != 200 || body["email_enabled"] != true {
		t.Fatalf("server settings: %d %v %v", code, body, err)
	}
	// Three reset requests for the first admin, through both instances.
	for i, c := range []*apiClient{a, b, a} {
		code, body, err := c.call("POST", "/api/v1/password-reset/request", "", map[string]string{"email": "admin@localhost.localdomain"})
		if err != nil || code != 200 {
			t.Fatalf("request %d: %d %v %v", i, code, body, err)
		}
	}
	// Both senders have tried by now and failed: nothing arrived, nothing lost.
	time.Sleep(3 * time.Second)
	if n := len(smtp.Messages()); n != 0 {
		t.Fatalf("%d messages while the server was down", n)
	}
	smtp.Start()
	// The first retry comes 30 s after the failed attempt.
	smtp.Wait(3, 90*time.Second)
	// Give both senders several more rounds to send anything twice.
	time.Sleep(5 * time.Second)
	msgs := smtp.Messages()
	if len(msgs) != 3 {
		t.Fatalf("%d messages arrived, want exactly 3", len(msgs))
	}
	links := map[string]bool{}
	for _, m := range msgs {
		l := m.Link("/reset-password?token=")
		if l == "" || links[l] || m.To[0] != "admin@localhost.localdomain" || !strings.Contains(m.Subject, "Reset your") {
			t.Fatalf("message %q to %v link %q", m.Subject, m.To, l)
		}
		links[l] = true
	}
}
