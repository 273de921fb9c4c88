package portability

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"path"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	kflate "github.com/klauspost/compress/flate"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/blob"
	"github.com/trailpass/trailpass/internal/fitness"
)

// FormatVersion is the version of manifest.json's format.
const FormatVersion = 1

// DefaultChunkSize is the number of rows per laps, sets and streams chunk file:
// Endurain's medium memory tier (batch_size 125 // 2), the one it uses by default.
const DefaultChunkSize = 62

// Page sizes: activities and small rows in Endurain's medium batch; streams carry
// one JSON array of samples each (hundreds of KiB for long activities), so few.
const (
	rowPage    = 125
	streamPage = 8
	filePage   = 125
)

// Memory bounds of parallel compression: at most 2 entries per worker and
// DefaultPendingBytes of uncompressed data wait to be written, plus the entry
// being read (up to DefaultEntryBuffer) and the compressed copies.
const (
	DefaultEntryBuffer  = 2 << 20
	DefaultPendingBytes = 8 << 20
)

// Exporter writes a user's archive. It is safe for concurrent use.
type Exporter struct {
	Store fitness.Store
	Blobs blob.Store
	// Now stamps the manifest and the entries' modification times.
	Now func() time.Time
	// Version is trailpass's version, recorded in the manifest.
	Version string
	// ChunkSize overrides DefaultChunkSize (tests).
	ChunkSize int
	// Workers is the number of entries compressed at once: 0 means
	// GOMAXPROCS, 1 the sequential writer. The archive's bytes are the same.
	Workers int
	// EntryBuffer is how many uncompressed bytes one entry may hold in memory
	// for a worker (0: DefaultEntryBuffer); a larger entry waits for those
	// before it and is written straight through (tests set it small).
	EntryBuffer int
	// Passkeys, when set, counts the user's passkeys. They are credentials
	// bound to this server and never exported; the manifest says how many
	// were left out.
	Passkeys interface {
		CountPasskeys(ctx context.Context, userID int64) (int, error)
	}
}

// ExportStats describes a written archive.
type ExportStats struct {
	// Entries is the number of ZIP entries, manifest.json included.
	Entries int
	// Bytes is the total uncompressed size of the entries.
	Bytes int64
	// Records counts the exported rows per table (chunks added up).
	Records map[string]int
	// Files counts activity files, media and user images copied.
	Files int
	// MissingFiles counts files the database names but the blob store lacks.
	MissingFiles int
}

// ManifestEntry describes one archive entry in manifest.json.
type ManifestEntry struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Manifest is manifest.json, the archive's last entry.
type Manifest struct {
	FormatVersion    int             `json:"format_version"`
	TrailpassVersion string          `json:"trailpass_version"`
	ExportedAt       string          `json:"exported_at"`
	UserID           int64           `json:"user_id"`
	Entries          []ManifestEntry `json:"entries"`
	Records          map[string]int  `json:"records"`
	// NotExported counts what the account had but the archive leaves out on
	// purpose ("passkeys"), and Warnings says so in words.
	NotExported map[string]int `json:"not_exported,omitempty"`
	Warnings    []string       `json:"warnings,omitempty"`
}

// countKeys are Endurain's counts.json keys in their initial order.
var countKeys = []string{"media", "activity_files", "activities", "activity_laps", "activity_sets",
	"activity_streams", "activity_workout_steps", "activity_media", "activity_exercise_titles", "gears",
	"gear_components", "health_weight", "health_targets", "notifications", "user_images", "user",
	"user_default_gear", "user_goals", "user_identity_providers", "user_integrations", "user_privacy_settings"}

// storedExts are already compressed: deflating them again only costs CPU.
var storedExts = map[string]bool{".fit": true, ".jpg": true, ".jpeg": true, ".png": true, ".gz": true,
	".zip": true, ".webp": true, ".gif": true}

var flatePool sync.Pool

