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

// infoForMacMount classifies a macOS mount by its type name, its MNT_LOCAL
// flag and its source: a type the table does not know, mounted from
// //user@server/share or server:/export, is remote too.
func infoForMacMount(name, source, point string, mntLocal bool, magic int64) Info {
	info := infoForTypeName(name, mntLocal, magic)
	if !info.Network && remoteSource(source) {
		info = network(info.Type, magic)
	}
	info.MountPoint, info.Source = point, source
	return info
}

// remoteSource reports whether a mount source names another machine:
// //server/share (SMB, AFP, WebDAV) or server:/path (NFS).
func remoteSource(source string) bool {
	if strings.HasPrefix(source, "//") {
		return true
	}
	host, path, ok := strings.Cut(source, ":")
	return ok && host != "" && !strings.Contains(host, "/") && strings.HasPrefix(path, "/")
}
