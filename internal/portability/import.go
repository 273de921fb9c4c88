package portability

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"image"
	_ "image/jpeg" // user photos
	_ "image/png"
	"io"
	"sort"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/fitness"
	"github.com/trailpass/trailpass/internal/profile"
)

// Importer restores archives written by trailpass's export or Endurain v0.16.x
// into an existing account. It is safe for concurrent use.
type Importer struct {
	Store ImportStore
	// Profiles is the store behind PUT /profile; the import reads the account
	// from it and checks user.json with the same field whitelist and rules
	// (profile.Apply).
	Profiles profile.Store
	Blobs    Blobs
	Limits   Limits
	Now      func() time.Time
	// TempDir holds spooled uploads ("" is the system default).
	TempDir string
	// FreeSpace returns the bytes free where files are staged; nil asks Blobs
	// (when it can tell). Tests replace it to play a full disk.
	FreeSpace func() (int64, error)
	// HeartbeatEvery overrides the package's HeartbeatEvery (tests).
	HeartbeatEvery time.Duration
}

// SpaceReserve is kept free beyond what an import stages: the database grows
// by the imported rows too, and a full disk hurts every other request.
const SpaceReserve = 64 << 20

// checkSpace refuses an import whose entries would not fit on the staging
// file system with SpaceReserve to spare (Endurain's DiskSpaceError, 507).
func (ru *run) checkSpace() error {
	free := ru.im.FreeSpace
	if free == nil {
		fs, ok := ru.im.Blobs.(freeSpacer)
		if !ok {
			return nil
		}
		free = fs.FreeSpace
	}
	avail, err := free()
	if err != nil {
		return errStorage(err)
	}
	var need int64 = SpaceReserve
	for _, e := range ru.entries {
		need += int64(e.f.UncompressedSize64)
	}
	if avail < need {
		return account.Errorf(account.EINSUFFICIENT, "Insufficient disk space during %s. Please free up space and try again. The import needs about %d MiB.", opImport, need>>20)
	}
	return nil
}

// Options changes one import.
type Options struct {
	// DryRun validates everything and reports what would be imported, writing
	// nothing (the transaction is rolled back, no file is staged).
	DryRun bool
	// Progress, when set, receives each stage change and progress step.
	Progress func(Progress)
}

// Progress is one progress report.
type Progress struct {
	Stage string `json:"stage"`
	Done  int    `json:"done"`
	Total int    `json:"total"`
}

// Import stages.
const (
	StageValidating = "validating"
	StageWriting    = "writing"
	StageFiles      = "moving_files"
	StageDone       = "done"
)

// Result is what an import did, in Endurain's response shape plus skipped and
// warnings. Bytes, Duration and LockHeld are for metrics.
type Result struct {
	Detail   string         `json:"detail"`
	Imported map[string]int `json:"imported"`
	Skipped  map[string]int `json:"skipped"`
	Warnings []string       `json:"warnings"`
	DryRun   bool           `json:"dry_run,omitempty"`
	JobID    string         `json:"job_id,omitempty"`
	// Bytes is the archive size; Duration the whole import; LockHeld how long
	// the write transaction was open.
	Bytes    int64         `json:"-"`
	Duration time.Duration `json:"-"`
	LockHeld time.Duration `json:"-"`
}

func (im *Importer) now() time.Time {
	if im.Now != nil {
		return im.Now().UTC()
	}
	return time.Now().UTC()
}

// run is the state of one import.
type run struct {
	im     *Importer
	ctx    context.Context
	userID int64
	jobID  string
	opts   Options
	lim    Limits
	res    *Result

	entries  []entry
	manifest map[string]ManifestEntry
	// collected by the validation pass: small things only.
	acts      map[int64]*actMeta
	gears     map[int64]string // old id → nickname
	files     map[int64]stagedFile
	media     map[string]stagedFile // NFC of "<old id>_<rest>" → staged
	mediaRows map[string]bool       // folded names the media rows use
	photo     *stagedFile
	profile   *checkedProfile
	spools    map[string]*rowSpool
	locs      map[string]*time.Location
	writing   bool // the second pass
	committed bool // the transaction committed; only file moves remain
	nActs     int
	realBytes int64
	staged    int
}

type actMeta struct {
	loc   *time.Location // the activity's zone, for its laps' and sets' local times
	newID int64          // 0 until inserted; -1 when skipped as a duplicate
}

type stagedFile struct {
	key string // staging key ("" in a dry run)
	ext string
}

