package blob

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncFolder makes dir's files durable: syncfs(2) of its file system.
func syncFolder(dir *os.File) error {
	return unix.Syncfs(int(dir.Fd()))
}
