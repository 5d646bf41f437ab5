package sidecar

import (
	"fmt"
	"os"
)

// openRegular opens an existing sidecar without following a symbolic link
// and without blocking (a FIFO in its place would wait for a writer), and
// refuses anything but a regular file with ErrNotRegular.
func openRegular(path string, flag int) (*os.File, error) {
	f, _, err := openRegularInfo(path, flag)
	return f, err
}

// openRegularInfo is openRegular that also returns what fstat(2) said of
// the file it opened.
func openRegularInfo(path string, flag int) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(path, flag|oNoFollow|oNonBlock, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w (%s)", path, ErrNotRegular, fi.Mode().Type())
	}
	return f, fi, nil
}

// preallocate writes the whole data area of a new sidecar as zeros (which
// read as "nothing written yet"), so that a later slot entry overwrites
// allocated blocks instead of growing the file: on a disk that fills up
// later, entries can still be written. On a disk already full it does what
// it can; slot entries are descriptions, and their writers tolerate ENOSPC.
func preallocate(f *os.File) {
	f.WriteAt(make([]byte, DataSize), 0)
}
