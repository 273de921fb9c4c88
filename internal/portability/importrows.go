package portability

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/trailpass/trailpass/internal/fitness"
)

// The rows of every described table (fitness.Tables) are decoded from JSON
// once, in the first pass: each value by its column's kind, checked against
// the column (required, range, length, shape) and given its default. The
// decoded rows are spooled in a compact binary form, so the write transaction
// (on SQLite the one write lock) reads them back without decoding JSON again.

// objRow is an archive row before decoding: its keys and raw values.
type objRow map[string]json.RawMessage

// referenced tables keep their archive ids to map their children's references.
var referenced = map[fitness.Table]bool{fitness.Activities: true, fitness.Gears: true}

// decodeRow decodes obj into a row of d: a value per column (nil for null):
// int64, string (decimals, text, dates), bool, jtime (times) or rawJSON.
// Defaults are applied by finishRow, once the row's times are placed.
func decodeRow(d *fitness.Desc, obj objRow) ([]any, error) {
	row := make([]any, len(d.Cols))
	for i, c := range d.Cols {
		if c.Ref == fitness.Owner || c.Virtual || c.Secret || (c.Ref == fitness.Self && !referenced[d.Table]) {
			continue // never taken from an archive
		}
		raw, ok := obj[c.Name]
		if !ok || string(raw) == "null" {
			if !c.Null && c.Def == "" {
				return nil, &fieldError{fmt.Sprintf("field %q is required.", c.Name)}
			}
			continue
		}
		v, err := decodeValue(c, raw)
		if err != nil {
			return nil, err
		}
		row[i] = v
	}
	return row, nil
}

func decodeValue(c fitness.Column, raw json.RawMessage) (any, error) {
	switch c.Kind {
	case fitness.Int:
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return nil, &fieldError{fmt.Sprintf("field %q must be an integer.", c.Name)}
		}
		if !c.Big && (n > math.MaxInt32 || n < math.MinInt32) {
			return nil, &fieldError{fmt.Sprintf("field %q is out of range.", c.Name)}
		}
		if c.Lim != 0 && (n < c.Min || n > c.Lim) {
			return nil, &fieldError{fmt.Sprintf("field %q must be between %d and %d.", c.Name, c.Min, c.Lim)}
		}
		return n, nil
	case fitness.Decimal:
		var d jdec
		if err := d.UnmarshalJSON(raw); err != nil {
			return nil, err
		}
		return d.S, nil
	case fitness.String:
		var s string
		if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
			return nil, &fieldError{fmt.Sprintf("field %q must be a string.", c.Name)}
		}
		if strings.IndexByte(s, 0) >= 0 {
			return nil, &fieldError{fmt.Sprintf("field %q contains a NUL character.", c.Name)}
		}
		// media_path is checked by its own rules (its file name part).
		if c.Max > 0 && len(s) > c.Max && c.Name != "media_path" {
			return nil, &fieldError{fmt.Sprintf("field %q is longer than %d characters.", c.Name, c.Max)}
		}
		return s, nil
	case fitness.Bool:
		switch string(raw) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, &fieldError{fmt.Sprintf("field %q must be a boolean.", c.Name)}
	case fitness.Time:
		var t jtime
		if err := t.UnmarshalJSON(raw); err != nil {
			return nil, err
		}
		return t, nil
	case fitness.Date:
		var d jdate
		if err := d.UnmarshalJSON(raw); err != nil {
			return nil, err
		}
		return d.S, nil
	case fitness.JSON:
		if bytes.Contains(raw, []byte(`\u0000`)) {
			return nil, &fieldError{fmt.Sprintf("field %q contains a NUL character.", c.Name)}
		}
		// raw is the row's own copy (json.RawMessage copies what it decodes):
		// keep it rather than copy a stream's waypoints again.
		r := rawJSON(raw)
		if c.Shape != 0 && r.kind() != c.Shape {
			what := map[byte]string{'{': "an object", '[': "an array"}[c.Shape]
			return nil, &fieldError{fmt.Sprintf("field %q must be %s.", c.Name, what)}
		}
		return r, nil
	}
	return nil, fmt.Errorf("column %s: unknown kind %d", c.Name, c.Kind)
}

// finishRow places the row's times (naive Local ones in loc, the owning
// activity's zone) and applies the defaults.
func finishRow(d *fitness.Desc, row []any, loc *time.Location, now time.Time) {
	for i, c := range d.Cols {
		if t, ok := row[i].(jtime); ok {
			if c.Form == fitness.Local {
				row[i] = t.in(loc)
			} else {
				row[i] = t.T
			}
		}
	}
	for i, c := range d.Cols {
		if row[i] != nil || c.Def == "" {
			continue
		}
		switch {
		case c.Def == "now":
			row[i] = now
		case c.Kind == fitness.Time:
			row[i] = row[d.Index(c.Def)]
		case c.Kind == fitness.Int:
			n, _ := strconv.ParseInt(c.Def, 10, 64)
			row[i] = n
		case c.Kind == fitness.Bool:
			row[i] = c.Def == "true"
		default:
			row[i] = c.Def
		}
	}
}

// pack puts a row's Bulk JSON values in the store's own form, when it has
// one (bulkPacker). A dry run packs too: its transaction, rolled back, holds
// SQLite's lock as long as a real one.
func (ru *run) pack(d *fitness.Desc, row []any) {
	p, ok := ru.im.Store.(bulkPacker)
	if !ok {
		return
	}
	for i, c := range d.Cols {
		if raw, isRaw := row[i].(rawJSON); isRaw && c.Bulk {
			row[i] = p.PackJSON(raw)
		}
	}
}

