//go:build !sqlite3_dotlk && (sqlite3_flock || freebsd || openbsd || netbsd || dragonfly || illumos)

package vfs

import "github.com/walguard/walguard/policy"

// BuildProtocol is the locking protocol the ncruces os VFS uses in this build.
const BuildProtocol = policy.ProtocolFlock
