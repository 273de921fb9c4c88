package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/trailpass/trailpass/internal/portability"
)

// exportCmd writes a user's archive to a file, then verifies it.
func (e env) exportCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	username := fs.String("username", "", "user to export (required)")
	out := fs.String("o", "", "archive file to write (required)")
	cfg, err := e.loadConfig(fs, args)
	if err != nil {
		return err
	}
	if *username == "" || *out == "" {
		return errors.New("export: --username and -o are required")
	}
	a, u, closeApp, err := openUserApp(ctx, cfg, newLogger(e.stderr, cfg.LogLevel), *username)
	if err != nil {
		return err
	}
	defer closeApp()
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	// A failed export must not leave a file that looks like an archive.
	fail := func(err error) error {
		f.Close()
		os.Remove(*out)
		return err
	}
	var w io.Writer = f
	var bar *progressbar.ProgressBar
	if isTerminal(e.stderr) {
		bar = progressbar.DefaultBytes(-1, "exporting "+u.Username)
		w = io.MultiWriter(f, bar)
	}
	began := time.Now()
	stats, err := a.Exporter.Export(ctx, u.ID, w)
	if bar != nil {
		bar.Finish()
		fmt.Fprintln(e.stderr)
	}
	if err != nil {
		return fail(describe(err))
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	elapsed := time.Since(began)
	rf, err := os.Open(*out)
	if err != nil {
		return err
	}
	defer rf.Close()
	if _, err := portability.Verify(rf, size); err != nil {
		return fmt.Errorf("export: written archive failed verification: %w", err)
	}
	fmt.Fprintf(e.stdout, "exported %s to %s: %d entries, %.1f MiB (%.1f MiB uncompressed) in %s; verified\n",
		u.Username, *out, stats.Entries, float64(size)/(1<<20), float64(stats.Bytes)/(1<<20), elapsed.Round(time.Millisecond))
	if stats.MissingFiles > 0 {
		fmt.Fprintf(e.stderr, "warning: %d files named in the database were missing from the file store\n", stats.MissingFiles)
	}
	return nil
}

// isTerminal reports whether w is a character device (a terminal), where a
// progress bar helps; in logs and pipes it would only be noise.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