// Import validates the archive in r (size bytes) and imports it into userID's
// account, all or nothing. Errors: EINVALID (format, structure, JSON, schema),
// ETOOLARGE (size and count limits), EUNPROCESSABLE (references broken inside
// the archive, invalid profile values), ECONFLICT, EINSUFFICIENT (storage);
// each names the entry and the problem.
func (im *Importer) Import(ctx context.Context, userID int64, r io.ReaderAt, size int64, opts Options) (*Result, error) {
	if opts.DryRun {
		return im.runJob(ctx, nil, userID, r, size, opts)
	}
	job, err := im.newJob(ctx, userID, JobRunning)
	if err != nil {
		return nil, err
	}
	return im.RunJob(ctx, job, userID, r, size, opts)
}

func (im *Importer) runJob(ctx context.Context, job *Job, userID int64, r io.ReaderAt, size int64, opts Options) (*Result, error) {
	start := time.Now()
	ru := &run{im: im, ctx: ctx, userID: userID, opts: opts, lim: im.Limits.withDefaults(),
		res: &Result{Detail: "Import completed", Imported: map[string]int{}, Skipped: map[string]int{},
			Warnings: []string{}, DryRun: opts.DryRun, Bytes: size}}
	// Endurain answers every counts key, starting at 0.
	for _, k := range countKeys {
		if k != "user_identity_providers" && k != "user_integrations" {
			ru.res.Imported[k] = 0
		}
	}
	if job != nil {
		ru.jobID = job.ID
		ru.res.JobID = job.ID
	}
	err := ru.do(r, size)
	ru.res.Duration = time.Since(start)
	if job != nil {
		// The job's end is recorded even when the request was cancelled.
		fctx := context.WithoutCancel(ctx)
		if err != nil && ru.committed {
			// The rows are in: leave the job committed, so start-up recovery
			// moves the staged files that could not be moved now.
		} else if err != nil {
			im.Blobs.RemoveAll(fctx, "staging/"+job.ID)
			im.Store.FinishImportJob(fctx, job.ID, JobFailed, nil, account.ErrorMessage(err), im.now())
		} else {
			body, _ := json.Marshal(ru.res)
			im.Store.FinishImportJob(fctx, job.ID, JobSucceeded, body, "", im.now())
		}
	}
	if err != nil {
		return nil, err
	}
	if opts.DryRun {
		ru.res.Detail = "Import validated (dry run): nothing was written"
	}
	return ru.res, nil
}

func (ru *run) progress(stage string, done, total int) {
	if ru.opts.Progress != nil {
		ru.opts.Progress(Progress{Stage: stage, Done: done, Total: total})
	}
}

func (ru *run) warn(format string, args ...any) {
	if len(ru.res.Warnings) < 100 {
		ru.res.Warnings = append(ru.res.Warnings, fmt.Sprintf(format, args...))
	}
}

func (ru *run) do(r io.ReaderAt, size int64) error {
	if size > ru.lim.MaxUploadBytes {
		return errTooLarge("The archive is larger than %d bytes.", ru.lim.MaxUploadBytes)
	}
	if err := precheckEOCD(r, size, ru.lim); err != nil {
		return err
	}
	zr, err := zip.NewReader(r, size)
	// With GODEBUG zipinsecurepath=0 a usable reader comes with ErrInsecurePath;
	// the structural check below names the offending entry.
	if errors.Is(err, zip.ErrInsecurePath) && zr != nil {
		err = nil
	}
	if err != nil {
		return errFormat("The file is not a readable ZIP archive: %v.", err)
	}
	if ru.entries, err = checkStructure(zr, size, ru.lim); err != nil {
		return err
	}
	if !ru.opts.DryRun {
		if err := ru.checkSpace(); err != nil {
			return err
		}
	}
	ru.progress(StageValidating, 0, len(ru.entries))
	ru.spools = map[string]*rowSpool{}
	defer ru.closeSpools()
	if err := ru.validate(); err != nil {
		return err
	}
	if ru.staged > 0 {
		// Before the transaction, which records the job committed: from then
		// on recovery counts on the staged files.
		if err := ru.im.Blobs.SyncStaging(ru.ctx, "staging/"+ru.jobID); err != nil {
			return errStorage(err)
		}
	}
	if ru.nActs > ru.lim.MaxActivities {
		return errTooMany("The archive has %d activities; the limit is %d.", ru.nActs, ru.lim.MaxActivities)
	}
	if err := ru.write(); err != nil {
		return err
	}
	ru.progress(StageDone, 1, 1)
	return nil
}

// order is the order in which tables are read, so that references can be
// checked in one pass whatever order the archive has.
var order = map[string]int{"gears": 1, "activities": 2}

