//go:build pendingimport

// The export-and-import browser test needs the import routes, which land with
// the import branch; build with -tags pendingimport until then.

package webui_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

func TestBrowserExportAndImport(t *testing.T) {
	s := newSite(t)
	s.user("finn")
	ctx := newBrowser(t)
	signIn(t, ctx, s, "finn")

	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir}); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "export", chromedp.Navigate(s.URL+"/account/data"), chromedp.Click(chromedp.CSS("#export")))
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

	do(t, ctx, "choose the archive", chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{archive}),
		chromedp.Click(chromedp.CSS("#import-preview")))
	waitFor(t, ctx, "the preview", `!document.getElementById('import-report').hidden && document.querySelectorAll('#import-counts tr').length > 0`)
	screenshot(t, ctx, "1-preview")
	do(t, ctx, "import", chromedp.Click(chromedp.CSS("#import-run")))
	waitFor(t, ctx, "the report", `document.getElementById('import-report-title').textContent === 'Imported' && document.getElementById('import-progress').value === 100`)
	screenshot(t, ctx, "2-imported")
}
