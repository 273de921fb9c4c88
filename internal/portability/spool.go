package portability

import (
	"fmt"
	"io"
	"os"
)

// Spool copies r into a new private temporary file in dir ("" for the system
// default), stopping with ETOOLARGE past max bytes, so an upload is never held
// in memory. The caller removes the file (os.Remove(f.Name())) and closes it.
func Spool(r io.Reader, dir string, max int64) (*os.File, int64, error) {
	f, err := os.CreateTemp(dir, "trailpass-import-*.zip")
	if err != nil {
		return nil, 0, errStorage(err)
	}
	n, err := io.Copy(f, io.LimitReader(r, max+1))
	if err == nil && n > max {
		err = errTooLarge("The archive is larger than %d bytes.", max)
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		if isAccountErr(err) {
			return nil, 0, err
		}
		return nil, 0, fmt.Errorf("spool upload: %w", err)
	}
	return f, n, nil
}
