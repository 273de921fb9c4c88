package portability

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ErrCorrupt is returned by Verify for an archive that is not a complete,
// intact export.
var ErrCorrupt = errors.New("portability: corrupt archive")

// Verify re-reads a written archive: every entry must decompress with a good
// CRC-32, manifest.json must be the last entry, and every other entry must match
// the manifest's name, size and SHA-256. It returns the manifest.
func Verify(r io.ReaderAt, size int64) (*Manifest, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	n := len(zr.File)
	if n == 0 || zr.File[n-1].Name != "manifest.json" {
		return nil, fmt.Errorf("%w: manifest.json is not the last entry", ErrCorrupt)
	}
	var m Manifest
	rc, err := zr.File[n-1].Open()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	err = json.NewDecoder(rc).Decode(&m)
	rc.Close()
	if err != nil {
		return nil, fmt.Errorf("%w: manifest: %v", ErrCorrupt, err)
	}
	if len(m.Entries) != n-1 {
		return nil, fmt.Errorf("%w: manifest lists %d entries, archive has %d", ErrCorrupt, len(m.Entries), n-1)
	}
	for i, f := range zr.File[:n-1] {
		want := m.Entries[i]
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, f.Name, err)
		}
		h := sha256.New()
		got, err := io.Copy(h, rc) // archive/zip checks the CRC-32 at EOF
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, f.Name, err)
		}
		if f.Name != want.Name || got != want.Size || hex.EncodeToString(h.Sum(nil)) != want.SHA256 {
			return nil, fmt.Errorf("%w: %s does not match the manifest", ErrCorrupt, f.Name)
		}
	}
	return &m, nil
}
