package portability

import (
	"archive/zip"
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/trailpass/trailpass/internal/account"
)

func isAccountErr(err error) bool {
	var e *account.Error
	return errors.As(err, &e)
}

// entryKind says what an allowed entry name is.
type entryKind int

const (
	kindDir entryKind = iota
	kindData
	kindCounts
	kindManifest
	kindActivityFile
	kindMedia
	kindUserImage
)

// entry is an allowed archive entry and what its name says.
type entry struct {
	f     *zip.File
	kind  entryKind
	table string // data files: the table ("activity_laps")
	oldID int64  // activity files and media: the activity id in the archive
	ext   string // lower-case extension without the dot
	rest  string // media: the part of the name after "<id>_"
}

// The allowlist of entry names. Names are only ever matched, never used as
// paths: files are stored under keys the server builds from parsed ids (and,
// for media, from a digest of the uploader's file name; see fitness.MediaKey).
var (
	reDir       = regexp.MustCompile(`^(data|activity_files|activity_media|user_images)/$`)
	reData      = regexp.MustCompile(`^data/(activities|activity_workout_steps|activity_media|activity_exercise_titles|gears|gear_components|health_weight|health_targets|notifications|user_default_gear|user_goals|user_identity_providers|user_integrations|user_privacy_settings|user)\.json$`)
	reChunk     = regexp.MustCompile(`^data/(activity_laps|activity_sets|activity_streams)(_[0-9]{3,6})?\.json$`)
	reActFile   = regexp.MustCompile(`^activity_files/([0-9]{1,18})\.([A-Za-z]{3})$`)
	reMedia     = regexp.MustCompile(`(?s)^activity_media/([0-9]{1,18})_(.*)$`)
	reUserImage = regexp.MustCompile(`^user_images/([0-9]{1,18})\.([A-Za-z]{3,4})$`)
)

var (
	activityFileExts = map[string]bool{"fit": true, "gpx": true, "tcx": true}
	imageExts        = map[string]bool{"png": true, "jpg": true, "jpeg": true}
)

// classify matches name against the allowlist.
func classify(name string) (entry, bool) {
	var e entry
	if m := reDir.FindStringSubmatch(name); m != nil {
		e.kind = kindDir
		return e, true
	}
	switch name {
	case "counts.json":
		e.kind = kindCounts
		return e, true
	case "manifest.json":
		e.kind = kindManifest
		return e, true
	}
	if m := reData.FindStringSubmatch(name); m != nil {
		e.kind, e.table = kindData, m[1]
		return e, true
	}
	if m := reChunk.FindStringSubmatch(name); m != nil {
		e.kind, e.table = kindData, m[1]
		return e, true
	}
	if m := reActFile.FindStringSubmatch(name); m != nil {
		e.kind, e.oldID, e.ext = kindActivityFile, parseID(m[1]), strings.ToLower(m[2])
		return e, activityFileExts[e.ext]
	}
	if m := reMedia.FindStringSubmatch(name); m != nil {
		e.kind, e.oldID, e.rest, e.ext = kindMedia, parseID(m[1]), m[2], mediaExt(m[2])
		return e, checkMediaName(m[2]) == ""
	}
	if m := reUserImage.FindStringSubmatch(name); m != nil {
		e.kind, e.oldID, e.ext = kindUserImage, parseID(m[1]), strings.ToLower(m[2])
		return e, imageExts[e.ext]
	}
	return e, false
}

// checkMediaName says what is wrong with the uploader's part of a media file
// name, "" if nothing. Endurain stores media as "<activity id>_<file name as
// uploaded>", so any UTF-8 file name is allowed; it is only ever matched and
// recorded, never used as a path.
func checkMediaName(name string) string {
	switch {
	case name == "":
		return "has no file name after the activity id"
	case len(name) > maxMediaName:
		return fmt.Sprintf("has a file name longer than %d bytes", maxMediaName)
	case !utf8.ValidString(name):
		return "has a file name that is not UTF-8"
	case strings.ContainsAny(name, "/\\"):
		return "has a slash or backslash in its file name"
	case strings.ContainsFunc(name, unicode.IsControl):
		return "has a control character in its file name"
	}
	return ""
}

// maxMediaName is the longest uploader's file name, the usual file-system limit.
const maxMediaName = 255

// mediaExt is the lower-case extension of a media file name ("" if none).
func mediaExt(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return ""
	}
	return strings.ToLower(name[i+1:])
}

