package fsdetect

import (
	"strings"
	"testing"
)

// mountTable is a mount table assembled from real /proc/self/mountinfo
// lines: a Linux host, WSL 1 and 2, Docker Desktop (virtiofs, gRPC FUSE),
// a VM's 9p and virtiofs shares, sshfs, NFS, SMB, and overlays.
const mountTable = `27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24684092k
96 77 0:62 / /mnt/c rw,noatime - 9p drvfs rw,dirsync,aname=drvfs;path=C:\;uid=1000;gid=1000;symlinkroot=/mnt/,mmap,access=client,msize=262144,trans=virtio
97 77 0:63 / /mnt/d rw,noatime - 9p C:\134 rw,dirsync,aname=drvfs;path=D:\;uid=1000;gid=1000;symlinkroot=/mnt/,mmap,access=client,msize=65536,trans=fd,rfd=5,wfd=5
9 1 0:21 / /mnt/e rw,noatime - drvfs E: rw,uid=1000,gid=1000
1040 1025 0:160 /Users/me/project /app rw,relatime - fakeowner /run/host_mark/Users rw
1041 1025 0:161 / /grpc rw,nosuid,nodev,relatime - fuse.grpcfuse grpcfuse rw,user_id=0,group_id=0,allow_other,max_read=1048576
120 27 0:50 / /mnt/shared rw,relatime - 9p hostshare rw,sync,dirsync,access=client,trans=virtio
121 27 0:51 / /mnt/virt rw,relatime - virtiofs myfs rw
122 27 0:52 / /home/me/remote rw,nosuid,nodev,relatime - fuse.sshfs me@build:/srv rw,user_id=1000,group_id=1000
123 27 0:53 / /data rw,relatime shared:80 - nfs4 fileserver:/export/data rw,vers=4.2,rsize=1048576,wsize=1048576,namlen=255,hard,proto=tcp,timeo=600,retrans=2,sec=sys,clientaddr=10.0.0.5,local_lock=none,addr=10.0.0.2
124 27 0:54 / /nfs3 rw,relatime - nfs fileserver:/old rw,vers=3
125 27 0:55 / /mnt/smb rw,relatime - cifs //nas/share rw,vers=3.1.1,cache=strict,username=me,uid=0,noforceuid,gid=0,noforcegid,addr=10.0.0.3
126 27 0:56 / /mnt/smb3 rw,relatime - smb3 //nas/other rw,vers=3.0
127 27 0:57 / /mnt/odd rw,relatime - weirdfs //nas/odd rw
128 27 254:0 /srv/real /srv/bind rw,relatime - ext4 /dev/vda rw,discard
129 27 0:58 / /mnt/my\040share rw,relatime - cifs //nas/with\040space rw
130 27 0:59 / /var/lib/docker/overlay2/abc/merged rw,relatime - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/AAA:/var/lib/docker/overlay2/l/BBB,upperdir=/var/lib/docker/overlay2/abc/diff,workdir=/var/lib/docker/overlay2/abc/work
131 27 0:60 / /merged rw,relatime - overlay overlay rw,lowerdir=/mnt/shared/lower,upperdir=/mnt/shared/upper,workdir=/mnt/shared/work
132 27 0:64 / /fuse rw,relatime - fuse /dev/fuse rw,user_id=0,group_id=0
133 27 0:65 / /vbox rw,relatime - vboxsf project rw
garbage line
`

