//go:build unix

package nlink

import (
	"os"
	"syscall"
)

func count(path string) (uint64, bool, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, false, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false, nil
	}
	return uint64(st.Nlink), true, nil
}