// foldName is the form under which two entry names collide: Unicode NFC, then
// case folded, so "Café.jpg" (composed or not) and "CAFÉ.JPG" are one file on
// the file systems people unpack archives on.
func foldName(name string) string {
	for i := 0; i < len(name); i++ {
		if name[i] >= utf8.RuneSelf {
			return norm.NFC.String(cases.Fold().String(norm.NFC.String(name)))
		}
	}
	return strings.ToLower(name) // ASCII: the same, without allocating a Caser
}

func parseID(s string) int64 {
	var n int64
	for _, c := range s {
		n = n*10 + int64(c-'0')
	}
	return n
}

// precheckEOCD reads the end-of-central-directory records (plain and zip64)
// before archive/zip materialises every central-directory entry, so an archive
// declaring too many entries is refused without allocating for them.
func precheckEOCD(r io.ReaderAt, size int64, lim Limits) error {
	const eocdLen = 22
	if size < eocdLen {
		return errFormat("The file is not a ZIP archive.")
	}
	tail := int64(eocdLen + 65535 + 20)
	if tail > size {
		tail = size
	}
	buf := make([]byte, tail)
	if _, err := r.ReadAt(buf, size-tail); err != nil && err != io.EOF {
		return errFormat("The file cannot be read.")
	}
	i := -1
	for j := len(buf) - eocdLen; j >= 0; j-- {
		if binary.LittleEndian.Uint32(buf[j:]) == 0x06054b50 {
			i = j
			break
		}
	}
	if i < 0 {
		return errFormat("The file is not a ZIP archive.")
	}
	count := uint64(binary.LittleEndian.Uint16(buf[i+10:]))
	cdSize := int64(binary.LittleEndian.Uint32(buf[i+12:]))
	cdOffset := int64(binary.LittleEndian.Uint32(buf[i+16:]))
	eocdPos := size - tail + int64(i)
	// A zip64 locator sits just before the EOCD and points at the zip64 record.
	if i >= 20 && binary.LittleEndian.Uint32(buf[i-20:]) == 0x07064b50 {
		off := int64(binary.LittleEndian.Uint64(buf[i-20+8:]))
		rec := make([]byte, 56)
		if off < 0 || off+56 > size {
			return errStructure("The zip64 end record is out of range.")
		}
		if _, err := r.ReadAt(rec, off); err != nil || binary.LittleEndian.Uint32(rec) != 0x06064b50 {
			return errStructure("The zip64 end record is damaged.")
		}
		count = max(count, binary.LittleEndian.Uint64(rec[32:]))
		cdSize = int64(binary.LittleEndian.Uint64(rec[40:]))
		cdOffset = int64(binary.LittleEndian.Uint64(rec[48:]))
		eocdPos = off
	}
	if count > uint64(lim.MaxEntries) {
		return errTooLarge("The archive has more than %d entries.", lim.MaxEntries)
	}
	// The 16-bit count can lie by multiples of 65,536 and archive/zip then
	// reads every record anyway: count the records themselves, where
	// archive/zip looks for them, before it allocates one per record.
	for _, start := range []int64{eocdPos - cdSize, cdOffset} {
		n, ok := countRecords(r, start, eocdPos, lim.MaxEntries+1)
		if ok && n > lim.MaxEntries {
			return errTooLarge("The central directory holds more than %d entries.", lim.MaxEntries)
		}
	}
	return nil
}

// countRecords counts central-directory headers from start, up to limit; ok is
// false when no record starts there.
func countRecords(r io.ReaderAt, start, end int64, limit int) (int, bool) {
	if start < 0 || start >= end {
		return 0, false
	}
	br := bufio.NewReaderSize(io.NewSectionReader(r, start, end-start), 64<<10)
	var hdr [46]byte
	n := 0
	for n < limit {
		if _, err := io.ReadFull(br, hdr[:]); err != nil || binary.LittleEndian.Uint32(hdr[:]) != 0x02014b50 {
			break
		}
		skip := int(binary.LittleEndian.Uint16(hdr[28:])) + int(binary.LittleEndian.Uint16(hdr[30:])) +
			int(binary.LittleEndian.Uint16(hdr[32:]))
		if _, err := br.Discard(skip); err != nil {
			break
		}
		n++
	}
	return n, n > 0
}

