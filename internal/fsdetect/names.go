package fsdetect

import "strings"

// networkTypeNames are the macOS f_fstypename values of remote and
// user-space filesystems. The table is kept on every platform so that it
// can be tested anywhere; only macOS reads it.
var networkTypeNames = []string{
	"nfs", "smbfs", "cifs", "afpfs", "webdav", "ftp",
	"macfuse", "osxfuse", "fusefs", "fuse", "fuse-t",
}

// infoForTypeName classifies a filesystem by its macOS type name and the
// mount's MNT_LOCAL flag: either one saying remote is enough.
func infoForTypeName(name string, mntLocal bool, magic int64) Info {
	name = strings.ToLower(name)
	if name == "" {
		name = "unknown"
	}
	if !mntLocal {
		return network(name, magic)
	}
	for _, n := range networkTypeNames {
		if name == n || strings.HasPrefix(name, n+".") {
			return network(name, magic)
		}
	}
	return local(name, magic)
}

// isUNC reports whether a Windows path names a network share:
// \\server\share, or \\?\UNC\server\share in the long-path form. Device
// paths (\\.\) and long local paths (\\?\C:\) are not shares.
func isUNC(path string) bool {
	p := strings.ReplaceAll(path, "/", `\`)
	if rest, ok := strings.CutPrefix(p, `\\?\`); ok {
		return len(rest) > 4 && strings.EqualFold(rest[:4], `UNC\`)
	}
	if rest, ok := strings.CutPrefix(p, `\\`); ok {
		return rest != "" && rest[0] != '.' && rest[0] != '\\'
	}
	return false
}