func (ru *run) sorted(kind entryKind) []entry {
	var out []entry
	for _, e := range ru.entries {
		if e.kind == kind {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		oi, ok := order[out[i].table]
		if !ok {
			oi = 10
		}
		oj, ok := order[out[j].table]
		if !ok {
			oj = 10
		}
		if oi != oj {
			return oi < oj
		}
		return out[i].f.Name < out[j].f.Name
	})
	return out
}

// open returns the entry's content through the checks every read applies:
// at most the declared size (one byte more is a lie), the real byte count
// added to the archive total, and CRC-32 and manifest SHA-256 at EOF.
func (ru *run) open(e entry) (*checkedReader, error) {
	rc, err := e.f.Open()
	if err != nil {
		return nil, errStructure("Entry %q cannot be read: %v.", e.f.Name, err)
	}
	cr := &checkedReader{ru: ru, f: e.f, rc: rc, r: io.LimitReader(rc, int64(e.f.UncompressedSize64)+1),
		crc: crc32.NewIEEE()}
	if m, ok := ru.manifest[e.f.Name]; ok {
		cr.want = &m
		cr.sha = sha256.New()
	}
	return cr, nil
}

type checkedReader struct {
	ru   *run
	f    *zip.File
	rc   io.ReadCloser
	r    io.Reader
	n    int64
	crc  hash.Hash32
	sha  hash.Hash
	want *ManifestEntry
	done bool
}

func (c *checkedReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.crc.Write(p[:n])
	if c.sha != nil {
		c.sha.Write(p[:n])
	}
	if c.n > int64(c.f.UncompressedSize64) {
		return 0, errIntegrity("Entry %q is larger than its declared size.", c.f.Name)
	}
	if err == io.EOF {
		if e := c.finish(); e != nil {
			return n, e
		}
	} else if err != nil {
		return n, errIntegrity("Entry %q is damaged: %v.", c.f.Name, err)
	}
	return n, err
}

func (c *checkedReader) finish() error {
	if c.done {
		return nil
	}
	c.done = true
	if c.n != int64(c.f.UncompressedSize64) {
		return errIntegrity("Entry %q is shorter than its declared size.", c.f.Name)
	}
	if c.crc.Sum32() != c.f.CRC32 {
		return errIntegrity("Entry %q fails its CRC-32 check.", c.f.Name)
	}
	if c.want != nil && (c.want.Size != c.n || hex.EncodeToString(c.sha.Sum(nil)) != c.want.SHA256) {
		return errIntegrity("Entry %q does not match manifest.json.", c.f.Name)
	}
	return nil
}

// drain reads the rest and closes, so every entry gets its full checks.
func (c *checkedReader) drain() error {
	defer c.rc.Close()
	if _, err := io.Copy(io.Discard, c); err != nil {
		return err
	}
	return c.finish()
}

// validate is the first pass: every entry is read in full and checked, the
// files are staged, and only small things are kept.
func (ru *run) validate() error {
	ru.acts = map[int64]*actMeta{}
	ru.gears = map[int64]string{}
	ru.files = map[int64]stagedFile{}
	ru.media = map[string]stagedFile{}
	ru.mediaRows = map[string]bool{}
	for _, e := range ru.entries {
		if e.kind == kindManifest {
			if err := ru.readManifest(e); err != nil {
				return err
			}
		}
	}
	done := 0
	step := func() {
		done++
		ru.progress(StageValidating, done, len(ru.entries))
	}
	data := ru.sorted(kindData)
	err := ru.ordered(len(data), dataWorkers(), func(i int) task {
		e := data[i]
		d := fitness.Describe(fitness.Table(e.table))
		if d == nil || !onWorker(d) {
			return task{inline: func() error {
				if err := ru.validateData(e); err != nil {
					return err
				}
				step()
				return nil
			}}
		}
		sp, err := ru.newSpool(e.f.Name)
		if err != nil {
			return task{inline: func() error { return err }}
		}
		now := ru.im.now()
		work := func(ctx context.Context) (func() error, error) {
			n, err := ru.spoolRows(ctx, e, d, sp, now, func(row []any) error { return ru.checkRow(e.f.Name, d, row) })
			if err != nil {
				return nil, err
			}
			return func() error {
				if err := ru.addBytes(n); err != nil {
					return err
				}
				step()
				return nil
			}, nil
		}
		if e.f.UncompressedSize64 > uint64(ru.lim.MaxRowBytes/4) {
			// Big enough for a row near MaxRowBytes: read alone, so the
			// workers never hold several such rows at once.
			return task{inline: func() error {
				apply, err := work(ru.ctx)
				if err != nil {
					return err
				}
				return apply()
			}}
		}
		return task{work: work}
	})
	if err != nil {
		return err
	}
	var files []entry
	for _, e := range ru.entries {
		switch e.kind {
		case kindMedia, kindActivityFile, kindUserImage, kindCounts:
			files = append(files, e)
		}
	}
	return ru.ordered(len(files), fileWorkers, func(i int) task {
		e := files[i]
		switch {
		case e.kind == kindMedia && !imageExts[e.ext]:
			// Endurain imports only PNG and JPEG media, and skips the rest.
			return ru.skipTask(e, func() {
				ru.warn("%s is not a PNG or JPEG photo and was skipped.", printable(e.f.Name))
				ru.res.Skipped["media"]++
				step()
			})
		case e.kind == kindCounts:
			// Ignored, as Endurain does, but still read through the checks.
			return ru.skipTask(e, step)
		case e.kind == kindUserImage:
			// Only the first photo is kept: each waits for the one before.
			return task{inline: func() error {
				sf := ru.stageFile(e)
				n, err := ru.stageWork(ru.ctx, e, sf)
				if err != nil {
					return err
				}
				ru.stagedFile(e, sf, n)
				step()
				return nil
			}}
		}
		sf := ru.stageFile(e)
		return task{work: func(ctx context.Context) (func() error, error) {
			n, err := ru.stageWork(ctx, e, sf)
			if err != nil {
				return nil, err
			}
			return func() error {
				ru.stagedFile(e, sf, n)
				step()
				return nil
			}, nil
		}}
	})
}

