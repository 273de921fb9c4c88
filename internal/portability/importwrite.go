package portability

import (
	"encoding/json"
	"fmt"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/trailpass/trailpass/internal/fitness"
	"github.com/trailpass/trailpass/internal/profile"
)

// batchRows is how many child rows are inserted per statement batch.
const batchRows = 500

// move is a staged file and its final key, done after commit.
type move struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// writer is the second pass: every row in one transaction.
type writer struct {
	ru      *run
	tx      ImportTx
	ex      *Existing
	gearMap map[int64]int64
	moves   []move
}

func (ru *run) write() error {
	ru.writing = true
	ru.progress(StageWriting, 0, ru.nActs)
	lockStart := time.Now()
	tx, err := ru.im.Store.BeginImport(ru.ctx, ru.userID)
	if err != nil {
		return fmt.Errorf("begin import: %w", err)
	}
	defer tx.Close()
	committed := false
	defer func() {
		if !committed {
			tx.Rollback()
			ru.res.LockHeld = time.Since(lockStart)
		}
	}()
	w := &writer{ru: ru, tx: tx, gearMap: map[int64]int64{}}
	if w.ex, err = tx.Existing(ru.ctx); err != nil {
		return fmt.Errorf("read existing data: %w", err)
	}
	for _, e := range ru.sorted(kindData) {
		if err := w.table(e); err != nil {
			return err
		}
	}
	if ru.profile != nil && ru.profile.user != nil {
		if err := tx.SetProfile(ru.ctx, ru.profile.user, ru.profile.recompute); err != nil {
			return fmt.Errorf("import profile: %w", err)
		}
		ru.res.Imported["user"] = 1
	}
	if ru.photo != nil {
		key := profile.PhotoKey(ru.userID, ru.photo.ext)
		if err := tx.SetPhotoPath(ru.ctx, &key); err != nil {
			return fmt.Errorf("import photo: %w", err)
		}
		w.moves = append(w.moves, move{ru.photo.key, key})
		ru.res.Imported["user_images"]++
	}
	if ru.opts.DryRun {
		return nil // the deferred rollback writes nothing
	}
	moves, _ := json.Marshal(w.moves)
	if err := tx.MarkJobCommitted(ru.ctx, ru.jobID, moves, ru.im.now()); err != nil {
		return fmt.Errorf("record import: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit import: %w", err)
	}
	committed = true
	ru.committed = true
	ru.res.LockHeld = time.Since(lockStart)
	tx.Close()
	return ru.im.finishMoves(ru.ctx, ru.jobID, ru.userID, w.moves, ru.progress)
}

// newActivity returns the new id of an archive activity, and false when it was
// skipped as already present.
func (w *writer) newActivity(old int64) (int64, bool) {
	m := w.ru.acts[old]
	return m.newID, m.newID > 0
}

func (w *writer) count(table string, imported bool) {
	if imported {
		w.ru.res.Imported[table]++
	} else {
		w.ru.res.Skipped[table]++
	}
}

// batch collects rows of one table for InsertRows: batchRows rows, or fewer
// when they are big (streams).
type batch struct {
	w        *writer
	t        fitness.Table
	reserved bool // rows with reserved ids (InsertReserved)
	rows     [][]any
	bytes    int
}

func (b *batch) add(row []any) error {
	b.rows = append(b.rows, row)
	for _, v := range row {
		switch v := v.(type) {
		case string:
			b.bytes += len(v)
		case fitness.Packed:
			b.bytes += len(v)
		}
	}
	if len(b.rows) >= batchRows || b.bytes > 8<<20 {
		return b.flush()
	}
	return nil
}

func (b *batch) flush() error {
	if len(b.rows) == 0 {
		return nil
	}
	var err error
	if b.reserved {
		err = b.w.tx.InsertReserved(b.w.ru.ctx, b.t, b.rows)
	} else {
		err = b.w.tx.InsertRows(b.w.ru.ctx, b.t, b.rows)
	}
	b.rows, b.bytes = nil, 0
	return err
}