// rowSpool is one data entry's decoded rows in a temporary file.
type rowSpool struct {
	f *os.File
	w *bufio.Writer
	n int
}

func (ru *run) newSpool(name string) (*rowSpool, error) {
	f, err := os.CreateTemp(ru.im.TempDir, "trailpass-import-rows-*")
	if err != nil {
		return nil, errStorage(err)
	}
	os.Remove(f.Name()) // unlinked at once: nothing is left behind, even on a crash
	sp := &rowSpool{f: f, w: bufio.NewWriterSize(f, 64<<10)}
	ru.spools[name] = sp
	return sp, nil
}

func (ru *run) closeSpools() {
	for _, sp := range ru.spools {
		sp.f.Close()
	}
}

// Spooled values start with a presence byte.
const (
	spoolNull   = 0
	spoolValue  = 1
	spoolPacked = 2 // a fitness.Packed value
)

// put appends a row: per column a presence byte, then the value.
func (sp *rowSpool) put(d *fitness.Desc, row []any) error {
	var buf [binary.MaxVarintLen64]byte
	for i, c := range d.Cols {
		v := row[i]
		if v == nil {
			sp.w.WriteByte(spoolNull)
			continue
		}
		if p, ok := v.(fitness.Packed); ok {
			sp.w.WriteByte(spoolPacked)
			sp.w.Write(binary.AppendUvarint(buf[:0], uint64(len(p))))
			sp.w.Write(p)
			continue
		}
		sp.w.WriteByte(spoolValue)
		switch c.Kind {
		case fitness.Int:
			sp.w.Write(binary.AppendVarint(buf[:0], v.(int64)))
		case fitness.Bool:
			b := byte(0)
			if v.(bool) {
				b = 1
			}
			sp.w.WriteByte(b)
		case fitness.Time:
			sp.w.Write(binary.AppendVarint(buf[:0], v.(time.Time).UnixNano()))
		case fitness.JSON:
			r := v.(rawJSON)
			sp.w.Write(binary.AppendUvarint(buf[:0], uint64(len(r))))
			sp.w.Write(r)
		default:
			s := v.(string)
			sp.w.Write(binary.AppendUvarint(buf[:0], uint64(len(s))))
			sp.w.WriteString(s)
		}
	}
	sp.n++
	return nil
}

// each reads the rows back in order; JSON values come back as text.
func (sp *rowSpool) each(d *fitness.Desc, fn func(row []any) error) error {
	if _, err := sp.f.Seek(0, io.SeekStart); err != nil {
		return errStorage(err)
	}
	br := bufio.NewReaderSize(sp.f, 64<<10)
	for range sp.n {
		row := make([]any, len(d.Cols))
		for i, c := range d.Cols {
			present, err := br.ReadByte()
			if err != nil {
				return fmt.Errorf("read row spool: %w", err)
			}
			if present == spoolNull {
				continue
			}
			if present == spoolPacked {
				var n uint64
				if n, err = binary.ReadUvarint(br); err == nil {
					p := make(fitness.Packed, n)
					_, err = io.ReadFull(br, p)
					row[i] = p
				}
				if err != nil {
					return fmt.Errorf("read row spool: %w", err)
				}
				continue
			}
			switch c.Kind {
			case fitness.Int:
				row[i], err = binary.ReadVarint(br)
			case fitness.Bool:
				var b byte
				b, err = br.ReadByte()
				row[i] = b == 1
			case fitness.Time:
				var n int64
				n, err = binary.ReadVarint(br)
				row[i] = time.Unix(0, n).UTC()
			default:
				var n uint64
				if n, err = binary.ReadUvarint(br); err == nil {
					// Text, JSON included: what the database takes, without
					// another copy of the waypoints.
					var b strings.Builder
					b.Grow(int(n))
					_, err = io.CopyN(&b, br, int64(n))
					row[i] = b.String()
				}
			}
			if err != nil {
				return fmt.Errorf("read row spool: %w", err)
			}
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	return nil
}

// eachDescRow decodes, checks and spools every row of a described table's
// entry, calling check with each decoded row (its defaults applied).
func (ru *run) eachDescRow(e entry, d *fitness.Desc, check func(row []any) error) error {
	sp, err := ru.newSpool(e.f.Name)
	if err != nil {
		return err
	}
	n, err := ru.spoolRows(ru.ctx, e, d, sp, ru.im.now(), check)
	if err != nil {
		return err
	}
	return ru.addBytes(n)
}

// spoolRows is eachDescRow's work on its own: it reads ru's maps but writes
// nothing of ru, so entries of tables whose checks only read (children of
// activities, most user tables) run on workers. now is the "now" default.
// It returns the entry's real size.
func (ru *run) spoolRows(ctx context.Context, e entry, d *fitness.Desc, sp *rowSpool, now time.Time, check func(row []any) error) (int64, error) {
	n, err := readObjRows(ctx, ru, e, func(obj *objRow) error {
		row, err := decodeRow(d, *obj)
		if err != nil {
			return err
		}
		loc := time.UTC
		if d.ByActivity {
			if act, ok := row[d.Index("activity_id")].(int64); ok {
				if m, ok := ru.acts[act]; ok {
					loc = m.loc
				}
			}
		}
		finishRow(d, row, loc, now)
		if err := check(row); err != nil {
			return err
		}
		ru.pack(d, row)
		return sp.put(d, row)
	})
	if err != nil {
		return 0, err
	}
	if err := sp.w.Flush(); err != nil {
		return 0, errStorage(err)
	}
	sp.w = nil // an archive has hundreds of stream files: keep no buffer per file
	return n, nil
}

// str is a decoded text value, "" for null.
func str(v any) string {
	s, _ := v.(string)
	return s
}
