// Package fsdetect tells which filesystem a path is on and whether that
// filesystem can share memory between processes.
//
// It asks statfs for the filesystem type, and the mount table (Linux's
// /proc/self/mountinfo, macOS's f_fstypename and f_mntfromname) for the
// type and source the path was mounted with: a 9p, virtiofs or drvfs mount
// can report the host's filesystem through statfs, and an overlay is only
// as good as the directories under it. The table only ever makes a path
// network, never local.
//
// WAL keeps its index in a -shm file that every connection maps into
// memory; on a network filesystem (NFS, SMB/CIFS, AFS, Ceph, Lustre, ...)
// or a user-space one (FUSE, including virtiofs, GlusterFS and sshfs;
// 9p), writes through one mapping are not guaranteed to reach the others,
// least of all across hosts, so WAL cannot be trusted there.
//
// https://sqlite.org/wal.html#sometimes_queries_return_sqlite_busy_in_wal_mode
package fsdetect

import (
	"errors"
	"io/fs"
	"path/filepath"
)

// Info describes the filesystem a path is on.
type Info struct {
	// Type names the filesystem: the kernel's name where there is one
	// ("ext4", "nfs", "fuse", "smbfs", "ntfs"), "unknown(0x...)" for a
	// Linux magic number not in the table, "unknown" where it cannot be
	// told.
	Type string
	// Magic is the filesystem's statfs f_type on Linux and macOS, 0
	// elsewhere.
	Magic int64
	// Network is true for a remote filesystem, and for a user-space or
	// cluster one that walguard treats the same way.
	Network bool
	// SharesMemory is true when memory-mapping a file shares its pages
	// between processes, as WAL's -shm needs. It is false exactly when
	// Network is true; an unknown filesystem is assumed local.
	SharesMemory bool
	// MountPoint and Source are the mount that holds the path, from the
	// mount table (Linux's /proc/self/mountinfo, macOS's statfs), when
	// it could be read: "/mnt/c" and "drvfs", "/data" and "server:/export".
	MountPoint string
	Source     string
}

// Detect returns the filesystem that path is on. The path may name a file
// that does not exist yet (a database about to be created); then its
// directory is examined. Errors are *fs.PathError values.
func Detect(path string) (Info, error) {
	if path == "" {
		return Info{}, &fs.PathError{Op: "statfs", Path: path, Err: fs.ErrInvalid}
	}
	info, err := detect(path)
	if errors.Is(err, fs.ErrNotExist) {
		if dir := filepath.Dir(path); dir != path {
			info, err = detect(dir)
		}
	}
	return info, err
}

func local(typ string, magic int64) Info {
	return Info{Type: typ, Magic: magic, SharesMemory: true}
}

func network(typ string, magic int64) Info {
	return Info{Type: typ, Magic: magic, Network: true}
}
