package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/trailpass/trailpass/internal/account"
)

// userResetMFA removes a user's MFA (factor, backup codes, pending setup) for an
// operator helping someone who lost their authenticator: trailpass user reset-mfa
// --username U. It records a security event.
func (e env) userResetMFA(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("user reset-mfa", flag.ContinueOnError)
	username := fs.String("username", "", "username (required)")
	cfg, err := e.loadConfig(fs, args)
	if err != nil {
		return err
	}
	if *username == "" {
		return errors.New("user reset-mfa: --username is required")
	}
	a, u, closeApp, err := openUserApp(ctx, cfg, newLogger(e.stderr, cfg.LogLevel), *username)
	if err != nil {
		return err
	}
	defer closeApp()
	if _, err := a.MFA.Reset(ctx, account.Operator(), u.ID, ""); err != nil {
		return describe(err)
	}
	fmt.Fprintf(e.stdout, "MFA of %s removed; they can sign in with their password and set it up again\n", u.Username)
	return nil
}
