//go:build !linux

package blob

import (
	"os"
	"path/filepath"
)

// syncFolder makes dir's files durable: an fsync of each, then of dir.
func syncFolder(dir *os.File) error {
	names, err := dir.Readdirnames(-1)
	if err != nil {
		return err
	}
	for _, n := range names {
		f, err := os.Open(filepath.Join(dir.Name(), n))
		if err != nil {
			return err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return err
		}
	}
	return dir.Sync()
}
