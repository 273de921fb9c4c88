package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime"

	"github.com/klauspost/compress/zstd"

	"github.com/trailpass/trailpass/internal/fitness"
)

// Bulk JSON values (stream samples, most of an account's bytes) are kept as
// zstd frames: a BLOB on SQLite, bytea on PostgreSQL. Every byte a row holds
// is written into the WAL inside the import's transaction (on SQLite under
// the one write lock), then again into the database by the checkpoint, and
// read back by an export: 1,000 activities of one-second streams were about
// 60 MB of pages, and zstd's fastest level makes their samples about 12
// times smaller. On PostgreSQL the server also parsed and compressed the
// json text inside the transaction. Values written as text before stay text
// (on PostgreSQL, its bytes) and are read as they are.

// zstdMagic starts every zstd frame; JSON text never starts with it.
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// maxUnpacked bounds what a packed value may expand to: four times the
// import's largest row, so a damaged or hand-made BLOB cannot take the memory.
const maxUnpacked = 256 << 20

var (
	packer, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)), zstd.WithWindowSize(1<<20))
	unpacker, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxUnpacked))
)

// PackJSON returns a Bulk column's JSON text in the form the store keeps it,
// for an import to compute before its write transaction.
func (s *Store) PackJSON(raw []byte) fitness.Packed {
	return packer.EncodeAll(raw, nil)
}

// bulkArg is a Bulk column's value as a query argument: a zstd frame, packed
// now unless the import already packed it.
func bulkArg(v any) any {
	var raw []byte
	switch v := v.(type) {
	case fitness.Packed:
		return []byte(v)
	case string:
		raw = []byte(v)
	case json.RawMessage:
		raw = v
	case []byte:
		raw = v
	default:
		return v
	}
	if len(raw) == 0 {
		return nil
	}
	return packer.EncodeAll(raw, nil)
}

// isPacked says whether a stored value is a packed Bulk value.
func isPacked(b []byte) bool { return bytes.HasPrefix(b, zstdMagic) }

// unpackJSON returns the JSON text of a packed value.
func unpackJSON(b []byte) ([]byte, error) {
	raw, err := unpacker.DecodeAll(b, nil)
	if err != nil {
		return nil, fmt.Errorf("unpack stored JSON: %w", err)
	}
	return raw, nil
}