// checkStructure validates the central directory, the only parser used from
// here on: entry count, names against the allowlist, collisions, modes, methods,
// flags, declared sizes, ratios and overlapping data. It returns the allowed
// entries in archive order.
func checkStructure(zr *zip.Reader, size int64, lim Limits) ([]entry, error) {
	if len(zr.File) > lim.MaxEntries {
		return nil, errTooLarge("The archive has more than %d entries.", lim.MaxEntries)
	}
	seen := make(map[string]bool, len(zr.File))
	out := make([]entry, 0, len(zr.File))
	var total uint64
	for _, f := range zr.File {
		name := f.Name
		if m := reMedia.FindStringSubmatch(name); m != nil {
			// Media keep their uploader's file name: its own rules, below.
			if why := checkMediaName(m[2]); why != "" {
				return nil, errStructure("Entry %q %s.", printable(name), why)
			}
		} else if len(name) > 255 {
			return nil, errStructure("An entry name is longer than 255 bytes.")
		} else if strings.HasPrefix(name, "/") || strings.Contains(name, "\\") || strings.Contains(name, "..") ||
			strings.ContainsRune(name, 0) || strings.Contains(name, ":") {
			return nil, errStructure("Entry %q has an unsafe path.", printable(name))
		}
		folded := foldName(strings.TrimSuffix(name, "/"))
		if seen[folded] {
			return nil, errStructure("Entry %q appears twice (names are compared after Unicode normalisation and ignoring case).", printable(name))
		}
		seen[folded] = true
		mode := f.Mode()
		if mode&fs.ModeSymlink != 0 || mode&(fs.ModeDevice|fs.ModeNamedPipe|fs.ModeSocket|fs.ModeCharDevice|fs.ModeIrregular) != 0 {
			return nil, errStructure("Entry %q is a symbolic link or special file.", printable(name))
		}
		e, ok := classify(name)
		if !ok {
			return nil, errStructure("Entry %q is not part of the export layout.", printable(name))
		}
		e.f = f
		if f.Flags&1 != 0 {
			return nil, errStructure("Entry %q is encrypted.", name)
		}
		if f.Method != zip.Store && f.Method != zip.Deflate {
			return nil, errStructure("Entry %q uses an unsupported compression method.", name)
		}
		if e.kind == kindDir {
			if f.UncompressedSize64 != 0 {
				return nil, errStructure("Directory entry %q has content.", name)
			}
			continue
		}
		limit := uint64(lim.MaxEntryBytes)
		if e.kind == kindData || e.kind == kindCounts || e.kind == kindManifest {
			limit = uint64(lim.MaxJSONBytes)
		}
		if f.UncompressedSize64 > limit {
			return nil, errTooLarge("Entry %q is larger than %d bytes.", name, limit)
		}
		if f.UncompressedSize64 > uint64(lim.RatioFloorBytes) &&
			f.UncompressedSize64 > f.CompressedSize64*uint64(lim.MaxRatio) {
			return nil, errTooLarge("Entry %q is compressed more than %d:1.", name, lim.MaxRatio)
		}
		total += f.UncompressedSize64
		if total > uint64(lim.MaxTotalBytes) {
			return nil, errTooLarge("The archive's content is larger than %d bytes.", lim.MaxTotalBytes)
		}
		out = append(out, e)
	}
	if err := checkOverlap(out, size); err != nil {
		return nil, err
	}
	return out, nil
}

// checkOverlap rejects entries whose data ranges overlap or leave the file: two
// directory records pointing at the same bytes make a non-recursive bomb.
func checkOverlap(es []entry, size int64) error {
	type span struct {
		from, to int64
		name     string
	}
	spans := make([]span, 0, len(es))
	for _, e := range es {
		off, err := e.f.DataOffset()
		if err != nil {
			return errStructure("Entry %q has a damaged local header.", e.f.Name)
		}
		end := off + int64(e.f.CompressedSize64)
		if off < 0 || end < off || end > size {
			return errStructure("Entry %q points outside the archive.", e.f.Name)
		}
		// The local header (30 bytes and the name) precedes the data.
		spans = append(spans, span{off - 30 - int64(len(e.f.Name)), end, e.f.Name})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].from < spans[j].from })
	for i := 1; i < len(spans); i++ {
		if spans[i].from < spans[i-1].to {
			return errStructure("Entries %q and %q overlap.", spans[i-1].name, spans[i].name)
		}
	}
	return nil
}

// printable shortens and cleans a hostile name for an error message.
func printable(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() > 80 {
			b.WriteString("…")
			break
		}
		if r < 0x20 || r == 0x7f {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}
