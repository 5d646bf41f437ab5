package fsdetect

import "os"

// mountinfoPath is this process's view of the mount table.
const mountinfoPath = "/proc/self/mountinfo"

// withMount corrects what statfs said with the mount table: a 9p, virtiofs
// or drvfs mount can report the host's filesystem type through statfs
// (nullclaw/nullclaw#269), while the mount table names the type and the
// source as they were mounted. The table only ever makes a filesystem
// network; a mount table that cannot be read leaves info as it is.
func withMount(info Info, path string) Info {
	text, err := os.ReadFile(mountinfoPath)
	if err != nil {
		return info
	}
	return classifyPath(info, ParseMountinfo(string(text)), path)
}
