package fsdetect

import (
	"errors"
	"io/fs"
	"path/filepath"
	"testing"
)

func TestInfoForMagic(t *testing.T) {
	tests := []struct {
		magic   uint32
		typ     string
		network bool
	}{
		{0x6969, "nfs", true},
		{0x517B, "smbfs", true},
		{0xFF534D42, "cifs", true},
		{0xFE534D42, "smb2", true},
		{0x65735546, "fuse", true},
		{0x01021997, "9p", true},
		{0x00C36400, "ceph", true},
		{0x5346414F, "afs", true},
		{0x01161970, "gfs2", true},
		{0x7461636F, "ocfs2", true},
		{0x0BD00BD0, "lustre", true},
		{0x73757245, "coda", true},
		{0x01021994, "tmpfs", false},
		{0xEF53, "ext4", false},
		{0x58465342, "xfs", false},
		{0x9123683E, "btrfs", false},
		{0x794C7630, "overlay", false},
		{0x2FC12FC1, "zfs", false},
		{0x12345678, "unknown(0x12345678)", false},
		{0, "unknown(0x0)", false},
		{0xFFFFFFFF, "unknown(0xffffffff)", false},
	}
	for _, tt := range tests {
		got := infoForMagic(tt.magic)
		want := Info{Type: tt.typ, Magic: int64(tt.magic), Network: tt.network, SharesMemory: !tt.network}
		if got != want {
			t.Errorf("infoForMagic(%#x) = %+v, want %+v", tt.magic, got, want)
		}
	}
}

func TestMagicTableConsistent(t *testing.T) {
	for magic := range linuxMagics {
		info := infoForMagic(magic)
		if info.SharesMemory == info.Network || info.Type == "" || info.Magic != int64(magic) {
			t.Errorf("infoForMagic(%#x) = %+v", magic, info)
		}
	}
}

func TestInfoForTypeName(t *testing.T) {
	tests := []struct {
		name     string
		mntLocal bool
		typ      string
		network  bool
	}{
		{"nfs", false, "nfs", true},
		{"nfs", true, "nfs", true}, // the name is enough
		{"smbfs", true, "smbfs", true},
		{"afpfs", true, "afpfs", true},
		{"webdav", true, "webdav", true},
		{"macfuse", true, "macfuse", true},
		{"osxfuse", true, "osxfuse", true},
		{"apfs", true, "apfs", false},
		{"APFS", true, "apfs", false},
		{"hfs", true, "hfs", false},
		{"apfs", false, "apfs", true}, // MNT_LOCAL off is enough
		{"", true, "unknown", false},
		{"nfsish", true, "nfsish", false},
	}
	for _, tt := range tests {
		got := infoForTypeName(tt.name, tt.mntLocal, 26)
		want := Info{Type: tt.typ, Magic: 26, Network: tt.network, SharesMemory: !tt.network}
		if got != want {
			t.Errorf("infoForTypeName(%q, %v) = %+v, want %+v", tt.name, tt.mntLocal, got, want)
		}
	}
}

func TestIsUNC(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{`\\server\share\app.db`, true},
		{`//server/share/app.db`, true},
		{`\\?\UNC\server\share\app.db`, true},
		{`\\?\unc\server\share`, true},
		{`\\?\C:\data\app.db`, false},
		{`\\.\C:\data\app.db`, false},
		{`C:\data\app.db`, false},
		{`/data/app.db`, false},
		{`\\`, false},
		{``, false},
	}
	for _, tt := range tests {
		if got := isUNC(tt.path); got != tt.want {
			t.Errorf("isUNC(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

func TestDetectTempDir(t *testing.T) {
	dir := t.TempDir()
	info, err := Detect(dir)
	if err != nil {
		t.Fatal(err)
	}
	if info.Type == "" || info.SharesMemory == info.Network {
		t.Errorf("Detect(%q) = %+v", dir, info)
	}

	// A database not created yet is on its directory's filesystem.
	newFile, err := Detect(filepath.Join(dir, "new.db"))
	if err != nil || newFile != info {
		t.Errorf("Detect(new file) = %+v, %v; want %+v as for its directory", newFile, err, info)
	}
}

func TestDetectErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no", "such", "dir", "app.db")
	tests := []struct {
		path string
		want error
	}{
		{missing, fs.ErrNotExist},
		{"", fs.ErrInvalid},
	}
	for _, tt := range tests {
		info, err := Detect(tt.path)
		var pe *fs.PathError
		if !errors.Is(err, tt.want) || !errors.As(err, &pe) {
			t.Errorf("Detect(%q) = %+v, %v; want a *fs.PathError wrapping %v", tt.path, info, err, tt.want)
		}
	}
}
