package nlink

import (
	"os"

	"golang.org/x/sys/windows"
)

func count(path string) (uint64, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	var info windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(windows.Handle(f.Fd()), &info); err != nil {
		return 0, false, err
	}
	return uint64(info.NumberOfLinks), true, nil
}

func stat(path string) (os.FileInfo, uint64, bool, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, 0, false, err
	}
	n, known, err := count(path)
	return fi, n, known, err
}
