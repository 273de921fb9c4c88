package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/trailpass/trailpass/internal/portability"
)

// recoverEvery is how often every instance looks for imports whose process
// died; with portability.StaleAfter, a crash is cleaned up within about 90 s.
var recoverEvery = 30 * time.Second

// recoverImports finishes or rolls back imports whose process died (no
// heartbeat for portability.StaleAfter).
func recoverImports(ctx context.Context, im *portability.Importer, logger *slog.Logger) {
	n, err := im.Recover(ctx, portability.StaleAfter)
	if err != nil {
		logger.Error("import recovery failed", "err", err)
	} else if n > 0 {
		logger.Info("recovered interrupted imports", "count", n)
	}
}

// recoveryLoop runs recoverImports every recoverEvery until ctx ends, so a
// crashed import neither waits for a restart nor blocks its user's next one.
func recoveryLoop(ctx context.Context, im *portability.Importer, logger *slog.Logger) {
	every(ctx, recoverEvery, func() { recoverImports(ctx, im, logger) })
}

// every calls fn every d until ctx ends; the background loops of serve share it.
func every(ctx context.Context, d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}

// importCmd imports an archive into a user's account, showing progress.
func (e env) importCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	username := fs.String("username", "", "user to import into (required)")
	dryRun := fs.Bool("dry-run", false, "validate and report, write nothing")
	var file string
	// The archive may come before or after the flags.
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		file, args = args[0], args[1:]
	}
	cfg, err := e.loadConfig(fs, args)
	if err != nil {
		return err
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	}
	if *username == "" || file == "" {
		return errors.New("import: --username and an archive file are required")
	}
	logger := newLogger(e.stderr, cfg.LogLevel)
	a, u, closeApp, err := openUserApp(ctx, cfg, logger, *username)
	if err != nil {
		return err
	}
	defer closeApp()
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	im := a.Importer
	// Clean up after an earlier import that was killed, as serve does.
	recoverImports(ctx, im, logger)
	opts := portability.Options{DryRun: *dryRun}
	var bar *progressbar.ProgressBar
	stage := ""
	if isTerminal(e.stderr) {
		opts.Progress = func(p portability.Progress) {
			if p.Stage != stage {
				if bar != nil {
					bar.Finish()
					fmt.Fprintln(e.stderr)
				}
				stage = p.Stage
				bar = progressbar.NewOptions(max(p.Total, 1), progressbar.OptionSetWriter(e.stderr),
					progressbar.OptionSetDescription(p.Stage), progressbar.OptionShowCount())
			}
			bar.Set(p.Done)
		}
	}
	res, err := im.Import(ctx, u.ID, f, info.Size(), opts)
	if bar != nil {
		bar.Finish()
		fmt.Fprintln(e.stderr)
	}
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(e.stdout, "%s into %s in %s (write lock held %s):\n", res.Detail, u.Username,
		res.Duration.Round(time.Millisecond), res.LockHeld.Round(time.Millisecond))
	for _, k := range sortedKeys(res.Imported) {
		fmt.Fprintf(e.stdout, "  imported %-26s %d\n", k, res.Imported[k])
	}
	for _, k := range sortedKeys(res.Skipped) {
		fmt.Fprintf(e.stdout, "  skipped  %-26s %d\n", k, res.Skipped[k])
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(e.stderr, "warning: %s\n", w)
	}
	return nil
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
