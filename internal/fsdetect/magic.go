package fsdetect

import "fmt"

// Linux statfs f_type values (linux/magic.h and the filesystems' own
// headers). The table is kept on every platform so that it can be tested
// anywhere; only Linux reads it.
var linuxMagics = map[uint32]struct {
	name    string
	network bool
}{
	// Remote, cluster and user-space filesystems.
	0x6969:     {"nfs", true},
	0x517B:     {"smbfs", true},
	0xFF534D42: {"cifs", true},
	0xFE534D42: {"smb2", true},
	0x65735546: {"fuse", true}, // also virtiofs, glusterfs, sshfs, s3fs, ...
	0x01021997: {"9p", true},
	0x00C36400: {"ceph", true},
	0x5346414F: {"afs", true}, // OpenAFS
	0x6B414653: {"afs", true}, // kAFS
	0x01161970: {"gfs2", true},
	0x7461636F: {"ocfs2", true},
	0x0BD00BD0: {"lustre", true},
	0x73757245: {"coda", true},
	0x47504653: {"gpfs", true},
	0x564C:     {"ncpfs", true},
	0x20030528: {"pvfs2", true}, // OrangeFS
	0x19830326: {"beegfs", true},
	0xAAD7AAEA: {"panfs", true},

	// Local filesystems.
	0xEF53:     {"ext4", false}, // ext2 and ext3 share the magic
	0x58465342: {"xfs", false},
	0x9123683E: {"btrfs", false},
	0x01021994: {"tmpfs", false},
	0x794C7630: {"overlay", false},
	0x2FC12FC1: {"zfs", false},
	0xF2F52010: {"f2fs", false},
	0xCA451A4E: {"bcachefs", false},
	0x858458F6: {"ramfs", false},
	0x958458F6: {"hugetlbfs", false},
	0x4D44:     {"vfat", false},
	0x2011BAB0: {"exfat", false},
	0x5346544E: {"ntfs", false},
	0x482B:     {"hfsplus", false},
	0x52654973: {"reiserfs", false},
	0x3153464A: {"jfs", false},
	0x3434:     {"nilfs", false},
	0x15013346: {"udf", false},
	0x9660:     {"iso9660", false},
	0x73717368: {"squashfs", false},
	0xE0F5E1E2: {"erofs", false},
	0x28CD3D45: {"cramfs", false},
	0xF15F:     {"ecryptfs", false},
}

// infoForMagic classifies a Linux statfs f_type. An unknown magic is
// assumed local: the filesystems that cannot share memory are few and
// listed, and refusing WAL on every new local filesystem would be worse.
func infoForMagic(magic uint32) Info {
	m, ok := linuxMagics[magic]
	switch {
	case !ok:
		return local(fmt.Sprintf("unknown(%#x)", magic), int64(magic))
	case m.network:
		return network(m.name, int64(magic))
	}
	return local(m.name, int64(magic))
}