// onWorker says whether a described table's entries can be read on a worker:
// their checks only read what gear and activities left in the run.
func onWorker(d *fitness.Desc) bool {
	switch d.Table {
	case fitness.Users, fitness.UserIdentityProviders, fitness.UserIntegrations, fitness.Gears, fitness.Activities, fitness.ActivityMedia:
		return false
	}
	return true
}

// skipTask reads an entry that is not imported through every check on a
// worker; then adds its size and calls then.
func (ru *run) skipTask(e entry, then func()) task {
	return task{work: func(context.Context) (func() error, error) {
		c, err := ru.open(e)
		if err != nil {
			return nil, err
		}
		if err := c.drain(); err != nil {
			return nil, err
		}
		return func() error {
			ru.realBytes += c.n
			then()
			return nil
		}, nil
	}}
}

func (ru *run) readManifest(e entry) error {
	c, err := ru.open(e)
	if err != nil {
		return err
	}
	defer c.rc.Close()
	var m Manifest
	dec := json.NewDecoder(&jsonGuard{r: c, name: e.f.Name, lim: ru.lim})
	if err := dec.Decode(&m); err != nil {
		return jsonErr(e.f.Name, 0, err)
	}
	if err := c.drain(); err != nil {
		return err
	}
	if m.FormatVersion != FormatVersion {
		return errSchema("manifest.json: format_version %d is not supported.", m.FormatVersion)
	}
	if n := m.NotExported["passkeys"]; n > 0 {
		ru.warn("The exported account had %d passkey(s); passkeys are never exported: register them again on this account.", n)
	}
	ru.manifest = make(map[string]ManifestEntry, len(m.Entries))
	present := map[string]bool{}
	for _, x := range ru.entries {
		present[x.f.Name] = true
	}
	for _, x := range m.Entries {
		if !present[x.Name] {
			return errIntegrity("manifest.json lists %q, which the archive lacks.", printable(x.Name))
		}
		ru.manifest[x.Name] = x
	}
	for _, x := range ru.entries {
		if _, ok := ru.manifest[x.f.Name]; !ok && x.kind != kindManifest && x.kind != kindDir {
			return errIntegrity("Entry %q is not listed in manifest.json.", x.f.Name)
		}
	}
	return nil
}

// sniffNested refuses archives inside the archive, whatever they are named.
func sniffNested(name string, head []byte) error {
	for _, magic := range [][]byte{{'P', 'K', 3, 4}, {'P', 'K', 5, 6}, {0x1f, 0x8b}, {'7', 'z', 0xbc, 0xaf}, {'R', 'a', 'r', '!'}, {'B', 'Z', 'h'}, {0xfd, '7', 'z', 'X', 'Z'}} {
		if bytes.HasPrefix(head, magic) {
			return errStructure("Entry %q is a nested archive.", name)
		}
	}
	if len(head) > 262 && string(head[257:262]) == "ustar" {
		return errStructure("Entry %q is a nested archive.", name)
	}
	return nil
}

