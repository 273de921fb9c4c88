package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/app"
	"github.com/trailpass/trailpass/internal/blob"
	"github.com/trailpass/trailpass/internal/config"
	"github.com/trailpass/trailpass/internal/seed"
)

// openFileStore opens the blob store of activity files, media and user images.
// It is the data directory itself, so its folders are Endurain's
// (activity_files/, activity_media/, user_images/); blob keys cannot reach the
// database or key files beside them.
func openFileStore(cfg *config.Config) (*blob.Dir, error) { return blob.OpenDir(cfg.DataDir) }

// seed creates demo data for a user, creating the user (with a generated
// password, printed) when it does not exist.
func (e env) seed(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	username := fs.String("username", "", "user to seed (required; created if absent)")
	activities := fs.Int("activities", 100, "number of activities")
	gear := fs.Int("gear", 3, "number of gear items")
	seedVal := fs.Uint64("seed", 1, "random seed: the same seed gives the same data")
	minDur := fs.Duration("min-duration", 5*time.Minute, "shortest activity")
	maxDur := fs.Duration("max-duration", 15*time.Minute, "longest activity")
	cfg, err := e.loadConfig(fs, args)
	if err != nil {
		return err
	}
	if *username == "" {
		return errors.New("seed: --username is required")
	}
	if *gear <= 0 {
		*gear = -1 // the generator's zero means its default
	}
	a, closeApp, err := openApp(ctx, cfg, newLogger(e.stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer closeApp()
	st, files := a.Store, a.Blobs
	uid, err := e.seedUser(ctx, a, *username)
	if err != nil {
		return err
	}
	began := time.Now()
	res, err := seed.Run(ctx, st, files, uid, seed.Config{Activities: *activities, Gear: *gear, Seed: *seedVal,
		MinDuration: *minDur, MaxDuration: *maxDur})
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(e.stdout, "seeded %s in %s: %d activities (%d laps, %d sets, %d streams, %d media), %d gear (%d components), %d weights, %d goals, %d notifications, %.1f MiB of files\n",
		*username, time.Since(began).Round(time.Millisecond), res.Activities, res.Laps, res.Sets, res.Streams, res.Media,
		res.Gear, res.Components, res.Weights, res.Goals, res.Notifications, float64(res.FileBytes)/(1<<20))
	return nil
}

func (e env) seedUser(ctx context.Context, a *app.App, username string) (int64, error) {
	u, err := a.Store.FindUserByUsername(ctx, username)
	if err == nil {
		return u.ID, nil
	} else if account.ErrorCode(err) != account.ENOTFOUND {
		return 0, err
	}
	password := account.GeneratePassword(20)
	u, err = a.Accounts.CreateUser(ctx, account.NewUser{Username: username, Email: username + "@example.com", Password: password})
	if err != nil {
		return 0, describe(err)
	}
	fmt.Fprintf(e.stdout, "created user %s (id %d)\npassword: %s\n", u.Username, u.ID, password)
	return u.ID, nil
}
