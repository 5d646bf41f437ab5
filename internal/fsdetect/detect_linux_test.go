package fsdetect

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// mountFSType returns the filesystem type /proc/self/mountinfo gives for
// the mount that holds path: an independent source to check Detect with.
func mountFSType(t *testing.T, path string) string {
	t.Helper()
	path, err := filepath.EvalSymlinks(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Skipf("no mountinfo: %v", err)
	}
	defer f.Close()
	var best, fstype string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent major:minor root mountpoint options ... - fstype source superoptions
		fields := strings.Fields(sc.Text())
		sep := slices.Index(fields, "-")
		if len(fields) < 5 || sep < 0 || sep+1 >= len(fields) {
			continue
		}
		mnt := strings.ReplaceAll(fields[4], `\040`, " ")
		inside := path == mnt || mnt == "/" || strings.HasPrefix(path, mnt+"/")
		// Later lines stack over earlier ones on the same mount point.
		if inside && len(mnt) >= len(best) {
			best, fstype = mnt, fields[sep+1]
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return fstype
}

// expectedType maps a mountinfo type name to the name Detect reports, or ""
// when the type is not one the magic table names alike.
func expectedType(fstype string) string {
	switch {
	case fstype == "ext2" || fstype == "ext3" || fstype == "ext4":
		return "ext4"
	case fstype == "virtiofs" || fstype == "fuse" || strings.HasPrefix(fstype, "fuse."):
		return "fuse"
	case fstype == "nfs4":
		return "nfs"
	}
	for _, m := range linuxMagics {
		if m.name == fstype {
			return fstype
		}
	}
	return ""
}

func TestDetectMatchesMountinfo(t *testing.T) {
	paths := []string{t.TempDir(), "/dev/shm", "/proc", "/"}
	for _, path := range paths {
		if _, err := os.Stat(path); err != nil {
			t.Logf("skipping %s: %v", path, err)
			continue
		}
		fstype := mountFSType(t, path)
		info, err := Detect(path)
		if err != nil {
			t.Fatalf("Detect(%q): %v", path, err)
		}
		want := expectedType(fstype)
		if want == "" {
			t.Logf("%s: mountinfo says %q, Detect says %+v; not compared", path, fstype, info)
			continue
		}
		if info.Type != want {
			t.Errorf("Detect(%q).Type = %q, mountinfo says %q", path, info.Type, fstype)
		}
	}
}

func TestDetectDevShm(t *testing.T) {
	if mountFSType(t, "/dev/shm") != "tmpfs" {
		t.Skip("/dev/shm is not a tmpfs mount here")
	}
	info, err := Detect("/dev/shm/walguard-not-created.db")
	if err != nil {
		t.Fatal(err)
	}
	want := Info{Type: "tmpfs", Magic: 0x01021994, SharesMemory: true, MountPoint: "/dev/shm"}
	info.Source = "" // "tmpfs", "shm" or "none", as it was mounted
	if info != want {
		t.Errorf("Detect(/dev/shm/...) = %+v, want %+v", info, want)
	}
}
