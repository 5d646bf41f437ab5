package fsdetect

import (
	"path/filepath"
	"strconv"
	"strings"
)

// A Mount is one line of Linux's /proc/self/mountinfo: where a filesystem
// is mounted, of which type, from which source.
//
// https://man7.org/linux/man-pages/man5/proc_pid_mountinfo.5.html
type Mount struct {
	Point   string // mount point, unescaped
	Root    string // the directory of the filesystem mounted there (bind mounts)
	Type    string // filesystem type: "ext4", "9p", "fuse.sshfs", ...
	Source  string // "/dev/vda", "server:/export", "//server/share", "drvfs", ...
	Options string // the filesystem's own (super block) options
}

// ParseMountinfo parses the text of /proc/self/mountinfo. Lines it does
// not understand are skipped; it never fails and never panics.
//
// A line reads, for example:
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
func ParseMountinfo(text string) []Mount {
	var mounts []Mount
	for line := range strings.Lines(text) {
		fields := strings.Fields(line)
		sep := -1
		for i := 6; i < len(fields); i++ { // optional fields start at 6
			if fields[i] == "-" {
				sep = i
				break
			}
		}
		if len(fields) < 7 || sep < 0 || sep+2 >= len(fields) {
			continue
		}
		m := Mount{
			Root:   unescapeMount(fields[3]),
			Point:  unescapeMount(fields[4]),
			Type:   fields[sep+1],
			Source: unescapeMount(fields[sep+2]),
		}
		if sep+3 < len(fields) {
			m.Options = fields[sep+3]
		}
		mounts = append(mounts, m)
	}
	return mounts
}

// unescapeMount undoes the kernel's octal escapes (\040 space, \011 tab,
// \012 newline, \134 backslash) in a mountinfo field.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// MountFor returns the mount that holds path (absolute, symbolic links
// resolved): the one with the longest mount point that contains it, the
// last listed when several stack on one point. ok is false when none does.
func MountFor(mounts []Mount, path string) (m Mount, ok bool) {
	best := -1
	for _, c := range mounts {
		if !within(path, c.Point) || len(c.Point) < best {
			continue
		}
		m, ok, best = c, true, len(c.Point)
	}
	return m, ok
}

func within(path, point string) bool {
	return point == "/" || path == point || strings.HasPrefix(path, strings.TrimSuffix(point, "/")+"/")
}

// mountTypes are the mount types that cannot share memory between
// processes (or between the host and the guest that both see the file),
// with the name Detect reports. fuse.* types not listed are classified as
// "fuse". Each is in docs/design.md with what walguard agrees there.
var mountTypes = map[string]string{
	"nfs": "nfs", "nfs4": "nfs4",
	"cifs": "cifs", "smb3": "smb3", "smbfs": "smbfs",
	"9p": "9p", "virtiofs": "virtiofs", "drvfs": "drvfs",
	"fuse": "fuse", "fuseblk": "fuse", "sshfs": "sshfs",
	"fakeowner": "virtiofs", // Docker Desktop for Mac's file sharing, over virtiofs
	"vboxsf":    "vboxsf",   // VirtualBox shared folders
	"vmhgfs":    "vmhgfs",   // VMware shared folders
	"prl_fs":    "prl_fs",   // Parallels shared folders
	"ceph":      "ceph", "glusterfs": "glusterfs", "afs": "afs", "lustre": "lustre",
	"gpfs": "gpfs", "beegfs": "beegfs", "ocfs2": "ocfs2", "gfs2": "gfs2",
	"davfs": "davfs", "coda": "coda", "ncpfs": "ncpfs",
}

// classifyMount says whether a mount is one where memory cannot be shared,
// by its type and its source, and names it: "9p (drvfs)", "fuse.sshfs",
// "overlay over 9p". mounts is the whole table, to look under overlays.
// network is false for a mount the table does not name (statfs decides).
func classifyMount(m Mount, mounts []Mount) (name string, network bool) {
	typ := strings.ToLower(m.Type)
	switch {
	case typ == "9p" && (m.Source == "drvfs" || strings.Contains(m.Options, "aname=drvfs")):
		return "9p (drvfs)", true // WSL 2's Windows drives
	case strings.HasPrefix(typ, "fuse."):
		// fuse.sshfs, fuse.grpcfuse (Docker Desktop), fuse.vmhgfs-fuse,
		// fuse.s3fs, fuse.rclone, ...: the kernel cannot share the pages.
		return typ, true
	case typ == "overlay":
		for _, dir := range overlayDirs(m.Options) {
			if under, ok := MountFor(mounts, dir); ok && under.Point != m.Point {
				if name, network := classifyMount(under, nil); network {
					return "overlay over " + name, true
				}
			}
		}
		return "overlay", false
	}
	if name, ok := mountTypes[typ]; ok {
		return name, true
	}
	// A type this table does not know, from a remote-looking source.
	if strings.HasPrefix(m.Source, "//") || strings.HasPrefix(m.Source, `\\`) {
		return typ + " (" + m.Source + ")", true
	}
	return typ, false
}

// overlayDirs returns the upper, work and lower directories an overlay's
// options name.
func overlayDirs(options string) []string {
	var dirs []string
	for _, opt := range splitOptions(options) {
		k, v, ok := strings.Cut(opt, "=")
		if !ok {
			continue
		}
		switch k {
		case "upperdir", "workdir":
			dirs = append(dirs, v)
		case "lowerdir":
			for _, d := range strings.Split(v, ":") {
				if d != "" {
					dirs = append(dirs, d)
				}
			}
		}
	}
	return dirs
}

// splitOptions splits comma-separated options; a comma escaped with a
// backslash (as overlay paths may have) does not split.
func splitOptions(options string) []string {
	var out []string
	start := 0
	for i := 0; i < len(options); i++ {
		switch options[i] {
		case '\\':
			i++
		case ',':
			out = append(out, options[start:i])
			start = i + 1
		}
	}
	return append(out, options[start:])
}

// classifyPath applies the mount holding path to info.
func classifyPath(info Info, mounts []Mount, path string) Info {
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		path = resolved
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	m, ok := MountFor(mounts, path)
	if !ok {
		return info
	}
	info.MountPoint, info.Source = m.Point, m.Source
	if name, network := classifyMount(m, mounts); network {
		info.Type, info.Network, info.SharesMemory = name, true, false
	}
	return info
}
