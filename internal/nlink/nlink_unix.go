//go:build unix

package nlink

import (
	"os"
	"syscall"
)

func count(path string) (uint64, bool, error) {
	_, n, known, err := stat(path)
	return n, known, err
}

func stat(path string) (os.FileInfo, uint64, bool, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, 0, false, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fi, 0, false, nil
	}
	return fi, uint64(st.Nlink), true, nil
}
