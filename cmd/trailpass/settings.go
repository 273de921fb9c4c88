package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/trailpass/trailpass/internal/account"
)

// settingsShow prints the server settings as JSON.
func (e env) settingsShow(ctx context.Context, args []string) error {
	svc, closeStore, err := e.settingsService(ctx, "settings show", args)
	if err != nil {
		return err
	}
	defer closeStore()
	st, err := svc.Get(ctx)
	if err != nil {
		return err
	}
	return e.printSettings(st)
}

// settingsSet changes server settings given as name=value, for example
// "trailpass settings set local_login_enabled=true": the way back in for an
// operator whose admins locked themselves out by switching local login off.
// It needs the database, so only someone who runs the service can use it.
func (e env) settingsSet(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("settings set", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: trailpass settings set NAME=VALUE...\nNames: %s\n", strings.Join(account.SettingNames(), ", "))
		fs.PrintDefaults()
	}
	cfg, err := e.loadConfig(fs, args)
	if err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("settings set: give at least one NAME=VALUE, for example local_login_enabled=true")
	}
	var pairs [][2]string
	for _, a := range fs.Args() {
		name, value, ok := strings.Cut(a, "=")
		if !ok {
			return fmt.Errorf("settings set: %q is not NAME=VALUE", a)
		}
		pairs = append(pairs, [2]string{strings.TrimSpace(name), value})
	}
	a, closeApp, err := openApp(ctx, cfg, newLogger(e.stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer closeApp()
	svc := a.Settings
	var out *account.ServerSettings
	for _, p := range pairs {
		if out, err = svc.Set(ctx, account.Operator(), p[0], p[1]); err != nil {
			return describe(err)
		}
	}
	return e.printSettings(out)
}

func (e env) settingsService(ctx context.Context, name string, args []string) (*account.SettingsService, func(), error) {
	cfg, err := e.loadConfig(flag.NewFlagSet(name, flag.ContinueOnError), args)
	if err != nil {
		return nil, nil, err
	}
	a, closeApp, err := openApp(ctx, cfg, newLogger(e.stderr, cfg.LogLevel))
	if err != nil {
		return nil, nil, err
	}
	return a.Settings, closeApp, nil
}

func (e env) printSettings(st *account.ServerSettings) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode settings: %w", err)
	}
	fmt.Fprintln(e.stdout, string(b))
	return nil
}