// stageFile is where a file entry is staged: a new staging key when it is
// wanted, none (read and checked, then dropped) in a dry run or for a stray.
func (ru *run) stageFile(e entry) stagedFile {
	sf := stagedFile{ext: e.ext}
	if !ru.opts.DryRun && ru.wanted(e) {
		ru.staged++
		sf.key = fmt.Sprintf("staging/%s/f%d", ru.jobID, ru.staged)
	}
	return sf
}

// stageWork checks a file entry and copies it to sf's key; it writes nothing
// of ru, so it runs on a worker. It returns the entry's real size.
func (ru *run) stageWork(ctx context.Context, e entry, sf stagedFile) (int64, error) {
	c, err := ru.open(e)
	if err != nil {
		return 0, err
	}
	defer c.rc.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(c, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return 0, err
	}
	head = head[:n]
	if err := sniffNested(e.f.Name, head); err != nil {
		return 0, err
	}
	switch e.kind {
	case kindMedia, kindUserImage:
		if !isImage(head) {
			return 0, errFormat("Entry %q is not a PNG or JPEG image.", e.f.Name)
		}
		if e.kind == kindUserImage && e.f.UncompressedSize64 > profile.MaxPhotoBytes {
			return 0, errTooLarge("Entry %q is larger than %d bytes.", e.f.Name, profile.MaxPhotoBytes)
		}
		if e.kind == kindUserImage {
			// A photo is small (20 MiB at most): read it whole and refuse pixel bombs.
			rest, err := io.ReadAll(c)
			if err != nil {
				return 0, err
			}
			head = append(head, rest...)
			cfg, _, err := image.DecodeConfig(bytes.NewReader(head))
			if err != nil || int64(cfg.Width)*int64(cfg.Height) > profile.MaxPhotoPixels {
				return 0, errFormat("Entry %q is not a valid image of at most %d pixels.", e.f.Name, profile.MaxPhotoPixels)
			}
		}
	}
	content := io.MultiReader(bytes.NewReader(head), c)
	if sf.key == "" {
		if _, err := io.Copy(io.Discard, content); err != nil {
			return 0, err
		}
	} else if _, err := ru.im.Blobs.Stage(ctx, sf.key, content); err != nil {
		if isAccountErr(err) {
			return 0, err
		}
		return 0, errStorage(err)
	}
	if err := c.finish(); err != nil {
		return 0, err
	}
	return c.n, nil
}

// stagedFile records a staged (or checked) file entry of real size n.
func (ru *run) stagedFile(e entry, sf stagedFile, n int64) {
	ru.realBytes += n
	switch e.kind {
	case kindActivityFile:
		if _, ok := ru.acts[e.oldID]; !ok {
			ru.warn("%s belongs to no activity in the archive and was skipped.", e.f.Name)
			return
		}
		ru.files[e.oldID] = sf
	case kindMedia:
		if _, ok := ru.acts[e.oldID]; !ok {
			ru.warn("%s belongs to no activity in the archive and was skipped.", e.f.Name)
			return
		}
		ru.media[norm.NFC.String(fmt.Sprintf("%d_%s", e.oldID, e.rest))] = sf
	case kindUserImage:
		if ru.photo != nil {
			ru.warn("%s: only the first user image is imported.", e.f.Name)
			return
		}
		if sf.ext == "jpeg" {
			sf.ext = "jpg"
		}
		ru.photo = &sf
	}
}

// wanted says whether a file entry belongs to something imported, so strays
// are never staged.
func (ru *run) wanted(e entry) bool {
	if e.kind == kindUserImage {
		return ru.photo == nil
	}
	_, ok := ru.acts[e.oldID]
	return ok
}

// isImage says whether head starts a PNG or a JPEG. Either is accepted under
// any of the image extensions: a photo named .jpg that is really a PNG is still
// the uploader's photo.
func isImage(head []byte) bool {
	return bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")) || bytes.HasPrefix(head, []byte{0xff, 0xd8, 0xff})
}

// mediaName returns "<old activity id>_<rest>" of a media row's path (trailpass's
// "activity_media/…" or Endurain's absolute path), and rest, the uploader's file
// name; ok is false when the path has not that shape.
func mediaName(p string) (base, rest string, ok bool) {
	base = p[strings.LastIndexAny(p, "/\\")+1:]
	m := reMedia.FindStringSubmatch("activity_media/" + base)
	if m == nil || checkMediaName(m[2]) != "" {
		return "", "", false
	}
	return base, m[2], true
}
