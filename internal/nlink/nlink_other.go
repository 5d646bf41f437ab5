//go:build !unix && !windows

package nlink

import "os"

func count(string) (uint64, bool, error) { return 0, false, nil }

func stat(path string) (os.FileInfo, uint64, bool, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, 0, false, err
	}
	return fi, 0, false, nil
}
