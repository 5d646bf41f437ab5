//go:build !unix && !windows

package nlink

import "os"

func count(string) (uint64, bool, error) { return 0, false, nil }

func stat(path string) (ID, uint64, bool, bool, error) {
	_, err := os.Stat(path)
	return ID{}, 0, false, false, err
}

func fstat(uintptr) (ID, uint64, bool, bool, error) { return ID{}, 0, false, false, nil }

func lstat(string) (ID, bool, error) { return ID{}, false, nil }

func of(os.FileInfo) (ID, bool) { return ID{}, false }