// table writes one data entry's spooled rows: references remapped, duplicates
// of what the account holds skipped, and the table's own hooks applied.
func (w *writer) table(e entry) error {
	ru := w.ru
	d := fitness.Describe(fitness.Table(e.table))
	sp := ru.spools[e.f.Name]
	if d == nil || sp == nil {
		return nil // user, identity providers, integrations: handled in the first pass
	}
	stored := d.Stored()
	from := make([]int, len(stored)) // stored column → decoded column
	for i, c := range stored {
		from[i] = d.Index(c.Name)
	}
	keys := w.ex.Keys[d.Table]
	key := make([]int, len(d.Key))
	for i, k := range d.Key {
		key[i] = d.Index(k)
	}
	b := &batch{w: w, t: d.Table}
	// Activities and gear get their ids up front, so that they are loaded in
	// bulk like the rest rather than one INSERT … RETURNING id at a time.
	var ids []int64
	if referenced[d.Table] {
		b.reserved = true
		var err error
		if ids, err = w.tx.ReserveIDs(ru.ctx, d.Table, sp.n); err != nil {
			return fmt.Errorf("import %s: %w", d.Table, err)
		}
	}
	n := 0
	err := sp.each(d, func(row []any) error {
		if d.ByActivity && d.Table != fitness.ActivityMedia {
			id, ok := w.newActivity(row[d.Index("activity_id")].(int64))
			w.count(e.table, ok)
			if !ok {
				return nil
			}
			row[d.Index("activity_id")] = id
		}
		ok, err := w.hook(d, row)
		if err != nil || !ok {
			return err
		}
		var k string
		if keys != nil {
			kv := make([]any, len(key))
			for i, j := range key {
				kv[i] = row[j]
			}
			k = fitness.KeyString(kv)
			if id, dup := keys[k]; dup {
				w.skipDuplicate(d, row, id)
				return nil
			}
		}
		out := make([]any, len(stored), len(stored)+2)
		for i, j := range from {
			if j >= 0 {
				out[i] = row[j]
			}
		}
		switch {
		case referenced[d.Table]:
			id := ids[0]
			ids = ids[1:]
			out = append([]any{id}, out...)
			if key, ok := w.inserted(d, row, id); ok {
				out = append(out, key)
			} else if d.Table == fitness.Activities {
				out = append(out, nil)
			}
			if err := b.add(out); err != nil {
				return err
			}
			if n++; d.Table == fitness.Activities && n%250 == 0 {
				ru.progress(StageWriting, n, ru.nActs)
			}
		case d.OnePerUser:
			if err := w.tx.Upsert(ru.ctx, d.Table, out); err != nil {
				return err
			}
		default:
			if err := b.add(out); err != nil {
				return err
			}
		}
		if keys != nil && !d.ArchiveDups {
			keys[k] = 0
		}
		if !d.ByActivity {
			w.count(e.table, true)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return b.flush()
}

// hook applies a table's own rules to a row about to be written; false skips
// the row (already counted).
func (w *writer) hook(d *fitness.Desc, row []any) (bool, error) {
	switch d.Table {
	case fitness.Activities, fitness.UserDefaultGear:
		// Gear references point at the imported gear or the account's own of
		// the same nickname; one that maps to nothing is no default.
		for i, c := range d.Cols {
			if old, ok := row[i].(int64); ok && c.Ref == fitness.GearRef {
				id := w.gearMap[old]
				if id < 0 {
					id = -id
				}
				row[i] = nil
				if id > 0 {
					row[i] = id
				}
			}
		}
	case fitness.GearComponents:
		// An existing gear's components are not added again.
		id := w.gearMap[row[d.Index("gear_id")].(int64)]
		if id < 0 {
			w.count(string(d.Table), false)
			return false, nil
		}
		row[d.Index("gear_id")] = id
	case fitness.ActivityMedia:
		return w.media(d, row), nil
	case fitness.Notifications:
		opts, err := w.remapOptions(row[d.Index("options")])
		if err != nil {
			return false, err
		}
		row[d.Index("options")] = opts
	}
	return true, nil
}

// media keeps the row's uploader's name where Endurain keeps it and queues
// its file under a key the server derives from it.
func (w *writer) media(d *fitness.Desc, row []any) bool {
	ru := w.ru
	id, ok := w.newActivity(row[d.Index("activity_id")].(int64))
	base, rest, _ := mediaName(str(row[d.Index("media_path")]))
	if !imageExts[mediaExt(rest)] {
		// Its file, if any, was skipped: Endurain imports PNG and JPEG only.
		w.count("activity_media", false)
		return false
	}
	w.count("activity_media", ok)
	sf, hasFile := ru.media[norm.NFC.String(base)]
	if hasFile {
		w.count("media", ok)
	}
	if !ok {
		return false
	}
	row[d.Index("activity_id")] = id
	row[d.Index("media_path")] = fitness.MediaPath(id, rest)
	if hasFile {
		w.moves = append(w.moves, move{sf.key, fitness.MediaKey(id, rest)})
	} else {
		ru.warn("%s has no file in the archive.", printable(base))
	}
	return true
}

// skipDuplicate counts a row whose key the account already has; an existing
// gear takes the archive gear's place for its references.
func (w *writer) skipDuplicate(d *fitness.Desc, row []any, existing int64) {
	switch d.Table {
	case fitness.Gears:
		w.gearMap[row[d.Index("id")].(int64)] = -existing // negative: its components are not added again
	case fitness.Activities:
		old := row[d.Index("id")].(int64)
		w.ru.acts[old].newID = -1
		if _, ok := w.ru.files[old]; ok {
			w.count("activity_files", false)
		}
	}
	w.count(string(d.Table), false)
}

// inserted records a referenced row's new id, and returns an activity's file
// key when it has a file.
func (w *writer) inserted(d *fitness.Desc, row []any, id int64) (string, bool) {
	old := row[d.Index("id")].(int64)
	if d.Table == fitness.Gears {
		w.gearMap[old] = id
		return "", false
	}
	w.ru.acts[old].newID = id
	f, ok := w.ru.files[old]
	if !ok {
		return "", false
	}
	key := fitness.ActivityFileKey(id, f.ext)
	w.moves = append(w.moves, move{f.key, key})
	w.count("activity_files", true)
	return key, true
}

// remapOptions points a notification's activity_id at the imported activity,
// or at nothing when the activity is not in the archive (never at someone
// else's activity).
func (w *writer) remapOptions(v any) (any, error) {
	s, ok := v.(string)
	if !ok {
		return nil, nil
	}
	raw := []byte(s)
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, &fieldError{"field \"options\" must be an object."}
	}
	ref, ok := m["activity_id"]
	if !ok {
		return s, nil
	}
	var old int64
	m["activity_id"] = json.RawMessage("null")
	if json.Unmarshal(ref, &old) == nil {
		if meta, ok := w.ru.acts[old]; ok && meta.newID > 0 {
			m["activity_id"] = json.RawMessage(fmt.Sprint(meta.newID))
		}
	}
	b, err := json.Marshal(m)
	return string(b), err
}