// pooledFlate returns its compressor to the pool on Close: an export has
// hundreds of entries and each klauspost writer holds about 1 MiB of tables.
type pooledFlate struct{ *kflate.Writer }

func (p pooledFlate) Close() error {
	err := p.Writer.Close()
	flatePool.Put(p.Writer)
	return err
}

func newFlate(w io.Writer) (io.WriteCloser, error) {
	if fw, ok := flatePool.Get().(*kflate.Writer); ok {
		fw.Reset(w)
		return pooledFlate{fw}, nil
	}
	fw, err := kflate.NewWriter(w, 5)
	if err != nil {
		return nil, err
	}
	return pooledFlate{fw}, nil
}

// Export streams userID's archive into w as it is produced and returns what it
// wrote. Returns ENOTFOUND "User not found" before writing anything if the user
// does not exist. Any later error leaves w holding a truncated archive with no
// central directory, which no ZIP reader accepts: the caller must abort the
// response rather than end it normally.
//
// Consistency: each table is read through short keyset-paginated queries, not
// one snapshot. Every row is written at most once and each entry is a valid JSON
// array; rows created, changed or deleted while the export runs may or may not
// be included, and a child row can outlive its activity's entry by a page.
func (x *Exporter) Export(ctx context.Context, userID int64, w io.Writer) (ExportStats, error) {
	users, err := x.Store.ExportPage(ctx, fitness.Users, fitness.PageQuery{UserID: userID, Limit: 1})
	if err != nil {
		return ExportStats{}, err
	}
	if len(users) == 0 {
		return ExportStats{}, account.Errorf(account.ENOTFOUND, "User not found")
	}
	now := time.Now
	if x.Now != nil {
		now = x.Now
	}
	e := &exportRun{
		x: x, ctx: ctx, userID: userID, now: now().UTC(),
		zw:     zip.NewWriter(w),
		counts: map[string]int{},
		stats:  ExportStats{Records: map[string]int{}},
		chunk:  x.ChunkSize,
	}
	if e.chunk <= 0 {
		e.chunk = DefaultChunkSize
	}
	e.zw.RegisterCompressor(zip.Deflate, newFlate)
	workers := x.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if workers > 1 {
		e.maxPending = 2 * workers
		e.pendingBudget = DefaultPendingBytes
		e.entryMax = x.EntryBuffer
		if e.entryMax <= 0 {
			e.entryMax = DefaultEntryBuffer
		}
		e.startWorkers(workers)
		defer e.stop()
	}
	for _, k := range countKeys {
		e.setCount(k, 0)
	}
	e.setCount("user", 1)
	if err := e.run(users[0]); err != nil {
		return e.stats, err
	}
	if err := e.drain(0); err != nil {
		return e.stats, err
	}
	if err := e.zw.Close(); err != nil {
		return e.stats, fmt.Errorf("export: finish archive: %w", err)
	}
	return e.stats, nil
}

// exportRun is the state of one export.
type exportRun struct {
	x         *Exporter
	ctx       context.Context
	userID    int64
	now       time.Time
	zw        *zip.Writer
	chunk     int
	countKeys []string
	counts    map[string]int
	stats     ExportStats
	entries   []ManifestEntry
	cur       *entryWriter

	// Parallel compression (nil jobs: sequential).
	jobs          chan *job
	wg            sync.WaitGroup
	pending       []*job // queued entries, in archive order
	pendingBytes  int    // their uncompressed bytes
	maxPending    int
	pendingBudget int
	entryMax      int
}

func (e *exportRun) setCount(k string, n int) {
	if _, ok := e.counts[k]; !ok {
		e.countKeys = append(e.countKeys, k)
	}
	e.counts[k] = n
}

