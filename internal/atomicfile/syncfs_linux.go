package atomicfile

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncFS flushes the file system dir is on, reporting whether it could.
func syncFS(dir string) bool {
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	return unix.Syncfs(int(f.Fd())) == nil
}
