//go:build (linux || darwin) && !sqlite3_flock && !sqlite3_dotlk

package vfs

import "github.com/walguard/walguard/policy"

// BuildProtocol is the locking protocol the ncruces os VFS uses in this build.
const BuildProtocol = policy.ProtocolOFD