func (e *exportRun) run(user fitness.Row) error {
	for _, d := range fitness.Tables {
		var err error
		switch {
		case d.Table == fitness.Users:
			continue // written last, as Endurain does
		case d.Chunked:
			err = e.chunked(d.Table)
		default:
			err = e.table(d.Table, rowPage)
		}
		if err != nil {
			return err
		}
	}
	if err := e.writeRows(fitness.Users, "data/user.json", []fitness.Row{e.endurainUser(user)}); err != nil {
		return err
	}
	if err := e.files(e.x.Store.ActivityFiles, "activity_files"); err != nil {
		return err
	}
	if err := e.files(e.x.Store.MediaFiles, "media"); err != nil {
		return err
	}
	if err := e.userImage(user); err != nil {
		return err
	}
	if err := e.writeCounts(); err != nil {
		return err
	}
	return e.writeManifest()
}

// entryWriter hashes and counts what goes into one entry, behind a buffer so the
// many small writes of the JSON encoder reach the compressor in large blocks.
// In parallel mode it collects the entry's bytes for a compression worker;
// direct mode (one worker, or an entry too large to hold) writes through the
// zip.Writer as it goes.
type entryWriter struct {
	e      *exportRun
	name   string
	method uint16
	n      int64
	buf    *bufio.Writer
	data   *bytes.Buffer // parallel mode: the entry so far
	direct bool
	zw     io.Writer // direct mode
	h      hash.Hash // direct mode
}

