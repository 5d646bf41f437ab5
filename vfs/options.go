package vfs

import (
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/ncruces/go-sqlite3/vfs"

	"github.com/walguard/walguard/internal/fsdetect"
	"github.com/walguard/walguard/internal/hostid"
	"github.com/walguard/walguard/policy"
)

// FSInfo is what walguard needs to know of a database's filesystem.
type FSInfo struct {
	Type         string // e.g. "ext4", "nfs"
	SharesMemory bool   // processes can share WAL's -shm through it
}

// Options configure a VFS. The zero value is the default for every field.
type Options struct {
	// Base is the VFS that does the I/O; nil means the ncruces os VFS.
	Base vfs.VFS

	// Policy decides; the zero value means policy.Default().
	Policy *policy.Policy

	// Protocol is the locking protocol of Base. Zero means BuildProtocol,
	// right for the os VFS; set it when Base locks differently.
	Protocol policy.Protocol

	// Logger receives one line per refusal, foreign flip, settled mode and
	// rebuilt record. Nil discards.
	Logger *slog.Logger

	// HostID identifies this host in the sidecar; empty means hostid.Identity().
	HostID string

	// Program names this process in the sidecar; empty means the executable's base name.
	Program string

	// DetectFS reports the filesystem of a database's directory; nil means
	// statfs on Linux and macOS. Tests inject a network filesystem here.
	DetectFS func(dir string) (FSInfo, error)

	// SidecarHook, if set, runs before every sidecar I/O (see faultvfs.VFS.SidecarFault).
	SidecarHook func(op, path string) error

	// AgreementWait bounds the wait for the sidecar's agreement lock; zero means 1s.
	AgreementWait time.Duration

	// PragmaWait bounds how long a refused PRAGMA journal_mode waits for
	// the participants in its way on a connection for which SQLite gave
	// walguard no busy handler. Where it gave one, the connection's
	// busy_timeout (or busy handler) bounds the wait instead. Zero means
	// no wait: SQLITE_BUSY at once.
	PragmaWait time.Duration
}

func (o Options) withDefaults() Options {
	if o.Base == nil {
		o.Base = vfs.Find("os")
	}
	if o.Policy == nil {
		p := policy.Default()
		o.Policy = &p
	}
	if o.Protocol == policy.ProtocolUnknown {
		o.Protocol = BuildProtocol
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.HostID == "" {
		o.HostID = hostid.Identity()
	}
	if o.Program == "" {
		o.Program = filepath.Base(os.Args[0])
	}
	if o.DetectFS == nil {
		o.DetectFS = detectFS
	}
	if o.AgreementWait <= 0 {
		o.AgreementWait = time.Second
	}
	return o
}

func detectFS(dir string) (FSInfo, error) {
	info, err := fsdetect.Detect(dir)
	return FSInfo{Type: info.Type, SharesMemory: info.SharesMemory}, err
}
