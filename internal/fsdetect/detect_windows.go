package fsdetect

import (
	"io/fs"
	"path/filepath"
	"strings"

	"golang.org/x/sys/windows"
)

func detect(path string) (Info, error) {
	if isUNC(path) {
		return network("unc", 0), nil
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return Info{}, &fs.PathError{Op: "abs", Path: path, Err: err}
	}
	p, err := windows.UTF16PtrFromString(abs)
	if err != nil {
		return Info{}, &fs.PathError{Op: "GetVolumePathName", Path: path, Err: err}
	}
	var root [windows.MAX_PATH + 1]uint16
	if err := windows.GetVolumePathName(p, &root[0], uint32(len(root))); err != nil {
		return Info{}, &fs.PathError{Op: "GetVolumePathName", Path: path, Err: err}
	}
	if isUNC(windows.UTF16ToString(root[:])) {
		return network("unc", 0), nil
	}
	var info Info
	switch kind := windows.GetDriveType(&root[0]); kind {
	case windows.DRIVE_REMOTE:
		info = network("remote", 0)
	case windows.DRIVE_FIXED:
		info = local("fixed", 0)
	case windows.DRIVE_REMOVABLE:
		info = local("removable", 0)
	case windows.DRIVE_RAMDISK:
		info = local("ramdisk", 0)
	case windows.DRIVE_CDROM:
		info = local("cdrom", 0)
	default:
		info = local("unknown", 0)
	}
	// A local volume is better named by its filesystem ("ntfs", "refs");
	// a remote one would name the server's filesystem, so it stays "remote".
	var name [windows.MAX_PATH + 1]uint16
	if !info.Network &&
		windows.GetVolumeInformation(&root[0], nil, 0, nil, nil, nil, &name[0], uint32(len(name))) == nil {
		if n := strings.ToLower(windows.UTF16ToString(name[:])); n != "" {
			info.Type = n
		}
	}
	return info, nil
}
