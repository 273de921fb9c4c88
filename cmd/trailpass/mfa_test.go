package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/mfa"
	"github.com/trailpass/trailpass/internal/secret"
	"github.com/trailpass/trailpass/internal/testkit"
)

func TestUserResetMFA(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		ctx := context.Background()
		st := testkit.OpenStore(t, b)
		a := testApp(t, st, nil, mustKeyring(t, make([]byte, secret.KeySize)), time.Now)
		u, err := a.Accounts.CreateUser(ctx, account.NewUser{Username: "ann", Email: "ann@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		svc := a.MFA
		setup, err := svc.BeginSetup(ctx, account.Operator(), u)
		if err != nil {
			t.Fatal(err)
		}
		key, _ := mfa.DecodeSecret(setup.Secret)
		if _, err := svc.Enable(ctx, account.Operator(), u.ID, mfa.Code(key, time.Now(), mfa.SHA1, mfa.Digits, mfa.Period)); err != nil {
			t.Fatal(err)
		}

		env := map[string]string{"TRAILPASS_DATABASE_URL": b.URL, "TRAILPASS_DATA_DIR": b.DataDir}
		var out, errOut strings.Builder
		e := envFor(env, &out, &errOut)
		if err := e.userResetMFA(ctx, []string{"--username", "ANN"}); err != nil {
			t.Fatalf("reset-mfa: %v (stderr %s)", err, errOut.String())
		}
		if !strings.Contains(out.String(), "MFA of ann removed") {
			t.Fatalf("stdout = %q", out.String())
		}
		if on, err := svc.Enabled(ctx, u.ID); err != nil || on {
			t.Fatalf("Enabled after reset = %v, %v", on, err)
		}
		events, _ := st.ListSecurityEvents(ctx, u.ID, 10)
		if len(events) == 0 || events[0].Type != account.EventMFAReset {
			t.Fatalf("latest event is not mfa_reset: %+v", events)
		}
		err = e.userResetMFA(ctx, []string{"--username", "ann"})
		if err == nil || err.Error() != "MFA is not enabled for this user" {
			t.Fatalf("second reset: %v", err)
		}
		if err := e.userResetMFA(ctx, []string{"--username", "nobody"}); err == nil {
			t.Fatal("reset of an unknown user succeeded")
		}
	})
}

// envFor returns a command environment reading variables from vars.
func envFor(vars map[string]string, stdout, stderr io.Writer) env {
	return env{getenv: func(k string) string { return vars[k] }, stdin: strings.NewReader(""), stdout: stdout, stderr: stderr}
}
