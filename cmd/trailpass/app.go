package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/app"
	"github.com/trailpass/trailpass/internal/blob"
	"github.com/trailpass/trailpass/internal/config"
	"github.com/trailpass/trailpass/internal/mail"
	"github.com/trailpass/trailpass/internal/secret"
	"github.com/trailpass/trailpass/internal/store"
)

// Version is set at build time with -ldflags "-X main.Version=…".
var Version = "dev"

const usage = `Usage: trailpass [command] [flags]

Commands:
  serve          run the server (the default)
  migrate        apply database migrations and exit
  user create    create an account: --username U --email E [--name N] [--admin] [--password-stdin]
  user list      list accounts
  user set-password --username U   read a new password from standard input
  user reset-mfa --username U      remove a user's MFA factor and backup codes
  seed           create demo data: --username U [--activities N] [--gear G] [--seed S]
  export         write a user's archive: --username U -o FILE
  import         import an archive into an account: --username U [--dry-run] FILE
  settings show  print the server settings
  settings set NAME=VALUE...   change server settings, e.g. local_login_enabled=true (break-glass)
  keys generate  print a new random master key
  keys rotate    re-encrypt every secret with the current key (old keys in TRAILPASS_OLD_SECRET_KEYS)
  version        print the version

Run "trailpass <command> -h" for the flags of a command.
`

// env bundles what a command may touch, so tests can run commands in-process.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// run executes one command line and returns the process exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	if cmd == "user" || cmd == "keys" || cmd == "settings" {
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			fmt.Fprint(stderr, usage)
			return 2
		}
		cmd, args = cmd+" "+args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = e.serve(ctx, args)
	case "migrate":
		err = e.migrate(ctx, args)
	case "user create":
		err = e.userCreate(ctx, args)
	case "user list":
		err = e.userList(ctx, args)
	case "user set-password":
		err = e.userSetPassword(ctx, args)
	case "user reset-mfa":
		err = e.userResetMFA(ctx, args)
	case "seed":
		err = e.seed(ctx, args)
	case "export":
		err = e.exportCmd(ctx, args)
	case "import":
		err = e.importCmd(ctx, args)
	case "settings show":
		err = e.settingsShow(ctx, args)
	case "settings set":
		err = e.settingsSet(ctx, args)
	case "keys generate":
		fmt.Fprintln(stdout, secret.NewKeyHex())
	case "keys rotate":
		err = e.keysRotate(ctx, args)
	case "version":
		fmt.Fprintln(stdout, "trailpass", Version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "trailpass: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		// One line, so the problem is the last thing an operator reads.
		fmt.Fprintf(stderr, "trailpass: %s\n", strings.ReplaceAll(err.Error(), "\n", "; "))
		return 1
	}
	return 0
}

// loadConfig parses a command's flags and the environment.
func (e env) loadConfig(fs *flag.FlagSet, args []string) (*config.Config, error) {
	fs.SetOutput(e.stderr)
	return config.Load(fs, args, e.getenv)
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// openStore opens and migrates the configured database.
func openStore(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*store.Store, error) {
	st, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	n, err := st.Migrate(ctx)
	if err != nil {
		st.Close()
		return nil, err
	}
	if n > 0 {
		logger.Info("applied database migrations", "count", n, "dialect", st.Dialect())
	}
	return st, nil
}

// openStores opens the store and the file store; the caller closes both.
func openStores(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*store.Store, *blob.Dir, error) {
	st, err := openStore(ctx, cfg, logger)
	if err != nil {
		return nil, nil, err
	}
	files, err := openFileStore(cfg)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, files, nil
}

// loadKeyring returns the configured master key, or the one in the data directory,
// generating it on first start.
func loadKeyring(cfg *config.Config, logger *slog.Logger) (*secret.Keyring, error) {
	key := cfg.SecretKey
	if key == nil {
		var created bool
		var err error
		key, created, err = secret.LoadOrCreateKeyFile(cfg.SecretKeyFile())
		if err != nil {
			return nil, fmt.Errorf("secret key: %w", err)
		}
		if created {
			logger.Warn("generated a new master secret key; back it up, encrypted data cannot be read without it", "path", cfg.SecretKeyFile())
		}
	}
	return secret.NewKeyring(key, cfg.OldSecretKeys...)
}

// keyCheckName is the server_meta row holding the key check value.
const keyCheckName = "key_check"

// checkKeyring refuses a keyring that cannot open the database's key check
// value, written by the first start: an instance started with another master
// key would otherwise serve, then fail on the first secret sealed by the
// other one.
func checkKeyring(ctx context.Context, st *store.Store, keyring *secret.Keyring) error {
	check, err := st.InitMeta(ctx, keyCheckName, keyring.KeyCheck(), timeNow())
	if err != nil {
		return err
	}
	if !keyring.VerifyKeyCheck(check) {
		return errors.New("TRAILPASS_SECRET_KEY: this database's secrets were sealed with another master key; start with that key (a retired one goes in TRAILPASS_OLD_SECRET_KEYS)")
	}
	return nil
}

// newApp builds every service from cfg through the one wiring (internal/app);
// adjust sets what only some commands want (metrics, the web pages).
func newApp(cfg *config.Config, st *store.Store, blobs *blob.Dir, keyring *secret.Keyring, logger *slog.Logger, adjust ...func(*app.Deps)) (*app.App, error) {
	c := cfg.SMTP
	d := app.Deps{Store: st, Blobs: blobs, Keyring: keyring, Hasher: app.NewHasher(), Now: timeNow, Logger: logger,
		PublicURL: cfg.PublicURL, TrustedProxies: cfg.TrustedProxies,
		SMTP:      mail.SMTP{Host: c.Host, Port: c.Port, Username: c.Username, Password: c.Password, Security: c.Security, From: c.From},
		MFAIssuer: cfg.MFAIssuer, RecentAuthWindow: cfg.RecentAuthWindow,
		WebAuthnRPID: cfg.WebAuthnRPID, WebAuthnOrigins: cfg.WebAuthnOrigins,
		MaxImportBytes: cfg.MaxImportBytes, Version: Version, ResetFloor: app.DefaultResetFloor}
	for _, f := range adjust {
		f(&d)
	}
	return app.New(d)
}

// openApp opens the database, the file store and the keyring and builds the
// services over them, as the subcommands acting through services need; the
// returned func closes what was opened.
func openApp(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*app.App, func(), error) {
	st, files, err := openStores(ctx, cfg, logger)
	if err != nil {
		return nil, nil, err
	}
	closeAll := func() { files.Close(); st.Close() }
	keyring, err := loadKeyring(cfg, logger)
	if err == nil {
		err = checkKeyring(ctx, st, keyring)
	}
	var a *app.App
	if err == nil {
		a, err = newApp(cfg, st, files, keyring, logger)
	}
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	return a, closeAll, nil
}

// openUserApp is openApp for the subcommands acting on one user: it also
// finds username's account.
func openUserApp(ctx context.Context, cfg *config.Config, logger *slog.Logger, username string) (*app.App, *account.User, func(), error) {
	a, closeApp, err := openApp(ctx, cfg, logger)
	if err != nil {
		return nil, nil, nil, err
	}
	u, err := a.Store.FindUserByUsername(ctx, username)
	if err != nil {
		closeApp()
		return nil, nil, nil, describe(err)
	}
	return a, u, closeApp, nil
}
