package webui_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/trailpass/trailpass/internal/seed"
)

// A seeded account is exported from the data page and its archive imported, with
// a preview first, into another account, whose report shows the counts.
func TestBrowserExportAndImport(t *testing.T) {
	s := newSite(t)
	finn := s.CreateUser("finn", false)
	if _, err := seed.Run(context.Background(), s.Store, s.Blobs, finn.ID, seed.Config{Activities: 4, Gear: 2, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	s.user("gina")
	ctx := newBrowser(t)
	signIn(t, ctx, s, "finn")

	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir}); err != nil {
		t.Fatal(err)
	}
	openData(t, ctx, s.URL)
	do(t, ctx, "export", chromedp.Click(chromedp.CSS("#export")))
	waitFor(t, ctx, "the export", `document.getElementById('export-ok').textContent.includes('downloaded')`)
	var archive string
	for deadline := time.Now().Add(10 * time.Second); archive == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		m, _ := filepath.Glob(filepath.Join(dir, "*.zip"))
		if len(m) == 1 {
			archive = m[0]
		}
	}
	if st, err := os.Stat(archive); err != nil || st.Size() == 0 {
		t.Fatalf("no archive downloaded: %v", err)
	}

	signOut(t, ctx)
	signIn(t, ctx, s, "gina")
	openData(t, ctx, s.URL)
	do(t, ctx, "choose the archive", chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{archive}),
		chromedp.Click(chromedp.CSS("#import-preview")))
	waitFor(t, ctx, "the preview", `!document.getElementById('import-report').hidden && document.querySelectorAll('#import-counts tr').length > 0`)
	if got := text(t, ctx, `(document.querySelector('#import-counts tr[data-item="activities"] td:last-child') || {}).textContent || ''`); got != "4" {
		t.Errorf("preview shows %q activities, want 4", got)
	}
	screenshot(t, ctx, "1-preview")
	do(t, ctx, "import", chromedp.Click(chromedp.CSS("#import-run")))
	waitFor(t, ctx, "the report", `document.getElementById('import-report-title').textContent === 'Imported' && document.getElementById('import-progress').value === 100`)
	if got := text(t, ctx, `(document.querySelector('#import-counts tr[data-item="activities"] td:last-child') || {}).textContent || ''`); got != "4" {
		t.Errorf("report shows %q activities, want 4", got)
	}
	var n int
	s.Store.DB().QueryRow(`SELECT COUNT(*) FROM activities a JOIN users u ON u.id = a.user_id WHERE u.username = 'gina'`).Scan(&n)
	if n != 4 {
		t.Fatalf("gina has %d activities after the import, want 4", n)
	}
	screenshot(t, ctx, "2-imported")
}

// openData opens the data page and waits for its summary, which arrives after
// the page, so a test reads and clicks the settled page. (The summary used to
// sit above the export and import controls and push them down as it arrived:
// TestBrowserExportAndImport's click landed on its chart in two of seven CI
// runs, so the page now puts it last.)
func openData(t *testing.T, ctx context.Context, base string) {
	t.Helper()
	do(t, ctx, "open data", chromedp.Navigate(base+"/account/data"))
	waitFor(t, ctx, "the summary", `document.querySelectorAll('#summary-counts tr').length > 0`)
}
