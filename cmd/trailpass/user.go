package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/trailpass/trailpass/internal/account"
)

// readPassword reads one line from standard input.
func (e env) readPassword() (string, error) {
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("no password on standard input")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func (e env) userCreate(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	username := fs.String("username", "", "username (required)")
	email := fs.String("email", "", "email address (required)")
	name := fs.String("name", "", "display name (default: the username)")
	admin := fs.Bool("admin", false, "make the account an admin")
	fromStdin := fs.Bool("password-stdin", false, "read the password from standard input (default: generate one and print it)")
	cfg, err := e.loadConfig(fs, args)
	if err != nil {
		return err
	}
	if *username == "" || *email == "" {
		return errors.New("user create: --username and --email are required")
	}
	password, generated := "", false
	if *fromStdin {
		if password, err = e.readPassword(); err != nil {
			return err
		}
	} else {
		password, generated = account.GeneratePassword(20), true
	}
	a, closeApp, err := openApp(ctx, cfg, newLogger(e.stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer closeApp()
	u, err := a.Accounts.CreateUser(ctx, account.NewUser{Username: *username, Email: *email, Name: *name, Password: password, Admin: *admin, EmailVerified: true})
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(e.stdout, "created user %s (id %d)\n", u.Username, u.ID)
	if generated {
		fmt.Fprintf(e.stdout, "password: %s\n", password)
	}
	return nil
}

func (e env) userList(ctx context.Context, args []string) error {
	cfg, err := e.loadConfig(flag.NewFlagSet("user list", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, newLogger(e.stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer st.Close()
	users, err := st.ListUsers(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSERNAME\tEMAIL\tROLE\tACTIVE")
	for _, u := range users {
		role := "regular"
		if u.IsAdmin() {
			role = "admin"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%t\n", u.ID, u.Username, u.Email, role, u.Active)
	}
	return tw.Flush()
}

func (e env) userSetPassword(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("user set-password", flag.ContinueOnError)
	username := fs.String("username", "", "username (required)")
	cfg, err := e.loadConfig(fs, args)
	if err != nil {
		return err
	}
	if *username == "" {
		return errors.New("user set-password: --username is required")
	}
	password, err := e.readPassword()
	if err != nil {
		return err
	}
	a, u, closeApp, err := openUserApp(ctx, cfg, newLogger(e.stderr, cfg.LogLevel), *username)
	if err != nil {
		return err
	}
	defer closeApp()
	n, err := a.Accounts.ResetPassword(ctx, account.Operator(), u.ID, password, "")
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(e.stdout, "password of %s changed; %d session(s) signed out\n", u.Username, n)
	return nil
}

// describe turns a domain error into an operator-facing message.
func describe(err error) error {
	var e *account.Error
	if errors.As(err, &e) {
		msg := e.Message
		for _, f := range e.Fields {
			msg += "; " + f.Field + ": " + f.Message
		}
		return errors.New(msg)
	}
	return err
}