func (w *entryWriter) Write(p []byte) (int, error) {
	if w.direct {
		n, err := w.zw.Write(p)
		w.h.Write(p[:n])
		w.n += int64(n)
		return n, err
	}
	w.data.Write(p)
	w.n += int64(len(p))
	if w.data.Len() > w.e.entryMax {
		if err := w.e.goDirect(w); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// ReadFrom copies a blob into the entry: bufio.Writer hands an io.Copy to it
// when its buffer is empty, so a queued entry reads the file straight into
// its buffer, in a few large reads, rather than 32 KiB at a time through
// bufio. Past entryMax bytes the entry goes direct and the rest is copied
// through Write.
func (w *entryWriter) ReadFrom(r io.Reader) (int64, error) {
	var n int64
	if !w.direct {
		m, err := w.data.ReadFrom(io.LimitReader(r, int64(w.e.entryMax-w.data.Len()+1)))
		n, w.n = m, w.n+m
		if err != nil || w.data.Len() <= w.e.entryMax {
			return n, err // all read, within the limit
		}
		if err := w.e.goDirect(w); err != nil {
			return n, err
		}
	}
	m, err := io.Copy(writerOnly{w}, r)
	return n + m, err
}

// writerOnly hides entryWriter.ReadFrom from io.Copy.
type writerOnly struct{ io.Writer }

// create starts an entry, finishing the previous one.
func (e *exportRun) create(name string) (*entryWriter, error) {
	if err := e.finish(); err != nil {
		return nil, err
	}
	method := zip.Deflate
	if storedExts[strings.ToLower(path.Ext(name))] {
		method = zip.Store
	}
	ew := &entryWriter{e: e, name: name, method: method}
	ew.buf = getBufio(ew)
	e.cur = ew
	if e.jobs == nil {
		return ew, e.goDirect(ew)
	}
	ew.data = getBuf()
	return ew, nil
}

// goDirect switches ew to writing straight into the archive, after every
// entry queued before it, exactly as the sequential exporter does.
func (e *exportRun) goDirect(ew *entryWriter) error {
	if err := e.drain(0); err != nil {
		return err
	}
	zwr, err := e.zw.CreateHeader(&zip.FileHeader{Name: ew.name, Method: ew.method, Modified: e.now})
	if err != nil {
		return fmt.Errorf("export: create %s: %w", ew.name, err)
	}
	ew.direct, ew.zw, ew.h = true, zwr, sha256.New()
	if ew.data != nil {
		data := ew.data
		ew.data = nil
		ew.n = 0
		_, err = ew.Write(data.Bytes())
		putBuf(data)
		if err != nil {
			return fmt.Errorf("export: write %s: %w", ew.name, err)
		}
	}
	return nil
}

// finish flushes the current entry and records it for the manifest (direct
// mode) or queues it for compression.
func (e *exportRun) finish() error {
	ew := e.cur
	if ew == nil {
		return nil
	}
	e.cur = nil
	err := ew.buf.Flush()
	putBufio(ew.buf)
	ew.buf = nil
	if err != nil {
		return fmt.Errorf("export: write %s: %w", ew.name, err)
	}
	e.stats.Entries++
	e.stats.Bytes += ew.n
	if ew.direct {
		e.entries = append(e.entries, ManifestEntry{Name: ew.name, Size: ew.n, SHA256: hex.EncodeToString(ew.h.Sum(nil))})
		return nil
	}
	j := &job{name: ew.name, method: ew.method, raw: ew.data, done: make(chan struct{})}
	e.pending = append(e.pending, j)
	e.pendingBytes += j.raw.Len()
	e.jobs <- j // never blocks: the channel holds maxPending+1 and drain keeps at most maxPending
	if err := e.drain(e.pendingBudget); err != nil {
		return err
	}
	// Write what is already compressed, so the client gets bytes early.
	for len(e.pending) > 0 && isDone(e.pending[0]) {
		if err := e.writeHead(); err != nil {
			return err
		}
	}
	return nil
}

// job is one entry compressed by a worker.
type job struct {
	name   string
	method uint16
	raw    *bytes.Buffer
	comp   *bytes.Buffer // raw itself when stored
	crc    uint32
	sum    [sha256.Size]byte
	err    error
	done   chan struct{}
}

func isDone(j *job) bool {
	select {
	case <-j.done:
		return true
	default:
		return false
	}
}

// compress runs in a worker. It feeds the same pooled level-5 compressor the
// sequential path registers, so the deflate stream is the same bytes.
func (j *job) compress() {
	defer close(j.done)
	b := j.raw.Bytes()
	j.crc = crc32.ChecksumIEEE(b)
	j.sum = sha256.Sum256(b)
	if j.method == zip.Store {
		j.comp = j.raw
		return
	}
	j.comp = getBuf()
	fw, err := newFlate(j.comp)
	if err == nil {
		_, err = fw.Write(b)
		if cerr := fw.Close(); err == nil {
			err = cerr
		}
	}
	j.err = err
}

// drain writes queued entries in order until at most maxPending remain and
// their bytes fit in budget (drain(0) empties the queue).
func (e *exportRun) drain(budget int) error {
	for len(e.pending) > 0 && (budget == 0 || len(e.pending) > e.maxPending || e.pendingBytes > budget) {
		if err := e.writeHead(); err != nil {
			return err
		}
	}
	return nil
}

// writeHead waits for the oldest queued entry and writes it with CreateRaw.
// Its header is first built by CreateHeader on a throwaway writer, so flags
// (data descriptor, UTF-8), versions, times and the extended-timestamp extra
// are exactly the sequential writer's; CreateRaw then writes them with the CRC
// and sizes in the data descriptor, as CreateHeader's writer does.
func (e *exportRun) writeHead() error {
	j := e.pending[0]
	<-j.done
	e.pending = e.pending[1:]
	e.pendingBytes -= j.raw.Len()
	if j.err != nil {
		return fmt.Errorf("export: compress %s: %w", j.name, j.err)
	}
	// A fresh throwaway writer per entry: one kept for the whole export would
	// hold every header, as the real writer's central directory does.
	hdr := zip.NewWriter(io.Discard)
	hdr.RegisterCompressor(zip.Deflate, func(io.Writer) (io.WriteCloser, error) { return nopCloser{io.Discard}, nil })
	fh := &zip.FileHeader{Name: j.name, Method: j.method, Modified: e.now}
	if _, err := hdr.CreateHeader(fh); err != nil {
		return fmt.Errorf("export: create %s: %w", j.name, err)
	}
	fh.CRC32 = j.crc
	fh.CompressedSize64 = uint64(j.comp.Len())
	fh.UncompressedSize64 = uint64(j.raw.Len())
	w, err := e.zw.CreateRaw(fh)
	if err != nil {
		return fmt.Errorf("export: create %s: %w", j.name, err)
	}
	if _, err := w.Write(j.comp.Bytes()); err != nil {
		return fmt.Errorf("export: write %s: %w", j.name, err)
	}
	e.entries = append(e.entries, ManifestEntry{Name: j.name, Size: int64(j.raw.Len()), SHA256: hex.EncodeToString(j.sum[:])})
	if j.comp != j.raw {
		putBuf(j.comp)
	}
	putBuf(j.raw)
	return nil
}

// startWorkers starts n compression workers; stop ends them.
func (e *exportRun) startWorkers(n int) {
	e.jobs = make(chan *job, e.maxPending+1)
	for range n {
		e.wg.Go(func() {
			for j := range e.jobs {
				j.compress()
			}
		})
	}
}

func (e *exportRun) stop() {
	if e.jobs != nil {
		close(e.jobs)
		e.wg.Wait()
		e.jobs = nil
	}
}

// bufioPool holds the entries' 32 KiB write buffers: one per entry was a
// tenth of the bytes an export allocated.
var bufioPool sync.Pool

func getBufio(w io.Writer) *bufio.Writer {
	if b, ok := bufioPool.Get().(*bufio.Writer); ok {
		b.Reset(w)
		return b
	}
	return bufio.NewWriterSize(w, 32<<10)
}

// putBufio drops the buffer's writer, so the pool keeps no entry alive.
func putBufio(b *bufio.Writer) {
	b.Reset(io.Discard)
	bufioPool.Put(b)
}

var bufPool sync.Pool

func getBuf() *bytes.Buffer {
	if b, ok := bufPool.Get().(*bytes.Buffer); ok {
		return b
	}
	return new(bytes.Buffer)
}

// putBuf keeps buffers up to 4 MiB for the next entry.
func putBuf(b *bytes.Buffer) {
	if b.Cap() <= 4<<20 {
		b.Reset()
		bufPool.Put(b)
	}
}

// table writes a whole table to data/<t>.json, or nothing when it has no rows.
func (e *exportRun) table(t fitness.Table, page int) error {
	q := fitness.PageQuery{UserID: e.userID, Limit: page}
	rows, err := e.fetch(t, q).get()
	if err != nil || len(rows) == 0 {
		return err
	}
	name := "data/" + string(t) + ".json"
	ew, err := e.create(name)
	if err != nil {
		return err
	}
	enc := newRowEncoder(ew.buf, t, e.x.Store.ExportColumns(t))
	enc.begin()
	for len(rows) > 0 {
		var next *pageFetch
		if len(rows) == page {
			q.After = rows[len(rows)-1].Cursor
			next = e.fetch(t, q)
		}
		for _, r := range rows {
			enc.row(r)
		}
		if next == nil {
			break
		}
		if rows, err = next.get(); err != nil {
			return err
		}
	}
	enc.end()
	e.setCount(string(t), enc.n)
	e.stats.Records[string(t)] += enc.n
	return e.finish()
}

// chunked writes t as Endurain does for laps, sets and streams: files of
// e.chunk rows named data/<t>_000.json, _001…, or data/<t>.json when there are
// fewer rows than one chunk. Only the first file's name depends on how many
// rows follow, so only the first chunk's ids are listed up front; after that
// the pages are cut at the chunk boundaries (a page never spans two files) and
// each next page is read while the current one is written, across files.
// Listing every chunk's ids first made SQLite walk the streams' pages twice:
// at 10,000 activities that was 13 % of the export's CPU.
func (e *exportRun) chunked(t fitness.Table) error {
	page := rowPage
	if t == fitness.ActivityStreams {
		page = streamPage
	}
	ids, err := e.x.Store.ExportIDs(e.ctx, t, e.userID, 0, e.chunk)
	if err != nil || len(ids) == 0 {
		return err
	}
	single := len(ids) < e.chunk
	q := fitness.PageQuery{UserID: e.userID, Limit: min(page, e.chunk)}
	if single {
		q.Until = ids[len(ids)-1]
	}
	next := e.fetch(t, q)
	for n := 0; next != nil; n++ {
		rows, err := next.get()
		if err != nil || len(rows) == 0 {
			return err
		}
		base := fmt.Sprintf("%s_%03d", t, n)
		if single {
			base = string(t)
		}
		ew, err := e.create("data/" + base + ".json")
		if err != nil {
			return err
		}
		enc := newRowEncoder(ew.buf, t, e.x.Store.ExportColumns(t))
		enc.begin()
		for left := e.chunk; ; {
			// Start the next page (of this file or the next) before writing this one.
			left -= len(rows)
			next = nil
			if len(rows) == q.Limit && !(single && left == 0) {
				q.After = rows[len(rows)-1].Cursor
				q.Limit = min(page, left)
				if left == 0 {
					q.Limit = min(page, e.chunk)
				}
				next = e.fetch(t, q)
			}
			for _, r := range rows {
				enc.row(r)
			}
			if next == nil || left == 0 {
				break
			}
			if rows, err = next.get(); err != nil {
				return err
			}
			if len(rows) == 0 {
				next = nil
				break
			}
		}
		enc.end()
		e.setCount(base, enc.n)
		e.stats.Records[string(t)] += enc.n
		if err := e.finish(); err != nil {
			if next != nil {
				next.get()
			}
			return err
		}
		if single {
			return nil
		}
	}
	return nil
}

// pageFetch is a page being read in the background: the next page's query
// and the JSON checks run while the current page is encoded. Every fetch
// started is waited for before the export moves on.
type pageFetch struct {
	done chan struct{}
	rows []fitness.Row
	err  error
}

func (e *exportRun) fetch(t fitness.Table, q fitness.PageQuery) *pageFetch {
	p := &pageFetch{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.rows, p.err = e.x.Store.ExportPage(e.ctx, t, q)
		if p.err == nil {
			prepareRaw(p.rows)
		}
	}()
	return p
}

func (p *pageFetch) get() ([]fitness.Row, error) {
	<-p.done
	return p.rows, p.err
}

// writeRows writes rows already in hand (the user's own row).
func (e *exportRun) writeRows(t fitness.Table, name string, rows []fitness.Row) error {
	ew, err := e.create(name)
	if err != nil {
		return err
	}
	enc := newRowEncoder(ew.buf, t, e.x.Store.ExportColumns(t))
	enc.begin()
	for _, r := range rows {
		enc.row(r)
	}
	enc.end()
	e.setCount(string(t), enc.n)
	e.stats.Records[string(t)] += enc.n
	return e.finish()
}

// endurainDataDir is Endurain's data directory in its container. Endurain
// stores photo_path under it and its web app drops the first four parts of that
// path to build the photo's URL, so user.json carries the same absolute form.
const endurainDataDir = "/app/backend/data/"

// endurainUser returns the user row with photo_path (a blob key such as
// "user_images/1.png") in Endurain's absolute form.
func (e *exportRun) endurainUser(user fitness.Row) fitness.Row {
	out := user
	out.Values = slices.Clone(user.Values)
	for i, c := range e.x.Store.ExportColumns(fitness.Users) {
		if p, ok := out.Values[i].(string); ok && c.Name == "photo_path" && p != "" && !strings.HasPrefix(p, "/") {
			out.Values[i] = endurainDataDir + p
		}
	}
	return out
}

// copyBlob copies a blob into the entry name; false if it is missing.
func (e *exportRun) copyBlob(key, name string) (bool, error) {
	rc, err := e.x.Blobs.Open(e.ctx, key)
	if errors.Is(err, blob.ErrNotFound) || errors.Is(err, blob.ErrInvalidKey) {
		e.stats.MissingFiles++
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("export: %w", err)
	}
	defer rc.Close()
	ew, err := e.create(name)
	if err != nil {
		return false, err
	}
	if _, err := io.Copy(ew.buf, ctxReader{e.ctx, rc}); err != nil {
		return false, fmt.Errorf("export: copy %s: %w", name, err)
	}
	e.stats.Files++
	return true, e.finish()
}

// files copies the blobs a listing pages through (activity files or media),
// counting each copied one under countKey.
func (e *exportRun) files(list func(ctx context.Context, userID int64, after fitness.Cursor, limit int) ([]fitness.FileRef, error), countKey string) error {
	var after fitness.Cursor
	for {
		refs, err := list(e.ctx, e.userID, after, filePage)
		if err != nil || len(refs) == 0 {
			return err
		}
		for _, f := range refs {
			name := f.Name
			if name == "" {
				name = f.Key
			}
			ok, err := e.copyBlob(f.Key, name)
			if err != nil {
				return err
			}
			if ok {
				e.counts[countKey]++
			}
		}
		after = refs[len(refs)-1].Cursor
	}
}

// userImage exports user_images/<id>.<ext>: the key in photo_path when it is
// this user's, else the first common image extension present.
func (e *exportRun) userImage(user fitness.Row) error {
	prefix := "user_images/" + strconv.FormatInt(e.userID, 10) + "."
	var keys []string
	for i, c := range e.x.Store.ExportColumns(fitness.Users) {
		if p, ok := user.Values[i].(string); ok && c.Name == "photo_path" && strings.HasPrefix(p, prefix) {
			keys = append(keys, p)
		}
	}
	for _, ext := range []string{"jpg", "jpeg", "png", "webp", "gif"} {
		keys = append(keys, prefix+ext)
	}
	for _, k := range keys {
		if _, err := e.x.Blobs.Size(e.ctx, k); err != nil {
			continue
		}
		ok, err := e.copyBlob(k, k)
		if err != nil {
			return err
		}
		if ok {
			e.counts["user_images"]++
			return nil
		}
	}
	return nil
}

func (e *exportRun) writeCounts() error {
	e.setCount("counts", 1)
	ew, err := e.create("counts.json")
	if err != nil {
		return err
	}
	ew.buf.WriteString("[{")
	for i, k := range e.countKeys {
		if i > 0 {
			ew.buf.WriteString(", ")
		}
		fmt.Fprintf(ew.buf, "%q: %d", k, e.counts[k])
	}
	ew.buf.WriteString("}]")
	return e.finish()
}

func (e *exportRun) writeManifest() error {
	// The manifest lists every entry before it: write out the queue first.
	if err := e.finish(); err != nil {
		return err
	}
	if err := e.drain(0); err != nil {
		return err
	}
	m := Manifest{
		FormatVersion:    FormatVersion,
		TrailpassVersion: e.x.Version,
		ExportedAt:       e.now.Format(time.RFC3339),
		UserID:           e.userID,
		Entries:          e.entries,
		Records:          e.stats.Records,
	}
	if e.x.Passkeys != nil {
		n, err := e.x.Passkeys.CountPasskeys(e.ctx, e.userID)
		if err != nil {
			return fmt.Errorf("export: count passkeys: %w", err)
		}
		if n > 0 {
			m.NotExported = map[string]int{"passkeys": n}
			m.Warnings = append(m.Warnings, fmt.Sprintf("%d passkey(s) not exported: passkeys are credentials bound to this server; register them again after importing.", n))
		}
	}
	ew, err := e.create("manifest.json")
	if err != nil {
		return err
	}
	enc := jsonEncoder(ew.buf)
	if err := enc.Encode(m); err != nil {
		return fmt.Errorf("export: manifest: %w", err)
	}
	return e.finish()
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// ctxReader stops a copy when the export is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// FileName is the archive's download name, as Endurain names it:
// Content-Disposition: attachment; filename=user_<id>_export.zip.
func FileName(userID int64) string { return "user_" + strconv.FormatInt(userID, 10) + "_export.zip" }

// ContentType is the archive's media type.
const ContentType = "application/zip"