func TestParseMountinfo(t *testing.T) {
	mounts := ParseMountinfo(mountTable + "1 2 3\n" + "1 2 3:4 / /x rw - \n")
	if len(mounts) != 21 {
		t.Fatalf("parsed %d mounts, want 21 (bad lines skipped)", len(mounts))
	}
	want := Mount{Point: "/data", Root: "/", Type: "nfs4", Source: "fileserver:/export/data",
		Options: "rw,vers=4.2,rsize=1048576,wsize=1048576,namlen=255,hard,proto=tcp,timeo=600,retrans=2,sec=sys,clientaddr=10.0.0.5,local_lock=none,addr=10.0.0.2"}
	if mounts[10] != want {
		t.Errorf("optional field line: %+v, want %+v", mounts[10], want)
	}
	if m := mounts[16]; m.Point != "/mnt/my share" || m.Source != "//nas/with space" {
		t.Errorf("escapes: point %q source %q", m.Point, m.Source)
	}
	if m := mounts[3]; m.Source != `C:\` {
		t.Errorf("escaped backslash: source %q, want C:\\", m.Source)
	}
}

// TestClassifyMountTable: each path, the statfs answer (what f_type said),
// and what Detect must conclude from both.
func TestClassifyMountTable(t *testing.T) {
	mounts := ParseMountinfo(mountTable)
	ext4 := local("ext4", 0xEF53)
	tests := []struct {
		path    string
		statfs  Info
		typ     string
		network bool
		point   string
	}{
		{"/home/me/app.db", ext4, "ext4", false, "/"},
		{"/dev/shm/app.db", local("tmpfs", 0x01021994), "tmpfs", false, "/dev/shm"},
		{"/mnt/c/Users/me/app.db", ext4, "9p (drvfs)", true, "/mnt/c"},                // WSL 2, statfs says the host's type
		{"/mnt/d/app.db", local("9p", 0x01021997), "9p (drvfs)", true, "/mnt/d"},      // WSL 2, newer source form
		{"/mnt/e/app.db", ext4, "drvfs", true, "/mnt/e"},                              // WSL 1
		{"/app/app.db", ext4, "virtiofs", true, "/app"},                               // Docker Desktop for Mac, VirtioFS
		{"/grpc/app.db", network("fuse", 0x65735546), "fuse.grpcfuse", true, "/grpc"}, // Docker Desktop, gRPC FUSE
		{"/mnt/shared/app.db", ext4, "9p", true, "/mnt/shared"},                       // nullclaw#269: 9p says ext4
		{"/mnt/virt/app.db", ext4, "virtiofs", true, "/mnt/virt"},
		{"/home/me/remote/app.db", ext4, "fuse.sshfs", true, "/home/me/remote"},
		{"/data/app.db", network("nfs", 0x6969), "nfs4", true, "/data"},
		{"/nfs3/app.db", network("nfs", 0x6969), "nfs", true, "/nfs3"},
		{"/mnt/smb/app.db", network("cifs", 0xFF534D42), "cifs", true, "/mnt/smb"},
		{"/mnt/smb3/app.db", network("smb2", 0xFE534D42), "smb3", true, "/mnt/smb3"},
		{"/mnt/odd/app.db", ext4, "weirdfs (//nas/odd)", true, "/mnt/odd"},
		{"/mnt/my share/app.db", ext4, "cifs", true, "/mnt/my share"},
		{"/srv/bind/app.db", ext4, "ext4", false, "/srv/bind"}, // a bind mount keeps working
		{"/var/lib/docker/overlay2/abc/merged/app.db", local("overlay", 0x794C7630), "overlay", false, "/var/lib/docker/overlay2/abc/merged"},
		{"/merged/app.db", local("overlay", 0x794C7630), "overlay over 9p", true, "/merged"},
		{"/fuse/app.db", ext4, "fuse", true, "/fuse"},
		{"/vbox/app.db", ext4, "vboxsf", true, "/vbox"},
		{"/mnt/cc/app.db", ext4, "ext4", false, "/"}, // a prefix of a name is not a mount
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got := classifyPath(tt.statfs, mounts, tt.path)
			if got.Type != tt.typ || got.Network != tt.network || got.SharesMemory == tt.network || got.MountPoint != tt.point {
				t.Errorf("got %+v, want type %q network %v at %q", got, tt.typ, tt.network, tt.point)
			}
			if tt.statfs.Network && !got.Network {
				t.Error("the mount table made a network filesystem local")
			}
		})
	}
}

// The table never turns a network answer from statfs into a local one,
// and an empty table changes nothing but the mount fields.
func TestClassifyPathWithoutTable(t *testing.T) {
	nfs := network("nfs", 0x6969)
	if got := classifyPath(nfs, nil, "/data/app.db"); got != nfs {
		t.Errorf("no table: %+v, want %+v", got, nfs)
	}
	mounts := ParseMountinfo("27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n")
	if got := classifyPath(nfs, mounts, "/data/app.db"); !got.Network || got.Type != "nfs" {
		t.Errorf("table says ext4, statfs nfs: %+v, want nfs kept", got)
	}
}

func FuzzParseMountinfo(f *testing.F) {
	for line := range strings.Lines(mountTable) {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, text string) {
		mounts := ParseMountinfo(text)
		for _, m := range mounts {
			classifyMount(m, mounts)
		}
		MountFor(mounts, "/a/b")
	})
}

func TestRemoteSource(t *testing.T) {
	for src, want := range map[string]bool{
		"//me@nas/share": true, "fileserver:/export": true, "/dev/disk1s1": false,
		"map auto_home": false, "devfs": false, "C:": false, "": false,
	} {
		if got := remoteSource(src); got != want {
			t.Errorf("remoteSource(%q) = %v, want %v", src, got, want)
		}
	}
	if got := infoForMacMount("weirdfs", "//me@nas/share", "/Volumes/share", true, 0); !got.Network || got.MountPoint != "/Volumes/share" {
		t.Errorf("macOS mount from //nas: %+v, want network", got)
	}
	if got := infoForMacMount("apfs", "/dev/disk1s1", "/", true, 0); got.Network {
		t.Errorf("macOS apfs: %+v, want local", got)
	}
}
